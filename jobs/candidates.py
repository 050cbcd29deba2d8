"""Features -> scored candidate edges between distinct contents, never N x N.

- pHash: identical hashes are linked to one representative (a star, not a
  clique), then multi-index hashing over the distinct hashes: join band
  probes to exact band values, verify the full 64-bit Hamming distance.
- Embeddings: IVF blocked self-join. Vectors are packed once into binary rows
  (`selfjoin.transport_dtype`, fp16 by default), centroids are trained on a
  driver-side sample, each vector gets a home list and up to `nprobe` probe
  lists within `probe_margin` of it, and each (list, member part, query part)
  group is searched block by block on an executor. Memory per group is
  bounded by `max_list_size`, not by N.

Edges are kept at the loose candidate threshold; the decision threshold is
applied later (`decide`), so retuning needs no recomputation.
Output of each stage: (sha_a < sha_b, similarity, hamming).
"""
from __future__ import annotations

import logging
import time
from functools import partial
from typing import Iterator

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.config import (PHASH_KEYS, AudioConfig, EmbeddingConfig, PhashConfig, SelfJoinConfig, TextConfig,
                         VideoConfig)
from udfs import adapters, ivf
from udfs.hashing import band_radius
from udfs.metrics import (STAGE_AUDIO_PEAKS, STAGE_EMBEDDING, STAGE_PHASH, STAGE_PHASH_FRAMED, STAGE_TEXT_EXACT,
                          STAGE_TEXT_MINHASH, STAGE_VIDEO_FRAMES)

log = logging.getLogger("dedup")


def _canonical(a: str, b: str) -> list:
    return [F.least(a, b).alias("sha_a"), F.greatest(a, b).alias("sha_b")]


# ---------------------------------------------------------------------------- pHash

GROUP_EXPANSION_LIMIT = 32  # identical-hash groups up to this size get all their pairs


# A pHash thresholds 64 DCT coefficients at their median, so a picture's hash has 32 bits
# set. Flat images, 1-pixel strips and pure gradients tie at the median and set 0-5 bits:
# such hashes say nothing (solid red = solid blue = white), so they make no pHash edges.
MIN_PHASH_BITS = 16


def phash_pairs(features: DataFrame, cfg: PhashConfig) -> DataFrame:
    """Content pairs whose pHashes differ in <= cfg.candidate_hamming bits.

    Contents sharing one hash value form a group. Pairs are expanded to every
    member of both groups while groups have <= GROUP_EXPANSION_LIMIT members,
    so each content has its own direct edges (the chaining guard relies on
    them). Larger groups (blank or placeholder images) are represented by their
    smallest content id, which bounds the pairs at the price of keeping some
    members that a full expansion would have dropped (the safe direction).
    """
    hashes = features.where(F.col("phash").isNotNull() & (F.bit_count("phash") >= MIN_PHASH_BITS)) \
                     .select("content_sha256", "phash")
    groups = hashes.groupBy("phash").agg(F.min("content_sha256").alias("rep"), F.count("*").alias("size"))
    members = (hashes.join(groups, "phash")
                     .where((F.col("size") <= GROUP_EXPANSION_LIMIT) | (F.col("content_sha256") == F.col("rep")))
                     .select("phash", "content_sha256"))
    # within a group: all pairs (small groups) or a star around the representative (large groups)
    small = members.alias("x").join(members.alias("y"), "phash").where(F.col("x.content_sha256") < F.col("y.content_sha256"))
    within = small.select(F.col("x.content_sha256").alias("sha_a"), F.col("y.content_sha256").alias("sha_b"))
    star = (hashes.join(groups.where(F.col("size") > GROUP_EXPANSION_LIMIT), "phash")
                  .where(F.col("content_sha256") != F.col("rep"))
                  .select(*_canonical("content_sha256", "rep")))
    same = within.unionByName(star).withColumn("hamming", F.lit(0))
    near = _near_hashes(groups.select("phash"), cfg)
    ma = members.select(F.col("phash").alias("h_a"), F.col("content_sha256").alias("c_a"))
    mb = members.select(F.col("phash").alias("h_b"), F.col("content_sha256").alias("c_b"))
    linked = near.join(ma, "h_a").join(mb, "h_b").select(*_canonical("c_a", "c_b"), "hamming")
    return (same.unionByName(linked)
                .withColumn("similarity", 1.0 - F.col("hamming") / 64.0)
                .withColumn("stage", F.lit(STAGE_PHASH)))


def _near_hashes(distinct: DataFrame, cfg: PhashConfig) -> DataFrame:
    """Pairs of distinct hash values (h_a < h_b) within cfg.candidate_hamming bits.

    Multi-index hashing: each hash emits its exact band values and every value
    within `radius` bits of them; a probe meeting an exact value is a candidate,
    verified on all 64 bits. Complete by the pigeonhole argument in
    udfs.hashing.band_radius.
    """
    radius = band_radius(cfg.candidate_hamming, cfg.bands)
    keys = distinct.mapInPandas(
        partial(adapters.phash_bands, bands=cfg.bands, radius=radius), adapters.BAND_DDL)
    exact = keys.where(~F.col("probe")).select(F.col("phash").alias("h_b"), "band", "value")
    probes = keys.where(F.col("probe")).select(F.col("phash").alias("h_a"), "band", "value")
    return (probes.join(exact, ["band", "value"])
                  .where(F.col("h_a") < F.col("h_b"))
                  .select("h_a", "h_b").distinct()
                  .withColumn("hamming", F.expr("bit_count(h_a ^ h_b)"))
                  .where(F.col("hamming") <= cfg.candidate_hamming))


# ---------------------------------------------------------------------------- embeddings

ASSIGNED_DDL = "content_sha256 string, embedding binary, lists array<int>"
ASSIGN_BATCH_ROWS = 4096  # vectors per list assignment (4 MiB of fp16 rows; 4096 x nlist float32 scores)


def embedding_pairs(spark: SparkSession, features: DataFrame, emb: EmbeddingConfig,
                    cfg: SelfJoinConfig, stats: dict, centroids: np.ndarray | None = None) -> DataFrame:
    """Content pairs with cosine >= emb.candidate_threshold, via the IVF blocked self-join.

    `centroids` (e.g. from the corpus store) are reused when given and of the
    right dimension; otherwise they are trained on a sample. The centroids used
    are left in stats["_centroids"] and each content's home list is available
    from `home_lists` for the store's index. Scores are computed from the
    transported vectors; with fp16 the search runs `ivf.transport_slack` below
    the candidate threshold, so pairs down to that are stored too.
    """
    dtype = cfg.transport_dtype
    clock = _Clock(stats)
    vectors = _packed_vectors(features, dtype).cache()
    try:
        n = vectors.count()
        clock("vectors")
        stats["embedded_contents"] = n
        if n < 2:
            return _empty_pairs(spark)
        dim = len(vectors.select("embedding").first()["embedding"]) // np.dtype(dtype).itemsize
        if centroids is None or centroids.shape[1] != dim:
            centroids = _train(vectors, n, cfg, stats)
            clock("train")
        stats["_centroids"] = centroids
        nlist = len(centroids)
        nprobe = min(cfg.nprobe, nlist)
        log.info("self-join: %d vectors, %d lists, nprobe <= %d within %g, %s transport",
                 n, nlist, nprobe, cfg.probe_margin, dtype)
        bc = spark.sparkContext.broadcast(centroids)
        assigned = vectors.mapInPandas(
            partial(_assign_batches, centroids=bc, nprobe=nprobe, margin=cfg.probe_margin, dtype=dtype,
                    use_gpu=cfg.use_gpu), ASSIGNED_DDL).cache()
        try:
            groups = _plan_groups(assigned, cfg.max_list_size, stats)  # materialises `assigned`
            clock("assign_plan")
            vectors.unpersist()
            threshold = emb.candidate_threshold - ivf.transport_slack(dtype)

            def search(pdf: pd.DataFrame) -> pd.DataFrame:
                return adapters.search_group(pdf, threshold, cfg.max_neighbors, cfg.block_rows, dtype)

            found = groups.groupBy("list", "mpart", "qpart").applyInPandas(search, adapters.PAIR_DDL)
            pairs = (found.groupBy("sha_a", "sha_b").agg(F.max("similarity").alias("similarity"))
                          .withColumn("hamming", F.lit(None).cast("int"))
                          .withColumn("stage", F.lit(STAGE_EMBEDDING)))
            pairs = pairs.localCheckpoint(eager=True)
            clock("search")
            return pairs
        finally:
            assigned.unpersist()
            bc.unpersist()
    finally:
        vectors.unpersist()


class _Clock:
    """Seconds per self-join step, left in stats["selfjoin_steps_s"] (summary.json)."""

    def __init__(self, stats: dict) -> None:
        self.steps = stats.setdefault("selfjoin_steps_s", {})
        self.last = time.perf_counter()

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.steps[step] = round(now - self.last, 2)
        self.last = now
        log.info("[candidates] self-join %s: %.1f s", step, self.steps[step])


def _packed_vectors(features: DataFrame, dtype: str) -> DataFrame:
    """(content_sha256, embedding binary): each embedding packed once (udfs.ivf.pack_rows).

    A binary `embedding` column is taken as already packed as `dtype` (precomputed
    vectors are packed on ingest: features.vector_items).
    """
    vectors = features.where(F.col("embedding").isNotNull()).select("content_sha256", "embedding")
    if dict(features.dtypes)["embedding"] == "binary":
        return vectors
    return vectors.mapInPandas(partial(adapters.pack_vectors, dtype=dtype), adapters.PACKED_DDL)


def home_lists(spark: SparkSession, features: DataFrame, centroids: np.ndarray | None) -> DataFrame:
    """Index rows: content_sha256, the hashes (phash, quality, information, robust keys), the
    pixel-check inputs (thumb, thumb_full, thumb_whole, sparse, chroma, place), embedding and the
    content's home IVF list (0 without embeddings)."""
    hashes = ["phash", "quality", "information", *adapters.ROBUST_KEY_COLUMNS, "thumb", "thumb_full", "thumb_whole",
              "sparse", "chroma", "place"]
    ok = features.where(F.col("decode_error").isNull()).select("content_sha256", *hashes, "embedding")
    if centroids is None:
        return ok.withColumn("list", F.lit(0))
    bc = spark.sparkContext.broadcast(centroids)
    assigned = _packed_vectors(ok, "float32").mapInPandas(
        partial(_assign_batches, centroids=bc, nprobe=1, margin=0.0, dtype="float32", use_gpu=False),
        ASSIGNED_DDL)
    homes = assigned.select("content_sha256", F.col("lists")[0].alias("list"))
    return ok.join(homes, "content_sha256", "left").fillna({"list": 0})


def _train(vectors: DataFrame, n: int, cfg: SelfJoinConfig, stats: dict) -> np.ndarray:
    """Centroids from min(n, train_sample, train_per_list * nlist) sampled packed vectors.

    A Bernoulli sample of ~1.1x that size is collected to the driver (no
    limit(), which would funnel the sample through one partition) and cut to
    size at random. Driver memory: the sample as float32.
    """
    nlist = cfg.nlist or ivf.choose_nlist(n)
    take = min(n, cfg.train_sample, cfg.train_per_list * nlist)
    fraction = min(1.0, 1.1 * take / n)
    rows = vectors.sample(False, fraction, seed=cfg.seed).select("embedding").toPandas()
    if len(rows) == 0:  # a tiny fraction can come back empty
        rows = vectors.limit(take).select("embedding").toPandas()
    sample = ivf.unpack_rows(rows["embedding"], cfg.transport_dtype)
    if len(sample) > take:
        keep = np.random.default_rng(cfg.seed).choice(len(sample), size=take, replace=False)
        sample = sample[np.sort(keep)]
    stats["ivf_train_sample"] = int(len(sample))
    centroids = ivf.train_centroids(sample, nlist, niter=cfg.niter, seed=cfg.seed, use_gpu=cfg.use_gpu,
                                    split_factor=cfg.split_factor)
    stats["ivf_centroids"] = {"k_means": int(nlist), "after_split": int(len(centroids))}
    return centroids


def _assign_batches(batches: Iterator[pd.DataFrame], centroids, nprobe: int, margin: float,
                    dtype: str, use_gpu: bool) -> Iterator[pd.DataFrame]:
    """Packed vectors -> + lists: the home list, then the probe lists kept by ivf.probe_mask.

    Arrow batches (spark.arrow_batch_rows, 256 by default) are gathered to
    ASSIGN_BATCH_ROWS rows first: one centroid index and one larger GEMM per
    gathered batch instead of per Arrow batch.
    """
    cents = centroids.value

    def assign(pdf: pd.DataFrame) -> pd.DataFrame:
        x = ivf.unpack_rows(pdf["embedding"], dtype)
        lists, sims = ivf.assign_lists(x, cents, nprobe, use_gpu=use_gpu, return_sims=True)
        keep = ivf.probe_mask(sims, margin)
        return pdf.assign(lists=[row[k] for row, k in zip(lists, keep)])

    pending, rows = [], 0
    for pdf in batches:
        if pdf.empty:
            continue
        pending.append(pdf)
        rows += len(pdf)
        if rows >= ASSIGN_BATCH_ROWS:
            yield assign(pd.concat(pending, ignore_index=True))
            pending, rows = [], 0
    if pending:
        yield assign(pd.concat(pending, ignore_index=True))


def _plan_groups(assigned: DataFrame, max_list_size: int, stats: dict) -> DataFrame:
    """Members (home list) and queries (probe lists) tagged with (list, mpart, qpart, role).

    A list with more than max_list_size members is split into member parts, and
    its queries into query parts; every query part meets every member part, so
    no pair is lost and no group exceeds max_list_size members x queries. In an
    unsplit list a vector whose home it is travels once, as role 'b' (member and
    query): it would otherwise be shuffled twice into the same group, and home
    rows are most of the rows (~1 of 1.7 per vector at 1M).
    """
    members = assigned.select("content_sha256", "embedding", F.col("lists")[0].alias("list"))
    queries = assigned.select("content_sha256", "embedding", F.posexplode("lists").alias("pos", "list"))
    m_count = members.groupBy("list").agg(F.count("*").alias("m"))
    q_count = queries.groupBy("list").agg(F.count("*").alias("q"))
    sizes = m_count.join(q_count, "list", "full").fillna(0).toPandas()
    sizes["mparts"] = ivf.plan_parts(sizes["m"].to_numpy(), max_list_size)
    sizes["qparts"] = ivf.plan_parts(sizes["q"].to_numpy(), max_list_size)
    stats["ivf_lists"] = int(len(sizes))
    stats["ivf_largest_list"] = int(sizes["m"].max()) if len(sizes) else 0
    stats["ivf_split_lists"] = int((sizes["mparts"] > 1).sum())
    stats["ivf_avg_probes"] = round(float(sizes["q"].sum() / max(1, sizes["m"].sum())), 3)
    stats["ivf_pair_evaluations"] = int((sizes["q"].astype(np.int64) * sizes["m"].astype(np.int64)).sum())
    plan = F.broadcast(assigned.sparkSession.createDataFrame(
        sizes[["list", "mparts", "qparts"]].astype("int32")))
    unsplit = (F.col("mparts") == 1) & (F.col("qparts") == 1)
    m_hash = F.abs(F.xxhash64(F.lit("member"), "content_sha256"))
    q_hash = F.abs(F.xxhash64(F.lit("query"), "content_sha256"))
    m_rows = (members.join(plan, "list")
              .withColumn("mpart", (m_hash % F.col("mparts")).cast("int"))
              .withColumn("qpart", F.explode(F.sequence(F.lit(0), F.col("qparts") - 1)))
              .withColumn("role", F.when(unsplit, F.lit("b")).otherwise(F.lit("m"))))
    q_rows = (queries.join(plan, "list")
              .where(~(unsplit & (F.col("pos") == 0)))  # the home probe of an unsplit list: the 'b' row
              .withColumn("qpart", (q_hash % F.col("qparts")).cast("int"))
              .withColumn("mpart", F.explode(F.sequence(F.lit(0), F.col("mparts") - 1)))
              .withColumn("role", F.lit("q")))
    cols = ["list", "mpart", "qpart", "role", "content_sha256", "embedding"]
    return m_rows.select(*cols).unionByName(q_rows.select(*cols))


def _empty_pairs(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([], "sha_a string, sha_b string, similarity double, hamming int, stage string")


# ---------------------------------------------------------------------------- decisions

def decide(pairs: DataFrame, phash: PhashConfig, emb: EmbeddingConfig, text: TextConfig = TextConfig(),
           video: VideoConfig = VideoConfig(), audio: AudioConfig = AudioConfig()) -> DataFrame:
    """Add `is_duplicate`: each stage's own decision threshold, applied to stored scores.

    Audio: an aligned pair is a duplicate when its aligned anchors >= audio.min_score (and >=
    audio.low_similarity_score when its similarity < audio.low_similarity), its
    similarity >= audio.min_similarity and either recording's share inside the matched span >=
    audio.min_coverage (`audio.excerpts: duplicate`), or both recordings' >= audio.full_coverage
    (`report`).

    Video: an aligned pair is a duplicate when its similarity (the segment's share of
    matching frames) >= video.threshold and the covered video's share inside the
    segment >= video.min_coverage: either video's (`video.excerpts: duplicate`, so an
    excerpt is a duplicate of its source) or both videos' (`report`).

    Text: the same normalised text is a duplicate; a MinHash pair is one when the
    exact Jaccard similarity of its shingle sets (`similarity`) >= text.threshold.
    Hash stages also need the pixel check: `verify_score` >= phash.min_verify, or
    >= phash.min_verify_sparse for a pair with a sparse image (`sparse`); a pair
    without a score fails it unless the check is off (-1). A full-image pHash pair beyond
    phash.max_hamming is a duplicate when its `verify_score` >= phash.far_verify (-1: never), and
    so is a pHash pair of two framed pictures (stage ``phash_framed``, scored on the whole
    pictures) up to phash.candidate_hamming.
    """
    bar = F.when(F.coalesce(F.col("sparse"), F.lit(False)), F.lit(phash.verify_bar(True))) \
           .otherwise(F.lit(phash.verify_bar(False)))
    if phash.limit_verify != -1:  # pairs at their family's limit need at least limit_verify
        at_limit = F.lit(False)
        for stage, limit in phash.limit_hammings().items():
            at_limit = at_limit | ((F.col("stage") == stage) & F.col("hamming").between(limit - 1, limit))
        bar = F.when(at_limit & (bar > -1), F.greatest(bar, F.lit(phash.limit_verify))).otherwise(bar)
    checked = (bar <= -1) | F.coalesce(F.col("verify_score") >= bar, F.lit(False))
    near = (F.col("hamming") <= phash.max_hamming) & checked
    # farther pairs, and pairs of two framed pictures, on a strong pixel check (stored up to candidate_hamming)
    strong = F.lit(False) if phash.far_verify == -1 else (
        (F.col("hamming") <= phash.candidate_hamming)
        & F.coalesce(F.col("verify_score") >= phash.far_verify, F.lit(False)))
    rule = F.when(F.col("stage") == STAGE_PHASH, near | strong)
    rule = rule.when(F.col("stage") == STAGE_PHASH_FRAMED, strong)
    for family in PHASH_KEYS:  # the weight-free key families of jobs/hashkeys.py
        rule = rule.when(F.col("stage") == f"phash_{family}",
                         (F.col("hamming") <= phash.key_hamming(family)) & checked)
    rule = rule.when(F.col("stage") == STAGE_EMBEDDING, F.col("similarity") >= emb.threshold)
    rule = rule.when(F.col("stage") == STAGE_TEXT_EXACT, F.lit(True))
    rule = rule.when(F.col("stage") == STAGE_TEXT_MINHASH, F.col("similarity") >= text.threshold)
    if "coverage_a" in pairs.columns:  # pairs carrying aligned segments
        covered = (F.greatest if video.excerpts == "duplicate" else F.least)("coverage_a", "coverage_b")
        rule = rule.when(F.col("stage") == STAGE_VIDEO_FRAMES,
                         (F.col("similarity") >= video.threshold) & F.coalesce(covered >= video.min_coverage, F.lit(False)))
    if "aligned_anchors" in pairs.columns:  # aligned audio pairs
        covered = (F.greatest("coverage_a", "coverage_b") >= audio.min_coverage if audio.excerpts == "duplicate"
                   else F.least("coverage_a", "coverage_b") >= audio.full_coverage)
        rule = rule.when(F.col("stage") == STAGE_AUDIO_PEAKS,
                         (F.col("aligned_anchors") >= audio.min_score)
                         & ((F.col("similarity") >= audio.low_similarity)
                            | (F.col("aligned_anchors") >= audio.low_similarity_score))
                         & F.coalesce((F.col("similarity") >= audio.min_similarity) & covered, F.lit(False)))
    rule = rule.otherwise(F.lit(True))
    return pairs.withColumn("is_duplicate", rule)

