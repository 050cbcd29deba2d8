"""Match quality and throughput of ``dedup run --kind audio`` on the audio corpus, with Chromaprint in the same run.

    python -m bench.audio_corpus                    # out/audio/{tune,aside}/ (Debian packages, see there)
    python -m bench.audio --part tune               # the job with the shipped defaults, fpcalc, a bare loop
    python -m bench.audio --part tune --result DIR  # score an existing run's output (no job run)
    python -m bench.audio --part aside              # ONLY with frozen defaults, once, blind: never tune on aside
    python -m bench.audio --part blind2             # the second kept-aside part: run once blind, seen since
    python -m bench.audio --part blind3             # the third kept-aside part: run once blind, seen since
    python -m bench.audio --part blind4             # the fourth kept-aside part: run once blind, seen since
    python -m bench.audio --part blind5             # the fifth kept-aside part: run once blind, seen since

The job runs as users run it: ``python -m jobs.dedup run --kind audio --input PART/files --output
TMP/result [--conf FILE] [--set KEY=VALUE ...]`` in a child process (bench/broad's command and
runner, as bench/video does). Item ids are paths relative to ``files/``.

Scores, against the part's ``truth.csv`` (bench/audio_corpus), with bench/audio_probe's scoring so
that the job, the offline probe and Chromaprint are counted alike:

- **pairs**: the job's ``is_duplicate`` rows of ``pairs/`` (every stage) as predicted pairs (an edge
  stands for every byte-identical copy of its two ends: pairs/ lists it on representatives); a true
  pair is two files of one original (copy-copy pairs included), a false one two files of different
  recordings; a pair of files of two originals that share material (truth.csv's `recording`,
  bench/audio_corpus) is ignored (`--truth recording-all`: true; `--truth group`: false, as before that
  column); mixed clusters hold two recordings; precision, recall, F1, recall of
  (original, copy) per edit and per kind of original, clusters (union-find over the predicted
  pairs) mixing groups, pairs with a negative;
- **clusters**: the same over the manifest's clusters (every two files in one cluster predicted),
  what a user of the keep/drop manifest gets;
- **offsets** of the true (original, copy) pairs found: the job's ``start_a``/``start_b``/``time_scale``
  turned into t_original = s * t_copy + o and compared with the truth (share within 0.5 s);
- **Chromaprint** (bench/audio_probe: ``fpcalc -raw -length 0`` per file, AcoustID-style bit error
  rate at the best offset, every true pair given as a candidate): swept over its threshold; the
  best F1 of the sweep is the peer's line (generous to the peer);
- **throughput**, seconds of audio per CPU second, decode included, each against fpcalc's on the
  same files in the same run: (a) a bare loop of the job's kernels in this process
  (udfs/audio decode + fingerprint, one core), (b) the whole job (its process tree's CPU seconds
  sampled from /proc: Spark's JVM, ingest, the join and alignment included).

Output: ``out/audio/<part>[-<label>].json`` (every number) and ``.md`` (the tables); the job's output
and log stay in ``out/audio/runs/<part>-XXXX/`` (``result/``, ``job.log``) for rescoring with --result.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from bench import audio_probe as P
from bench import broad as bb

ROOT = P.ROOT
OUT = ROOT / "out" / "audio"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def job_command(files_dir: Path, output: Path, sets: list[str], confs: list[Path]) -> list[str]:
    """`python -m jobs.dedup run --kind audio ...`: the broad harness's command with the kind."""
    cmd = bb.job_command(files_dir, output, sets, confs)
    return cmd[:4] + ["--kind", "audio"] + cmd[4:]


def run_job(cmd: list[str], log: Path) -> tuple[float, dict]:
    """(wall seconds, CPU seconds of the job's process tree by kind: jvm, workers (Python: the job's
    driver and the executors' workers), total), sampled from /proc; raises with the log's tail on failure."""
    from bench.common import MemorySampler

    with MemorySampler(interval=0.5) as tree:
        wall = bb.run_job(cmd, log)
    return wall, tree.cpu_s()


# ---------------------------------------------------------------------------- the job's output

def read_output(result: Path, rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(manifest, pairs) of a run, with `ia`/`ib`/`i`: the truth row index of each item."""
    from jobs.show import read_manifest

    index = {r["path"].split("/", 1)[1]: i for i, r in enumerate(rows)}
    manifest = read_manifest(str(result))
    manifest["i"] = manifest["item_id"].map(index)
    pairs = pd.read_parquet(result / "pairs")
    pairs["ia"], pairs["ib"] = pairs["item_a"].map(index), pairs["item_b"].map(index)
    if manifest["i"].isna().any():
        raise SystemExit(f"{int(manifest['i'].isna().sum())} manifest items are not in truth.csv")
    return manifest, pairs


def edge_pairs(pairs: pd.DataFrame, manifest: pd.DataFrame) -> set[tuple[int, int]]:
    """File pairs joined by a duplicate edge. pairs/ lists an edge between two contents once, on
    their representative items (other copies of the same bytes have an `exact` edge to theirs), so
    every file of one content stands for it: both ends' byte-identical copies are paired too."""
    sha = dict(zip(manifest["i"].astype(int), manifest["content_sha256"]))
    files = defaultdict(list)
    for i, c in sha.items():
        if isinstance(c, str):
            files[c].append(i)
    dup = pairs[pairs["is_duplicate"]]
    out = set()
    for a, b in zip(dup["ia"].astype(int), dup["ib"].astype(int)):
        out.update((min(x, y), max(x, y)) for x in files.get(sha[a], [a]) for y in files.get(sha[b], [b]) if x != y)
    return out


def cluster_pairs(manifest: pd.DataFrame) -> set[tuple[int, int]]:
    out = set()
    for _, members in manifest.dropna(subset=["cluster_id"]).groupby("cluster_id")["i"]:
        m = sorted(int(x) for x in members)
        out.update((a, b) for x, a in enumerate(m) for b in m[x + 1:])
    return out


def keepers(rows: list[dict], manifest: pd.DataFrame) -> dict:
    """Per edit: the manifest clusters whose kept file is of that edit (`original`: the keep order chose
    the unedited file; the edits' FLACs have the original's resolution, so only silence padding, trims
    and excerpts can tell them apart by length)."""
    kept = manifest[(manifest["action"] == "keep") & manifest["cluster_id"].notna()]
    counts = defaultdict(int)
    for i in kept["i"].astype(int):
        counts[rows[i]["edit"]] += 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def offsets(rows: list[dict], pairs: pd.DataFrame) -> dict:
    """Per edit: (original, copy) duplicate pairs found, share with the offset within 0.5 s, worst errors."""
    errs = defaultdict(list)
    for p in pairs[pairs["is_duplicate"] & pairs["time_scale"].notna()].itertuples():
        a, b = rows[int(p.ia)], rows[int(p.ib)]
        if a["group"] != b["group"] or "original" not in (a["edit"], b["edit"]) or a["edit"] == b["edit"]:
            continue
        s, o = p.time_scale, p.start_b - p.time_scale * p.start_a  # t_b = s t_a + o
        if a["edit"] == "original":  # t_copy = s t_orig + o  ->  t_orig = t_copy / s - o / s
            s, o, copy = 1 / s, -o / s, b
        else:
            copy = a
        errs[copy["edit"]].append((abs(o - float(copy["offset_s"])), abs(s - float(copy["time_scale"]))))
    return {e: dict(n=len(v), within_0_5s=round(float(np.mean([x <= 0.5 for x, _ in v])), 3),
                    max_offset_err_s=round(max(x for x, _ in v), 3), max_scale_err=round(max(y for _, y in v), 4))
            for e, v in sorted(errs.items())}


def score_job(rows: list[dict], result: Path) -> dict:
    truth = P.truth_pairs(rows)
    manifest, pairs = read_output(result, rows)
    edges, clusters = edge_pairs(pairs, manifest), cluster_pairs(manifest)
    summary = json.loads((result / "summary.json").read_text())
    return {"pairs": {**P.score(rows, edges, truth), "by_kind": P.recall_by_kind(rows, edges)},
            "clusters": {**P.score(rows, clusters, truth), "by_kind": P.recall_by_kind(rows, clusters)},
            "offsets": offsets(rows, pairs), "keepers": keepers(rows, manifest), "errors": manifest["reason"][manifest["action"] == "error"]
            .value_counts().to_dict(), "stages": summary.get("stages", {}), "timings_s": summary.get("timings_s", {}),
            "thresholds": summary.get("thresholds", {})}


def sweep_similarity(rows: list[dict], result: Path, floors: list[float]) -> dict:
    """Rescore one run's duplicate edges under similarity floors (pairs/ stores every aligned pair from
    audio.candidate_min_score, with its similarity, so a floor applied late is exact for the edges; the
    manifest's clusters would need a new run). Per floor: the pair scores, and the similarity of the
    duplicate edges it drops, true and false. For the tune part only."""
    truth = P.truth_pairs(rows)
    manifest, pairs = read_output(result, rows)
    out = {}
    for floor in floors:
        kept = pairs.assign(is_duplicate=pairs["is_duplicate"] & (pairs["similarity"].fillna(1.0) >= floor))
        edges = edge_pairs(kept, manifest)
        out[floor] = {**P.score(rows, edges, truth), "by_kind": P.recall_by_kind(rows, edges)}
    dup = pairs[pairs["is_duplicate"]]
    ends = [(min(int(a), int(b)), max(int(a), int(b))) for a, b in zip(dup["ia"], dup["ib"])]
    same = np.array([e in truth for e in ends], bool)
    false = np.array([not P.ignored(rows, *e) and e not in truth for e in ends], bool)
    sims = dup["similarity"].to_numpy()
    out["similarity_of_duplicate_edges"] = {
        "true": np.round(np.percentile(sims[same], [0, 1, 5, 10, 50]), 3).tolist(),
        "false": sorted(np.round(sims[false], 3).tolist())}
    return out


# ---------------------------------------------------------------------------- report

def _line(name: str, s: dict, rule: str) -> dict:
    return {"method": name, "pair precision": s["precision"], "pair recall": s["recall"], "F1": s["f1"],
            "predicted": s["predicted"], "mixed clusters": s["mixed_clusters"], "negative pairs": s["negative_pairs"],
            "rule": rule}


def markdown(part: str, label: str, res: dict) -> str:
    from bench.common import table

    lines = [f"### audio, {part} part: {label}", ""]
    heads, per_edit = [], {}
    job = res.get("dedup", {})
    if "failed" in job:
        heads.append({"method": "dedup", "rule": f"failed: {job['failed']}"})
    elif job:
        heads.append(_line("dedup pairs", job["pairs"], "is_duplicate rows of pairs/ (shipped defaults)"))
        heads.append(_line("dedup clusters", job["clusters"], "every two files of a manifest cluster"))
        per_edit["dedup pairs"], per_edit["dedup clusters"] = job["pairs"]["recall_per_edit"], \
            job["clusters"]["recall_per_edit"]
    cp = res.get("chromaprint")
    if cp:
        heads.append(_line("Chromaprint", cp["best"], f"similarity >= {cp['best_threshold']} (best F1 of the sweep)"))
        per_edit["Chromaprint"] = cp["best"]["recall_per_edit"]
    lines += [table(heads, ["method", "pair precision", "pair recall", "F1", "predicted", "mixed clusters",
                            "negative pairs", "rule"]), ""]
    if per_edit:
        edits = sorted({e for v in per_edit.values() for e in v})
        lines += ["Recall of (original, copy) pairs per edit:", "",
                  table([{"edit": e, **{k: v.get(e) for k, v in per_edit.items()}} for e in edits],
                        ["edit", *per_edit]), ""]
    if job.get("pairs"):
        kinds = job["pairs"]["by_kind"]
        lines += ["By kind of original (dedup pairs): " + ", ".join(f"{k} {v}" for k, v in kinds.items()), ""]
        rows = [{"edit": e, **v} for e, v in job["offsets"].items()]
        if job.get("keepers"):
            lines += ["Kept file of each manifest cluster, by edit: "
                      + ", ".join(f"{k} {v}" for k, v in job["keepers"].items()), ""]
        lines += ["Offsets of the true (original, copy) pairs found (dedup pairs/):", "",
                  table(rows, ["edit", "n", "within_0_5s", "max_offset_err_s", "max_scale_err"]), ""]
    if res.get("throughput"):
        t = res["throughput"]
        lines += ["Throughput (seconds of audio per CPU second, decode included; fpcalc in the same run):", "",
                  table([t], ["audio_s", "fpcalc_rate", "kernel_rate", "kernel_ratio", "job_cpu_s", "job_rate",
                              "job_ratio", "job_wall_s"]), ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.audio", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=OUT,
                    help="the corpus root (tune/, aside/, blind2/, blind3/, blind4/, blind5/)")
    ap.add_argument("--part", choices=("tune", "aside", "blind2", "blind3", "blind4", "blind5"), default="tune",
                    help="aside, blind2, blind3, blind4 and blind5 are kept aside (each run once blind, seen "
                         "since): never tune on them")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="job override; may repeat")
    ap.add_argument("--conf", action="append", type=Path, default=[], help="job YAML config; may repeat")
    ap.add_argument("--label", default="shipped defaults")
    ap.add_argument("--result", type=Path, default=None, help="score this existing job output")
    ap.add_argument("--no-fpcalc", action="store_true", help="skip Chromaprint")
    ap.add_argument("--no-kernel-loop", action="store_true", help="skip the bare kernel loop")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--truth", choices=("recording", "recording-all", "group"), default="recording",
                    help="pairs of two originals sharing material: ignored (recording, default), true "
                         "(recording-all) or false (group: the truth before the recording column)")
    ap.add_argument("--sweep-similarity", default=None, metavar="F,F,...",
                    help="with --result on tune: rescore the duplicate edges under these similarity floors")
    args = ap.parse_args(argv)
    P.TRUTH_KEY = args.truth
    part_dir = args.corpus / args.part
    if not (part_dir / "truth.csv").exists():
        raise SystemExit(f"no corpus at {part_dir}: build it with python -m bench.audio_corpus")
    if args.part in ("aside", "blind2", "blind3", "blind4", "blind5"):
        _log(f"[audio] {args.part}: a kept-aside part; quote it once with frozen defaults, never tune on it")
    rows = P.load_truth(part_dir)
    if args.sweep_similarity:
        if args.part != "tune" or args.result is None:
            raise SystemExit("--sweep-similarity rescores an existing run (--result) of the tune part only")
        sweep = sweep_similarity(rows, args.result, [float(x) for x in args.sweep_similarity.split(",")])
        text = json.dumps(sweep, indent=1, default=str)
        print(text)
        (args.out / "tune-similarity-sweep.json").write_text(text + "\n")
        return 0
    audio_s = sum(float(r["duration_s"]) for r in rows)
    res: dict = {"files": len(rows), "audio_s": round(audio_s, 1)}
    thr: dict = {"audio_s": round(audio_s, 1)}
    (args.out / "runs").mkdir(parents=True, exist_ok=True)  # kept: a run can be rescored later (--result)
    work = Path(tempfile.mkdtemp(prefix=f"{args.part}-", dir=args.out / "runs"))
    if args.result is not None:
        res["dedup"] = score_job(rows, args.result) | {"result": str(args.result)}
    else:
        result = work / "result"
        cmd = job_command(part_dir / "files", result, args.set, args.conf)
        _log(f"[audio] {args.part}: {' '.join(cmd)}")
        try:
            wall, cpu = run_job(cmd, work / "job.log")
            res["dedup"] = score_job(rows, result) | {"wall_s": round(wall, 1), "cpu_s": cpu,
                                                       "result": str(result), "command": cmd}
            thr.update(job_wall_s=round(wall, 1), job_cpu_s=cpu["total"], job_rate=round(audio_s / cpu["total"], 1))
        except RuntimeError as exc:
            _log(f"[audio] {exc}")
            res["dedup"] = {"failed": str(exc).splitlines()[0], "log": str(work / "job.log")}
    if not args.no_fpcalc:
        _log("[audio] fpcalc ...")
        cps, cost = P.fpcalc_all(part_dir, rows)
        thr["fpcalc_rate"] = round(audio_s / max(cost["cpu_s"], 1e-9), 1)
        sims = P.chromaprint_pairs(cps, P.truth_pairs(rows))
        sweep = {th: P.score(rows, {p for p, s in sims.items() if s >= th}, P.truth_pairs(rows))
                 for th in P.CP_THRESHOLDS}
        best = max(sweep, key=lambda th: sweep[th]["f1"])
        res["chromaprint"] = {"cost": cost, "empty": cost["empty"], "sweep": sweep, "best_threshold": best,
                              "best": sweep[best]}
    if not args.no_kernel_loop:
        _log("[audio] the job's kernels in a bare loop ...")
        _, cost = P.fingerprint_all(part_dir, rows)
        thr["kernel_rate"] = round(audio_s / cost["cpu_s"], 1)
        res["kernel_loop"] = cost
    if "fpcalc_rate" in thr:
        for k in ("kernel", "job"):
            if f"{k}_rate" in thr:
                thr[f"{k}_ratio"] = round(thr[f"{k}_rate"] / thr["fpcalc_rate"], 3)
    res["throughput"] = thr
    label = args.label + (f" ({' '.join(args.set)})" if args.set else "")
    md = markdown(args.part, label, res)
    print(md)
    from bench.common import machine

    stem = args.part + ("" if args.label == "shipped defaults" else f"-{args.label}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.md").write_text(md + "\n")
    (args.out / f"{stem}.json").write_text(json.dumps({"label": label, "part": args.part, "machine": machine(),
                                                       "sets": args.set, "truth": args.truth, **res},
                                                      indent=1, default=str) + "\n")
    return 1 if "failed" in res.get("dedup", {}) else 0


if __name__ == "__main__":
    sys.exit(main())
