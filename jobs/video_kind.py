"""The video kind, driver side: items -> contents -> sampled frame signatures -> aligned content pairs.

What a kind brings (DESIGN "More than one kind of item"); everything downstream
of the scored pairs (decisions, clusters, keep policy, manifest) is shared.

- contents: a file's bytes hashed with sha256, as for images; identical bytes
  are exact duplicates (stage `exact`).
- features per distinct content (udfs/video.py): duration, fps, size, bitrate,
  codec, and per sampled frame its time, content-box pHash, the pHashes of its
  mirror, centre 90% and centre 60%, and its informative flag; cached by content sha256 + video feature fingerprint.
- `video_frames`: a blocked join over frame hash bands, never all pairs of
  videos or frames. Each informative frame emits (video, band, band value) rows
  for its hash, its mirror's, its centre 90%'s and centre 60%'s (4 bands of 16
  bits, udfs.hashing.band_values);
  rows are shuffled once by bucket (band, value), packed in arrays, and each partition's
  buckets are grouped with numpy (udfs/video_adapters.bucket_votes); a bucket holding more than
  `video.max_bucket` videos is skipped (a logo or a common card, counted in the
  summary as `video_capped_buckets`). Videos meeting in a bucket (hash with
  hash, mirror or centre 90%; centre 60% with centre 60%) vote for their pair with the frames that met; a
  pair whose both videos have at least `video.min_votes` voting frames is
  aligned (udfs/video.align_pair) and stored from `video.candidate_threshold`.
Output: (sha_a < sha_b, similarity, hamming, stage, start_a, end_a, start_b,
end_b, coverage_a, coverage_b, time_scale), a the video of sha_a.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from functools import partial

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.config import CacheConfig, FetchConfig, InputConfig, VideoConfig
from jobs import features
from jobs.features import cached_and_fresh
from udfs import video_adapters as A
from udfs.metrics import STAGE_VIDEO_FRAMES
from udfs.video import AlignParams, DecodeLimits

log = logging.getLogger("dedup")

VIDEO_FEATURE_VERSION = "2"  # bump when udfs/video.py changes what it computes
BANDS = 4                    # 64-bit frame hashes cut into 4 band values of 16 bits
# video.band_keys=auto uses pairs of bands from this many informative frames. With 16-bit keys a frame
# meets ~frames x 16 / 65536 unrelated frames (4 bands, the variant pairs), and the frames of a shot
# drift by a few bits, so one chance meeting of two shots brings several votes: the random meetings
# grow with the square of the frames and, from a few tens of thousands of frames, put most video pairs
# over video.min_votes (bench/video_scale: 2,000 videos of ~160 frames, 318k frames, voted 739k of
# the 2M pairs). At 32,768 frames a frame meets ~8 unrelated ones; the harness's parts (~9k frames) and
# the example stay on single bands.
PAIR_KEYS_FROM_FRAMES = 32_768


def input_config(input_cfg: InputConfig, cfg: VideoConfig) -> InputConfig:
    """The input settings of a video run: the video extensions and file size limit."""
    return replace(input_cfg, extensions=cfg.extensions, max_file_bytes=cfg.max_file_bytes)


def hash_items(items: DataFrame, input_cfg: InputConfig, fetch: FetchConfig = FetchConfig()) -> DataFrame:
    """Items -> contents: files read for their sha256 as images are; a table's precomputed frame
    signatures (`frame_hashes`, ...) are their own content, hashed as their JSON (no file is read)."""
    if "frame_hashes" not in items.columns:
        return features.hash_items(items, input_cfg, fetch)
    return features.hash_precomputed(items, [c for c in A.SIGNATURE_TYPES if c in items.columns])


def signature_features(contents: DataFrame, cfg: VideoConfig) -> DataFrame:
    """Precomputed frame signatures -> VIDEO_FEATURE_DDL rows, one per distinct signature (nothing decoded).

    Defaults: frame_times i / video.sample_fps, informative all true, duration_s the last
    time + one step; flip, crop and centre hashes null (those alignments are skipped).
    Arrays of different lengths are a `bad_signature` error."""
    present = [c for c in A.SIGNATURE_TYPES if c in contents.columns]
    grouped = (contents.where(F.col("content_sha256").isNotNull()).groupBy("content_sha256")
                       .agg(*[F.first(c).alias(c) for c in present]))
    col = lambda c: F.col(c) if c in present else F.lit(None).cast(A.SIGNATURE_TYPES[c])  # noqa: E731
    n = F.size("frame_hashes")
    step = 1.0 / cfg.sample_fps
    times = F.coalesce(col("frame_times"), F.transform(F.sequence(F.lit(0), F.greatest(n - 1, F.lit(0))),
                                                       lambda i: i * F.lit(step)))
    informative = F.coalesce(col("informative"), F.array_repeat(F.lit(True), n))
    duration = F.coalesce(col("duration_s"), F.element_at(times, -1) + F.lit(step))
    lengths_differ = (F.size(times) != n) | (F.size(informative) != n) | F.exists(
        F.array(*[F.coalesce(F.size(col(c)), n) != n for c in ("flip_hashes", "crop_hashes", "centre_hashes")]),
        lambda x: x)
    error = (F.when(n <= 0, F.lit("bad_signature: no frame hashes"))
              .when(lengths_differ, F.lit("bad_signature: the frame arrays differ in length")))
    return grouped.select(
        "content_sha256", duration.alias("duration_s"), F.lit(None).cast("double").alias("fps"),
        F.lit(None).cast("int").alias("width"), F.lit(None).cast("int").alias("height"),
        F.lit(None).cast("long").alias("bitrate"), F.lit(None).cast("string").alias("codec"),
        n.cast("int").alias("frames_sampled"), times.alias("frame_times"), F.col("frame_hashes"),
        col("flip_hashes").alias("flip_hashes"), col("crop_hashes").alias("crop_hashes"),
        col("centre_hashes").alias("centre_hashes"), informative.alias("informative"), error.alias("decode_error"))


def decode_limits(cfg: VideoConfig) -> DecodeLimits:
    return DecodeLimits(sample_fps=cfg.sample_fps, max_duration_s=cfg.max_duration_s, max_frames=cfg.max_frames,
                        max_pixels=cfg.max_pixels, max_decode_seconds=cfg.max_decode_seconds,
                        min_information=cfg.min_information, min_quality=cfg.min_quality)


def align_params(cfg: VideoConfig) -> AlignParams:
    return AlignParams(frame_hamming=cfg.frame_hamming, sample_fps=cfg.sample_fps, max_gap_s=cfg.max_gap_s,
                       min_distinct_frames=cfg.min_distinct_frames)


def feature_fingerprint(cfg: VideoConfig) -> str:
    """Cache key of video features: code version and every setting that changes the sampled frames."""
    limits = decode_limits(cfg)
    blob = f"video-v{VIDEO_FEATURE_VERSION}|" + "|".join(f"{k}={v}" for k, v in sorted(limits.__dict__.items()))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def compute_features(spark: SparkSession, distinct: DataFrame, input_cfg: InputConfig, cfg: VideoConfig,
                     cache: CacheConfig, fingerprint: str,
                     fetch: FetchConfig = FetchConfig()) -> tuple[DataFrame | None, DataFrame]:
    """(cached features or None, fresh features) of every distinct content; only uncached ones are decoded.

    distinct: (content_sha256, uri). One task decodes `video.decode_workers` files at once."""
    # each task reads and decodes its batch's files `decode_workers` at a time (PyAV releases the GIL)
    fn = partial(A.video_features, max_bytes=input_cfg.max_file_bytes, limits=decode_limits(cfg),
                 fetch=fetch.options(), workers=cfg.decode_workers)
    return cached_and_fresh(spark, distinct, cache, fingerprint, A.VIDEO_FEATURE_DDL, fn)


def manifest_features(features: DataFrame) -> DataFrame:
    """Video features with the columns the manifest and keep policy read (pHash columns as nulls)."""
    return features.select("content_sha256", "width", "height", "duration_s", "fps", "frames_sampled", "bitrate",
                           "decode_error", F.lit(None).cast("long").alias("phash"),
                           F.lit(None).cast("long").alias("phash_trim"))


def stored_features(features: DataFrame) -> DataFrame:
    """The features a video store keeps: those of the contents that were decoded."""
    return features.where(F.col("decode_error").isNull()).select(*A.FEATURE_COLUMNS)


def thresholds(cfg: VideoConfig) -> dict:
    """The video settings summary.json lists under `thresholds`."""
    return {f"video_{k}": getattr(cfg, k) for k in (
        "threshold", "min_coverage", "candidate_threshold", "excerpts", "frame_hamming", "sample_fps",
        "min_votes", "max_bucket", "min_distinct_frames", "max_gap_s")}


# ---------------------------------------------------------------------------- candidate stage

def candidate_pairs(features: DataFrame, cfg: VideoConfig, stats: dict) -> DataFrame:
    """Aligned content pairs of stage `video_frames` (see the module docstring)."""
    voted = voted_pairs(features, cfg, stats)
    ends = features.where(F.col("decode_error").isNull()).select(
        "content_sha256", F.col("frame_times").alias("times"), F.col("frame_hashes").alias("hashes"),
        F.col("flip_hashes").alias("flips"), F.col("crop_hashes").alias("crops"),
        F.col("centre_hashes").alias("centres"), "informative", F.col("duration_s").alias("duration"))
    side = {s: ends.select(*[F.col(c).alias(f"{c}_{s}" if c != "content_sha256" else f"sha_{s}")
                             for c in ends.columns]) for s in ("a", "b")}
    joined = voted.join(side["a"], "sha_a").join(side["b"], "sha_b")
    aligned = joined.mapInPandas(partial(A.align_pairs, params=align_params(cfg),
                                         min_similarity=cfg.candidate_threshold), A.ALIGNED_DDL)
    return aligned.drop("keys").withColumn("stage", F.lit(STAGE_VIDEO_FRAMES)).localCheckpoint(eager=True)


def informative_frames(features: DataFrame) -> int:
    return int(features.agg(F.sum(F.size(F.filter("informative", lambda x: x)))).first()[0] or 0)


def use_pair_keys(frames: int, cfg: VideoConfig, stats: dict) -> bool:
    """Whether bucket keys are pairs of bands (video.band_keys; auto: from PAIR_KEYS_FROM_FRAMES
    informative frames)."""
    if cfg.band_keys != "auto":
        pairs = cfg.band_keys == "pairs"
    else:
        pairs = frames >= PAIR_KEYS_FROM_FRAMES
        log.info("[candidates] %d informative frames: bucket keys are %s (video.band_keys=auto)", frames,
                 "pairs of 16-bit bands" if pairs else "single 16-bit bands")
    stats["video_band_keys"] = "pairs" if pairs else "single"
    return pairs


#: bucket rows per partition of the shuffle by bucket (udfs.video_adapters.bucket_votes holds one
#: partition in memory: ~40 bytes a row)
BUCKET_ROWS_PER_PARTITION = 1_500_000


def partition_labels(spark: SparkSession, partitions: int) -> tuple[int, ...]:
    """For each partition t of `repartition(partitions, "part")`, a value of `part` that goes to t
    (Spark partitions by pmod(hash(part), partitions): the smallest such int, found by asking Spark)."""
    probe = (spark.range(0, partitions * 64).select(F.col("id").cast("int").alias("p"))
                  .select("p", F.pmod(F.hash("p"), F.lit(partitions)).alias("t"))
                  .groupBy("t").agg(F.min("p").alias("p")).collect())
    found = {r["t"]: r["p"] for r in probe}
    if len(found) < partitions:  # not seen in practice: 64 draws per partition
        raise RuntimeError(f"no partition label found for {partitions - len(found)} of {partitions} partitions")
    return tuple(int(found[t]) for t in range(partitions))


def voted_pairs(features: DataFrame, cfg: VideoConfig, stats: dict) -> DataFrame:
    """(sha_a < sha_b, votes) of the video pairs whose informative frames share band values.

    votes: the fewer of the two videos' distinct frames that met the other video in
    some bucket (hash with hash, one's hash with the other's mirror or centre-90% hash,
    centre-60% with centre-60%). One shuffle of the bucket rows: each video's rows are made
    in a mapInArrow (udfs.video_adapters.frame_bucket_rows: informative frames x hash variants
    x keys), repartitioned by bucket key, and each partition's buckets are grouped with numpy
    (bucket_votes: sizes, the max_bucket cap, the distinct frames each video pair met); then one
    aggregation per video pair unites its frames over the partitions. Memory per partition:
    BUCKET_ROWS_PER_PARTITION rows, and per bucket at most max_bucket videos."""
    ok = features.where(F.col("decode_error").isNull() & (F.col("frames_sampled") > 0))
    frames = informative_frames(ok)
    pairs = use_pair_keys(frames, cfg, stats)
    # the bucket rows carry a 64-bit id of the content, not its 64-character sha256; the voted pairs
    # are mapped back (a collision among 1e6 contents: ~3e-8)
    vid = F.xxhash64("content_sha256")
    keys = 6 if pairs else BANDS
    spark = ok.sparkSession
    partitions = max(spark.sparkContext.defaultParallelism,
                     -(-frames * len(A.HASH_VARIANTS) * keys // BUCKET_ROWS_PER_PARTITION))
    labels = partition_labels(spark, partitions)
    rows = ok.select(vid.alias("vid"), *A.HASH_VARIANTS, "informative") \
             .mapInArrow(partial(A.frame_bucket_rows, bands=BANDS, pairs=pairs, key="vid", labels=labels),
                         A.BUCKET_ROW_DDL)
    met = rows.repartition(partitions, "part") \
              .mapInArrow(partial(A.bucket_votes, max_bucket=cfg.max_bucket), A.BUCKET_VOTES_DDL)
    votes = met.groupBy("va", "vb").agg(
        F.sum("capped").alias("capped"),
        F.size(F.array_distinct(F.flatten(F.collect_list("fa")))).alias("votes_a"),
        F.size(F.array_distinct(F.flatten(F.collect_list("fb")))).alias("votes_b"))
    kept = votes.select("va", "vb", "capped", F.least("votes_a", "votes_b").alias("votes")) \
                .where(F.col("va").isNull() | (F.col("votes") >= cfg.min_votes)).localCheckpoint(eager=True)
    capped = kept.where(F.col("va").isNull()).agg(F.sum("capped")).first()[0] or 0
    stats["video_capped_buckets"] = int(capped)
    if capped:
        log.warning("[candidates] %d frame-hash buckets hold more than video.max_bucket=%d videos (a logo, a "
                    "common card): skipped", capped, cfg.max_bucket)
    ids = ok.select(vid.alias("vid"), "content_sha256")
    named = (kept.where(F.col("va").isNotNull()).select("va", "vb", "votes")
                 .join(ids.select(F.col("vid").alias("va"), F.col("content_sha256").alias("xa")), "va")
                 .join(ids.select(F.col("vid").alias("vb"), F.col("content_sha256").alias("xb")), "vb"))
    voted = named.select(F.least("xa", "xb").alias("sha_a"), F.greatest("xa", "xb").alias("sha_b"),
                         "votes").localCheckpoint(eager=True)
    stats["video_voted_pairs"] = int(voted.count())
    log.info("[candidates] %d video pairs with >= video.min_votes=%d voting frames go to alignment",
             stats["video_voted_pairs"], cfg.min_votes)
    return voted
