"""Items -> contents -> features, applying the executor kernels in udfs/.

1. `hash_items`: read each item's bytes once, keep sha256 and size.
2. `compute_features`: for each DISTINCT content not already in the feature
   cache, decode once, compute pHash and (optionally) the embedding.
Features are keyed by content sha256 + feature fingerprint (model + decode
settings), so a rerun or the next scheduled run embeds only new content.
"""
from __future__ import annotations

import hashlib
import logging
from functools import partial

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.config import CacheConfig, DecodeConfig, FetchConfig, InputConfig
from jobs.schemas import ITEMS, check_columns
from udfs import adapters
from udfs.io import TRANSIENT_REASONS as READ_TRANSIENT

log = logging.getLogger("dedup")

FEATURE_VERSION = "10"  # bump when decode/hash code changes what it computes


def hash_items(items: DataFrame, cfg: InputConfig, fetch: FetchConfig = FetchConfig()) -> DataFrame:
    """(item_id, uri, input_error) -> + content_sha256, bytes, read_error."""
    check_columns(items, ITEMS, "hash_items")
    fn = partial(adapters.hash_contents, max_bytes=cfg.max_file_bytes, fetch=fetch.options(),
                 workers=fetch.workers)
    return items.select(*ITEMS).mapInPandas(fn, adapters.CONTENT_DDL)



def hash_precomputed(items: DataFrame, columns: list[str]) -> DataFrame:
    """Items of a table that carries precomputed features (audio fingerprints, video frame
    signatures) -> contents: those columns are the content, hashed as their JSON (no file is read);
    bytes and read_error null, the columns kept."""
    ok = F.col("input_error").isNull()
    return items.select("item_id", "uri", "input_error",
                        F.when(ok, F.sha2(F.to_json(F.struct(*columns)), 256)).alias("content_sha256"),
                        F.lit(None).cast("long").alias("bytes"), F.lit(None).cast("string").alias("read_error"),
                        *columns)

def vector_items(items: DataFrame, dtype: str | None = None) -> DataFrame:
    """Items carrying precomputed embeddings -> CONTENT columns + normalised `embedding`,
    packed as `dtype` bytes (the self-join's transport form) when dtype is given."""
    first = items.where(F.col("embedding").isNotNull()).select(F.size("embedding").alias("d")).first()
    dim = int(first["d"]) if first else 0
    fn = partial(adapters.vector_contents, dim=dim, dtype=dtype)
    return items.select(*ITEMS, "embedding").mapInPandas(fn, adapters.VECTOR_PACKED_DDL if dtype else adapters.VECTOR_DDL)


def vector_features(vector_contents: DataFrame) -> DataFrame:
    """One FEATURE row per distinct vector (no pixels, no pHash)."""
    none = {"width": "int", "height": "int", "phash": "long", "quality": "float", "information": "float",
            **{c: "long" for c in adapters.ROBUST_KEY_COLUMNS}, "thumb": "binary", "thumb_full": "binary",
            "thumb_whole": "binary", "sparse": "boolean", "chroma": "array<float>",
            "place": "array<float>", "content_area": "float", "lossless": "boolean", "decode_error": "string"}
    grouped = (vector_contents.where(F.col("content_sha256").isNotNull())
               .groupBy("content_sha256").agg(F.first("embedding").alias("embedding")))
    return grouped.select(*[c if c in ("content_sha256", "embedding") else F.lit(None).cast(none[c]).alias(c)
                            for c in adapters.FEATURE_COLUMNS])


def distinct_contents(contents: DataFrame) -> DataFrame:
    """One row per readable content: (content_sha256, uri of its first item by id)."""
    ok = contents.where(F.col("content_sha256").isNotNull())
    return (ok.groupBy("content_sha256")
              .agg(F.min_by("uri", "item_id").alias("uri")))


def feature_fingerprint(decode: DecodeConfig, model_fingerprint: str | None, keys: tuple[str, ...] = ()) -> str:
    """Cache key of the computed features: code version, decode limit, model, robust keys."""
    blob = (f"v{FEATURE_VERSION}|max_pixels={decode.max_pixels}|model={model_fingerprint or 'none'}"
            f"|keys={','.join(keys)}")
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def compute_features(spark: SparkSession, distinct: DataFrame, input_cfg: InputConfig,
                     decode: DecodeConfig, embed: adapters.EmbedSpec | None,
                     cache: CacheConfig, fingerprint: str,
                     fetch: FetchConfig = FetchConfig(),
                     keys: tuple[str, ...] = ()) -> tuple[DataFrame | None, DataFrame]:
    """(cached features or None, freshly computed features) for every distinct content.

    `keys`: the robust key columns to compute (adapters.robust_keys of phash.keys).
    Cached rows are reused; only contents missing from the cache are decoded.
    Transient read failures are not cached, so they are retried next run.
    """
    cached = read_cache(spark, cache, fingerprint)
    todo = distinct if cached is None else distinct.join(cached.select("content_sha256"), "content_sha256", "left_anti")
    fn = partial(adapters.compute_features, max_bytes=input_cfg.max_file_bytes,
                 max_pixels=decode.max_pixels, embed=embed, fetch=fetch.options(), workers=fetch.workers,
                 keys=keys)
    fresh = todo.repartition(spark.sparkContext.defaultParallelism * 2, "content_sha256") \
                .mapInPandas(fn, adapters.FEATURE_DDL)
    if cached is not None:
        cached = cached.join(distinct.select("content_sha256"), "content_sha256", "left_semi")
    return cached, fresh


def cache_path(cache: CacheConfig, fingerprint: str) -> str | None:
    return f"{cache.dir.rstrip('/')}/features-{fingerprint}" if cache.dir else None


def read_cache(spark: SparkSession, cache: CacheConfig, fingerprint: str,
               ddl: str = adapters.FEATURE_DDL) -> DataFrame | None:
    """Cached features of this fingerprint (`ddl`: the kind's feature columns), or None."""
    path = cache_path(cache, fingerprint)
    if path is None:
        return None
    try:
        cached = spark.read.schema(ddl).parquet(path)
    except Exception:  # noqa: BLE001 - no cache yet
        log.info("feature cache %s is empty; computing all features", path)
        return None
    return cached.where(~is_transient(F.col("decode_error"))).dropDuplicates(["content_sha256"])


def cached_and_fresh(spark: SparkSession, distinct: DataFrame, cache: CacheConfig, fingerprint: str, ddl: str,
                     compute) -> tuple[DataFrame | None, DataFrame]:
    """(cached features of `distinct` or None, fresh features of the rest) for a kind's features.

    compute: the kind's mapInPandas function over (content_sha256, ...) rows, returning `ddl`
    rows; the uncached contents are spread over twice the default parallelism first."""
    cached = read_cache(spark, cache, fingerprint, ddl)
    todo = distinct if cached is None else distinct.join(cached.select("content_sha256"), "content_sha256", "left_anti")
    fresh = todo.repartition(spark.sparkContext.defaultParallelism * 2, "content_sha256").mapInPandas(compute, ddl)
    if cached is not None:
        cached = cached.join(distinct.select("content_sha256"), "content_sha256", "left_semi")
    return cached, fresh


TRANSIENT_REASONS = (*READ_TRANSIENT, "changed")  # storage/network trouble, not bad content


def is_transient(error):
    """True for failures worth retrying on the next run (storage trouble, not bad content)."""
    cond = F.lit(False)
    for reason in TRANSIENT_REASONS:
        cond = cond | error.startswith(reason + ":")
    return F.coalesce(cond, F.lit(False))


def append_cache(new_features: DataFrame, cache: CacheConfig, fingerprint: str) -> None:
    """Add this run's features to the cache (transient failures are left out)."""
    path = cache_path(cache, fingerprint)
    if path:
        new_features.where(~is_transient(F.col("decode_error"))).write.mode("append").parquet(path)
