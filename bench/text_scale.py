"""Many short documents through ``dedup run --kind text``, beside datasketch's MinHashLSH on one process.

    python -m bench.text_scale --docs 100000
    python -m bench.text_scale --docs 1000000 --json out/text-scale-1m.json

Documents (synthetic but made of real text): sentences (5-40 words) of installed manual pages
and Python docstrings (bench.text_corpus sources, English, deduplicated) are drawn at random
(seeded) and joined until a document has its drawn length, 20-80 words. ``--planted`` (5%) of
the documents are near-duplicates of another document: a share r of its word positions replaced
by words of the pool, r chosen for a target Jaccard of word 3-shingles U(0.4, 1.0)
(J = (1-r)^3 / (2 - (1-r)^3)); the exact Jaccard of every planted pair is then measured with the
job's kernels (``udfs.text``), and the pairs at or above the job's threshold are the truth.

Input, as users write it: one Parquet file (``id``, ``text``; pyarrow defaults) or, with
``--format jsonl``, one JSON-lines file. Then in one invocation:

1. ``python -m jobs.dedup run --kind text --input FILE --output DIR`` as a child process with
   the shipped defaults (plus ``--set``): wall seconds, CPU seconds of its process tree
   (bench.common.MemorySampler), docs/s, docs/s per core (wall x cores) and per CPU second,
   peak memory, stage times; recall = planted truth pairs found in ``pairs/`` at or above the
   threshold, and in one cluster of the manifest.
2. datasketch (a bench extra: ``pip install datasketch``) on this process, one core, the same
   words (normalised, ``\\w+``) and 3-shingles as strings, ``MinHash.bulk`` with the same
   ``num_perm``, ``MinHashLSH(threshold, num_perm)`` (datasketch picks its own bands x rows),
   insert every document, then query every document: seconds per step, docs/s, recall of the
   truth pairs among its candidates (datasketch does not verify candidates; their count is given).

The ratio printed is datasketch's docs/s on one core over the job's docs/s per core.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import text_corpus as tc
from bench.common import MemorySampler, machine

ROOT = tc.ROOT
OUT = ROOT / "out" / "text-scale"
DOC_WORDS = (20, 80)
TARGET_J = (0.4, 1.0)
#: The job's text settings when jobs.config has none (only used to shingle and score the same way).
FALLBACK = {"shingle_words": 3, "num_perm": 128, "bands": 32, "rows": 4, "threshold": 0.5,
            "candidate_threshold": 0.3}


# ---------------------------------------------------------------------------- documents

def sentence_pool(pages: int = 6000, seed: int = 0, cache: Path = OUT / "sentences.txt") -> list[str]:
    """Distinct English sentences (5-40 words) of man pages and docstrings, cached one per line."""
    if cache.exists():
        return cache.read_text().splitlines()
    owners = tc.dpkg_owners()
    refs = tc.man_refs(owners) + tc.docstring_refs()
    seen: set[str] = set()
    out: list[str] = []
    for i in np.random.default_rng(seed).permutation(len(refs))[:pages]:
        for text in refs[i].load():
            for s in re.split(r"(?<=[.!?:;])\s+", " ".join(text.split())):
                n = len(s.split())
                key = tc.normalise(s)
                if 5 <= n <= 40 and key not in seen:
                    seen.add(key)
                    out.append(s)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("\n".join(out) + "\n")
    return out


def make_docs(n: int, pool: list[str], planted: float, seed: int) -> tuple[list[str], np.ndarray]:
    """n documents; returns (texts, planted pairs (m, 2) int: [source index, copy index])."""
    rng = np.random.default_rng(seed)
    n_copies = int(round(planted * n))
    n_base = n - n_copies
    lengths = np.array([len(s.split()) for s in pool])
    texts: list[str] = []
    want = rng.integers(DOC_WORDS[0], DOC_WORDS[1] + 1, size=n_base)
    draws = rng.integers(0, len(pool), size=(n_base, 12))
    for i in range(n_base):
        parts, got = [], 0
        for j in draws[i]:
            if got >= want[i]:
                break
            parts.append(pool[j])
            got += lengths[j]
        texts.append(" ".join(" ".join(parts).split()[:DOC_WORDS[1]]))
    vocab = np.array(sorted({w for s in pool[:50000] for w in s.split() if w.isalpha()}))
    src = rng.integers(0, n_base, size=n_copies)
    target = rng.uniform(*TARGET_J, size=n_copies)
    keep = (2 * target / (1 + target)) ** (1 / 3)     # share of words kept for the target Jaccard
    for s, k in zip(src, keep):
        words = texts[s].split()
        r = rng.random(len(words)) > k
        for p in np.flatnonzero(r):
            words[p] = str(vocab[rng.integers(len(vocab))])
        texts.append(" ".join(words))
    # shuffle so copies are not at the end; ids are zero-padded positions
    order = rng.permutation(n)
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)
    texts = [texts[i] for i in order]
    pairs = np.stack([inv[src], inv[np.arange(n_base, n)]], axis=1)
    return texts, pairs


def ids(n: int) -> list[str]:
    return [f"d{i:08d}" for i in range(n)]


def write_input(texts: list[str], path: Path, fmt: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"id": ids(len(texts)), "text": texts}), path)
    else:
        with path.open("w") as fh:
            for i, t in zip(ids(len(texts)), texts):
                fh.write(json.dumps({"id": i, "text": t}) + "\n")
    return path


def planted_jaccard(texts: list[str], pairs: np.ndarray, k: int) -> np.ndarray:
    from udfs import text as ut

    def sh(t: str) -> np.ndarray:
        return ut.shingle_hashes(ut.words(ut.normalise(t)), k)
    return np.array([ut.jaccard(sh(texts[a]), sh(texts[b])) for a, b in pairs])


# ---------------------------------------------------------------------------- the job

def job_settings(sets: list[str]) -> dict:
    """The text settings the job will use: shipped defaults with the --set overrides."""
    try:
        from jobs.config import TextConfig
        cfg = {k: getattr(TextConfig(), k) for k in FALLBACK}
    except ImportError:
        cfg = dict(FALLBACK)
    for s in sets:
        key, val = s.split("=", 1)
        if key.startswith("text.") and key[5:] in cfg:
            cfg[key[5:]] = type(cfg[key[5:]])(val)
    return cfg


def run_job(inp: Path, out: Path, sets: list[str]) -> dict:
    cmd = [sys.executable, "-m", "jobs.dedup", "run", "--kind", "text", "--input", str(inp), "--output", str(out)]
    for s in sets:
        cmd += ["--set", s]
    _log("[text_scale] " + " ".join(cmd))
    log = out.parent / "job.log"
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
        with MemorySampler(interval=0.5, root=proc.pid) as mem:
            rc = proc.wait()
    wall = time.perf_counter() - t0
    if rc != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"dedup run failed (exit {rc}), log {log}:\n{tail}")
    summary = json.loads((out / "summary.json").read_text())
    return {"command": cmd, "wall_s": round(wall, 1), "cpu_s": mem.cpu_s(), "peak_mib": mem.mib(),
            "timings_s": summary.get("timings_s", {}), "log": str(log)}


def job_recall(out: Path, truth: set[tuple[str, str]], threshold: float) -> dict:
    import pyarrow.parquet as pq

    from jobs.show import read_manifest

    p = pq.read_table(out / "pairs", columns=["item_a", "item_b", "similarity"]).to_pandas()
    above = p[p["similarity"] >= threshold]
    found = set(zip(above["item_a"], above["item_b"]))
    m = read_manifest(str(out))
    cl = dict(zip(m["item_id"], m["cluster_id"]))
    same = sum(1 for a, b in truth if isinstance(cl.get(a), str) and cl.get(a) == cl.get(b))
    return {"pairs_stored": len(p), "pairs_at_threshold": len(above),
            "recall_pairs": len(truth & found) / max(1, len(truth)),
            "recall_clusters": same / max(1, len(truth)),
            "actions": m["action"].value_counts().to_dict()}


# ---------------------------------------------------------------------------- datasketch

def datasketch_run(texts: list[str], k: int, num_perm: int, threshold: float,
                   truth: set[tuple[str, str]]) -> dict:
    """datasketch MinHash.bulk + MinHashLSH insert and query on this process; seconds per step, recall."""
    from datasketch import MinHash, MinHashLSH

    from udfs import text as ut

    names = ids(len(texts))
    t0 = time.perf_counter()
    shingles = []
    for t in texts:
        w = ut.words(ut.normalise(t))
        grams = [" ".join(w[i:i + k]) for i in range(len(w) - k + 1)] or [" ".join(w)]
        shingles.append([g.encode("utf-8") for g in grams])
    t1 = time.perf_counter()
    sketches = MinHash.bulk(shingles, num_perm=num_perm)
    del shingles
    t2 = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    with lsh.insertion_session() as session:
        for name, m in zip(names, sketches):
            session.insert(name, m)
    t3 = time.perf_counter()
    found: set[tuple[str, str]] = set()
    candidates = 0
    for name, m in zip(names, sketches):
        for other in lsh.query(m):
            if other > name:
                candidates += 1
                if (name, other) in truth:
                    found.add((name, other))
    t4 = time.perf_counter()
    total = t4 - t0
    return {"bands_rows": [lsh.b, lsh.r], "shingle_s": round(t1 - t0, 1), "minhash_s": round(t2 - t1, 1),
            "insert_s": round(t3 - t2, 1), "query_s": round(t4 - t3, 1), "total_s": round(total, 1),
            "docs_per_s": round(len(texts) / total), "candidate_pairs": candidates,
            "recall_candidates": len(found) / max(1, len(truth))}


# ---------------------------------------------------------------------------- main

def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.text_scale", description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--planted", type=float, default=0.05, help="share of documents that are planted copies")
    ap.add_argument("--format", choices=("parquet", "jsonl"), default="parquet")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="job override; may repeat")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--no-job", action="store_true")
    ap.add_argument("--no-datasketch", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    res: dict = {"machine": machine(), "docs": args.docs, "format": args.format, "sets": args.set}
    cfg = job_settings(args.set)
    res["settings"] = cfg
    t0 = time.perf_counter()
    pool = sentence_pool()
    texts, pairs = make_docs(args.docs, pool, args.planted, args.seed)
    jac = planted_jaccard(texts, pairs, cfg["shingle_words"])
    names = ids(len(texts))
    truth = {tuple(sorted((names[a], names[b]))) for (a, b), j in zip(pairs, jac) if j >= cfg["threshold"]}
    inp = write_input(texts, args.out / f"docs-{args.docs}.{args.format}", args.format)
    res.update({"pool_sentences": len(pool), "planted_pairs": len(pairs), "truth_pairs": len(truth),
                "planted_jaccard_quantiles": np.quantile(jac, [0, 0.25, 0.5, 0.75, 1]).round(3).tolist(),
                "words_mean": float(np.mean([len(t.split()) for t in texts[:20000]])),
                "input_mib": round(inp.stat().st_size / 2**20, 1), "make_s": round(time.perf_counter() - t0, 1)})
    _log(f"[text_scale] {args.docs} docs, {len(truth)} truth pairs, input {res['input_mib']} MiB")
    if not args.no_job:
        out = args.out / f"result-{args.docs}"
        if out.exists():
            import shutil
            shutil.rmtree(out)
        job = run_job(inp, out, args.set)
        job.update(job_recall(out, truth, cfg["threshold"]))
        job["docs_per_s"] = round(args.docs / job["wall_s"])
        job["docs_per_s_per_core"] = round(args.docs / job["wall_s"] / cores)
        job["docs_per_cpu_s"] = round(args.docs / max(job["cpu_s"]["total"], 1e-9))
        res["job"] = job
        _log(f"[text_scale] job: {job['wall_s']} s, {job['docs_per_s_per_core']} docs/s/core, "
             f"recall {job['recall_pairs']:.4f}")
    if not args.no_datasketch:
        ds = datasketch_run(texts, cfg["shingle_words"], cfg["num_perm"], cfg["threshold"], truth)
        res["datasketch"] = ds
        _log(f"[text_scale] datasketch: {ds['total_s']} s, {ds['docs_per_s']} docs/s, "
             f"recall {ds['recall_candidates']:.4f}")
    if "job" in res and "datasketch" in res:
        res["ratio_job_per_core_over_datasketch"] = round(res["job"]["docs_per_s_per_core"]
                                                          / res["datasketch"]["docs_per_s"], 2)
    print(json.dumps(res, indent=1, default=str))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
