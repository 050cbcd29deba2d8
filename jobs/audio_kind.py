"""The audio kind, driver side: items -> contents -> spectral-peak fingerprints -> aligned content pairs.

What a kind brings (DESIGN "More than one kind of item"); everything downstream
of the scored pairs (decisions, clusters, keep policy, manifest) is shared.

- contents: a file's bytes hashed with sha256, as for images; identical bytes
  are exact duplicates (stage `exact`).
- features per distinct content (udfs/audio_adapters.py): duration, sample rate,
  channels, codec, bitrate, lossless, the noise floor (a keep-order column), and
  the fingerprint: triplet hashes of spectral peaks with the anchor time of each
  (udfs/audio.fingerprint, ~50 a second; none for silence, tones and clips too
  short to judge); cached by
  content sha256 + audio feature fingerprint.
- `audio_peaks`: an inverted-index join over the hashes, never all pairs of
  files. Every hash is one (content, hash, time) row, shuffled once by hash
  value packed in arrays and grouped per partition with numpy (voted_pairs); a
  value held more than `audio.max_bucket` times (all files
  together) is skipped (a drone, a loop, a common sound; counted in the summary
  as `audio_capped_buckets`). Two files meeting on a hash vote for their pair
  and for the offset t_a - t_b in VOTE_BIN_S bins; a pair whose best two
  neighbouring bins hold at least `audio.min_votes` equal-hash pairs is aligned
  (udfs/audio.align: offset and time scale) and stored from
  `audio.candidate_min_score` aligned anchors.
Output: (sha_a < sha_b, similarity, aligned_anchors, hamming (null), stage, start_a, end_a,
start_b, end_b, coverage_a, coverage_b, time_scale), a the recording of sha_a.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from functools import partial

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.config import AudioConfig, CacheConfig, FetchConfig, InputConfig
from jobs import features as image_features
from jobs.features import cached_and_fresh
from udfs import audio_adapters as A
from udfs.metrics import STAGE_AUDIO_PEAKS

log = logging.getLogger("dedup")

AUDIO_FEATURE_VERSION = "6"  # bump when udfs/audio.py or udfs/audio_adapters.py change what they compute
# (4: the noise_floor_db column, bench/RESULTS.md ## audio, "the noise floor in the audio keep order";
#  5: band-onset hashes of short recordings, "band onsets"; 6: the information gate measured on the peaks)
VOTE_BIN_S = 2.0             # offset bins of the candidate vote (two neighbours summed: +-3% tempo over a minute)


def input_config(input_cfg: InputConfig, cfg: AudioConfig) -> InputConfig:
    """The input settings of an audio run: the audio extensions and file size limit."""
    return replace(input_cfg, extensions=cfg.extensions, max_file_bytes=cfg.max_file_bytes)


def limits(cfg: AudioConfig) -> A.AudioLimits:
    return A.AudioLimits(max_duration_s=cfg.max_duration_s, max_decode_seconds=cfg.max_decode_seconds)


def feature_fingerprint(cfg: AudioConfig) -> str:
    """Cache key of audio features: code version, the kernel's parameters and the decode limits."""
    from udfs import audio as kernel

    params = {k: getattr(kernel, k) for k in dir(kernel) if k.isupper() and not k.startswith("_")}
    blob = (f"audio-v{AUDIO_FEATURE_VERSION}|" + "|".join(f"{k}={v}" for k, v in sorted(params.items()))
            + "|" + "|".join(f"{k}={v}" for k, v in sorted(limits(cfg)._asdict().items())))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def hash_items(items: DataFrame, input_cfg: InputConfig, fetch: FetchConfig = FetchConfig()) -> DataFrame:
    """Items -> contents: files read for their sha256 as images are; a table's precomputed fingerprints
    (`hashes`, `times`, ...) are their own content, hashed as their JSON (no file is read)."""
    if "hashes" not in items.columns:
        return image_features.hash_items(items, input_cfg, fetch)
    return image_features.hash_precomputed(items, [c for c in A.PRINT_TYPES if c in items.columns])


def print_features(contents: DataFrame) -> DataFrame:
    """Precomputed fingerprints -> AUDIO_FEATURE_DDL rows, one per distinct fingerprint (nothing decoded).

    Defaults: times required with hashes (`bad_fingerprint` without, or of another length, or unsorted
    anchor times are sorted with their hashes); duration_s the last time + 1 s, audible_s the span of the
    times + 1 s; sample_rate, channels, codec, bitrate, lossless, noise_floor_db null. An empty `hashes` is a
    recording without information (low_information), as the kernel's."""
    present = [c for c in A.PRINT_TYPES if c in contents.columns]
    grouped = (contents.where(F.col("content_sha256").isNotNull()).groupBy("content_sha256")
                       .agg(*[F.first(c).alias(c) for c in present]))
    col = lambda c: F.col(c) if c in present else F.lit(None).cast(A.PRINT_TYPES[c])  # noqa: E731
    times = col("times")
    n = F.size("hashes")
    sorted_z = F.array_sort(F.arrays_zip(times.alias("t"), F.col("hashes").alias("h")))
    last = F.coalesce(F.array_max(times), F.lit(0.0)).cast("double")
    span = F.coalesce(F.array_max(times) - F.array_min(times), F.lit(0.0)).cast("double")
    error = (F.when(times.isNull(), F.lit("bad_fingerprint: no times"))
              .when(F.size(times) != n, F.lit("bad_fingerprint: hashes and times differ in length")))
    return grouped.select(
        "content_sha256", F.coalesce(col("duration_s"), last + 1.0).alias("duration_s"),
        F.coalesce(col("audible_s"), F.when(n > 0, span + 1.0).otherwise(0.0)).alias("audible_s"),
        col("sample_rate").alias("sample_rate"), col("channels").alias("channels"), col("codec").alias("codec"),
        col("bitrate").alias("bitrate"), col("lossless").alias("lossless"),
        col("noise_floor_db").alias("noise_floor_db"),
        F.when(error.isNull(), F.transform(sorted_z, lambda z: z["h"])).alias("hashes"),
        F.when(error.isNull(), F.transform(sorted_z, lambda z: z["t"])).alias("times"),
        error.alias("decode_error"))


def compute_features(spark: SparkSession, distinct: DataFrame, input_cfg: InputConfig, cfg: AudioConfig,
                     cache: CacheConfig, fingerprint: str,
                     fetch: FetchConfig = FetchConfig()) -> tuple[DataFrame | None, DataFrame]:
    """(cached features or None, fresh features) of every distinct content; only uncached ones are decoded.

    distinct: (content_sha256, uri). One task decodes `audio.decode_workers` files at once."""
    fn = partial(A.audio_features_batches, max_bytes=input_cfg.max_file_bytes, limits=limits(cfg),
                 fetch=fetch.options(), workers=cfg.decode_workers)
    return cached_and_fresh(spark, distinct, cache, fingerprint, A.AUDIO_FEATURE_DDL, fn)


def manifest_features(features: DataFrame) -> DataFrame:
    """Audio features with the columns the manifest and keep policy read (pixel and pHash columns as nulls);
    `compared` is false for a recording without fingerprint hashes (silence, a tone, too short to judge:
    udfs.audio.fingerprint), whose manifest reason is then `low_information`."""
    compared = F.coalesce(F.size("hashes"), F.lit(0)) > 0
    return features.select("content_sha256", F.lit(None).cast("int").alias("width"),
                           F.lit(None).cast("int").alias("height"), "duration_s", "audible_s", "sample_rate", "channels", "codec",
                           "bitrate", "lossless", "noise_floor_db", "decode_error",
                           F.lit(None).cast("long").alias("phash"),
                           F.lit(None).cast("long").alias("phash_trim"), compared.alias("compared"))


def stored_features(features: DataFrame) -> DataFrame:
    """The features an audio store keeps: those of the contents that were decoded."""
    return features.where(F.col("decode_error").isNull()).select(*A.FEATURE_COLUMNS)


def is_duplicate(aligned_anchors: int, coverage_a: float, coverage_b: float, cfg: AudioConfig,
                 similarity: float = 1.0) -> bool:
    """The decision on one aligned pair (jobs/candidates.decide applies the same rule in Spark)."""
    if similarity < cfg.min_similarity or aligned_anchors < cfg.min_score:
        return False
    if similarity < cfg.low_similarity and aligned_anchors < cfg.low_similarity_score:
        return False
    if cfg.excerpts == "duplicate":
        return bool(max(coverage_a, coverage_b) >= cfg.min_coverage)
    return bool(min(coverage_a, coverage_b) >= cfg.full_coverage)


def thresholds(cfg: AudioConfig) -> dict:
    """The audio settings summary.json lists under `thresholds`."""
    return {f"audio_{k}": getattr(cfg, k) for k in (
        "min_score", "min_coverage", "min_similarity", "low_similarity", "low_similarity_score", "full_coverage", "candidate_min_score", "excerpts", "min_votes", "max_bucket")}


# ---------------------------------------------------------------------------- candidate stage

def candidate_pairs(features: DataFrame, cfg: AudioConfig, stats: dict) -> DataFrame:
    """Aligned content pairs of stage `audio_peaks` (see the module docstring)."""
    voted = voted_pairs(features, cfg, stats)
    prints = features.where(F.col("decode_error").isNull()).select("content_sha256", "hashes", "times")
    side = {s: prints.select(F.col("content_sha256").alias(f"sha_{s}"), F.col("hashes").alias(f"hashes_{s}"),
                             F.col("times").alias(f"times_{s}")) for s in ("a", "b")}
    joined = voted.join(side["a"], "sha_a").join(side["b"], "sha_b")
    aligned = joined.mapInPandas(partial(A.align_pairs, min_score=cfg.candidate_min_score), A.ALIGNED_DDL)
    return (aligned.withColumn("stage", F.lit(STAGE_AUDIO_PEAKS)).withColumn("hamming", F.lit(None).cast("int"))
                   .localCheckpoint(eager=True))


#: hash rows per partition of the shuffle by hash value (udfs.audio_adapters.hash_bucket_bins holds one
#: partition in memory: ~20 bytes a row, then its equal-hash pairs `chunk` at a time)
HASH_ROWS_PER_PARTITION = 2_000_000


def content_id(sha: str = "content_sha256"):
    """A 64-bit id of a content ordered as its sha256 (the first 16 hex digits, signed): pairs keep the
    job's orientation (a = the smaller sha256). Two contents sharing 64 bits of sha256 (~3e-8 among 1e6)
    would count as one recording."""
    unsigned = F.conv(F.substring(sha, 1, 16), 16, 10).cast("decimal(20,0)")
    return (unsigned - F.lit(str(2**63)).cast("decimal(20,0)")).cast("long")


def voted_pairs(features: DataFrame, cfg: AudioConfig, stats: dict) -> DataFrame:
    """(sha_a < sha_b, votes) of the file pairs whose hashes agree on one offset.

    votes: the most equal-hash pairs of the two files whose offset t_a - t_b falls in two
    neighbouring VOTE_BIN_S bins. One shuffle of the hash rows, one of the pair counts: each file's
    hashes are cut by the partition of their value in a mapInArrow (udfs.audio_adapters.print_hash_rows,
    packed in arrays), repartitioned, and each partition's buckets are grouped with numpy
    (hash_bucket_bins: sizes, the max_bucket cap, the equal-hash pairs counted per pair and offset bin);
    those counts go, packed by pair, to a second partition where each pair's bins are summed, neighbours
    added and the best kept (pair_votes). Memory per partition: HASH_ROWS_PER_PARTITION rows, at most
    max_bucket^2 / 2 equal-hash pairs per hash value, and the partition's (pair, bin) counts."""
    from jobs.video_kind import partition_labels

    ok = features.where(F.col("decode_error").isNull() & (F.size("hashes") > 0))
    spark = ok.sparkSession
    rows = int(ok.agg(F.sum(F.size("hashes"))).first()[0] or 0)
    partitions = max(spark.sparkContext.defaultParallelism, -(-rows // HASH_ROWS_PER_PARTITION))
    labels = partition_labels(spark, partitions)
    vid = content_id()
    hashed = ok.select(vid.alias("vid"), "hashes", "times") \
               .mapInArrow(partial(A.print_hash_rows, labels=labels), A.HASH_ROW_DDL)
    bins = hashed.repartition(partitions, "part") \
                 .mapInArrow(partial(A.hash_bucket_bins, max_bucket=cfg.max_bucket, bin_s=VOTE_BIN_S, labels=labels),
                             A.PAIR_BIN_DDL)
    votes = bins.repartition(partitions, "part") \
                .mapInArrow(partial(A.pair_votes, min_votes=cfg.min_votes), A.VOTES_DDL).localCheckpoint(eager=True)
    sums = votes.where(F.col("va").isNull()).agg(F.sum("capped"), F.sum("met")).first()
    capped = int(sums[0] or 0)
    stats["audio_capped_buckets"] = capped
    stats["audio_hash_rows"] = rows
    stats["audio_equal_hash_pairs"] = int(sums[1] or 0)
    if capped:
        log.warning("[candidates] %d fingerprint hash values are held more than audio.max_bucket=%d times (a drone, "
                    "a loop, a common sound): skipped", capped, cfg.max_bucket)
    ids = ok.select(vid.alias("vid"), "content_sha256")
    voted = (votes.where(F.col("va").isNotNull()).select("va", "vb", "votes")
                  .join(ids.select(F.col("vid").alias("va"), F.col("content_sha256").alias("sha_a")), "va")
                  .join(ids.select(F.col("vid").alias("vb"), F.col("content_sha256").alias("sha_b")), "vb")
                  .select("sha_a", "sha_b", F.col("votes").cast("long").alias("votes")).localCheckpoint(eager=True))
    stats["audio_voted_pairs"] = int(voted.count())
    log.info("[candidates] %d audio pairs with >= audio.min_votes=%d equal hashes on one offset go to alignment "
             "(%d hash rows, %d equal-hash pairs of two files)", stats["audio_voted_pairs"], cfg.min_votes, rows,
             stats["audio_equal_hash_pairs"])
    return voted
