"""Column contracts of every artefact the job writes, declared once.

The README documents each column; `check_columns` guards stage inputs so a
missing column fails with its name rather than deep inside Spark.
"""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from udfs.video import SEGMENT_COLUMNS

# Actions and reasons written to the manifest.
KEEP, DROP, ERROR = "keep", "drop", "error"
REASON_UNIQUE = "unique"                  # no duplicate found
REASON_LOW_INFORMATION = "low_information"  # kept: too flat or too little structure for any enabled
                                            # near-duplicate stage to compare it (exact copies are found)
REASON_KEEPER = "keeper"                  # best item of its cluster by the keep policy
REASON_CHAIN_GUARD = "kept_no_direct_match"  # in a cluster, but no direct edge to a kept item
REASON_EXACT = "exact_duplicate"          # same bytes as its keeper
REASON_NEAR = "near_duplicate"            # matched its keeper by phash and/or embedding

MANIFEST = T.StructType([
    T.StructField("item_id", T.StringType(), False),
    T.StructField("uri", T.StringType(), True),
    T.StructField("cluster_id", T.StringType(), True),
    T.StructField("keeper_id", T.StringType(), True),
    T.StructField("reason", T.StringType(), False),
    T.StructField("keeper_similarity", T.DoubleType(), True),
    T.StructField("matched_by", T.StringType(), True),
    T.StructField("max_similarity", T.DoubleType(), True),
    T.StructField("nearest_id", T.StringType(), True),
    T.StructField("content_sha256", T.StringType(), True),
    T.StructField("bytes", T.LongType(), True),
    T.StructField("width", T.IntegerType(), True),
    T.StructField("height", T.IntegerType(), True),
    T.StructField("phash", T.StringType(), True),
    T.StructField("duration_s", T.DoubleType(), True),     # video: seconds (null for images and texts)
    T.StructField("fps", T.DoubleType(), True),            # video: the stream's average frame rate
    T.StructField("frames_sampled", T.IntegerType(), True),  # video: frames sampled at video.sample_fps
    T.StructField("sample_rate", T.IntegerType(), True),   # audio: the stream's sample rate, Hz
    T.StructField("channels", T.IntegerType(), True),      # audio: the stream's channels
    T.StructField("codec", T.StringType(), True),          # audio: the stream's codec (FFmpeg name)
    T.StructField("bitrate", T.LongType(), True),          # audio and video: bits per second
    T.StructField("error", T.StringType(), True),
    T.StructField("run_id", T.StringType(), False),
    T.StructField("config_fingerprint", T.StringType(), False),
    T.StructField("action", T.StringType(), False),  # partition column: keep / drop / error
])

PAIRS = T.StructType([
    T.StructField("item_a", T.StringType(), False),
    T.StructField("item_b", T.StringType(), False),
    T.StructField("stage", T.StringType(), False),
    T.StructField("similarity", T.DoubleType(), False),
    T.StructField("hamming", T.IntegerType(), True),
    T.StructField("verify_score", T.DoubleType(), True),
    T.StructField("is_duplicate", T.BooleanType(), False),
    # video and audio pairs' aligned segment (null for image and text pairs); a = item_a, b = item_b
    *[T.StructField(c, T.DoubleType(), True) for c in SEGMENT_COLUMNS],
    T.StructField("aligned_anchors", T.IntegerType(), True),  # audio pairs: the alignment's score
])

CLUSTERS = T.StructType([
    T.StructField("cluster_id", T.StringType(), False),
    T.StructField("size", T.LongType(), False),
    T.StructField("n_keep", T.LongType(), False),
    T.StructField("n_drop", T.LongType(), False),
    T.StructField("keeper_ids", T.ArrayType(T.StringType()), False),
    T.StructField("min_edge_similarity", T.DoubleType(), True),
    T.StructField("max_edge_similarity", T.DoubleType(), True),
])

# Intermediate contracts between stages.
ITEMS = ("item_id", "uri", "input_error")


def check_columns(df: DataFrame, required: tuple[str, ...] | T.StructType, stage: str) -> None:
    """Raise ValueError naming the stage and the columns it lacks."""
    names = required.fieldNames() if isinstance(required, T.StructType) else list(required)
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise ValueError(f"{stage}: input lacks column(s) {missing}; has {df.columns}")


def conform(df: DataFrame, schema: T.StructType, missing_as_null: tuple[str, ...] = ()) -> DataFrame:
    """Select `schema`'s columns in order, cast to their declared types.

    `missing_as_null`: nullable columns that may be absent (a store written before
    they existed) and are then null."""
    df = df.select("*", *[F.lit(None).alias(c) for c in missing_as_null if c not in df.columns])
    check_columns(df, schema, "conform")
    return df.select([df[f.name].cast(f.dataType).alias(f.name) for f in schema.fields])


# manifest columns added after the first stores were written: null when a stored state lacks them
LATER_MANIFEST_COLUMNS = ("duration_s", "fps", "frames_sampled", "sample_rate", "channels", "codec", "bitrate")
# pairs columns carried only by some stages (null elsewhere)
ANCHOR_COLUMNS = ("aligned_anchors",)
