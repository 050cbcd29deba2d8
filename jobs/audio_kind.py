"""The audio kind, driver side: items -> contents -> spectral-peak fingerprints -> aligned content pairs.

What a kind brings (DESIGN "More than one kind of item"); everything downstream
of the scored pairs (decisions, clusters, keep policy, manifest) is shared.

- contents: a file's bytes hashed with sha256, as for images; identical bytes
  are exact duplicates (stage `exact`).
- features per distinct content (udfs/audio_adapters.py): duration, sample rate,
  channels, codec, bitrate, lossless, and the fingerprint: triplet hashes of
  spectral peaks with the anchor time of each (udfs/audio.fingerprint, ~40 a
  second; none for silence, tones and clips too short to judge); cached by
  content sha256 + audio feature fingerprint.
- `audio_peaks`: an inverted-index join over the hashes, never all pairs of
  files. Every hash is one (content, hash, time) row; rows are grouped by hash
  value and a value held more than `audio.max_bucket` times (all files
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
from jobs.features import cached_and_fresh
from udfs import audio_adapters as A
from udfs.metrics import STAGE_AUDIO_PEAKS

log = logging.getLogger("dedup")

AUDIO_FEATURE_VERSION = "1"  # bump when udfs/audio.py or udfs/audio_adapters.py change what they compute
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
                           F.lit(None).cast("int").alias("height"), "duration_s", "sample_rate", "channels", "codec",
                           "bitrate", "lossless", "decode_error", F.lit(None).cast("long").alias("phash"),
                           F.lit(None).cast("long").alias("phash_trim"), compared.alias("compared"))


def stored_features(features: DataFrame) -> DataFrame:
    """The features an audio store keeps: those of the contents that were decoded."""
    return features.where(F.col("decode_error").isNull()).select(*A.FEATURE_COLUMNS)


def is_duplicate(aligned_anchors: int, coverage_a: float, coverage_b: float, cfg: AudioConfig) -> bool:
    """The decision on one aligned pair (jobs/candidates.decide applies the same rule in Spark)."""
    if cfg.excerpts == "duplicate":
        return bool(aligned_anchors >= cfg.min_score and max(coverage_a, coverage_b) >= cfg.min_coverage)
    return bool(aligned_anchors >= cfg.min_score and min(coverage_a, coverage_b) >= cfg.full_coverage)


def thresholds(cfg: AudioConfig) -> dict:
    """The audio settings summary.json lists under `thresholds`."""
    return {f"audio_{k}": getattr(cfg, k) for k in (
        "min_score", "min_coverage", "full_coverage", "candidate_min_score", "excerpts", "min_votes", "max_bucket")}


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


def hash_rows(features: DataFrame) -> DataFrame:
    """(content_sha256, hash, t): one row per fingerprint hash of every decoded content."""
    ok = features.where(F.col("decode_error").isNull() & (F.size("hashes") > 0))
    z = ok.select("content_sha256", F.explode(F.arrays_zip("hashes", "times")).alias("z"))
    return z.select("content_sha256", F.col("z.hashes").alias("hash"), F.col("z.times").alias("t"))


def voted_pairs(features: DataFrame, cfg: AudioConfig, stats: dict) -> DataFrame:
    """(sha_a < sha_b, votes) of the file pairs whose hashes agree on one offset.

    votes: the most equal-hash pairs of the two files whose offset t_a - t_b falls in two
    neighbouring VOTE_BIN_S bins. Memory per hash value: at most max_bucket rows, so
    max_bucket^2 / 2 equal-hash pairs."""
    rows = hash_rows(features)
    sizes = rows.groupBy("hash").agg(F.count("*").alias("n")).localCheckpoint(eager=True)
    capped = sizes.where(F.col("n") > cfg.max_bucket).count()
    stats["audio_capped_buckets"] = int(capped)
    if capped:
        log.warning("[candidates] %d fingerprint hash values are held more than audio.max_bucket=%d times (a drone, "
                    "a loop, a common sound): skipped", capped, cfg.max_bucket)
    shared = rows.join(sizes.where((F.col("n") > 1) & (F.col("n") <= cfg.max_bucket)), "hash", "left_semi")
    x = shared.select("hash", F.col("content_sha256").alias("sha_a"), F.col("t").alias("ta"))
    y = shared.select("hash", F.col("content_sha256").alias("sha_b"), F.col("t").alias("tb"))
    met = x.join(y, "hash").where(F.col("sha_a") < F.col("sha_b"))
    bins = (met.select("sha_a", "sha_b", F.floor((F.col("ta") - F.col("tb")) / VOTE_BIN_S).alias("bin"))
               .groupBy("sha_a", "sha_b", "bin").agg(F.count("*").alias("n")).localCheckpoint(eager=True))
    following = bins.select("sha_a", "sha_b", (F.col("bin") - 1).alias("bin"), F.col("n").alias("n_next"))
    summed = bins.join(following, ["sha_a", "sha_b", "bin"], "left").select(
        "sha_a", "sha_b", (F.col("n") + F.coalesce("n_next", F.lit(0))).alias("votes"))
    voted = (summed.groupBy("sha_a", "sha_b").agg(F.max("votes").alias("votes"))
                   .where(F.col("votes") >= cfg.min_votes).localCheckpoint(eager=True))
    stats["audio_voted_pairs"] = int(voted.count())
    log.info("[candidates] %d audio pairs with >= audio.min_votes=%d equal hashes on one offset go to alignment",
             stats["audio_voted_pairs"], cfg.min_votes)
    return voted
