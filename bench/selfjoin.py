"""Embedding self-join benchmark: exact FAISS vs Spark MLlib LSH vs our IVF blocked self-join.

One command, prints markdown tables (see bench/RESULTS.md):

    python bench/selfjoin.py                       # 100k: exact, planner, ours, LSH, memory
    python bench/selfjoin.py --sizes 1000000 --no-lsh --no-memory-scaling --no-numpy-ref

Data: synthetic 512-d L2-normalised vectors with structure: a shared direction
(embeddings are anisotropic), ~N/200 cluster centres with log-normal sizes and
per-cluster spread, planted near-duplicate groups (4% of N bases, 1-4 copies
each at cosine U(0.90, 0.99) to the base), "related" hard negatives at cosine
U(0.80, 0.90), and a skewed slice: 2% of N identical vectors (a placeholder
image). Rows are shuffled; ids are the zero-padded row index.

Recall counts exact pairs at cosine >= 0.90 over NON-SLICE pairs (a pair with
at least one endpoint outside the identical slice). Pairs inside the slice are
reported separately: the neighbour cap (max_neighbors) keeps only a few per
item by design; what matters is that the slice stays one connected component.

Spark runs (ours, LSH) each run in a child process with their own local[2]
JVM, so peak memory is per run and a run over its time cap is killed. Times
exclude JVM start and Python worker start (both are warmed up first).

Each row has wall seconds AND CPU seconds (user + system of every process
involved: driver, JVM, Python workers; for exact, this process). The machine is
shared and often oversubscribed, so CPU-second ratios are the stable ones;
wall ratios hold only when the load column is low.

"ours" rows run jobs.candidates.embedding_pairs as shipped, with the
SelfJoinConfig defaults overridden by each setting (any SelfJoinConfig key,
e.g. "transport_dtype=float32" or "nprobe=2,probe_margin=inf").
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import MemorySampler, machine, run_child, table  # noqa: E402

D = 512
THRESHOLD = 0.90
SLICE_FRACTION = 0.02
ID_WIDTH = 9


# ---------------------------------------------------------------------------- data

def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _near(rng: np.random.Generator, base: np.ndarray, cos: np.ndarray) -> np.ndarray:
    """Vectors at exactly cosine `cos` to each row of base (unit rows)."""
    e = rng.standard_normal(base.shape)
    e -= (e * base).sum(1, keepdims=True) * base
    e = _unit(e)
    return _unit(cos[:, None] * base + np.sqrt(1 - cos * cos)[:, None] * e)


def make_corpus(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(vectors (n, 512) float32 unit rows, in_slice (n,) bool), rows shuffled."""
    rng = np.random.default_rng(seed)
    n_slice = int(round(SLICE_FRACTION * n))
    n_groups = int(0.04 * n)
    copies = rng.integers(1, 5, size=n_groups)
    n_copies, n_related = int(copies.sum()), int(0.01 * n)
    n_plain = n - n_slice - n_copies - n_related
    k = max(8, n // 200)
    shared = _unit(rng.standard_normal(D))
    centres = _unit(rng.standard_normal((k, D)))
    weights = np.exp(rng.normal(0, 1, k))
    spread = rng.uniform(0.45, 0.70, k)
    label = rng.choice(k, size=n_plain, p=weights / weights.sum())
    x = np.empty((n, D), np.float32)
    for i0 in range(0, n_plain, 100_000):  # chunks: bounded float64 scratch
        lab = label[i0:i0 + 100_000]
        noise = _unit(rng.standard_normal((lab.size, D)))
        x[i0:i0 + lab.size] = _unit(0.5 * shared + 0.67 * centres[lab] + spread[lab, None] * noise)
    at = n_plain
    bases = rng.choice(n_plain, size=n_groups, replace=False)
    for chunk in np.array_split(np.repeat(bases, copies), max(1, n_copies // 100_000)):
        x[at:at + chunk.size] = _near(rng, x[chunk].astype(np.float64), rng.uniform(0.90, 0.99, chunk.size))
        at += chunk.size
    related = rng.choice(n_plain, size=n_related, replace=False)
    x[at:at + n_related] = _near(rng, x[related].astype(np.float64), rng.uniform(0.80, 0.90, n_related))
    at += n_related
    x[at:] = _unit(0.5 * shared + 0.87 * _unit(rng.standard_normal(D)))
    in_slice = np.zeros(n, bool)
    in_slice[at:] = True
    perm = rng.permutation(n)
    return np.ascontiguousarray(x[perm]), in_slice[perm]


def ids(idx: np.ndarray) -> np.ndarray:
    return np.char.zfill(np.asarray(idx).astype(str), ID_WIDTH)


def write_features(x: np.ndarray, path: Path, rows_per_group: int = 16384) -> None:
    """Parquet with content_sha256 string, embedding list<float> (what features hold)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("content_sha256", pa.string()), ("embedding", pa.list_(pa.float32()))])
    with pq.ParquetWriter(path, schema, compression="none") as writer:
        for i0 in range(0, len(x), rows_per_group):
            block = x[i0:i0 + rows_per_group]
            offsets = pa.array(np.arange(0, block.size + 1, D, dtype=np.int32))
            emb = pa.ListArray.from_arrays(offsets, pa.array(block.ravel()))
            sha = pa.array(ids(np.arange(i0, i0 + len(block))))
            writer.write_table(pa.table([sha, emb], schema=schema))


# ---------------------------------------------------------------------------- truth + recall

def split_slice(a: np.ndarray, b: np.ndarray, in_slice: np.ndarray) -> np.ndarray:
    """True where the pair lies inside the identical slice."""
    return in_slice[a] & in_slice[b]


def recall_of(found: tuple[np.ndarray, np.ndarray], truth: tuple[np.ndarray, np.ndarray], n: int) -> float:
    ta, tb = truth
    if ta.size == 0:
        return 1.0
    return float(np.isin(ta * n + tb, found[0] * n + found[1]).mean())


def slice_components(a: np.ndarray, b: np.ndarray, in_slice: np.ndarray) -> int:
    """Connected components among slice items using only the found slice pairs."""
    from jobs.clusters import find_components

    nodes = np.flatnonzero(in_slice)
    pos = np.full(in_slice.size, -1)
    pos[nodes] = np.arange(nodes.size)
    keep = in_slice[a] & in_slice[b]
    labels = find_components(nodes.size, pos[a[keep]], pos[b[keep]])
    return int(np.unique(labels).size)


def exact_full(x: np.ndarray) -> dict:
    """Exact pairs >= THRESHOLD, timed two ways: FAISS flat IP range search (N x N)
    and the blocked upper-triangle GEMM reference (N^2 / 2)."""
    from udfs.ivf import exact_pairs, exact_pairs_faiss

    t, c = time.perf_counter(), time.process_time()
    a, b, _ = exact_pairs_faiss(x, THRESHOLD)
    t_faiss, c_faiss = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    a2, b2, _ = exact_pairs(x, THRESHOLD)
    t_tri, c_tri = time.perf_counter() - t, time.process_time() - c
    if not (np.array_equal(a, a2) and np.array_equal(b, b2)):
        print(f"  note: faiss and blocked exact differ ({a.size} vs {a2.size} pairs at the threshold edge)")
    return {"a": a, "b": b, "faiss_s": t_faiss, "triangle_s": t_tri, "faiss_cpu": c_faiss,
            "triangle_cpu": c_tri, "sampled": False}


def exact_sampled(x: np.ndarray, queries: int, seed: int, block_rows: int = 4096) -> dict:
    """Exact at sizes too large to run in full: a random sample of queries.

    FAISS flat IP range search for `queries` sampled vectors against all of x
    (time extrapolated x N / queries), and the blocked GEMM + threshold of
    udfs.ivf.exact_pairs for one block of `block_rows` sampled rows against all
    of x (extrapolated x N / block_rows / 2: the upper triangle). Truth =
    canonical pairs touching a sampled query."""
    import faiss

    rng = np.random.default_rng(seed)
    q = np.sort(rng.choice(len(x), size=queries, replace=False))
    index = faiss.IndexFlatIP(D)
    index.add(x)
    radius = float(np.nextafter(np.float32(THRESHOLD), np.float32(-np.inf)))
    t, c = time.perf_counter(), time.process_time()
    lims, sims, hits = index.range_search(np.ascontiguousarray(x[q]), radius)
    t_q, c_q = time.perf_counter() - t, time.process_time() - c
    src = np.repeat(q, np.diff(lims.astype(np.int64)))
    hits = hits.astype(np.int64)
    keep = (src != hits) & (sims >= THRESHOLD)
    a, b = np.minimum(src, hits)[keep], np.maximum(src, hits)[keep]
    key = np.unique(a * len(x) + b)
    qb = np.array(x[q[:block_rows]], dtype=np.float32, copy=True)
    t, c = time.perf_counter(), time.process_time()
    for j0 in range(0, len(x), block_rows):  # the inner loop of udfs.ivf.exact_pairs
        s = qb @ x[j0:j0 + block_rows].T
        np.nonzero(s >= THRESHOLD)
    t_b, c_b = time.perf_counter() - t, time.process_time() - c
    scale_f, scale_b = len(x) / queries, len(x) / len(qb) / 2
    return {"a": key // len(x), "b": key % len(x), "faiss_s": t_q * scale_f, "faiss_cpu": c_q * scale_f,
            "triangle_s": t_b * scale_b, "triangle_cpu": c_b * scale_b, "sampled": True, "queries": q,
            "measured_s": t_q + t_b}


# ---------------------------------------------------------------------------- IVF planner (numpy)

def plan_ivf(x: np.ndarray, truth: tuple, nlists: list[int], nprobes: list[int], train_sample: int,
             niter: int, seed: int, margins: list[float]) -> list[dict]:
    """Predicted recall (ignoring the neighbour cap) and work for each (nlist, nprobe).

    A pair (a, b) is found when home(b) is among a's probe lists or home(a)
    among b's. Work: pair evaluations sum_l queries_l * members_l (GEMM
    volume / d) and shuffled vector copies N * (nprobe + 1). `margins` adds
    adaptive probing: probe list l only while sim(x, c_l) >= sim(x, c_home) - margin.
    """
    from udfs.ivf import assign_lists, train_centroids

    n = len(x)
    rng = np.random.default_rng(seed)
    ta, tb = truth
    rows = []
    for nlist in nlists:
        take = min(n, train_sample)
        sample = x[np.sort(rng.choice(n, size=take, replace=False))]
        t = time.perf_counter()
        cents = train_centroids(sample, nlist, niter=niter, seed=seed)
        t_train = time.perf_counter() - t
        pmax = min(max(nprobes), len(cents))
        t = time.perf_counter()
        lists = assign_lists(x, cents, pmax)
        t_assign = time.perf_counter() - t
        sims = _probe_sims(x, cents, lists) if margins else None
        home = lists[:, 0]
        members = np.bincount(home, minlength=len(cents))
        variants = [(p, None) for p in nprobes if p <= pmax] + [(pmax, m) for m in margins]
        for p, margin in variants:
            probe = lists[:, :p]
            if margin is not None:
                active = sims[:, :p] >= sims[:, :1] - margin
                probe = np.where(active, probe, -1)
            hit = (probe[ta] == home[tb, None]).any(1) | (probe[tb] == home[ta, None]).any(1)
            valid = probe.reshape(-1) >= 0
            queries = np.bincount(probe.reshape(-1)[valid], minlength=len(cents))
            rows.append({
                "nlist": len(cents), "nprobe": p if margin is None else f"<={p}, margin {margin}",
                "pred_recall": float(hit.mean()) if ta.size else 1.0,
                "avg_probes": float(valid.sum() / n),
                "pair_evals_M": float((queries * members).sum() / 1e6),
                "largest_list": int(members.max()),
                "train_s": t_train, "assign_s": t_assign,
            })
    return rows


def _probe_sims(x: np.ndarray, cents: np.ndarray, lists: np.ndarray, chunk: int = 20_000) -> np.ndarray:
    """(n, p) float32 similarity of each vector to each of its probe lists' centroids, in chunks."""
    out = np.empty(lists.shape, np.float32)
    for i0 in range(0, len(x), chunk):
        out[i0:i0 + chunk] = np.einsum("nd,npd->np", x[i0:i0 + chunk], cents[lists[i0:i0 + chunk]])
    return out


# ---------------------------------------------------------------------------- child: ours

def child_ours(spec: dict) -> dict:
    """Run jobs.candidates.embedding_pairs in this process's own local[2] Spark."""
    from bench.common import last_stage_id, spark_session, stage_metrics
    from jobs.candidates import embedding_pairs
    from jobs.config import EmbeddingConfig, SelfJoinConfig

    spark = spark_session("bench-selfjoin-ours", driver_memory=spec.get("driver_memory", "4g"))
    _warm_workers(spark)
    feats = spark.read.parquet(spec["data"])
    emb = EmbeddingConfig(enabled=True, threshold=THRESHOLD, candidate_threshold=THRESHOLD)
    cfg = SelfJoinConfig(**spec["selfjoin"])
    stats: dict = {}
    before = last_stage_id(spark)
    steps = {}
    with MemorySampler() as mem:
        t = time.perf_counter()
        if spec.get("breakdown"):
            pairs = _embedding_pairs_timed(spark, feats, emb, cfg, stats, steps)
        else:
            pairs = embedding_pairs(spark, feats, emb, cfg, stats)  # ends with an eager localCheckpoint
        wall = time.perf_counter() - t
    metrics = stage_metrics(spark, before)
    metrics["steps_s"] = steps
    found = pairs.select("sha_a", "sha_b").toPandas()
    np.savez(spec["pairs_out"], a=found["sha_a"].to_numpy().astype(np.int64),
             b=found["sha_b"].to_numpy().astype(np.int64))
    spark.stop()
    stats = {k: v for k, v in stats.items() if not k.startswith("_")}  # "_centroids" is an array
    return {"wall_s": wall, "cpu_s": mem.cpu_s(), "mem_mib": mem.mib(), "stats": stats, "metrics": metrics,
            "pairs": len(found)}


def _embedding_pairs_timed(spark, feats, emb, cfg, stats, steps):
    """jobs.candidates.embedding_pairs step by step (its own private helpers, same
    order), with each step forced and timed. Bench-only: shows where time goes."""
    from functools import partial

    from pyspark.sql import functions as F

    from jobs import candidates as C
    from udfs import adapters, ivf

    clock = [time.perf_counter()]

    def lap(name):
        now = time.perf_counter()
        steps[name] = round(now - clock[0], 2)
        clock[0] = now

    dtype = cfg.transport_dtype
    vectors = C._packed_vectors(feats, dtype).cache()
    n = vectors.count()
    lap(f"read parquet + pack to {dtype} + cache + count")
    centroids = C._train(vectors, n, cfg, stats)
    lap(f"train: {stats['ivf_train_sample']} samples to driver + k-means ({len(centroids)} lists)")
    bc = spark.sparkContext.broadcast(centroids)
    assigned = vectors.mapInPandas(
        partial(C._assign_batches, centroids=bc, nprobe=min(cfg.nprobe, len(centroids)), margin=cfg.probe_margin,
                dtype=dtype, use_gpu=False), C.ASSIGNED_DDL).cache()
    assigned.count()
    vectors.unpersist()
    lap("assign lists (mapInPandas) + cache")
    groups = C._plan_groups(assigned, cfg.max_list_size, stats)
    lap("plan groups (list sizes to driver)")
    threshold = emb.candidate_threshold - ivf.transport_slack(dtype)

    def search(pdf):
        return adapters.search_group(pdf, threshold, cfg.max_neighbors, cfg.block_rows, dtype)

    found = groups.groupBy("list", "mpart", "qpart").applyInPandas(search, adapters.PAIR_DDL)
    pairs = (found.groupBy("sha_a", "sha_b").agg(F.max("similarity").alias("similarity"))
                  .localCheckpoint(eager=True))
    lap("shuffle groups + search (applyInPandas) + merge pairs")
    assigned.unpersist()
    return pairs


def _warm_workers(spark) -> None:
    """Start the JVM and the Python workers (with numpy/faiss imported) before timing."""
    def warm(batches):
        import faiss  # noqa: F401
        import udfs.ivf  # noqa: F401
        for pdf in batches:
            yield pdf
    spark.range(0, 1000, numPartitions=4).mapInPandas(warm, "id long").count()


# ---------------------------------------------------------------------------- child: LSH

def child_lsh(spec: dict) -> dict:
    """Spark MLlib BucketedRandomProjectionLSH.approxSimilarityJoin, self-join at
    euclidean distance sqrt(2 - 2 * 0.90) (= cosine 0.90 on unit vectors)."""
    from pyspark.ml.feature import BucketedRandomProjectionLSH
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F

    from bench.common import last_stage_id, spark_session, stage_metrics

    spark = spark_session("bench-selfjoin-lsh", driver_memory=spec.get("driver_memory", "4g"))
    _warm_workers(spark)
    df = (spark.read.parquet(spec["data"])
               .select(F.col("content_sha256").alias("id"), array_to_vector("embedding").alias("v")))
    dist = math.sqrt(2 - 2 * THRESHOLD) + 1e-6
    before = last_stage_id(spark)
    with MemorySampler() as mem:
        t = time.perf_counter()
        lsh = BucketedRandomProjectionLSH(inputCol="v", outputCol="h", bucketLength=spec["bucket_length"],
                                          numHashTables=spec["tables"], seed=spec.get("seed", 0))
        model = lsh.fit(df)
        hashed = model.transform(df).cache()
        joined = model.approxSimilarityJoin(hashed, hashed, dist, distCol="d")
        pairs = (joined.select(F.col("datasetA.id").alias("a"), F.col("datasetB.id").alias("b"))
                       .where(F.col("a") < F.col("b")).localCheckpoint(eager=True))
        wall = time.perf_counter() - t
    metrics = stage_metrics(spark, before)
    found = pairs.toPandas()
    np.savez(spec["pairs_out"], a=found["a"].to_numpy().astype(np.int64), b=found["b"].to_numpy().astype(np.int64))
    spark.stop()
    return {"wall_s": wall, "cpu_s": mem.cpu_s(), "mem_mib": mem.mib(), "metrics": metrics, "pairs": len(found)}


# ---------------------------------------------------------------------------- orchestration

class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-selfjoin-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.log = self.work / "children.log"
        self.rows: list[dict] = []
        self.last_load = ""

    def data(self, x: np.ndarray, n: int) -> Path:
        path = self.work / f"features-{n}.parquet"
        if not path.exists():
            write_features(x[:n], path)
        return path

    def child(self, mode: str, spec: dict, cap_s: float) -> tuple[dict | None, str]:
        spec_path = self.work / f"spec-{mode}-{time.time_ns()}.json"
        spec_path.write_text(json.dumps(spec))
        load0 = os.getloadavg()[0]
        result, wall, status = run_child([__file__, "--child", mode, "--spec", str(spec_path)], cap_s, self.log)
        self.last_load = f"{load0:.1f}/{os.getloadavg()[0]:.1f}"
        return result, status

    def found(self, spec: dict) -> tuple[np.ndarray, np.ndarray]:
        z = np.load(spec["pairs_out"])
        a, b = z["a"], z["b"]
        return np.minimum(a, b), np.maximum(a, b)

    def score(self, found, truth_ns, truth_sl, in_slice, n, exact=None) -> dict:
        """Recall over non-slice truth; slice pairs found/exact (both restricted to sampled
        queries at sampled-exact sizes); slice components from ALL found pairs."""
        fa, fb = sampled_found(found, exact, n) if exact else found
        sl = split_slice(fa, fb, in_slice)
        return {"recall": recall_of((fa, fb), truth_ns, n),
                "slice_pairs": f"{int(sl.sum())}/{truth_sl[0].size}",
                "slice_comps": slice_components(*found, in_slice) if in_slice.any() else 0,
                "pairs_found": int(found[0].size)}


def ratios(exact: dict, wall: float, cpu: float) -> dict:
    """Speed-ups against the exact references: wall and CPU seconds (CPU is the stable one here)."""
    return {"x_faiss": exact["faiss_s"] / wall, "x_faiss_cpu": exact["faiss_cpu"] / cpu,
            "x_blocked_cpu": exact["triangle_cpu"] / cpu}


def sampled_found(found, exact, n):
    """At sampled-exact sizes, recall is measured on pairs that touch a sampled query."""
    if not exact["sampled"]:
        return found
    q = np.zeros(n, bool)
    q[exact["queries"]] = True
    keep = q[found[0]] | q[found[1]]
    return found[0][keep], found[1][keep]


def run_size(bench: Bench, n: int) -> None:
    args = bench.args
    print(f"\n## N = {n:,}\n", flush=True)
    t = time.perf_counter()
    x, in_slice = make_corpus(n, args.seed)
    print(f"generated in {time.perf_counter() - t:.1f} s; slice {in_slice.sum()} identical vectors", flush=True)

    # exact
    if n <= args.exact_full_max:
        exact = exact_full(x)
        how = "full"
    else:
        exact = exact_sampled(x, args.exact_queries, args.seed)
        how = f"{args.exact_queries} sampled queries, extrapolated"
    exact_load = f"{os.getloadavg()[0]:.1f}"
    sl = split_slice(exact["a"], exact["b"], in_slice)
    truth_ns = (exact["a"][~sl], exact["b"][~sl])
    truth_sl = (exact["a"][sl], exact["b"][sl])
    print(f"exact ({how}): faiss {exact['faiss_s']:.1f} s, blocked upper triangle {exact['triangle_s']:.1f} s; "
          f"{truth_ns[0].size} non-slice pairs, {truth_sl[0].size} slice pairs", flush=True)
    rows = [{"method": "exact FAISS IndexFlatIP range_search (N x N)", "time_s": exact["faiss_s"],
             "cpu_s": exact["faiss_cpu"], "recall": 1.0, "note": how, "load": exact_load,
             **ratios(exact, exact["faiss_s"], exact["faiss_cpu"])},
            {"method": "exact blocked GEMM, upper triangle (udfs.ivf.exact_pairs)", "time_s": exact["triangle_s"],
             "cpu_s": exact["triangle_cpu"], "recall": 1.0, **ratios(exact, exact["triangle_s"], exact["triangle_cpu"]),
             "note": "N^2/2 dot products" + (", one 4096-row block measured, extrapolated" if exact["sampled"] else ""),
             "load": exact_load}]

    # planner
    plan = []
    if args.plan:
        nlists = [int(v) for v in args.plan_nlists.split(",")] if args.plan_nlists else \
            sorted({max(16, n // s) for s in (400, 200, 100, 50)})
        plan = plan_ivf(x, truth_ns, nlists, [1, 2, 3, 4, 8], args.train_sample, args.niter, args.seed,
                        margins=[0.02, 0.05, 0.10])
        print("\n### IVF planner (numpy, predicted recall ignoring the neighbour cap)\n")
        print(table(plan, ["nlist", "nprobe", "pred_recall", "avg_probes", "pair_evals_M", "largest_list",
                           "train_s", "assign_s"]), flush=True)

    # ours through Spark
    settings = parse_settings(args.ours, n, plan)
    data = bench.data(x, n)
    ours_best = None
    for name, sj in settings:
        spec = {"data": str(data), "selfjoin": sj, "pairs_out": str(bench.work / f"ours-{n}-{name}.npz"),
                "driver_memory": args.driver_memory, "breakdown": args.breakdown}
        print(f"ours [{name}] {sj} ...", flush=True)
        res, status = bench.child("ours", spec, args.cap_min * 60)
        kind = "jobs.candidates.embedding_pairs"
        row = {"method": f"ours Spark IVF, {kind} [{name}]", "setting": _short(sj), "status": status,
               "load": bench.last_load}
        if res:
            row.update(bench.score(bench.found(spec), truth_ns, truth_sl, in_slice, n, exact))
            row.update(time_s=res["wall_s"], cpu_s=res["cpu_s"]["total"],
                       **ratios(exact, res["wall_s"], res["cpu_s"]["total"]),
                       jvm_mib=res["mem_mib"]["jvm"], workers_mib=res["mem_mib"]["workers"],
                       worker_max_mib=res["mem_mib"]["worker_max"], driver_mib=res["mem_mib"]["driver"],
                       shuffle_mib=res["metrics"].get("shuffle_write_mib"),
                       lists=res["stats"].get("ivf_lists"), largest=res["stats"].get("ivf_largest_list"))
            print(f"  {res['wall_s']:.1f} s wall, {res['cpu_s']} CPU s, recall {row['recall']:.4f}:", flush=True)
            print(f"    stats {res['stats']}")
            for step, sec in res["metrics"].get("steps_s", {}).items():
                print(f"    step {sec:7.2f} s  {step}")
            for st in res["metrics"].get("stages", []):
                print(f"    stage group {st[0]}: executor {st[1]} s, shuffle write {st[2]} MiB, {st[3]} stages")
            row["_spec"] = sj
            if row["recall"] >= 0.99 and (ours_best is None or res["wall_s"] < ours_best["time_s"]):
                ours_best = row
        else:
            print(f"  {status}", flush=True)
        rows.append(row)

    # numpy reference of the same algorithm, single process
    if ours_best is not None and args.numpy_ref:
        rows.append(numpy_reference(x, in_slice, truth_ns, truth_sl, n, ours_best, exact, bench))

    # LSH
    lsh_row = None
    if args.lsh and n <= args.lsh_max:
        lsh_row = run_lsh(bench, x, n, in_slice, exact, truth_ns, truth_sl)
        rows.extend(lsh_row)
    for r in rows:
        if ours_best and r.get("method", "").startswith("Spark MLlib BRP-LSH, N=") and r.get("time_s"):
            wall = r["time_s"] / ours_best["time_s"]
            prefix = ">= " if str(r.get("status", "")).startswith("timeout") else ""
            cpu = f", cpu {r['cpu_s'] / ours_best['cpu_s']:.1f}x" if r.get("cpu_s") else ""
            r["lsh_over_ours"] = f"{prefix}{wall:.1f}x wall{cpu}"
    print(f"\n### Results, N = {n:,} (ratios in the same invocation)\n")
    print(table(rows, ["method", "setting", "status", "time_s", "cpu_s", "x_faiss", "x_faiss_cpu", "x_blocked_cpu",
                       "lsh_over_ours", "recall",
                       "slice_pairs", "slice_comps", "pairs_found", "shuffle_mib", "jvm_mib", "workers_mib",
                       "worker_max_mib", "driver_mib", "load", "note"]), flush=True)
    bench.rows.extend({"n": n, **r} for r in rows)

    if args.memory_scaling and ours_best is not None:
        memory_scaling(bench, x, n, in_slice, ours_best, settings)


def _short(sj: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sj.items() if k not in ("seed",))


def parse_settings(spec: str, n: int, plan: list[dict]) -> list[tuple[str, dict]]:
    """--ours "default;nlist=500,nprobe=2;auto": default = SelfJoinConfig() as shipped,
    auto = the planner's cheapest fixed-nprobe setting with predicted recall >= 0.997;
    a value "Ksqrt" means round(K * sqrt(N)), e.g. nlist=3sqrt; other keys are SelfJoinConfig fields."""
    out = []
    for item in [s.strip() for s in spec.split(";") if s.strip()]:
        if item == "default":
            out.append(("default", {}))
        elif item == "auto":
            ok = [p for p in plan if isinstance(p["nprobe"], int) and p["pred_recall"] >= 0.997]
            if ok:
                best = min(ok, key=lambda p: p["pair_evals_M"] + n * p["nlist"] / 1e6 + 2 * n * p["nprobe"] / 1e4)
                out.append((f"auto", {"nlist": best["nlist"], "nprobe": best["nprobe"]}))
        else:
            kv = dict(part.split("=") for part in item.split(","))
            cfg = {k: (int(round(float(v[:-4]) * math.sqrt(n))) if v.endswith("sqrt") else _num(v))
                   for k, v in kv.items()}
            out.append((" ".join(f"{k}={v}" for k, v in cfg.items()), cfg))
    return out


def _num(v: str):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def numpy_reference(x, in_slice, truth_ns, truth_sl, n, best_row, exact, bench) -> dict:
    """udfs.ivf.blocked_self_join in this process (same algorithm, no Spark), timed with training."""
    from jobs.config import SelfJoinConfig
    from udfs.ivf import blocked_self_join, choose_nlist, train_centroids

    sj = best_row["_spec"]
    cfg = SelfJoinConfig(**sj)
    rng = np.random.default_rng(cfg.seed)
    with MemorySampler() as mem:
        t, c = time.perf_counter(), time.process_time()
        nlist = cfg.nlist or choose_nlist(n)
        take = min(n, cfg.train_sample, cfg.train_per_list * nlist)
        cents = train_centroids(x[np.sort(rng.choice(n, size=take, replace=False))],
                                nlist, niter=cfg.niter, seed=cfg.seed)
        t_train = time.perf_counter() - t
        a, b, _ = blocked_self_join(x, cents, cfg.nprobe, THRESHOLD, cfg.max_neighbors,
                                    cfg.max_list_size, cfg.block_rows, cfg.probe_margin, cfg.transport_dtype)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
    row = {"method": "ours numpy reference (udfs.ivf.blocked_self_join, 1 process)", "setting": _short(sj),
           "status": "ok", "time_s": wall, "cpu_s": cpu, "load": f"{os.getloadavg()[0]:.1f}", "note": f"training {t_train:.1f} s of it",
           "driver_mib": mem.mib()["driver"]}
    row.update(bench.score((a, b), truth_ns, truth_sl, in_slice, n, exact))
    row.update(ratios(exact, wall, cpu))
    return row


def run_lsh(bench, x, n, in_slice, exact, truth_ns, truth_sl) -> list[dict]:
    """Grid on a subsample (capped per setting), then the best setting at N (capped)."""
    args = bench.args
    rows = []
    sub = min(n, args.lsh_sub)
    grid = [tuple(float(v) if i == 0 else int(v) for i, v in enumerate(g.split(":")))
            for g in args.lsh_grid.split(",")]
    sub_data = bench.data(x, sub)
    sub_mask = np.zeros(n, bool)
    sub_mask[:sub] = True
    keep_ns = sub_mask[truth_ns[0]] & sub_mask[truth_ns[1]]
    keep_sl = sub_mask[truth_sl[0]] & sub_mask[truth_sl[1]]
    t_ns = (truth_ns[0][keep_ns], truth_ns[1][keep_ns])
    t_sl = (truth_sl[0][keep_sl], truth_sl[1][keep_sl])
    results = []
    for bl, tables in grid:
        spec = {"data": str(sub_data), "bucket_length": bl, "tables": tables,
                "pairs_out": str(bench.work / f"lsh-{sub}-{bl}-{tables}.npz"), "driver_memory": args.driver_memory}
        print(f"LSH subsample {sub}: bucketLength={bl} tables={tables} ...", flush=True)
        res, status = bench.child("lsh", spec, args.lsh_grid_cap_min * 60)
        row = {"method": f"Spark MLlib BRP-LSH, subsample N={sub:,}", "setting": f"bucketLength={bl}, tables={tables}",
               "status": status, "load": bench.last_load}
        if res:
            row.update(bench.score(bench.found(spec), t_ns, t_sl, in_slice[:sub], sub))
            row.update(time_s=res["wall_s"], cpu_s=res["cpu_s"]["total"], jvm_mib=res["mem_mib"]["jvm"],
                       workers_mib=res["mem_mib"]["workers"], shuffle_mib=res["metrics"].get("shuffle_write_mib"))
            results.append((row["recall"], -res["cpu_s"]["total"], bl, tables, res["wall_s"]))
            print(f"  {res['wall_s']:.1f} s, recall {row['recall']:.4f}", flush=True)
        else:
            print(f"  {status}", flush=True)
        rows.append(row)
    if not results or sub == n:
        return rows
    # best = highest recall among finished settings (ties: faster)
    recall, _, bl, tables, t_sub = max(results)
    spec = {"data": str(bench.data(x, n)), "bucket_length": bl, "tables": tables,
            "pairs_out": str(bench.work / f"lsh-{n}-{bl}-{tables}.npz"), "driver_memory": args.driver_memory}
    print(f"LSH N={n}: bucketLength={bl} tables={tables} (cap {args.lsh_cap_min} min) ...", flush=True)
    res, status = bench.child("lsh", spec, args.lsh_cap_min * 60)
    row = {"method": f"Spark MLlib BRP-LSH, N={n:,}", "setting": f"bucketLength={bl}, tables={tables}",
           "status": status, "load": bench.last_load}
    if res:
        row.update(bench.score(bench.found(spec), truth_ns, truth_sl, in_slice, n, exact))
        row.update(time_s=res["wall_s"], cpu_s=res["cpu_s"]["total"],
                   **ratios(exact, res["wall_s"], res["cpu_s"]["total"]), jvm_mib=res["mem_mib"]["jvm"],
                   workers_mib=res["mem_mib"]["workers"], shuffle_mib=res["metrics"].get("shuffle_write_mib"))
    else:
        est = t_sub * (n / sub) ** 2  # candidate pairs grow as N^2 at a fixed bucket width
        row.update(time_s=None, note=f"killed at {args.lsh_cap_min} min; N^2 extrapolation from the "
                                     f"subsample: ~{est:.0f} s", lower_bound_s=args.lsh_cap_min * 60)
        row["time_s"] = float(args.lsh_cap_min * 60)
        row["status"] = f"timeout (time_s is the cap, a lower bound; est. {est:.0f} s)"
    rows.append(row)
    return rows


def memory_scaling(bench, x, n, in_slice, best_row, settings) -> None:
    """Ours at N/2 and N with the same list size (nlist proportional to N) and block size."""
    sj = dict(best_row["_spec"])
    base_nlist = sj.get("nlist") or None
    rows = []
    for m in (n // 2, n):
        cfg = dict(sj)
        if base_nlist:
            cfg["nlist"] = max(1, base_nlist * m // n)
        spec = {"data": str(bench.data(x, m)), "selfjoin": cfg,
                "pairs_out": str(bench.work / f"mem-{m}.npz"), "driver_memory": bench.args.driver_memory}
        print(f"memory scaling: N={m} {cfg} ...", flush=True)
        res, status = bench.child("ours", spec, bench.args.cap_min * 60)
        row = {"N": m, "setting": _short(cfg), "status": status, "load": bench.last_load}
        if res:
            row.update(time_s=res["wall_s"], cpu_s=res["cpu_s"]["total"], workers_mib=res["mem_mib"]["workers"],
                       worker_max_mib=res["mem_mib"]["worker_max"], jvm_mib=res["mem_mib"]["jvm"],
                       driver_mib=res["mem_mib"]["driver"], largest_list=res["stats"].get("ivf_largest_list"),
                       shuffle_mib=res["metrics"].get("shuffle_write_mib"))
        rows.append(row)
    print(f"\n### Peak memory when N doubles (same average list size, block_rows, max_list_size)\n")
    print(table(rows, ["N", "setting", "status", "time_s", "cpu_s", "worker_max_mib", "workers_mib", "jvm_mib",
                       "driver_mib", "largest_list", "shuffle_mib", "load"]), flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100000", help="comma-separated corpus sizes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ours", default="default;transport_dtype=float32;nprobe=2,probe_margin=inf",
                   help="';'-separated settings: default | auto | key=value,... (SelfJoinConfig keys)")
    p.add_argument("--cap-min", type=float, default=10, help="time cap per Spark run of ours (minutes)")
    p.add_argument("--exact-full-max", type=int, default=200_000, help="above this, exact uses sampled queries")
    p.add_argument("--exact-queries", type=int, default=20000)
    p.add_argument("--no-plan", dest="plan", action="store_false")
    p.add_argument("--plan-nlists", default="")
    p.add_argument("--train-sample", type=int, default=100_000, help="planner's training sample")
    p.add_argument("--niter", type=int, default=10, help="planner's k-means iterations")
    p.add_argument("--breakdown", action="store_true",
                   help="run embedding_pairs' steps one by one (forced, timed) instead of the single call")
    p.add_argument("--no-numpy-ref", dest="numpy_ref", action="store_false")
    p.add_argument("--no-lsh", dest="lsh", action="store_false")
    p.add_argument("--lsh-max", type=int, default=100_000, help="largest N for the LSH comparison")
    p.add_argument("--lsh-sub", type=int, default=10_000, help="subsample for the LSH settings grid")
    p.add_argument("--lsh-grid", default="0.005:8,0.01:4,0.01:8,0.02:4,0.02:8",
                   help="bucketLength:numHashTables,... tried on the subsample")
    p.add_argument("--lsh-grid-cap-min", type=float, default=3)
    p.add_argument("--lsh-cap-min", type=float, default=8, help="cap for LSH at full N (minutes)")
    p.add_argument("--no-memory-scaling", dest="memory_scaling", action="store_false")
    p.add_argument("--driver-memory", default="4g")
    p.add_argument("--workdir", default="")
    p.add_argument("--child", choices=["ours", "lsh"], help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        spec = json.loads(Path(args.spec).read_text())
        result = child_ours(spec) if args.child == "ours" else child_lsh(spec)
        print(json.dumps(result), flush=True)
        return 0

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    bench = Bench(args)
    print(f"# selfjoin benchmark\n\nmachine: {machine()}\ncommand: python bench/selfjoin.py "
          f"{' '.join(argv if argv is not None else sys.argv[1:])}\nworkdir: {bench.work}", flush=True)
    for n in [int(s) for s in args.sizes.split(",")]:
        run_size(bench, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
