"""Items + features + decisions -> manifest, pairs and clusters tables.

Every input item becomes exactly one manifest row: keep, drop or error.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs import schemas as S
from jobs.hashkeys import is_framed
from udfs.metrics import STAGE_EXACT


def keep_order_columns(order: list[tuple[str, str]]) -> list[Column]:
    """Sort expressions for the keep policy; nulls always last."""
    return [F.col(c).desc_nulls_last() if d == "desc" else F.col(c).asc_nulls_last() for c, d in order]


# keep-policy and manifest columns of the text kind (jobs/text_kind.py), the video kind
# (jobs/video_kind.py) and the audio kind (jobs/audio_kind.py), carried when the features have them
TEXT_COLUMNS = ("chars", "words")
VIDEO_COLUMNS = ("duration_s", "fps", "frames_sampled", "bitrate")
AUDIO_COLUMNS = ("sample_rate", "channels", "codec", "lossless", "audible_s", "noise_floor_db")
KIND_COLUMNS = (*TEXT_COLUMNS, *VIDEO_COLUMNS, *AUDIO_COLUMNS)
# keep-policy columns computed per content by the clustering (jobs/decisions.py), not per item
CONTENT_ORDER_COLUMNS = ("links",)


def item_table(contents: DataFrame, features: DataFrame, order: list[tuple[str, str]]) -> DataFrame:
    """One row per item with its features, `error`, and `content_rank` (1 = the content's representative)."""
    extra = [c for c in (*KIND_COLUMNS, "compared") if c in features.columns]
    area = ["content_area"] if "content_area" in features.columns else []
    feats = features.select("content_sha256", "width", "height", "phash", "decode_error", *extra, *area,
                            is_framed().cast("int").alias("framed"), F.lit(True).alias("_has_features"))
    joined = contents.join(feats, "content_sha256", "left")
    missing = F.when(F.col("content_sha256").isNotNull() & F.col("_has_features").isNull(),
                     F.lit("internal_error: no features were computed for this content"))
    error = F.coalesce("input_error", "read_error", "decode_error", missing)
    pixels = F.col("width").cast("long") * F.col("height")
    table = (joined.withColumn("error", error)
                   .withColumn("pixels", pixels)
                   .withColumn("content_pixels", content_pixels(pixels, F.col("content_area"))
                               if "content_area" in joined.columns else pixels)
                   .drop("_has_features", "content_area"))
    # `links` counts a content's duplicate edges: the same for all its items, known only later
    within = [(c, d) for c, d in order if c not in CONTENT_ORDER_COLUMNS]
    w = Window.partitionBy("content_sha256").orderBy(*keep_order_columns(within))
    ranked = table.where(F.col("error").isNull()).withColumn("content_rank", F.row_number().over(w))
    failed = table.where(F.col("error").isNotNull()).withColumn("content_rank", F.lit(None).cast("int"))
    return ranked.unionByName(failed)


# content_pixels is rounded to this many steps per octave of area (9% apart), so that a copy's
# content box, found a working pixel larger or smaller than its original's, does not decide alone
CONTENT_STEPS_PER_OCTAVE = 8


def content_pixels(pixels: Column, area: Column) -> Column:
    """Pixels inside the content box (the picture less uniform borders; a sparse picture's objects),
    rounded to 1/CONTENT_STEPS_PER_OCTAVE octave: a crop or a thumbnail has fewer, a padded copy
    the same as its original. Pixels when the area is unknown."""
    inside = pixels.cast("double") * F.coalesce(area.cast("double"), F.lit(1.0))
    steps = F.round(F.log2(F.greatest(inside, F.lit(1.0))) * CONTENT_STEPS_PER_OCTAVE)
    return F.when(inside.isNotNull(), F.round(F.pow(F.lit(2.0), steps / CONTENT_STEPS_PER_OCTAVE)).cast("long"))


def representatives(items: DataFrame) -> DataFrame:
    """The best item of each content (its keep-policy columns)."""
    extra = [c for c in KIND_COLUMNS if c in items.columns]
    return (items.where(F.col("content_rank") == 1)
                 .select("content_sha256", "item_id", "uri", "pixels", "content_pixels", "bytes", "width", "height",
                         "framed", "prior_keep", *extra))


def item_pairs(content_pairs: DataFrame, items: DataFrame) -> DataFrame:
    """Content edges mapped onto representative items, plus exact-copy edges (copy -> representative)."""
    reps = representatives(items).select("content_sha256", "item_id")
    ra = reps.select(F.col("content_sha256").alias("sha_a"), F.col("item_id").alias("rep_a"))
    rb = reps.select(F.col("content_sha256").alias("sha_b"), F.col("item_id").alias("rep_b"))
    joined = content_pairs.join(ra, "sha_a").join(rb, "sha_b")
    mapped = joined.select(F.least("rep_a", "rep_b").alias("item_a"), F.greatest("rep_a", "rep_b").alias("item_b"),
                           "stage", "similarity", "hamming", "verify_score", "is_duplicate",
                           *_segment(joined, F.col("rep_a") > F.col("rep_b")),
                           *[F.col(c) if c in joined.columns else F.lit(None).cast("int").alias(c)
                             for c in S.ANCHOR_COLUMNS])
    copies = (items.where(F.col("content_rank") > 1).select("content_sha256", F.col("item_id").alias("copy"))
                   .join(reps.withColumnRenamed("item_id", "rep"), "content_sha256")
                   .select(F.least("copy", "rep").alias("item_a"), F.greatest("copy", "rep").alias("item_b"),
                           F.lit(STAGE_EXACT).alias("stage"), F.lit(1.0).alias("similarity"),
                           F.lit(0).alias("hamming"), F.lit(None).cast("double").alias("verify_score"),
                           F.lit(True).alias("is_duplicate")))
    return S.conform(mapped.unionByName(copies, allowMissingColumns=True), S.PAIRS)


def _segment(pairs: DataFrame, swapped: Column) -> list[Column]:
    """A video pair's segment columns for (item_a, item_b): a and b exchanged where the items' order
    is the contents' reversed (then t_a = t_b / s - o / s, so the time scale becomes 1 / s); nulls
    for pairs without segments."""
    if "coverage_a" not in pairs.columns:
        return [F.lit(None).cast("double").alias(c) for c in S.SEGMENT_COLUMNS]
    out = []
    for c in S.SEGMENT_COLUMNS[:-1]:
        other = c[:-1] + ("b" if c.endswith("a") else "a")
        out.append(F.when(swapped, F.col(other)).otherwise(F.col(c)).alias(c))
    scale = F.col("time_scale")
    out.append(F.when(swapped & scale.isNotNull() & (scale != 0), 1.0 / scale).otherwise(scale).alias("time_scale"))
    return out


def nearest(pairs: DataFrame) -> DataFrame:
    """Each item's most similar candidate over all stages: (item_id, max_similarity, nearest_id)."""
    both = pairs.select(F.col("item_a").alias("item_id"), F.col("item_b").alias("other"), "similarity") \
                .unionByName(pairs.select(F.col("item_b").alias("item_id"), F.col("item_a").alias("other"), "similarity"))
    w = Window.partitionBy("item_id").orderBy(F.col("similarity").desc(), F.col("other").asc())
    return (both.withColumn("_r", F.row_number().over(w)).where("_r = 1")
                .select("item_id", F.col("similarity").alias("max_similarity"), F.col("other").alias("nearest_id")))


def build_manifest(items: DataFrame, decisions: DataFrame, pairs: DataFrame,
                   run_id: str, config_fingerprint: str) -> DataFrame:
    """One row per item; see schemas.MANIFEST and the README for the meaning of each column."""
    reps = representatives(items).select("content_sha256", F.col("item_id").alias("rep_item"))
    copies = items.groupBy("content_sha256").agg(F.count("*").alias("n_copies"))
    keeper_items = reps.select(F.col("content_sha256").alias("keeper_sha"), F.col("rep_item").alias("keeper_item"))
    d = decisions.join(keeper_items, "keeper_sha", "left").drop("keeper_sha")
    t = (items.join(d, "content_sha256", "left").join(reps, "content_sha256", "left")
              .join(copies, "content_sha256", "left").join(nearest(pairs), "item_id", "left"))

    failed = F.col("error").isNotNull()
    content_kept = F.col("is_keeper").isNull() | F.col("is_keeper")
    is_rep = F.col("content_rank") == 1
    action = F.when(failed, S.ERROR).when(content_kept & is_rep, S.KEEP).otherwise(S.DROP)
    # images no enabled near-duplicate stage could compare (jobs/pipeline._with_compared)
    compared = F.coalesce(F.col("compared"), F.lit(True)) if "compared" in items.columns else F.lit(True)
    reason = (F.when(failed, F.split(F.col("error"), ":").getItem(0))
               .when(content_kept & is_rep & F.coalesce(F.col("chain_guard"), F.lit(False)), S.REASON_CHAIN_GUARD)
               .when(content_kept & is_rep & (F.col("is_keeper") | (F.col("n_copies") > 1)), S.REASON_KEEPER)
               .when(content_kept & is_rep & ~compared, S.REASON_LOW_INFORMATION)
               .when(content_kept & is_rep, S.REASON_UNIQUE)
               .when(content_kept, S.REASON_EXACT)
               .otherwise(S.REASON_NEAR))
    dropped_exact = ~failed & content_kept & ~is_rep
    dropped_near = ~failed & ~content_kept
    keeper_id = F.when(dropped_exact, F.col("rep_item")).when(dropped_near, F.col("keeper_item"))
    keeper_sim = F.when(dropped_exact, F.lit(1.0)).when(dropped_near, F.col("keeper_similarity"))
    matched_by = F.when(dropped_exact, F.lit(STAGE_EXACT)).when(dropped_near, F.col("matched_by"))
    cluster_id = F.when(failed, None).otherwise(
        F.coalesce(F.col("cluster_id"), F.when(F.col("n_copies") > 1, F.col("rep_item"))))
    phash_hex = F.when(F.col("phash").isNotNull(), F.lpad(F.lower(F.hex(F.col("phash"))), 16, "0"))
    rows = t.select(
        "item_id", "uri", cluster_id.alias("cluster_id"), keeper_id.alias("keeper_id"), reason.alias("reason"),
        keeper_sim.alias("keeper_similarity"), matched_by.alias("matched_by"),
        "max_similarity", "nearest_id", "content_sha256", "bytes", "width", "height",
        phash_hex.alias("phash"),
        *[F.col(c) if c in t.columns else F.lit(None).alias(c) for c in S.LATER_MANIFEST_COLUMNS],
        "error", F.lit(run_id).alias("run_id"),
        F.lit(config_fingerprint).alias("config_fingerprint"), action.alias("action"))
    return S.conform(rows, S.MANIFEST)


def build_clusters(manifest: DataFrame, links: DataFrame) -> DataFrame:
    """One row per cluster (>= 2 items) with sizes, keepers and weakest/strongest links."""
    grouped = (manifest.where(F.col("cluster_id").isNotNull()).groupBy("cluster_id").agg(
        F.count("*").alias("size"),
        F.sum(F.when(F.col("action") == S.KEEP, 1).otherwise(0)).cast("long").alias("n_keep"),
        F.sum(F.when(F.col("action") == S.DROP, 1).otherwise(0)).cast("long").alias("n_drop"),
        F.sort_array(F.collect_list(F.when(F.col("action") == S.KEEP, F.col("item_id")))).alias("keeper_ids"),
        F.max(F.when(F.col("reason") == S.REASON_EXACT, 1).otherwise(0)).alias("_has_exact")))
    joined = grouped.join(links, "cluster_id", "left")
    exact = F.col("_has_exact") == 1
    return S.conform(joined.select(
        "cluster_id", "size", "n_keep", "n_drop", "keeper_ids",
        F.coalesce("min_edge_similarity", F.lit(1.0)).alias("min_edge_similarity"),
        F.when(exact, F.lit(1.0)).otherwise(F.col("max_edge_similarity")).alias("max_edge_similarity")),
        S.CLUSTERS)
