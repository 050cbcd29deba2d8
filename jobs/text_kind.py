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
- `text_minhash`: LSH banding over distinct normalised texts, each a 64-bit id
  (`text_ids`): (id, band, key) rows shuffled by bucket, pairs inside each bucket
  emitted in numpy (a bucket of more than `text.max_bucket` texts links them to
  its first text only), each candidate verified on the exact Jaccard of the
  shingle sets (`similarity`, stored from `text.candidate_threshold`); `hamming`
  counts the signature slots that differ (MinHash estimate = 1 - hamming / num_perm).
Output of each stage: (sha_a < sha_b, similarity, hamming, stage).
"""
from __future__ import annotations

import hashlib
import logging
from functools import partial
from typing import Iterator

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs.config import CacheConfig, FetchConfig, InputConfig, TextConfig
from jobs.features import cached_and_fresh
from jobs.spark import arrow_batch_rows
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
    fn = partial(A.text_features, max_bytes=input_cfg.max_file_bytes, shingle_words=cfg.shingle_words,
                 num_perm=cfg.num_perm, seed=cfg.seed, fetch=fetch.options(), workers=fetch.workers)
    return cached_and_fresh(spark, distinct, cache, fingerprint, A.TEXT_FEATURE_DDL, fn)


def manifest_features(features: DataFrame) -> DataFrame:
    """Text features with the image columns the manifest reads (width, height, pHash) as nulls."""
    nulls = {"width": "int", "height": "int", "phash": "long", "phash_trim": "long"}
    return features.select("content_sha256", "chars", "words", "decode_error",
                           *[F.lit(None).cast(t).alias(c) for c, t in nulls.items()])


# ---------------------------------------------------------------------------- candidate stages

def candidate_pairs(features: DataFrame, cfg: TextConfig, stats: dict) -> DataFrame:
    """Both text stages' scored content pairs: (sha_a, sha_b, similarity, hamming, stage)."""
    texts = features.where(F.col("text_sha256").isNotNull()).select("content_sha256", "text_sha256")
    groups = (texts.groupBy("text_sha256").agg(F.min("content_sha256").alias("rep"), F.count("*").alias("size"))
                   .where(F.col("size") > 1).localCheckpoint(eager=True))  # texts shared by several contents
    exact = exact_pairs(texts, groups)
    near = minhash_pairs(features.where(F.col("text_sha256").isNotNull()), cfg, stats)
    return exact.unionByName(_expand(near, texts, groups))


def exact_pairs(texts: DataFrame, groups: DataFrame) -> DataFrame:
    """Contents with the same normalised text: all pairs in groups up to GROUP_EXPANSION_LIMIT, else a star.
    groups: (text_sha256, rep, size) of the texts of more than one content."""
    members = texts.join(groups, "text_sha256")
    small = members.where(F.col("size") <= GROUP_EXPANSION_LIMIT)
    x, y = small.alias("x"), small.alias("y")
    within = (x.join(y, "text_sha256").where(F.col("x.content_sha256") < F.col("y.content_sha256"))
               .select(F.col("x.content_sha256").alias("sha_a"), F.col("y.content_sha256").alias("sha_b")))
    star = (members.where((F.col("size") > GROUP_EXPANSION_LIMIT) & (F.col("content_sha256") != F.col("rep")))
                   .select(*_canonical("content_sha256", "rep")))
    return (within.unionByName(star).withColumn("similarity", F.lit(1.0))
                  .withColumn("hamming", F.lit(0)).withColumn("stage", F.lit(STAGE_TEXT_EXACT)))


def minhash_pairs(texts: DataFrame, cfg: TextConfig, stats: dict) -> DataFrame:
    """Contents' texts (text_sha256, minhash, shingles; a text may repeat) -> verified pairs of distinct
    normalised texts (ta < tb, similarity, hamming).

    Each text gets a 64-bit id ordered as its text_sha256 (`text_ids`); band keys
    are exploded to (id, band, key) rows and shuffled by bucket (band, key), and
    each partition emits the pairs of its buckets in numpy (udfs.text_adapters.
    bucket_pairs): texts sharing a key in any band are candidates. A bucket larger
    than cfg.max_bucket (boilerplate shared by many texts) contributes a star
    around its smallest text instead, bounding the pairs per bucket by
    max_bucket^2 / 2. Only the texts of candidate pairs are joined to the pairs
    for the exact Jaccard check; ids become text_sha256 again there.
    """
    spark = texts.sparkSession
    ids, n = text_ids(texts)
    keys = ids.select("tid", "minhash").mapInPandas(partial(A.band_rows, bands=cfg.bands, rows=cfg.rows),
                                                    A.BAND_KEY_DDL)
    parts = max(int(spark.conf.get("spark.sql.shuffle.partitions")), -(-n * cfg.bands // BUCKET_ROWS_PER_PARTITION))
    with arrow_batch_rows(spark, BAND_BATCH_ROWS):  # rows of 20 bytes: 256 a batch costs more than the work
        bucketed = (keys.repartition(parts, "band", "key")
                        .mapInPandas(partial(A.bucket_pairs, max_bucket=cfg.max_bucket), A.BUCKET_PAIR_DDL)
                        .localCheckpoint(eager=True))
    capped = bucketed.where(F.col("capped") == 1).count()
    stats["text_capped_buckets"] = int(capped)
    if capped:
        log.warning("[candidates] %d LSH buckets hold more than text.max_bucket=%d texts: each links its texts "
                    "to its first text only", capped, cfg.max_bucket)
    candidates = bucketed.where(F.col("capped") == 0).select("ta", "tb").distinct().localCheckpoint(eager=True)
    involved = candidates.select(F.col("ta").alias("tid")).union(candidates.select(F.col("tb").alias("tid"))).distinct()
    if candidates.count() <= BROADCAST_PAIRS:  # their ids go to every task: no shuffle of the texts' shingles
        involved = F.broadcast(involved)
    sig = ids.join(involved, "tid", "left_semi").dropDuplicates(["tid"])
    a = sig.select(F.col("tid").alias("ta"), F.col("text_sha256").alias("sha_a"), F.col("minhash").alias("minhash_a"),
                   F.col("shingles").alias("shingles_a"))
    b = sig.select(F.col("tid").alias("tb"), F.col("text_sha256").alias("sha_b"), F.col("minhash").alias("minhash_b"),
                   F.col("shingles").alias("shingles_b"))
    joined = candidates.join(a, "ta").join(b, "tb").select(F.col("sha_a").alias("ta"), F.col("sha_b").alias("tb"),
                                                          "minhash_a", "minhash_b", "shingles_a", "shingles_b")
    return (joined.mapInPandas(partial(A.verify_pairs, min_jaccard=cfg.candidate_threshold), A.VERIFIED_DDL)
                  .localCheckpoint(eager=True))


BUCKET_ROWS_PER_PARTITION = 2_000_000  # band rows one bucket_pairs call holds at most (~50 MB)
BAND_BATCH_ROWS = 8192  # Arrow batch rows while band keys are computed and bucketed (at least)
BROADCAST_PAIRS = 2_000_000  # up to this many candidate pairs, their texts' ids are broadcast to pick the texts


def text_ids(texts: DataFrame) -> tuple[DataFrame, int]:
    """(tid, text_sha256, minhash, shingles) per content (a text may repeat), and the number of distinct texts.

    tid: the first 16 hex digits of text_sha256 as a signed long, shifted so that
    tid order is text_sha256 order (the star of a large bucket goes to its
    smallest text, as by sha). Should two texts share those 64 bits, tid is
    their dense rank by text_sha256 instead (same order, no collision).
    """
    prefix = F.conv(F.substring("text_sha256", 1, 16), 16, 10).cast("decimal(20,0)")
    tid = (prefix - F.lit("9223372036854775808").cast("decimal(20,0)")).cast("long")
    ids = texts.select(tid.alias("tid"), "text_sha256", "minhash", "shingles")
    row = ids.agg(F.countDistinct("text_sha256").alias("n"), F.countDistinct("tid").alias("ids")).first()
    if row["ids"] != row["n"]:
        log.warning("[candidates] %d texts share a 64-bit text_sha256 prefix: dense text ids instead",
                    row["n"] - row["ids"])
        ids = ids.withColumn("tid", F.dense_rank().over(Window.orderBy("text_sha256")).cast("long"))
    return ids, int(row["n"])


def _expand(near: DataFrame, texts: DataFrame, groups: DataFrame) -> DataFrame:
    """Pairs of normalised texts -> pairs of contents: every member of groups up to GROUP_EXPANSION_LIMIT
    (so each content has its own direct edges), else the group's representative only.
    near: computed (checkpointed); only the contents of its texts are joined."""
    paired = near.select(F.col("ta").alias("text_sha256")).union(near.select(F.col("tb").alias("text_sha256")))
    paired = paired.distinct()
    if near.count() <= BROADCAST_PAIRS:
        paired = F.broadcast(paired)
    members = (texts.join(paired, "text_sha256", "left_semi").join(groups, "text_sha256", "left")
                    .where(F.col("size").isNull() | (F.col("size") <= GROUP_EXPANSION_LIMIT)
                           | (F.col("content_sha256") == F.col("rep")))
                    .select("text_sha256", "content_sha256"))
    ma = members.select(F.col("text_sha256").alias("ta"), F.col("content_sha256").alias("ca"))
    mb = members.select(F.col("text_sha256").alias("tb"), F.col("content_sha256").alias("cb"))
    return (near.join(ma, "ta").join(mb, "tb")
                .select(*_canonical("ca", "cb"), "similarity", "hamming")
                .withColumn("stage", F.lit(STAGE_TEXT_MINHASH)))


def _canonical(a: str, b: str) -> list:
    return [F.least(a, b).alias("sha_a"), F.greatest(a, b).alias("sha_b")]
