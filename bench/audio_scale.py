"""The audio kind's candidate join at scale, from a precomputed fingerprint table (issue 15 item 8).

    python -m bench.audio_scale --clips 10000
    python -m bench.audio_scale --clips 100000 --json out/audio-scale/100k.json --set spark.driver_memory=4g

Synthetic fingerprints (nothing is decoded), as `dedup run --kind audio` reads them from a table
(README "Audio", precomputed fingerprints): per clip `hashes` (26-bit values, udfs/audio.fingerprint's
range), `times` (the anchor time of each, seconds), `duration_s`, `audible_s`, `lossless`, `bitrate`.

- **Originals**: 2-30 s (log-uniform: most clips of a sound library are short). Anchors at ~6.5 a
  second (Poisson), 6 hashes per anchor time (the kernel's triplets: one anchor heads FAN*(FAN-1)/2
  = 6), ~40 hashes a second. A hash value is uniform over 2^26 with probability 0.8, else drawn
  from 65,536 common values with Zipf(1) weights (the kernel's values are far from uniform: quiet
  passages, drones and common intervals repeat): at 100k clips the head is held more than
  `audio.max_bucket` times and capped, the tail makes buckets of 2-50 recordings.
- **Planted copies** (`--copies`, 10% of the clips; the truth): of a random original, every hash kept
  with probability U(0.35, 0.8), the others redrawn, anchor times jittered by +-1 frame (16 ms) --
  a transcode -- on top of the edit: `transcode`, `trim` (10% head, 5% tail), `excerpt` (25-60%,
  at least 2 s, anywhere), `tempo` (times x U(0.97, 1.03), half the kept hashes lost: the coarse
  fields cross a bin edge), `pad` (2 s of silence before, 3 s after: times + 2, duration + 5).
- **Hard negatives** (each its own group): `section` (2%: pairs of clips drawn as other sections of one
  track: 30% of their hashes from the track's own 400 values at unrelated times, so they share
  many values at no common offset; with all of them from 400 values, the first model, every
  such pair aligned by chance), `jingle` (5% of the clips in groups of 20-300 opening with
  the same 2-4 s jingle, lightly transcoded, then their own sound: some groups larger than
  `audio.max_bucket`), `silence` (2%: no hashes, as the kernel gives for silence and near-silence).

Input, as users write it: one Parquet file (pyarrow defaults) of `id` and the fingerprint columns.
``python -m jobs.dedup run --kind audio --input TABLE --output DIR`` runs as a child process with the
shipped defaults (plus ``--set``): wall and CPU seconds of its process tree per stage (the CPU
timeline sampled from /proc, cut at the job log's stage lines; `candidates` split into the vote
join and the alignment at its "go to alignment" line), peak memory; recall of the planted copies as
`is_duplicate` pairs and as stored pairs, per edit; negatives called duplicates.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from bench.common import ROOT, MemorySampler, machine, planted_pairs, shuffle_planted

OUT = ROOT / "out" / "audio-scale"
DURATION = (2.0, 30.0)
ANCHORS_PER_S = 6.5
HASHES_PER_ANCHOR = 6
HASH_BITS = 26
COMMON = 65_536
COMMON_SHARE = 0.2
EDITS = ("transcode", "trim", "excerpt", "tempo", "pad")
EDIT_WEIGHTS = (0.3, 0.2, 0.2, 0.15, 0.15)
FRAME_S = 0.016
SECTION_VOCAB, SECTION_SHARE = 400, 0.3


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Draw:
    """Hash values: uniform over 2^26, or one of COMMON values with Zipf(1) weights (scattered over 2^26)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        w = 1.0 / np.arange(1, COMMON + 1)
        self.cdf = np.cumsum(w / w.sum())
        self.common = rng.choice(2**HASH_BITS, size=COMMON, replace=False).astype(np.int64)

    def __call__(self, n: int) -> np.ndarray:
        out = self.rng.integers(0, 2**HASH_BITS, size=n, dtype=np.int64)
        c = self.rng.random(n) < COMMON_SHARE
        out[c] = self.common[np.minimum(np.searchsorted(self.cdf, self.rng.random(int(c.sum()))), COMMON - 1)]
        return out


def anchors(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Sorted anchor times (float32 on the 16 ms frame grid) of `seconds` of sound, each repeated per hash."""
    k = max(1, rng.poisson(ANCHORS_PER_S * seconds))
    t = np.sort(np.round(rng.uniform(0, seconds, k) / FRAME_S) * FRAME_S)
    return np.repeat(t, HASHES_PER_ANCHOR).astype(np.float32)


def original(rng: np.random.Generator, draw: Draw, seconds: float | None = None,
             vocab: np.ndarray | None = None) -> dict:
    if seconds is None:
        seconds = float(np.exp(rng.uniform(np.log(DURATION[0]), np.log(DURATION[1]))))
    t = anchors(rng, seconds)
    h = draw(len(t))
    if vocab is not None:  # another section of one track: SECTION_SHARE of its hashes from the track's values
        mine = rng.random(len(t)) < SECTION_SHARE
        h[mine] = rng.choice(vocab, size=int(mine.sum()))
    return {"hashes": h, "times": t, "duration_s": seconds, "audible_s": seconds, "lossless": True,
            "bitrate": 705_600}


def transcoded(rng: np.random.Generator, draw: Draw, clip: dict, keep: float) -> dict:
    h, t = clip["hashes"], clip["times"]
    kept = rng.random(len(h)) < keep
    jitter = np.repeat(rng.integers(-1, 2, size=len(t) // HASHES_PER_ANCHOR + 1), HASHES_PER_ANCHOR)[:len(t)]
    t = np.maximum(t + jitter * np.float32(FRAME_S), 0).astype(np.float32)
    order = np.argsort(t, kind="stable")
    return {**clip, "hashes": np.where(kept, h, draw(len(h)))[order], "times": t[order], "lossless": False,
            "bitrate": 128_000}


def _cut(clip: dict, lo: float, hi: float) -> dict:
    sel = (clip["times"] >= lo) & (clip["times"] < hi)
    return {**clip, "hashes": clip["hashes"][sel], "times": (clip["times"][sel] - np.float32(lo)).astype(np.float32),
            "duration_s": hi - lo, "audible_s": hi - lo}


def copy_of(rng: np.random.Generator, draw: Draw, clip: dict, edit: str) -> dict:
    """A planted copy (module docstring)."""
    d = clip["duration_s"]
    keep = float(rng.uniform(0.35, 0.8))
    if edit == "trim":
        clip = _cut(clip, 0.10 * d, 0.95 * d)
    elif edit == "excerpt":
        k = min(d, max(2.0, d * float(rng.uniform(0.25, 0.6))))
        at = float(rng.uniform(0, d - k))
        clip = _cut(clip, at, at + k)
    elif edit == "tempo":
        s = float(rng.uniform(0.97, 1.03))
        clip = {**clip, "times": (clip["times"] * np.float32(s)).astype(np.float32), "duration_s": d * s,
                "audible_s": d * s}
        keep *= 0.5
    out = transcoded(rng, draw, clip, keep)
    if edit == "pad":
        out = {**out, "times": (out["times"] + np.float32(2.0)).astype(np.float32), "duration_s": d + 5.0,
               "lossless": True, "bitrate": 705_600}
    return out


def corpus(n: int, seed: int = 0, copies: float = 0.10, sections: float = 0.02, jingles: float = 0.05,
           silence: float = 0.02) -> tuple[list[dict], list[dict]]:
    """n clips in a shuffled order and their roles: dicts with `role` (original, copy, section, jingle,
    silence, unique), `edit` and `source` (index of the original) for copies, `track` for sections."""
    rng = np.random.default_rng(seed)
    draw = Draw(rng)
    n_copy, n_sec, n_sil = int(n * copies), int(n * sections) // 2 * 2, int(n * silence)
    n_base = n - n_copy - n_sec - n_sil
    clips = [original(rng, draw) for _ in range(n_base)]
    roles = [{"role": "unique"} for _ in range(n_base)]
    in_jingle, at = int(n_base * jingles), 0
    while at < in_jingle:
        size = min(int(rng.integers(20, 301)), in_jingle - at)
        jingle = original(rng, draw, float(rng.uniform(2, 4)))
        for k in range(at, at + size):
            lead = transcoded(rng, draw, jingle, 0.9)
            c = clips[k]
            shift = np.float32(jingle["duration_s"])
            clips[k] = {**c, "hashes": np.concatenate([lead["hashes"], c["hashes"]]),
                        "times": np.concatenate([lead["times"], c["times"] + shift]).astype(np.float32),
                        "duration_s": c["duration_s"] + jingle["duration_s"],
                        "audible_s": c["audible_s"] + jingle["duration_s"]}
            roles[k] = {"role": "jingle", "group": at}
        at += size
    for track in range(n_sec // 2):
        vocab = rng.integers(0, 2**HASH_BITS, size=SECTION_VOCAB, dtype=np.int64)
        for _ in range(2):
            clips.append(original(rng, draw, float(rng.uniform(10, 30)), vocab=vocab))
            roles.append({"role": "section", "track": track})
    for _ in range(n_sil):
        d = float(rng.uniform(1, 30))
        clips.append({"hashes": np.zeros(0, np.int64), "times": np.zeros(0, np.float32), "duration_s": d,
                      "audible_s": 0.0, "lossless": True, "bitrate": 705_600})
        roles.append({"role": "silence"})
    sources = rng.choice(np.arange(in_jingle, n_base), size=n_copy, replace=True)
    edits = rng.choice(len(EDITS), size=n_copy, p=np.asarray(EDIT_WEIGHTS) / sum(EDIT_WEIGHTS))
    for src, e in zip(sources, edits):
        clips.append(copy_of(rng, draw, clips[src], EDITS[e]))
        roles.append({"role": "copy", "edit": EDITS[e], "source": int(src)})
        roles[src] = {"role": "original"}
    return shuffle_planted(clips, roles, rng)


def ids(n: int) -> list[str]:
    return [f"c{i:07d}" for i in range(n)]


def truth_pairs(roles: list[dict]) -> list[tuple[str, str, str]]:
    """(original id, copy id, edit) of every planted copy."""
    return planted_pairs(roles, ids(len(roles)))


def write_table(clips: list[dict], path: Path) -> Path:
    """One Parquet file (pyarrow defaults) of id + the fingerprint columns, in order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    offsets = pa.array(np.concatenate([[0], np.cumsum([len(c["hashes"]) for c in clips])]).astype(np.int32))
    lists = lambda key: pa.ListArray.from_arrays(offsets, pa.array(np.concatenate([c[key] for c in clips])))  # noqa
    pq.write_table(pa.table({
        "id": pa.array(ids(len(clips))), "hashes": lists("hashes"), "times": lists("times"),
        "duration_s": pa.array([float(c["duration_s"]) for c in clips]),
        "audible_s": pa.array([round(float(c["audible_s"]), 1) for c in clips]),
        "lossless": pa.array([bool(c["lossless"]) for c in clips]),
        "bitrate": pa.array([int(c["bitrate"]) for c in clips], pa.int64())}), path)
    return path


# ---------------------------------------------------------------------------- the job

class Timeline(MemorySampler):
    """MemorySampler that also keeps (unix time, CPU seconds of the tree so far) at every sample."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.points: list[tuple[float, float]] = []

    def sample(self) -> None:
        super().sample()
        ticks = sum(t - self._cpu0.get(pid, 0) for pid, (_, t) in self._cpu.items())
        self.points.append((time.time(), ticks / os.sysconf("SC_CLK_TCK")))

    def cpu_at(self, when: float) -> float:
        ts, cs = zip(*self.points)
        return float(np.interp(when, ts, cs))


_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ dedup: \[(\w+)\] (started|done in|\d+ audio pairs)")


def stage_costs(log: Path, tl: Timeline, start: float, end: float) -> dict:
    """Wall and CPU seconds per stage from the job log's stage lines; `spark_start` before ingest, `publish`
    after the last stage, candidates split into `candidates_vote` and `candidates_align`."""
    marks = []
    for line in log.read_text(errors="replace").splitlines():
        m = _LINE.match(line)
        if m:
            when = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            kind = {"started": "start", "done in": "end"}.get(m.group(3), "voted")
            marks.append((when, m.group(2), kind))
    cut = [(start, "spark_start")]
    for when, name, kind in marks:
        if kind == "start":
            cut.append((when, name))
        elif kind == "voted" and name == "candidates":
            cut[-1] = (cut[-1][0], "candidates_vote")
            cut.append((when, "candidates_align"))
        else:
            cut.append((when, "between"))
    cut.append((end, None))
    out: dict[str, dict] = {}
    for (t0, name), (t1, _) in zip(cut, cut[1:]):
        if name is None:
            continue
        name = "publish" if name == "between" and t1 == end else name
        if name == "between" and t1 - t0 < 0.5:
            continue
        cur = out.setdefault(name, {"wall_s": 0.0, "cpu_s": 0.0})
        cur["wall_s"] = round(cur["wall_s"] + t1 - t0, 1)
        cur["cpu_s"] = round(cur["cpu_s"] + tl.cpu_at(t1) - tl.cpu_at(t0), 1)
    return out


def run_job(inp: Path, out: Path, sets: list[str]) -> dict:
    cmd = [sys.executable, "-m", "jobs.dedup", "run", "--kind", "audio", "--input", str(inp), "--output", str(out)]
    for s in sets:
        cmd += ["--set", s]
    _log("[audio_scale] " + " ".join(cmd))
    log = out.parent / "job.log"
    start = time.time()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
        with Timeline(interval=0.5, root=proc.pid) as tl:
            rc = proc.wait()
    end = time.time()
    res = {"command": " ".join(cmd), "exit": rc, "wall_s": round(end - start, 1), "cpu_s": tl.cpu_s(),
           "peak_mib": tl.mib(), "log": str(log)}
    if rc != 0:
        res["tail"] = log.read_text(errors="replace").splitlines()[-40:]
        return res
    res["stages"] = stage_costs(log, tl, start, end)
    summary = json.loads((out / "summary.json").read_text())
    res["timings_s"] = summary.get("timings_s", {})
    res["stats"] = {k: v for k, v in summary.get("stages", {}).items()
                    if k.startswith("audio_") or k in ("candidate_pairs", "duplicate_pairs", "clusters", "contents")}
    return res


def score(roles: list[dict], out: Path) -> dict:
    """Planted-copy recall (duplicate pairs, stored pairs) per edit; negatives called duplicates."""
    import pyarrow.parquet as pq

    from jobs.show import read_manifest

    pairs = pq.read_table(out / "pairs", columns=["item_a", "item_b", "is_duplicate"]).to_pandas()
    manifest = read_manifest(str(out))
    key = lambda a, b: (a, b) if a < b else (b, a)  # noqa: E731
    dup = {key(a, b) for a, b, d in zip(pairs["item_a"], pairs["item_b"], pairs["is_duplicate"]) if d}
    stored = {key(a, b) for a, b in zip(pairs["item_a"], pairs["item_b"])}
    per: dict[str, list[int]] = {}
    for src, cp, edit in truth_pairs(roles):
        k = key(src, cp)
        per.setdefault(edit, [0, 0, 0])
        per[edit][0] += 1
        per[edit][1] += k in dup
        per[edit][2] += k in stored
    total = [sum(v[i] for v in per.values()) for i in range(3)]
    names = ids(len(roles))
    role_of = dict(zip(names, roles))
    negatives: dict[str, int] = {}
    for a, b in dup:
        ra, rb = role_of[a], role_of[b]
        if ra["role"] == rb["role"] == "section" and ra["track"] == rb["track"]:
            negatives["section"] = negatives.get("section", 0) + 1
        elif ra["role"] == rb["role"] == "jingle" and ra["group"] == rb["group"]:
            negatives["jingle"] = negatives.get("jingle", 0) + 1
    group = {}
    for i, r in enumerate(roles):  # the planted groups: an original and its copies
        group[names[i]] = names[r["source"]] if r["role"] == "copy" else names[i]
    actions = manifest.set_index("item_id")["action"]
    kept_sil = sum(1 for i, r in enumerate(roles) if r["role"] == "silence" and actions.get(names[i]) == "keep")
    return {"planted": total[0], "recall_duplicate": round(total[1] / max(total[0], 1), 4),
            "recall_stored": round(total[2] / max(total[0], 1), 4),
            "per_edit": {e: {"copies": v[0], "duplicate": round(v[1] / v[0], 4), "stored": round(v[2] / v[0], 4)}
                         for e, v in sorted(per.items())},
            "duplicate_pairs": len(dup), "duplicate_pairs_outside_planted_groups":
                sum(1 for a, b in dup if group[a] != group[b]),
            "hard_negative_pairs_called_duplicate": negatives, "silence_kept": kept_sil,
            "actions": {k: int(v) for k, v in manifest["action"].value_counts().items()},
            "reasons": {k: int(v) for k, v in manifest["reason"].value_counts().items()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.audio_scale", description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], help="KEY=VALUE passed to the job")
    ap.add_argument("--work", type=Path, default=None, help="where the table and the job output go")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    work = args.work or OUT / f"{args.clips}"
    result: dict = {"machine": machine(), "clips": args.clips, "seed": args.seed}
    t = time.perf_counter()
    clips, roles = corpus(args.clips, args.seed)
    hashes = np.array([len(c["hashes"]) for c in clips])
    if work.exists():
        shutil.rmtree(work)
    path = write_table(clips, work / "table.parquet")
    result["corpus"] = {"hashes": int(hashes.sum()), "mean_hashes": round(float(hashes.mean()), 1),
                        "audio_s": round(sum(float(c["duration_s"]) for c in clips)),
                        "roles": {k: sum(r["role"] == k for r in roles) for k in sorted({r["role"] for r in roles})},
                        "table_mib": round(path.stat().st_size / 2**20, 1),
                        "build_s": round(time.perf_counter() - t, 1)}
    _log(f"[audio_scale] corpus {json.dumps(result['corpus'])}")
    del clips
    load0 = os.getloadavg()
    job = run_job(path, work / "result", args.set)
    job["load_avg"] = [round(x, 2) for x in load0] + [round(x, 2) for x in os.getloadavg()]
    result["job"] = job
    if job["exit"] != 0:
        _log("[audio_scale] the job failed:\n" + "\n".join(job["tail"]))
    else:
        result["planted"] = score(roles, work / "result")
    dest = args.json or work / "result.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(result, indent=1, default=str))
    print(json.dumps({k: v for k, v in result.items() if k != "job"} | {"job": {
        k: job.get(k) for k in ("wall_s", "cpu_s", "peak_mib", "stages", "timings_s", "stats", "load_avg", "exit")}},
        indent=1, default=str))
    return 0 if job["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
