"""Weight-free candidate edges beyond the full-image pHash: borders, mirror, crops, rotation.

Every content carries the 64-bit keys of udfs/robust.py (features columns
``phash_trim``, ``phash_flip``, ``phash_c90/c80/c60``, ``phash_ccw5/cw5``). A key
family compares one key of an image with another key of a copy:

========== ===================================== ==========================================
family     probe key (one image)                 indexed key (the other image)
========== ===================================== ==========================================
trim       content box (only images with a       content box: a framed or padded copy
           border: without one it equals the     against its original
           full-image pHash, compared already)
flip       mirrored content box                  content box: a left-right mirrored copy
crop       centre 90 / 80 / 60% of the box       content box: a copy cropped to that centre
rotate     centre 60% turned 5 degrees each way  centre 60%: a copy turned by about 5 degrees
wcrop      centre 90 / 80 / 60% of the whole     full-image pHash: a copy cut out of the centre
           picture, frame included (only         of a picture with a frame or backdrop, whose
           pictures with a content box)          content box is not the original's
========== ===================================== ==========================================

Pairs are found with the same multi-index hashing as the pHash stage (exact band
values of the indexed keys, band values within a radius of the probe keys), so
nothing is compared all-against-all. Each family stores its pairs up to
``phash.<family>_hamming + phash.key_candidate_extra`` bits (stage
``phash_<family>``, the smallest distance over the family's key pairs); the
decision threshold is applied later by ``candidates.decide``.

Two rules that keep precision (measured on bench/quality.py):
- flat images (``quality`` below ``phash.min_quality``) make no hash edges at all:
  flat regions hash to noise and collide. ``quality`` is that of the content box the keys
  are taken on, so a white page with one small figure, or a dark frame with a few stars,
  is judged by its figure or its stars (their full-image pHash pairs with another framed or
  sparse picture are dropped, below);
- when both images of a full-image pHash pair have a border, that pair becomes a
  ``phash_framed`` pair: the frames dominate the low frequencies, so unrelated
  photographs in the same frame look alike. Their content boxes are compared by the
  ``trim`` family; the framed pair itself is a duplicate only on a strong pixel check of
  the whole pictures (``phash.far_verify``): a resized, re-encoded or brightened copy of
  an object on a white or black backdrop whose content box came out a little different
  (so its ``trim`` key moved) is still found. With ``far_verify: -1`` such pairs are dropped.
  Two thin frames (content box >= 3/4 of the picture, udfs.robust.is_thin_frame) keep
  the plain pair: the whole pictures are mostly content, and a copy whose thin frame a resize
  or JPEG made non-uniform has another content box than its original.
"""
from __future__ import annotations

from functools import partial

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.config import PhashConfig
from udfs import adapters
from udfs.hashing import band_radius
from udfs.metrics import STAGE_PHASH_FRAMED

#: (probe key, indexed key, family): key pairs whose distance makes an edge of that family.
KEY_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("phash_trim", "phash_trim", "trim"),
    ("phash_flip", "phash_trim", "flip"),
    ("phash_c90", "phash_trim", "crop"),
    ("phash_c80", "phash_trim", "crop"),
    ("phash_c60", "phash_trim", "crop"),
    ("phash_ccw5", "phash_c60", "rotate"),
    ("phash_cw5", "phash_c60", "rotate"),
    ("phash_w90", "phash", "wcrop"),
    ("phash_w80", "phash", "wcrop"),
    ("phash_w60", "phash", "wcrop"),
)

# As in the pHash stage: contents sharing one key value are all paired up to this group
# size; a larger group (placeholders, near-blank images) is represented by its smallest id.
GROUP_EXPANSION_LIMIT = 32
MIN_KEY_BITS = 16  # a key with fewer bits set is a near-flat region's hash (see candidates.MIN_PHASH_BITS)


def stage_of(family: str) -> str:
    return f"phash_{family}"


def is_hashable(cfg: PhashConfig) -> Column:
    """True for a content that may make hash edges: decoded, with a pHash, not flatter than
    cfg.min_quality and with at least cfg.min_information informative hash coefficients."""
    return (F.col("phash").isNotNull()
            & (F.coalesce(F.col("quality"), F.lit(0.0)) >= F.lit(cfg.min_quality))
            & (F.coalesce(F.col("information"), F.lit(0.0)) >= F.lit(cfg.min_information)))


def hashable(features: DataFrame, cfg: PhashConfig) -> DataFrame:
    """Contents that may make hash edges (:func:`is_hashable`)."""
    return features.where(is_hashable(cfg))


def is_framed() -> Column:
    """True when a content has a uniform frame or padding (its content box is not the image)."""
    return F.coalesce(F.col("phash_trim").isNotNull() & (F.col("phash_trim") != F.col("phash")), F.lit(False))


def is_thin_framed() -> Column:
    """True when a content's frame is thin (udfs.robust.is_thin_frame: it keeps its whole thumbnail)."""
    return F.col("thumb_full").isNotNull()


def framed_phash_pairs(pairs: DataFrame, features: DataFrame, keep: bool = True) -> DataFrame:
    """Full-image pHash pairs between two framed contents become stage ``phash_framed`` (`keep`,
    decided on a strong pixel check of the whole pictures by ``candidates.decide``) or are removed
    (not `keep`); their content boxes are compared by the trim family either way. Pairs of two thin
    frames stay ``phash``: the whole pictures are mostly content, and the pixel check compares them
    as well as their boxes (udfs.verify.score_pairs)."""
    thin = is_thin_framed() if "thumb_full" in features.columns else F.lit(False)
    flags = features.select("content_sha256", is_framed().alias("framed"), thin.alias("thin"))
    fa = flags.select(F.col("content_sha256").alias("sha_a"), F.col("framed").alias("framed_a"),
                      F.col("thin").alias("thin_a"))
    fb = flags.select(F.col("content_sha256").alias("sha_b"), F.col("framed").alias("framed_b"),
                      F.col("thin").alias("thin_b"))
    both = F.coalesce(F.col("framed_a"), F.lit(False)) & F.coalesce(F.col("framed_b"), F.lit(False))
    thin_both = F.coalesce(F.col("thin_a"), F.lit(False)) & F.coalesce(F.col("thin_b"), F.lit(False))
    framed = both & ~thin_both
    joined = pairs.join(fa, "sha_a", "left").join(fb, "sha_b", "left")
    out = (joined.withColumn("stage", F.when(framed, F.lit(STAGE_PHASH_FRAMED)).otherwise(F.col("stage"))) if keep
           else joined.where(~framed))
    return out.drop("framed_a", "framed_b", "thin_a", "thin_b")


def key_pairs(features: DataFrame, cfg: PhashConfig) -> DataFrame:
    """Content pairs of every enabled key family: (sha_a < sha_b, similarity, hamming, stage).

    `features` should already be `hashable`. Families not in cfg.keys make no pairs.
    """
    spark = features.sparkSession
    used = [(p, i, fam) for p, i, fam in KEY_PAIRS if fam in cfg.keys]
    if not used:
        return spark.createDataFrame([], "sha_a string, sha_b string, similarity double, hamming int, stage string")
    names = sorted({k for p, i, _ in used for k in (p, i)})
    entries = F.array(*[F.struct(F.lit(k).alias("key"), F.col(k).alias("h")) for k in names])
    long = (features.select("content_sha256", is_framed().alias("framed"), F.explode(entries).alias("e"))
                    .select("content_sha256", "framed", "e.key", "e.h")
                    .where(F.col("h").isNotNull() & (F.bit_count("h") >= MIN_KEY_BITS)))
    groups = long.groupBy("key", "h").agg(F.min("content_sha256").alias("rep"), F.count("*").alias("size"))
    members = (long.join(groups, ["key", "h"])
                   .where((F.col("size") <= GROUP_EXPANSION_LIMIT) | (F.col("content_sha256") == F.col("rep")))
                   .select("key", "h", "content_sha256", "framed")).cache()
    try:
        exact = _bands(members.where(F.col("key").isin(sorted({i for _, i, _ in used}))), 0, cfg.bands) \
            .select(F.col("key").alias("ikey"), F.col("h").alias("ih"), "band", "value")
        probes = None
        for probe_key, index_key, family in used:
            source = members.where(F.col("key") == probe_key)
            if family == "trim":  # unframed: content box == image, compared by the pHash stage
                source = source.where("framed")
            radius = band_radius(cfg.key_candidate_hamming(family), cfg.bands)
            rows = (_bands(source, radius, cfg.bands)
                    .select(F.col("key").alias("pkey"), F.col("h").alias("ph"), "band", "value",
                            F.lit(index_key).alias("ikey"), F.lit(family).alias("family"),
                            F.lit(cfg.key_candidate_hamming(family)).alias("bound")))
            probes = rows if probes is None else probes.unionByName(rows)
        near = (probes.join(exact, ["ikey", "band", "value"])
                      .select("pkey", "ph", "ikey", "ih", "family", "bound").distinct()
                      .withColumn("hamming", F.expr("bit_count(ph ^ ih)"))
                      .where(F.col("hamming") <= F.col("bound")))
        pm = members.select(F.col("key").alias("pkey"), F.col("h").alias("ph"), F.col("content_sha256").alias("c_a"),
                            "framed")
        im = members.select(F.col("key").alias("ikey"), F.col("h").alias("ih"), F.col("content_sha256").alias("c_b"))
        linked = (near.join(pm, ["pkey", "ph"]).join(im, ["ikey", "ih"])
                      .where((F.col("c_a") != F.col("c_b")) & ((F.col("family") != "trim") | F.col("framed")))
                      .select(F.least("c_a", "c_b").alias("sha_a"), F.greatest("c_a", "c_b").alias("sha_b"),
                              F.concat(F.lit("phash_"), F.col("family")).alias("stage"), "hamming"))
        out = (linked.groupBy("sha_a", "sha_b", "stage").agg(F.min("hamming").alias("hamming"))
                     .withColumn("similarity", 1.0 - F.col("hamming") / 64.0))
        return out.localCheckpoint(eager=True)
    finally:
        members.unpersist()


# per content, what udfs/verify.py compares, and their types (for feature tables written before a column existed)
PIXEL_CHECK_COLUMNS = {"thumb": "binary", "thumb_full": "binary", "thumb_whole": "binary", "sparse": "boolean",
                       "chroma": "array<float>", "place": "array<float>"}


def pixel_check_inputs(features: DataFrame, side: str, id_prefix: str = "") -> DataFrame:
    """(id, thumb_<side>, sparse_<side>, chroma_<side>, place_<side>) of each content; the id column
    is named <id_prefix><side>. A feature table written before `place` existed gives nulls."""
    cols = [F.col(c) if c in features.columns else F.lit(None).cast(t) for c, t in PIXEL_CHECK_COLUMNS.items()]
    return features.select(F.col("content_sha256").alias(f"{id_prefix}{side}"),
                           *[c.alias(f"{name}_{side}") for c, name in zip(cols, PIXEL_CHECK_COLUMNS)])


def verify_pairs(pairs: DataFrame, features: DataFrame) -> DataFrame:
    """Hash-stage pairs + `verify_score`: their thumbnails compared after the stage's alignment.

    The pixel check of udfs/verify.py; `candidates.decide` accepts a hash pair only
    at or above `phash.min_verify`. Cost: one thumbnail join per side and a few
    32x32 correlations per pair (crop and rotate try each of their alignments).
    """
    ta, tb = [pixel_check_inputs(features, s, "sha_") for s in ("a", "b")]
    rows = pairs.select("sha_a", "sha_b", "stage", "similarity", "hamming").join(ta, "sha_a", "left") \
                .join(tb, "sha_b", "left")
    return rows.mapInPandas(adapters.verify_hash_pairs, adapters.VERIFIED_DDL)


def _bands(members: DataFrame, radius: int, bands: int) -> DataFrame:
    """(key, h, band, value) for the distinct (key, h) of `members`: exact band values
    (radius 0) or every value within `radius` bits of them (the probes)."""
    fn = partial(_key_bands, bands=bands, radius=radius)
    return members.select("key", "h").distinct().mapInPandas(fn, "key string, h long, band int, value long")


def _key_bands(batches, bands: int, radius: int):
    """adapters.phash_bands over (key, h) rows, keeping the key; exact values when radius is 0."""
    for pdf in batches:
        for key, part in pdf.groupby("key", sort=False):
            for out in adapters.phash_bands(iter([part.rename(columns={"h": "phash"})[["phash"]]]),
                                            bands=bands, radius=radius):
                if radius > 0:
                    out = out[out["probe"]]
                yield out.rename(columns={"phash": "h"}).assign(key=key)[["key", "h", "band", "value"]]
