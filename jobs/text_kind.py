"""The text kind, driver side: items -> contents -> text features -> scored content pairs.

What a kind brings (DESIGN "More than one kind of item"); everything downstream
of the scored pairs (decisions, clusters, keep policy, manifest) is shared with
images.

- contents: a file's bytes, or a table row's inline text (its UTF-8 bytes),
  hashed with sha256; identical contents are exact duplicates as for images.
- features per distinct content (udfs/text.py): the visible text normalised
  (NFKC, casefold, whitespace), its sha256, word-shingle hashes and MinHash
  signature; cached by content sha256 + text feature fingerprint.
- `text_exact`: contents with the same normalised text (similarity 1.0).
- `text_minhash`: LSH banding as a Spark join over distinct normalised texts
  (explode band keys, group by key, pairs inside each bucket; a bucket of more
  than `text.max_bucket` texts links them to its first text only), each
  candidate verified on the exact Jaccard of the shingle sets (`similarity`,
  stored from `text.candidate_threshold`); `hamming` counts the signature slots
  that differ (MinHash estimate = 1 - hamming / num_perm).
Output of each stage: (sha_a < sha_b, similarity, hamming, stage).
"""
from __future__ import annotations

import hashlib
import logging
from functools import partial

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.config import CacheConfig, FetchConfig, InputConfig, TextConfig
from jobs.features import read_cache
from jobs.schemas import ITEMS, check_columns
from udfs import text_adapters as A
from udfs.metrics import STAGE_TEXT_EXACT, STAGE_TEXT_MINHASH

log = logging.getLogger("dedup")

TEXT_FEATURE_VERSION = "1"  # bump when udfs/text.py changes what it computes
GROUP_EXPANSION_LIMIT = 32  # contents sharing one normalised text: all pairs up to this many, else a star


def hash_items(items: DataFrame, cfg: InputConfig, fetch: FetchConfig = FetchConfig()) -> DataFrame:
    """(item_id, uri, input_error[, text]) -> + content_sha256, bytes, read_error, text (inline only)."""
    check_columns(items, ITEMS, "text hash_items")
    text = F.col("text") if "text" in items.columns else F.lit(None).cast("string")
    fn = partial(A.text_contents, max_bytes=cfg.max_file_bytes, fetch=fetch.options(), workers=fetch.workers)
    return items.select(*ITEMS, text.alias("text")).mapInPandas(fn, A.TEXT_CONTENT_DDL)


def distinct_contents(contents: DataFrame) -> DataFrame:
    """One row per readable content: (content_sha256, uri, text) of its first item by id."""
    ok = contents.where(F.col("content_sha256").isNotNull())
    return ok.groupBy("content_sha256").agg(F.min_by("uri", "item_id").alias("uri"),
                                            F.min_by("text", "item_id").alias("text"))


def feature_fingerprint(cfg: TextConfig) -> str:
    """Cache key of text features: code version, shingle size, permutations."""
    blob = f"text-v{TEXT_FEATURE_VERSION}|k={cfg.shingle_words}|perm={cfg.num_perm}|seed={cfg.seed}"
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def compute_features(spark: SparkSession, distinct: DataFrame, input_cfg: InputConfig, cfg: TextConfig,
                     cache: CacheConfig, fingerprint: str,
                     fetch: FetchConfig = FetchConfig()) -> tuple[DataFrame | None, DataFrame]:
    """(cached features or None, fresh features) for every distinct content; only uncached ones are computed."""
    cached = read_cache(spark, cache, fingerprint, A.TEXT_FEATURE_DDL)
    todo = distinct if cached is None else distinct.join(cached.select("content_sha256"), "content_sha256", "left_anti")
    fn = partial(A.text_features, max_bytes=input_cfg.max_file_bytes, shingle_words=cfg.shingle_words,
                 num_perm=cfg.num_perm, seed=cfg.seed, fetch=fetch.options(), workers=fetch.workers)
    fresh = todo.repartition(spark.sparkContext.defaultParallelism * 2, "content_sha256") \
                .mapInPandas(fn, A.TEXT_FEATURE_DDL)
    if cached is not None:
        cached = cached.join(distinct.select("content_sha256"), "content_sha256", "left_semi")
    return cached, fresh


def manifest_features(features: DataFrame) -> DataFrame:
    """Text features with the image columns the manifest reads (width, height, pHash) as nulls."""
    nulls = {"width": "int", "height": "int", "phash": "long", "phash_trim": "long"}
    return features.select("content_sha256", "chars", "words", "decode_error",
                           *[F.lit(None).cast(t).alias(c) for c, t in nulls.items()])


# ---------------------------------------------------------------------------- candidate stages

def candidate_pairs(features: DataFrame, cfg: TextConfig, stats: dict) -> DataFrame:
    """Both text stages' scored content pairs: (sha_a, sha_b, similarity, hamming, stage)."""
    texts = features.where(F.col("text_sha256").isNotNull()).select("content_sha256", "text_sha256")
    groups = texts.groupBy("text_sha256").agg(F.min("content_sha256").alias("rep"), F.count("*").alias("size"))
    exact = exact_pairs(texts, groups)
    reps = (features.join(groups.select(F.col("rep").alias("content_sha256")), "content_sha256", "left_semi")
                    .select("text_sha256", "minhash", "shingles"))
    near = minhash_pairs(reps, cfg, stats)
    return exact.unionByName(_expand(near, texts, groups))


def exact_pairs(texts: DataFrame, groups: DataFrame) -> DataFrame:
    """Contents with the same normalised text: all pairs in groups up to GROUP_EXPANSION_LIMIT, else a star."""
    members = texts.join(groups.where(F.col("size") > 1), "text_sha256")
    small = members.where(F.col("size") <= GROUP_EXPANSION_LIMIT)
    x, y = small.alias("x"), small.alias("y")
    within = (x.join(y, "text_sha256").where(F.col("x.content_sha256") < F.col("y.content_sha256"))
               .select(F.col("x.content_sha256").alias("sha_a"), F.col("y.content_sha256").alias("sha_b")))
    star = (members.where((F.col("size") > GROUP_EXPANSION_LIMIT) & (F.col("content_sha256") != F.col("rep")))
                   .select(*_canonical("content_sha256", "rep")))
    return (within.unionByName(star).withColumn("similarity", F.lit(1.0))
                  .withColumn("hamming", F.lit(0)).withColumn("stage", F.lit(STAGE_TEXT_EXACT)))


def minhash_pairs(reps: DataFrame, cfg: TextConfig, stats: dict) -> DataFrame:
    """Distinct normalised texts (text_sha256, minhash, shingles) -> verified pairs (ta < tb, similarity, hamming).

    Band keys are exploded to rows and grouped: texts sharing a key in any band
    are candidates (pairs inside each bucket). A bucket larger than
    cfg.max_bucket (boilerplate shared by many texts) contributes a star around
    its smallest text instead, bounding the pairs per bucket by max_bucket^2 / 2.
    """
    keys = reps.select("text_sha256", "minhash").mapInPandas(
        partial(A.band_rows, bands=cfg.bands, rows=cfg.rows), A.BAND_KEY_DDL).localCheckpoint(eager=True).localCheckpoint(eager=True)
    buckets = (keys.groupBy("band", "key").agg(F.count("*").alias("size"), F.min("text_sha256").alias("first"))
                   .where(F.col("size") > 1))
    shared = keys.join(buckets, ["band", "key"])
    small = shared.where(F.col("size") <= cfg.max_bucket).select("band", "key", "text_sha256")
    x, y = small.alias("x"), small.alias("y")
    within = (x.join(y, ["band", "key"]).where(F.col("x.text_sha256") < F.col("y.text_sha256"))
               .select(F.col("x.text_sha256").alias("ta"), F.col("y.text_sha256").alias("tb")))
    star = (shared.where((F.col("size") > cfg.max_bucket) & (F.col("text_sha256") != F.col("first")))
                  .select(F.least("text_sha256", "first").alias("ta"), F.greatest("text_sha256", "first").alias("tb")))
    candidates = within.unionByName(star).distinct()
    capped = buckets.where(F.col("size") > cfg.max_bucket).count()
    stats["text_capped_buckets"] = int(capped)
    if capped:
        log.warning("[candidates] %d LSH buckets hold more than text.max_bucket=%d texts: each links its texts "
                    "to its first text only", capped, cfg.max_bucket)
    sig = reps.select("text_sha256", "minhash", "shingles")
    a = sig.select(F.col("text_sha256").alias("ta"), F.col("minhash").alias("minhash_a"),
                   F.col("shingles").alias("shingles_a"))
    b = sig.select(F.col("text_sha256").alias("tb"), F.col("minhash").alias("minhash_b"),
                   F.col("shingles").alias("shingles_b"))
    joined = candidates.join(a, "ta").join(b, "tb").select("ta", "tb", "minhash_a", "minhash_b",
                                                          "shingles_a", "shingles_b")
    return joined.mapInPandas(partial(A.verify_pairs, min_jaccard=cfg.candidate_threshold), A.VERIFIED_DDL)


def _expand(near: DataFrame, texts: DataFrame, groups: DataFrame) -> DataFrame:
    """Pairs of normalised texts -> pairs of contents: every member of groups up to GROUP_EXPANSION_LIMIT
    (so each content has its own direct edges), else the group's representative only."""
    members = (texts.join(groups, "text_sha256")
                    .where((F.col("size") <= GROUP_EXPANSION_LIMIT) | (F.col("content_sha256") == F.col("rep")))
                    .select("text_sha256", "content_sha256"))
    ma = members.select(F.col("text_sha256").alias("ta"), F.col("content_sha256").alias("ca"))
    mb = members.select(F.col("text_sha256").alias("tb"), F.col("content_sha256").alias("cb"))
    return (near.join(ma, "ta").join(mb, "tb")
                .select(*_canonical("ca", "cb"), "similarity", "hamming")
                .withColumn("stage", F.lit(STAGE_TEXT_MINHASH)))


def _canonical(a: str, b: str) -> list:
    return [F.least(a, b).alias("sha_a"), F.greatest(a, b).alias("sha_b")]
