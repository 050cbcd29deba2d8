"""Large inputs through the users' entry point: `dedup run` as a subprocess, default settings.

    python bench/cli_scale.py --rows 500000 1000000 --layout single many      # embeddings
    python bench/cli_scale.py --rows --paths 1000000                         # tables of image paths

Inputs are written the way users write them: one Parquet file by
`pyarrow.parquet.write_table` with its DEFAULT row groups (1Mi rows: one row
group per file at these sizes), or `--files` small Parquet files in a folder
(read with a glob). Columns: `id` (zero-padded row index), `embedding`
(list<float32>, 512-d). Vectors: bench/selfjoin.py's generator (planted
near-duplicates at cosine U(0.90, 0.99), hard negatives at U(0.80, 0.90), a 2%
slice of identical vectors). `--paths N`: a JSONL and a Parquet table of N
image paths (`id`, `path`) naming `--path-images` small distinct PNGs, each
named N / path-images times (so every file is read many times, and the
manifest has N rows).

Per run, one row: wall seconds of `dedup run` (JVM start to exit), CPU seconds
and peak memory (PSS) of its whole process tree (sampled from /proc every
0.5 s: the dedup process, its JVM, the Python workers), the stage times from
summary.json, and recall. Truth: exact FAISS IndexFlatIP range search at
cosine >= 0.90 for `--exact-queries` random queries against all N vectors
(0 = all N queries), timed in the same invocation; its full N x N time is
extrapolated (x N / queries) for "x exact" = exact seconds / dedup seconds.
Recall counts truth pairs touching the sampled queries with at least one end
outside the identical slice (slice pairs are exact duplicates: checked as
"slice in one cluster"): `pairs` = in the job's pairs/ table, `clusters` =
both ends in one cluster of the manifest (clusters are stars around a keeper,
so two copies of one original may sit in different clusters by design).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import MemorySampler, _descendants, _proc_table, machine, table  # noqa: E402
from bench.selfjoin import D, ID_WIDTH, THRESHOLD, ids, make_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("ingest", "features", "candidates", "clusters", "manifest")


# ---------------------------------------------------------------------------- inputs

def embedding_table(x: np.ndarray, start: int = 0):
    import pyarrow as pa

    values = pa.array(x.ravel(), type=pa.float32())
    emb = pa.ListArray.from_arrays(pa.array(np.arange(0, x.size + 1, D, dtype=np.int32)), values)
    return pa.table({"id": pa.array(ids(np.arange(start, start + len(x)))), "embedding": emb})


def write_single(x: np.ndarray, path: Path) -> Path:
    """One file, pyarrow's defaults (row groups of up to 1Mi rows, snappy)."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(embedding_table(x), path)
    return path


def write_many(x: np.ndarray, folder: Path, files: int) -> str:
    """`files` Parquet files of about N / files rows each, pyarrow's defaults; returns a glob."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, len(x), files + 1).astype(int)
    for k, (i0, i1) in enumerate(zip(bounds[:-1], bounds[1:])):
        pq.write_table(embedding_table(x[i0:i1], start=i0), folder / f"part-{k:05d}.parquet")
    return str(folder / "*.parquet")


def write_path_table(rows: int, images: int, folder: Path, fmt: str, seed: int) -> tuple[str, int]:
    """A table of `rows` image paths naming `images` small distinct PNGs (each named rows/images
    times), written as users write it: JSONL lines, or one Parquet file (pyarrow defaults).
    Returns (table path, distinct images)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    pics = folder / "images"
    pics.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for k in range(images):  # blocky noise: distinct pHashes, ~1-3 KB each
        block = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
        Image.fromarray(block).resize((64, 64), Image.NEAREST).save(pics / f"img{k:05d}.png")
    paths = np.char.add(np.char.add("images/img", np.char.zfill((np.arange(rows) % images).astype(str), 5)), ".png")
    if fmt == "jsonl":
        target = folder / "paths.jsonl"
        with open(target, "w") as f:
            for i, path in enumerate(paths):
                f.write(f'{{"id": "{i:0{ID_WIDTH}d}", "path": "{path}"}}\n')
    else:
        target = folder / "paths.parquet"
        pq.write_table(pa.table({"id": pa.array(ids(np.arange(rows))), "path": pa.array(paths)}), target)
    return str(target), images


# ---------------------------------------------------------------------------- truth

def exact_truth(x: np.ndarray, queries: int, seed: int) -> dict:
    """Exact pairs >= THRESHOLD touching sampled queries (FAISS IndexFlatIP range search)."""
    import faiss

    n = len(x)
    rng = np.random.default_rng(seed)
    q = np.arange(n) if not queries or queries >= n else np.sort(rng.choice(n, size=queries, replace=False))
    index = faiss.IndexFlatIP(D)
    index.add(x)
    radius = float(np.nextafter(np.float32(THRESHOLD), np.float32(-np.inf)))
    load = os.getloadavg()[0]
    t, c = time.perf_counter(), time.process_time()
    lims, sims, hits = index.range_search(np.ascontiguousarray(x[q]), radius)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    src = np.repeat(q, np.diff(lims.astype(np.int64)))
    hits = hits.astype(np.int64)
    keep = (src != hits) & (sims >= THRESHOLD)
    key = np.unique(np.minimum(src, hits)[keep] * n + np.maximum(src, hits)[keep])
    scale = n / len(q)
    return {"a": key // n, "b": key % n, "queries": len(q), "measured_s": wall, "load": f"{load:.1f}",
            "exact_s": wall * scale, "exact_cpu_s": cpu * scale}


# ---------------------------------------------------------------------------- the run

class TreeSampler(MemorySampler):
    """MemorySampler (CPU seconds) + peak memory of the tree, summed at one instant.

    Memory is PSS (/proc/PID/smaps_rollup): forked Python workers share pages with
    their daemon, and RSS would count those once per process. A child that still
    runs its parent's command line is skipped: the JVM starts processes (the
    Python daemon; `chmod` for every file Hadoop writes without its native
    library) with vfork, and until exec such a child reports the JVM's whole
    memory as its own; counting it doubled the JVM in a first version of this
    benchmark.
    """

    def __init__(self, interval: float, root: int) -> None:
        super().__init__(interval=interval, root=root)
        self.tree = {"total": 0, "driver": 0, "jvm": 0, "workers": 0}

    def sample(self) -> None:
        super().sample()
        procs = _proc_table()
        now = {"total": 0, "driver": 0, "jvm": 0, "workers": 0}
        for pid in [self.root, *_descendants(procs, self.root)]:
            if pid not in procs:
                continue
            ppid, rss, cmd, _ = procs[pid]
            if pid != self.root and ppid in procs and procs[ppid][2] == cmd and "java" in cmd.split(" ", 1)[0]:
                continue  # vfork child of the JVM, before exec
            kind = "driver" if pid == self.root else "jvm" if "java" in cmd.split(" ", 1)[0] else "workers"
            used = _pss(pid, rss)
            now[kind] += used
            now["total"] += used
        for key, value in now.items():
            self.tree[key] = max(self.tree[key], value)

    def tree_mib(self) -> dict[str, int]:
        return {k: round(v / 2**20) for k, v in self.tree.items()}


def _pss(pid: int, fallback: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return fallback


def run_dedup(source: str, out: Path, log_path: Path, extra: list[str], cap_s: float) -> dict:
    """`dedup run --input source --output out` with the user's defaults; wall, CPU, peak RSS."""
    dedup = shutil.which("dedup", path=str(Path(sys.executable).parent)) or "dedup"
    cmd = [dedup, "run", "--input", source, "--output", str(out), *extra]
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_SUBMIT_ARGS", "SPARK_DRIVER_MEMORY")}
    start, load0 = time.perf_counter(), os.getloadavg()[0]
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                                start_new_session=True)
        with TreeSampler(0.5, proc.pid) as mem:
            try:
                rc = proc.wait(timeout=cap_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
                rc = "timeout"
    wall = time.perf_counter() - start
    last = Path(log_path).read_text().strip().splitlines()[-1:] or [""]
    tree = mem.tree_mib()
    return {"cmd": " ".join(cmd), "rc": rc, "wall_s": round(wall, 1), "cpu_s": mem.cpu_s()["total"],
            "peak_tree_mib": tree.pop("total"), "peak": tree, "last_line": last[0],
            "load": f"{load0:.1f}/{os.getloadavg()[0]:.1f}"}


def score(out: Path, truth: dict, in_slice: np.ndarray) -> dict:
    """Recall over non-slice truth pairs: in pairs/, and both ends in one manifest cluster."""
    import pyarrow.dataset as ds

    n = len(in_slice)
    pairs = ds.dataset(out / "pairs", format="parquet").to_table(columns=["item_a", "item_b"])
    pa_, pb_ = (np.asarray(pairs[c].to_numpy(zero_copy_only=False)).astype(np.int64) for c in ("item_a", "item_b"))
    found = np.unique(np.minimum(pa_, pb_) * n + np.maximum(pa_, pb_))
    manifest = ds.dataset(out / "manifest", format="parquet", partitioning="hive").to_table(
        columns=["item_id", "cluster_id", "action"])
    item = np.asarray(manifest["item_id"].to_numpy(zero_copy_only=False)).astype(np.int64)
    cluster = np.empty(n, dtype=object)
    cluster[item] = manifest["cluster_id"].to_numpy(zero_copy_only=False)
    a, b = truth["a"], truth["b"]
    outside = ~(in_slice[a] & in_slice[b])
    a, b = a[outside], b[outside]
    in_pairs = np.isin(a * n + b, found)
    same = np.array([cluster[i] is not None and cluster[i] == cluster[j] for i, j in zip(a, b)], dtype=bool)
    slice_clusters = {cluster[i] for i in np.flatnonzero(in_slice)}
    actions = manifest["action"].to_numpy(zero_copy_only=False)
    return {"truth_pairs": int(a.size), "recall_pairs": round(float(in_pairs.mean()) if a.size else 1.0, 4),
            "recall_clusters": round(float(same.mean()) if a.size else 1.0, 4),
            "slice_clusters": len(slice_clusters), "manifest_rows": int(len(item)),
            "keep": int((actions == "keep").sum()), "drop": int((actions == "drop").sum())}


# ---------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="*", default=[500_000], help="vector counts (none: paths only)")
    ap.add_argument("--layout", nargs="+", choices=["single", "many"], default=["single"])
    ap.add_argument("--files", type=int, default=500, help="files for --layout many")
    ap.add_argument("--exact-queries", type=int, default=10_000, help="0 = exact for all N queries")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "out" / "cli-scale"))
    ap.add_argument("--cap-min", type=float, default=40, help="kill a dedup run after this many minutes")
    ap.add_argument("--keep", action="store_true", help="keep inputs and outputs")
    ap.add_argument("--paths", type=int, nargs="*", default=[],
                    help="also run tables of this many image paths (no embeddings)")
    ap.add_argument("--path-format", nargs="+", choices=["jsonl", "parquet"], default=["jsonl", "parquet"])
    ap.add_argument("--path-images", type=int, default=1000, help="distinct images the path rows name")
    ap.add_argument("--dedup-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for dedup run (repeat), e.g. --dedup-arg=--set --dedup-arg=k=v")
    args = ap.parse_args(argv)

    base = Path(args.out)
    base.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    rows = []
    for n in args.rows:
        t = time.perf_counter()
        x, in_slice = make_corpus(n, seed=args.seed)
        print(f"\nN = {n:,}: vectors made in {time.perf_counter() - t:.0f} s", flush=True)
        truth = exact_truth(x, args.exact_queries, args.seed)
        print(f"exact FAISS: {truth['queries']:,} queries in {truth['measured_s']:.1f} s -> "
              f"{truth['exact_s']:.0f} s ({truth['exact_cpu_s']:.0f} CPU s) for all N (extrapolated), "
              f"{truth['a'].size:,} truth pairs, load {truth['load']}", flush=True)
        for layout in args.layout:
            folder = base / f"{layout}-{n}"
            shutil.rmtree(folder, ignore_errors=True)
            t = time.perf_counter()
            source = (str(write_single(x, folder / "emb.parquet")) if layout == "single"
                      else write_many(x, folder / "emb", args.files))
            written = time.perf_counter() - t
            out = folder / "out"
            run = run_dedup(source, out, folder / "dedup.log", args.dedup_arg, args.cap_min * 60)
            row = {"rows": n, "layout": layout if layout == "single" else f"{args.files} files", **run,
                   "write_s": round(written, 1), "exact_s": round(truth["exact_s"]),
                   "exact_cpu_s": round(truth["exact_cpu_s"]), "exact_queries": truth["queries"],
                   "exact_load": truth["load"]}
            if run["rc"] == 0:
                summary = json.loads((out / "summary.json").read_text())
                row["stages"] = summary["timings_s"]
                row.update(score(out, truth, in_slice))
                row["x_exact"] = round(truth["exact_s"] / run["wall_s"], 1)
                row["x_exact_cpu"] = round(truth["exact_cpu_s"] / max(run["cpu_s"], 1e-9), 1)
            print(json.dumps(row, default=str), flush=True)
            rows.append(row)
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
        del x
    for n in args.paths:
        for fmt in args.path_format:
            folder = base / f"paths-{fmt}-{n}"
            shutil.rmtree(folder, ignore_errors=True)
            source, distinct = write_path_table(n, args.path_images, folder, fmt, args.seed)
            out = folder / "out"
            run = run_dedup(source, out, folder / "dedup.log", args.dedup_arg, args.cap_min * 60)
            row = {"rows": n, "layout": f"{fmt} of paths ({distinct} images)", **run}
            if run["rc"] == 0:
                summary = json.loads((out / "summary.json").read_text())
                row["stages"] = summary["timings_s"]
                row.update({k: summary["counts"][k] for k in ("keep", "drop", "error")})
                row["contents"] = summary["stages"].get("contents")
            print(json.dumps(row, default=str), flush=True)
            rows.append(row)
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    print()
    for r in rows:  # 4 decimals for recall (table() keeps 3 significant digits)
        for k in ("recall_pairs", "recall_clusters"):
            if k in r:
                r[k] = f"{r[k]:.4f}"
    print(table([{**r, "stage s": " / ".join(f"{r['stages'].get(k, 0):.0f}" for k in STAGES) if "stages" in r else "",
                  "jvm / workers / driver MiB": f"{r['peak']['jvm']:.0f} / {r['peak']['workers']:.0f} / "
                                                 f"{r['peak']['driver']:.0f}"} for r in rows],
                ["rows", "layout", "rc", "wall_s", "stage s", "cpu_s", "peak_tree_mib", "jvm / workers / driver MiB",
                 "exact_s", "exact_load", "x_exact", "x_exact_cpu", "recall_pairs", "recall_clusters", "slice_clusters", "keep", "drop", "load"]))
    return 0 if all(r["rc"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
