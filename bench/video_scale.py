"""The video kind's candidate + alignment stages at scale, from a precomputed frame-signature table.

    python -m bench.video_scale --videos 10000
    python -m bench.video_scale --videos 100000 --exact-queries 24 --json out/video-scale/100k.json

Synthetic per-frame signatures (no video is decoded), as the job reads them from a table
(README "Precomputed frame signatures"): per video `frame_hashes`, `flip_hashes`, `crop_hashes`,
`centre_hashes` (64-bit, the four families the job computes from footage) and `informative`.

- **Originals**: 20-600 sampled frames (log-uniform: most videos are short), cut into shots of
  1-30 frames (geometric, mean 8: 4 s at 2 fps). Each family of a shot starts at a random 64-bit
  value and drifts 0-3 bits per frame (a slow pan); a shot's first frame is a fade (not
  informative) one time in five, and one video in twenty has a dark stretch of 5-20 frames.
- **Planted copies** (`--copies`, 10% of the videos; the truth): of a random original, with 0-3
  bit flips per frame in every family (Poisson, rate U(0.5, 2.5) per copy) on top of the edit:
  `full` (a re-encode), `trim_head` / `trim_tail` (10-30% cut), `excerpt` (25-60%, at least
  12 frames, anywhere), `speed` (x U(0.9, 1.1): resampled, a frame between two originals takes
  each differing bit with the share of the way it lies between them), `fps` (the sampling phase
  moved by U(0.1, 0.9) of a step, the same interpolation), `mirror` (frame and flip families
  swapped), `crop` (the frame family is the original's crop family; the centre family noisier).
- **Hard negatives** (each its own group): `reorder` (1%: an original's shots in another
  order), `intro` (5% of the videos in groups of 20-300 that open with the same 4-8 frames of a
  channel intro, some groups larger than `video.max_bucket`, then their own footage).

Input, as users write it: `--files` Parquet files (pyarrow defaults) of `id` and the signature
columns. Then, in one invocation:

1. ``python -m jobs.dedup run --kind video --input DIR --output DIR`` as a child process with
   the shipped defaults (plus ``--set``): wall and CPU seconds of its process tree, peak memory,
   stage times; recall of the planted copies as `is_duplicate` pairs, and as stored pairs;
   negatives called duplicates.
2. The **exact frame-level join** on a sample of query videos (`--exact-queries`, half of them
   originals with planted copies, half drawn uniformly): every informative frame of the query
   against every informative frame of every video, with numpy popcount in blocks, on the same
   hash pairs the job's buckets meet (hash with hash, mirror and crop hash both ways, centre with
   centre), within `video.frame_hamming` bits. A video pair of the exact join has at least
   `video.min_votes` distinct matched frames on each side; each is aligned with the job's own
   kernel (udfs.video.align_pair, a = the smaller content sha256 as in the job), and those at
   `video.candidate_threshold` or more are what an exhaustive search would store. Recall = the
   share of them in the job's `pairs/`. Its cost is timed (wall, CPU) and extrapolated to all
   videos: x (all informative frames / the sample's) -- the join of every video against all.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.common import ROOT, MemorySampler, machine, planted_pairs, shuffle_planted

OUT = ROOT / "out" / "video-scale"
FAMILIES = ("frame_hashes", "flip_hashes", "crop_hashes", "centre_hashes")
FRAMES = (20, 600)
SHOT_MEAN = 8
EDITS = ("full", "trim_head", "trim_tail", "excerpt", "speed", "fps", "mirror", "crop")
EDIT_WEIGHTS = (0.25, 0.1, 0.1, 0.15, 0.15, 0.1, 0.1, 0.05)
DARK = np.int64(-0x7FFFFFFFFFFFFFFF)  # what an uninformative (black, flat) frame's hashes hold


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- signatures

@dataclass
class Video:
    """One video's signature: four (n,) int64 families and the informative flags; `shots` its shot starts."""

    hashes: dict[str, np.ndarray]
    informative: np.ndarray
    shots: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))

    def __len__(self) -> int:
        return len(self.informative)


def _random64(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=n, dtype=np.int64, endpoint=True)


def _bit_flips(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """(n,) int64 masks with counts[i] random bits set (a bit drawn twice cancels: at most counts[i])."""
    most = int(counts.max()) if len(counts) else 0
    if most == 0:
        return np.zeros(len(counts), np.int64)
    bits = np.left_shift(np.int64(1), rng.integers(0, 64, size=(len(counts), most)).astype(np.int64))
    bits[np.arange(most)[None, :] >= counts[:, None]] = 0
    return np.bitwise_xor.reduce(bits, axis=1)


def drift(rng: np.random.Generator, shots: np.ndarray, n: int) -> np.ndarray:
    """(n,) int64: a random value at each shot start (shots: sorted starts, 0 first), then 0-3 bits a frame."""
    steps = _bit_flips(rng, rng.integers(0, 4, size=n))
    steps[shots] = _random64(rng, len(shots))
    return np.bitwise_xor.accumulate(steps)


def original(rng: np.random.Generator, n: int | None = None) -> Video:
    if n is None:
        n = int(round(np.exp(rng.uniform(np.log(FRAMES[0]), np.log(FRAMES[1])))))
    lengths = np.minimum(rng.geometric(1 / SHOT_MEAN, size=n), 30)
    shots = np.concatenate([[0], np.cumsum(lengths)])
    shots = shots[shots < n].astype(np.int64)
    hashes = {f: drift(rng, shots, n) for f in FAMILIES}
    info = np.ones(n, bool)
    fades = shots[(rng.random(len(shots)) < 0.2) & (shots > 0)]
    info[fades] = False
    if rng.random() < 0.05:
        at = int(rng.integers(0, n))
        info[at:at + int(rng.integers(5, 21))] = False
    for f in FAMILIES:
        hashes[f][~info] = DARK
    return Video(hashes, info, shots)


def noisy(rng: np.random.Generator, v: Video, rate: float) -> Video:
    """v with Poisson(rate) bit flips in every informative frame of every family."""
    out = {}
    for f, h in v.hashes.items():
        flips = _bit_flips(rng, rng.poisson(rate, size=len(h)))
        out[f] = np.where(v.informative, h ^ flips, h)
    return Video(out, v.informative.copy(), v.shots)


def resample(rng: np.random.Generator, v: Video, scale: float, phase: float) -> Video:
    """Frames sampled at times (k * scale + phase) steps of v: a frame between two of v takes each of their
    differing bits with the share of the way it lies between them; flags of the nearer frame."""
    n = len(v)
    pos = np.arange(int(np.floor((n - 1 - phase) / scale)) + 1) * scale + phase
    lo = np.minimum(np.floor(pos).astype(np.int64), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    out = {}
    for f, h in v.hashes.items():
        take = np.packbits(rng.random((len(pos), 64)) < frac[:, None], axis=1, bitorder="little")
        mask = take.view(np.int64).reshape(-1)
        # a shot cut between the two frames: no blend, the nearer frame
        cut = np.isin(hi, v.shots) & (hi != lo)
        blended = h[lo] ^ ((h[lo] ^ h[hi]) & mask)
        out[f] = np.where(cut, np.where(frac < 0.5, h[lo], h[hi]), blended)
    near = np.where(frac < 0.5, lo, hi)
    info = v.informative[lo] & v.informative[hi]
    for f in out:
        out[f][~info] = DARK
    shots = np.unique(np.searchsorted(pos, v.shots))
    return Video(out, info, shots[shots < len(pos)] if len(pos) else shots[:0]) if len(near) else v


def _cut(v: Video, lo: int, hi: int) -> Video:
    shots = v.shots[(v.shots >= lo) & (v.shots < hi)] - lo
    return Video({f: h[lo:hi].copy() for f, h in v.hashes.items()}, v.informative[lo:hi].copy(),
                 np.unique(np.concatenate([[0], shots])))


def copy_of(rng: np.random.Generator, v: Video, edit: str) -> Video:
    """A planted copy of v (module docstring)."""
    n = len(v)
    if edit in ("trim_head", "trim_tail"):
        k = max(1, int(round(n * rng.uniform(0.1, 0.3))))
        v = _cut(v, k, n) if edit == "trim_head" else _cut(v, 0, n - k)
    elif edit == "excerpt":
        k = min(n, max(12, int(round(n * rng.uniform(0.25, 0.6)))))
        at = int(rng.integers(0, n - k + 1))
        v = _cut(v, at, at + k)
    elif edit == "speed":
        v = resample(rng, v, float(rng.uniform(0.9, 1.1)), 0.0)
    elif edit == "fps":
        v = resample(rng, v, 1.0, float(rng.uniform(0.1, 0.9)))
    elif edit == "mirror":
        h = v.hashes
        fresh = original(rng, n)
        v = Video({"frame_hashes": h["flip_hashes"], "flip_hashes": h["frame_hashes"],
                   "crop_hashes": fresh.hashes["crop_hashes"], "centre_hashes": fresh.hashes["centre_hashes"]},
                  v.informative, v.shots)
    elif edit == "crop":
        h = v.hashes
        fresh = original(rng, n)
        centre = noisy(rng, Video({"c": h["centre_hashes"]}, v.informative), 2.0).hashes["c"]
        v = Video({"frame_hashes": h["crop_hashes"], "flip_hashes": fresh.hashes["flip_hashes"],
                   "crop_hashes": fresh.hashes["crop_hashes"], "centre_hashes": centre}, v.informative, v.shots)
    out = noisy(rng, v, float(rng.uniform(0.5, 2.5)))
    for f in FAMILIES:
        out.hashes[f][~out.informative] = DARK
    return out


def reordered(rng: np.random.Generator, v: Video) -> Video:
    """v's shots in another order (a hard negative), with light noise."""
    bounds = np.concatenate([v.shots, [len(v)]])
    order = rng.permutation(len(v.shots))
    if len(order) > 1 and (order == np.arange(len(order))).all():
        order = np.roll(order, 1)
    idx = np.concatenate([np.arange(bounds[k], bounds[k + 1]) for k in order])
    lengths = np.array([bounds[k + 1] - bounds[k] for k in order])
    shots = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return noisy(rng, Video({f: h[idx] for f, h in v.hashes.items()}, v.informative[idx], shots), 1.0)


def with_intro(intro: Video, v: Video, rng: np.random.Generator) -> Video:
    """The channel intro (light noise) followed by v."""
    lead = noisy(rng, intro, 0.3)
    return Video({f: np.concatenate([lead.hashes[f], v.hashes[f]]) for f in FAMILIES},
                 np.concatenate([lead.informative, v.informative]),
                 np.concatenate([[0], v.shots + len(intro)]))


def corpus(n: int, seed: int = 0, copies: float = 0.10, reorders: float = 0.01,
           intros: float = 0.05) -> tuple[list[Video], list[dict]]:
    """n videos in a shuffled order and their roles: dicts with `role` (original, copy, reorder, intro,
    unique), `edit` and `source` (index of the original) for copies and reorders."""
    rng = np.random.default_rng(seed)
    n_copy, n_reorder = int(n * copies), int(n * reorders)
    n_base = n - n_copy - n_reorder
    videos = [original(rng) for _ in range(n_base)]
    roles = [{"role": "unique"} for _ in range(n_base)]
    # channel intros: groups of 20-300 videos share their first 4-8 frames
    in_intro, at = int(n_base * intros), 0
    while at < in_intro:
        size = min(int(rng.integers(20, 301)), in_intro - at)
        k = int(rng.integers(4, 9))
        intro = Video({f: drift(rng, np.zeros(1, np.int64), k) for f in FAMILIES}, np.ones(k, bool))
        for k in range(at, at + size):
            videos[k] = with_intro(intro, videos[k], rng)
            roles[k] = {"role": "intro"}
        at += size
    sources = rng.choice(np.arange(in_intro, n_base), size=n_copy + n_reorder, replace=True)
    edits = rng.choice(len(EDITS), size=n_copy, p=np.asarray(EDIT_WEIGHTS) / sum(EDIT_WEIGHTS))
    for k, (src, e) in enumerate(zip(sources[:n_copy], edits)):
        videos.append(copy_of(rng, videos[src], EDITS[e]))
        roles.append({"role": "copy", "edit": EDITS[e], "source": int(src)})
        roles[src] = {"role": "original"}
    for src in sources[n_copy:]:
        videos.append(reordered(rng, videos[src]))
        roles.append({"role": "reorder", "source": int(src)})
    return shuffle_planted(videos, roles, rng)


def ids(n: int) -> list[str]:
    return [f"v{i:07d}" for i in range(n)]


def truth_pairs(roles: list[dict]) -> list[tuple[str, str, str]]:
    """(original id, copy id, edit) of every planted copy."""
    return planted_pairs(roles, ids(len(roles)))


def write_table(videos: list[Video], out: Path, files: int = 1) -> list[Path]:
    """`files` Parquet files (pyarrow defaults) of id + the signature columns, in order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    names = ids(len(videos))
    paths = []
    for part, chunk in enumerate(np.array_split(np.arange(len(videos)), files)):
        vs = [videos[i] for i in chunk]
        offsets = pa.array(np.concatenate([[0], np.cumsum([len(v) for v in vs])]).astype(np.int32))

        def lists(values: np.ndarray) -> pa.Array:
            return pa.ListArray.from_arrays(offsets, pa.array(values))

        cols = {"id": pa.array([names[i] for i in chunk])}
        for f in FAMILIES:
            cols[f] = lists(np.concatenate([v.hashes[f] for v in vs]))
        cols["informative"] = lists(np.concatenate([v.informative for v in vs]))
        path = out / f"part-{part:03d}.parquet"
        pq.write_table(pa.table(cols), path)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------- the exact frame join

#: (query family, corpus family): the frame pairs the job's buckets meet (jobs/video_kind.voted_pairs),
#: both ways round for the asymmetric ones.
EXACT_PAIRS = (("frame_hashes", "frame_hashes"), ("frame_hashes", "flip_hashes"), ("frame_hashes", "crop_hashes"),
               ("flip_hashes", "frame_hashes"), ("crop_hashes", "frame_hashes"), ("centre_hashes", "centre_hashes"))


class FrameIndex:
    """Every informative frame of the corpus: per family (m,) uint64, and its video and frame index."""

    def __init__(self, videos: list[Video]) -> None:
        keep = [np.flatnonzero(v.informative) for v in videos]
        self.video = np.concatenate([np.full(len(k), i, np.int32) for i, k in enumerate(keep)])
        self.frame = np.concatenate(keep).astype(np.int32)
        self.hashes = {f: np.concatenate([v.hashes[f][k] for v, k in zip(videos, keep)]).view(np.uint64)
                       for f in FAMILIES}

    def __len__(self) -> int:
        return len(self.video)


def exact_matches(v: Video, index: FrameIndex, max_bits: int, block: int = 8192,
                  query_block: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(query frame, corpus row) of every informative frame pair within max_bits on EXACT_PAIRS, the
    query's own frames included: a brute-force join, query_block x block distances at a time."""
    keep = np.flatnonzero(v.informative)
    qi, cj = [], []
    for qf, cf in EXACT_PAIRS:
        q = v.hashes[qf][keep].view(np.uint64)
        corpus = index.hashes[cf]
        for qlo in range(0, len(q), query_block):
            qq = q[qlo:qlo + query_block, None]
            x = np.empty((len(qq), block), np.uint64)
            c = np.empty((len(qq), block), np.uint8)
            for lo in range(0, len(corpus), block):
                part = corpus[lo:lo + block]
                xs, cs = x[:, :len(part)], c[:, :len(part)]
                np.bitwise_xor(qq, part[None, :], out=xs)
                np.bitwise_count(xs, out=cs)
                hit = cs <= max_bits
                if hit.any():
                    r, k = np.nonzero(hit)
                    qi.append(keep[r + qlo]), cj.append(k + lo)
    if not qi:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(qi), np.concatenate(cj)


def exact_video_pairs(q: int, v: Video, index: FrameIndex, max_bits: int, min_votes: int) -> list[int]:
    """The videos whose frames meet q's within max_bits, with >= min_votes distinct frames on each side."""
    qi, cj = exact_matches(v, index, max_bits)
    other = index.video[cj]
    mask = other != q
    qi, other, of = qi[mask], other[mask], index.frame[cj[mask]]
    out = []
    for o in np.unique(other):
        sel = other == o
        if min(len(np.unique(qi[sel])), len(np.unique(of[sel]))) >= min_votes:
            out.append(int(o))
    return out


def as_aligned(v: Video, step: float) -> dict:
    """The dict udfs.video.align_pair reads, with the job's defaults for a table without times."""
    n = len(v)
    return {"times": np.arange(n) * step, "hashes": v.hashes["frame_hashes"], "flips": v.hashes["flip_hashes"],
            "crops": v.hashes["crop_hashes"], "centres": v.hashes["centre_hashes"], "informative": v.informative,
            "duration": n * step}


def video_settings(sets: list[str]) -> dict:
    from jobs.config import VideoConfig

    cfg = {k: getattr(VideoConfig(), k) for k in ("frame_hamming", "min_votes", "sample_fps", "max_gap_s",
                                                 "min_distinct_frames", "threshold", "min_coverage",
                                                 "candidate_threshold", "excerpts")}
    for s in sets:
        key, val = s.split("=", 1)
        if key.startswith("video.") and key[6:] in cfg:
            cfg[key[6:]] = type(cfg[key[6:]])(val)
    return cfg


def is_duplicate(found, cfg: dict) -> bool:
    if found is None or found.similarity < cfg["threshold"]:
        return False
    cover = (max if cfg["excerpts"] == "duplicate" else min)(found.coverage_a, found.coverage_b)
    return cover >= cfg["min_coverage"]


def exact_sample(videos: list[Video], roles: list[dict], queries: int, sha: dict[str, str], cfg: dict,
                 seed: int = 1) -> dict:
    """The exact join of `queries` query videos (half originals with copies, half uniform) against all,
    timed; then each of its video pairs aligned (udfs.video.align_pair) as the job would."""
    from udfs.video import AlignParams, align_pair

    rng = np.random.default_rng(seed)
    names = ids(len(videos))
    originals = [i for i, r in enumerate(roles) if r["role"] == "original"]
    picked = list(rng.choice(originals, size=min(len(originals), queries // 2), replace=False))
    rest = [i for i in rng.permutation(len(videos)) if i not in set(picked)]
    picked += rest[:queries - len(picked)]
    strata = {int(i): ("originals" if k < queries // 2 else "uniform") for k, i in enumerate(picked)}
    t = time.perf_counter()
    index = FrameIndex(videos)
    index_s = time.perf_counter() - t
    params = AlignParams(frame_hamming=cfg["frame_hamming"], sample_fps=cfg["sample_fps"],
                         max_gap_s=cfg["max_gap_s"], min_distinct_frames=cfg["min_distinct_frames"])
    step = 1.0 / cfg["sample_fps"]
    wall = cpu = 0.0
    query_frames = 0
    pairs = []
    for q in strata:
        w0, c0 = time.perf_counter(), time.process_time()
        others = exact_video_pairs(q, videos[q], index, cfg["frame_hamming"], cfg["min_votes"])
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        query_frames += int(videos[q].informative.sum())
        for o in others:
            a, b = (q, o) if sha[names[q]] < sha[names[o]] else (o, q)
            found = align_pair(as_aligned(videos[a], step), as_aligned(videos[b], step), params)
            pairs.append({"a": names[a], "b": names[b], "stratum": strata[q],
                          "similarity": None if found is None else found.similarity,
                          "stored": found is not None and found.similarity >= cfg["candidate_threshold"],
                          "duplicate": is_duplicate(found, cfg)})
    scale = len(index) / max(query_frames, 1)
    return {"queries": len(strata), "query_frames": query_frames, "corpus_frames": len(index),
            "index_s": round(index_s, 1), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "extrapolated_wall_s": round(wall * scale), "extrapolated_cpu_s": round(cpu * scale),
            "pairs": pairs}


# ---------------------------------------------------------------------------- the job

def run_job(inp: Path, out: Path, sets: list[str]) -> dict:
    cmd = [sys.executable, "-m", "jobs.dedup", "run", "--kind", "video", "--input", str(inp), "--output", str(out)]
    for s in sets:
        cmd += ["--set", s]
    _log("[video_scale] " + " ".join(cmd))
    log = out.parent / "job.log"
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
        with MemorySampler(interval=0.5, root=proc.pid) as mem:
            rc = proc.wait()
    wall = time.perf_counter() - t0
    res = {"command": " ".join(cmd), "exit": rc, "wall_s": round(wall, 1), "cpu_s": mem.cpu_s(),
           "peak_mib": mem.mib(), "log": str(log)}
    if rc != 0:
        res["tail"] = log.read_text(errors="replace").splitlines()[-40:]
        return res
    summary = json.loads((out / "summary.json").read_text())
    res["timings_s"] = summary.get("timings_s", {})
    res["stats"] = {k: v for k, v in summary.get("stages", {}).items() if k.startswith("video_")}
    return res


def job_pairs(out: Path):
    import pyarrow.parquet as pq

    from jobs.show import read_manifest

    p = pq.read_table(out / "pairs", columns=["item_a", "item_b", "similarity", "is_duplicate"]).to_pandas()
    m = read_manifest(str(out))
    return p, dict(zip(m["item_id"], m["content_sha256"])), m


def score(roles: list[dict], pairs, manifest) -> dict:
    """Planted-copy recall (duplicate pairs, stored pairs) per edit; negatives called duplicates."""
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
    dropped = dict(zip(manifest["item_id"], manifest["action"]))
    reorder_dup = sum(1 for i, r in enumerate(roles) if r["role"] == "reorder"
                      and key(names[i], names[r["source"]]) in dup)
    truth = {key(s, c) for s, c, _ in truth_pairs(roles)}
    return {"planted": total[0], "recall_duplicate": total[1] / max(total[0], 1),
            "recall_stored": total[2] / max(total[0], 1),
            "per_edit": {e: {"copies": v[0], "duplicate": round(v[1] / v[0], 4), "stored": round(v[2] / v[0], 4)}
                         for e, v in sorted(per.items())},
            "duplicate_pairs": len(dup), "duplicate_pairs_not_planted": len(dup - truth),
            "reorders_called_duplicate": reorder_dup,
            "actions": {k: int(v) for k, v in manifest["action"].value_counts().items()},
            "dropped_unique": sum(1 for i, r in enumerate(roles) if r["role"] == "unique"
                                  and dropped.get(names[i]) == "drop")}


def exact_recall(sample: dict, pairs) -> dict:
    got = set(zip(pairs["item_a"], pairs["item_b"])) | set(zip(pairs["item_b"], pairs["item_a"]))
    out = {}
    for stratum in ("all", "originals", "uniform"):
        rows = [p for p in sample["pairs"] if stratum == "all" or p["stratum"] == stratum]
        uniq = {(p["a"], p["b"]): p for p in rows}.values()
        stored = [p for p in uniq if p["stored"]]
        dups = [p for p in uniq if p["duplicate"]]
        out[stratum] = {"exact_video_pairs": len(uniq), "exact_aligned_stored": len(stored),
                        "recall_stored": round(sum((p["a"], p["b"]) in got for p in stored) / max(len(stored), 1), 4),
                        "exact_duplicates": len(dups),
                        "recall_duplicates": round(sum((p["a"], p["b"]) in got for p in dups) / max(len(dups), 1), 4),
                        "recall_raw": round(sum((p["a"], p["b"]) in got for p in uniq) / max(len(uniq), 1), 4)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.video_scale", description=__doc__.split("\n")[0])
    ap.add_argument("--videos", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--files", type=int, default=1, help="Parquet files of the table")
    ap.add_argument("--exact-queries", type=int, default=40, help="query videos of the exact join (0: none)")
    ap.add_argument("--set", action="append", default=[], help="KEY=VALUE passed to the job")
    ap.add_argument("--work", type=Path, default=None, help="where the table and the job output go")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    work = args.work or OUT / f"{args.videos}"
    result: dict = {"machine": machine(), "videos": args.videos, "seed": args.seed}
    t = time.perf_counter()
    videos, roles = corpus(args.videos, args.seed)
    frames = np.array([len(v) for v in videos])
    info = int(sum(int(v.informative.sum()) for v in videos))
    if work.exists():
        shutil.rmtree(work)
    table = work / "table"
    paths = write_table(videos, table, args.files)
    result["corpus"] = {"frames": int(frames.sum()), "informative_frames": info, "mean_frames": float(frames.mean()),
                        "roles": {k: sum(r["role"] == k for r in roles) for k in sorted({r["role"] for r in roles})},
                        "table_mib": round(sum(p.stat().st_size for p in paths) / 2**20, 1),
                        "build_s": round(time.perf_counter() - t, 1)}
    _log(f"[video_scale] corpus {json.dumps(result['corpus'])}")
    load0 = os.getloadavg()
    job = run_job(paths[0] if len(paths) == 1 else table / "*.parquet", work / "result", args.set)
    job["load_avg"] = [round(x, 2) for x in load0] + [round(x, 2) for x in os.getloadavg()]
    result["job"] = job
    if job["exit"] != 0:
        _log("[video_scale] the job failed:\n" + "\n".join(job["tail"]))
    else:
        pairs, sha, manifest = job_pairs(work / "result")
        result["planted"] = score(roles, pairs, manifest)
        _log(f"[video_scale] planted {json.dumps(result['planted'])}")
        if args.exact_queries:
            cfg = video_settings(args.set)
            sample = exact_sample(videos, roles, args.exact_queries, sha, cfg)
            sample["load_avg"] = [round(x, 2) for x in os.getloadavg()]
            result["exact"] = {k: v for k, v in sample.items() if k != "pairs"}
            result["exact"]["recall"] = exact_recall(sample, pairs)
            result["cost_ratio"] = {
                "job_wall_over_exact_wall": round(job["wall_s"] / max(sample["extrapolated_wall_s"], 1e-9), 6),
                "job_cpu_over_exact_cpu": round(job["cpu_s"]["total"] / max(sample["extrapolated_cpu_s"], 1e-9), 6)}
            _log(f"[video_scale] exact {json.dumps(result['exact'])} cost {json.dumps(result['cost_ratio'])}")
    dest = args.json or work / "result.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(result, indent=1, default=str))
    print(json.dumps({k: v for k, v in result.items() if k != "job"} | {"job": {
        k: job.get(k) for k in ("wall_s", "cpu_s", "peak_mib", "timings_s", "stats", "load_avg", "exit")}},
        indent=1, default=str))
    return 0 if job["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
