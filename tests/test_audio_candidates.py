"""The audio candidate votes (jobs/audio_kind.voted_pairs: one shuffle by hash value, numpy grouping per
partition, the (pair, offset bin) counts summed per pair) against a brute-force reference and against the
previous Spark-row join, on small fingerprint tables with copies at offsets, shared vocabularies (many
equal-hash pairs at random offsets), a recording repeating its hashes and capped buckets."""
from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pytest

from jobs import audio_kind
from jobs.config import AudioConfig
from udfs import audio_adapters as AA


def _prints(seed: int, files: int = 40, vocab: int = 400) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """sha -> (hashes, times): unrelated recordings from one small vocabulary, copies of some at an offset
    with part of their hashes replaced, one recording that repeats a loop (its own hashes several times)."""
    rng = np.random.default_rng(seed)
    out = {}
    base = []
    for i in range(files):
        m = int(rng.integers(20, 200))
        t = np.sort(rng.uniform(0, m / 8, m)).astype(np.float32)
        h = rng.integers(0, vocab, m).astype(np.int64)
        if i % 7 == 3:  # a copy of an earlier one, shifted and partly re-hashed
            h0, t0 = base[int(rng.integers(0, len(base)))]
            keep = rng.random(len(h0)) < 0.6
            h = np.where(keep, h0, rng.integers(0, vocab, len(h0)))
            t = (t0 + np.float32(rng.uniform(-20, 20))).astype(np.float32)
        if i == 5:  # a loop: the same hashes again 4 s later
            h, t = np.concatenate([h, h]), np.concatenate([t, t + np.float32(4.0)])
        base.append((h, t))
        out[hashlib.sha256(f"{seed}-{i}".encode()).hexdigest()] = (h, t)
    return out


def reference(prints: dict, max_bucket: int, min_votes: int, bin_s: float = audio_kind.VOTE_BIN_S) -> dict:
    """(sha_a, sha_b) -> votes, by brute force: every two files, every equal hash of a value held 2..max_bucket
    times in all files."""
    sizes = Counter(int(x) for h, _ in prints.values() for x in h)
    shas = sorted(prints)
    out = {}
    for i, a in enumerate(shas):
        ha, ta = prints[a]
        for b in shas[i + 1:]:
            hb, tb = prints[b]
            bins = Counter()
            for x in range(len(ha)):
                if not 2 <= sizes[int(ha[x])] <= max_bucket:
                    continue
                for y in np.flatnonzero(hb == ha[x]):
                    bins[int(np.floor(np.float64(np.float32(ta[x]) - np.float32(tb[y])) / bin_s))] += 1
            if bins:
                votes = max(n + bins.get(k + 1, 0) for k, n in bins.items())
                if votes >= min_votes:
                    out[(a, b)] = votes
    return out


def _numpy_votes(prints: dict, max_bucket: int, min_votes: int, chunk: int, splits: int = 1) -> dict:
    """The adapters' kernels without Spark: the rows cut into `splits` partitions by hash value."""
    shas = sorted(prints)
    vid = {s: int(s[:16], 16) - 2**63 for s in shas}
    back = {v: s for s, v in vid.items()}
    h = np.concatenate([prints[s][0] for s in shas])
    t = np.concatenate([prints[s][1] for s in shas])
    v = np.concatenate([np.full(len(prints[s][0]), vid[s], np.int64) for s in shas])
    part = AA.hash_partition(h, splits)
    got = [AA.bucket_bins(h[part == p], v[part == p], t[part == p], max_bucket, audio_kind.VOTE_BIN_S, chunk)
           for p in range(splits)]
    a, b, bins, n = (np.concatenate([g[0][k] for g in got]) for k in range(4))
    va, vb, votes = AA.pair_votes_of(a, b, bins, n, min_votes)
    return {(back[int(x)], back[int(y)]): int(z) for x, y, z in zip(va, vb, votes)}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("chunk,splits", [(4_000_000, 1), (7, 3), (50, 5)])
def test_numpy_votes_match_the_brute_force_reference(seed, chunk, splits):
    prints = _prints(seed)
    want = reference(prints, max_bucket=12, min_votes=4)
    assert want and any(v >= 10 for v in want.values())  # copies vote high, and some random pairs pass
    assert _numpy_votes(prints, 12, 4, chunk, splits) == want


def test_capped_and_met_counts():
    h = np.array([1, 1, 1, 2, 2, 3, 4, 4, 4, 4], np.int64)
    v = np.array([1, 2, 3, 1, 1, 1, 1, 2, 3, 4], np.int64)  # value 2: one file twice, no pair
    t = np.zeros(len(h), np.float32)
    (a, b, bins, n), capped, met = AA.bucket_bins(h, v, t, max_bucket=3, bin_s=2.0)
    assert capped == 1 and met == 3  # value 4 (4 rows) capped; value 1: 3 pairs of files
    assert list(zip(a, b, n)) == [(1, 2, 1), (1, 3, 1), (2, 3, 1)]


# ---------------------------------------------------------------------------- through Spark

def _features(spark, prints: dict):
    rows = [(s, float(t.max() + 1), list(map(int, h)), list(map(float, t)), None) for s, (h, t) in prints.items()]
    rows.append(("f" * 64, 1.0, [], [], None))  # no hashes: never a candidate
    rows.append(("e" * 64, None, None, None, "truncated: cut"))
    return spark.createDataFrame(rows, "content_sha256 string, duration_s double, hashes array<long>, "
                                       "times array<float>, decode_error string")


def old_voted_pairs(features, cfg: AudioConfig) -> dict:
    """The Spark-row join voted_pairs replaced (commit 0530514): explode, count per hash, self-join."""
    from pyspark.sql import functions as F

    ok = features.where(F.col("decode_error").isNull() & (F.size("hashes") > 0))
    z = ok.select("content_sha256", F.explode(F.arrays_zip("hashes", "times")).alias("z"))
    rows = z.select("content_sha256", F.col("z.hashes").alias("hash"), F.col("z.times").alias("t"))
    sizes = rows.groupBy("hash").agg(F.count("*").alias("n"))
    shared = rows.join(sizes.where((F.col("n") > 1) & (F.col("n") <= cfg.max_bucket)), "hash", "left_semi")
    x = shared.select("hash", F.col("content_sha256").alias("sha_a"), F.col("t").alias("ta"))
    y = shared.select("hash", F.col("content_sha256").alias("sha_b"), F.col("t").alias("tb"))
    met = x.join(y, "hash").where(F.col("sha_a") < F.col("sha_b"))
    bins = (met.select("sha_a", "sha_b", F.floor((F.col("ta") - F.col("tb")) / audio_kind.VOTE_BIN_S).alias("bin"))
               .groupBy("sha_a", "sha_b", "bin").agg(F.count("*").alias("n")))
    following = bins.select("sha_a", "sha_b", (F.col("bin") - 1).alias("bin"), F.col("n").alias("n_next"))
    summed = bins.join(following, ["sha_a", "sha_b", "bin"], "left").select(
        "sha_a", "sha_b", (F.col("n") + F.coalesce("n_next", F.lit(0))).alias("votes"))
    voted = summed.groupBy("sha_a", "sha_b").agg(F.max("votes").alias("votes")).where(F.col("votes") >= cfg.min_votes)
    return {(r["sha_a"], r["sha_b"]): int(r["votes"]) for r in voted.collect()}


@pytest.mark.spark
def test_voted_pairs_match_the_reference_and_the_previous_join(spark):
    prints = {**_prints(7, files=30), **_prints(8, files=30)}
    cfg = AudioConfig(max_bucket=20, min_votes=4)
    feats = _features(spark, prints)
    stats: dict = {}
    got = {(r["sha_a"], r["sha_b"]): int(r["votes"]) for r in audio_kind.voted_pairs(feats, cfg, stats).collect()}
    want = reference(prints, 20, 4)
    assert got == want == old_voted_pairs(feats, cfg)
    sizes = Counter(int(x) for h, _ in prints.values() for x in h)
    assert stats["audio_capped_buckets"] == sum(n > 20 for n in sizes.values()) > 0
    assert stats["audio_voted_pairs"] == len(want) and stats["audio_hash_rows"] == sum(sizes.values())
