"""Pixel check of hash edges: compare the aligned thumbnails the hashes were computed from.

A 64-bit pHash keeps the signs of 64 low frequencies. Pictures with little
structure at that scale (a bright blob on black: globular clusters, planetary
nebulae, a lamp at night; a sun over a plain horizon) share those signs
without being the same picture. Before a hash edge becomes a duplicate, the
two images' stored thumbnails are aligned by the edge's own key family and
compared at :data:`COMPARE_SIDE` pixels, where star fields, texture and the
position of small details differ:

=========== =================================================================
stage       alignment (either image may be the edited one: both ways tried)
=========== =================================================================
phash, trim content box against content box
flip        mirrored content box against content box
crop        centre 90 / 80 / 60% of one content box against the other's box
rotate      centre 60% of one box turned +-5 degrees against the other's centre 60%
wcrop       as crop, on the whole pictures (frame or backdrop included)
framed      whole picture against whole picture (a pHash pair of two framed pictures)
=========== =================================================================

The score is the Pearson correlation of the two views (:func:`correlation`),
best over the family's alignments. When either picture is sparse (a small
object or stars on a black or white background, :func:`udfs.robust.object_box`)
any two such pictures correlate: both are "a blob in the middle". Their pairs
are scored by :func:`detail_correlation` instead: the correlation of what is
left after removing each view's blurred self, i.e. the small detail (stars,
filaments, strokes) whose positions pHash does not see. Hashes and thumbnails
are greyscale (a greyscale copy is a duplicate), so two *coloured* pictures whose
mean colours point apart (:func:`colours_differ`: a red and a blue variant of one
icon) score at most :data:`COLOUR_CAP`. Two sparse pictures whose objects sit in different
places of their frames (:func:`places_differ`: one glyph drawn at two places, a marker on
one map) score at most :data:`PLACE_CAP`: their keys and thumbnails are taken on the
object box, which does not see where the object is.

Thumbnails (:func:`udfs.robust.thumbnail`): 64 x 64 greyscale uint8 of the content box
(the image less uniform borders, squashed to a square as pHash does), 4 KiB per
content, made from the working copy that the robust keys use (free at decode time).
Pure numpy + Pillow; no Spark.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
from PIL import Image

from udfs.robust import CROP_KEYS, ROTATION_KEEP, ROTATION_KEYS, THUMB_SIDE, thumbnail  # noqa: F401 (re-exported)

COMPARE_SIDE = THUMB_SIDE  # views are compared at this side, pixels
CROP_KEEPS = tuple(CROP_KEYS.values())
ROTATION_DEGREES = tuple(ROTATION_KEYS.values())
BLUR_SIDE = 16           # the "coarse" image: the view reduced to this side and enlarged back

CHROMA_MIN = 8.0         # grey levels of mean colour from which a picture counts as coloured ...
CHROMA_MIN_ALIGNED = 3.0 # ... or, for the exactly aligned families (both means taken over the same pixels), this
CHROMA_MIN_COS = 0.5     # two coloured pictures whose mean colours differ by more than 60 degrees ...
CHROMA_MIN_COS_ALIGNED = 0.819  # ... or, for the exactly aligned families with both >= CHROMA_MIN, 35 degrees
COLOUR_CAP = 0.0         # ... score at most this

# Exactly aligned families: their views line up pixel for pixel, so the detail (each view less
# its blurred self) of a copy matches too; crop and rotate alignments are approximate.
EXACT_FAMILIES = ("trim", "flip")
DETAIL_MARGIN = 0.1      # with phash.min_verify 0.6: exactly aligned pairs need detail >= 0.5

# Block check of exactly aligned views (:func:`blocks_disagree`): each view in units of its own
# global standard deviation, cut into BLOCKS x BLOCKS blocks (8 x 8 px at COMPARE_SIDE 64); each block
# is compared with the other view's block shifted by up to BLOCK_SHIFT px (the best shift per block:
# content boxes of a copy and its original may differ by a pixel).
BLOCKS = 8
BLOCK_SHIFT = 1
# The block check also runs on the crop family's alignments (phash_crop, phash_wcrop): a copy cut out of
# a picture agrees with the matching cut of the original block by block as an exact copy does, once the
# cut is found to within CROP_BLOCK_SHIFT px (its content box and the key's centre cut may differ by
# ~2% of a side); a look-alike (another puzzle patch in one frame, another planet on one disc, one
# paper texture for another) disagrees in some. The rotate family is not checked: its turned views
# of squashed thumbnails line up only roughly.
CROP_BLOCK_SHIFT = 2
BLOCK_SHIFTS = {"trim": BLOCK_SHIFT, "flip": BLOCK_SHIFT, "crop": CROP_BLOCK_SHIFT}
BLOCK_MEAN_DIFF = 0.4    # one block whose means differ by more than this many standard deviations ...
BLOCK_WHITE = 250        # (not counting blocks clipped to white, >= this grey level over half the block,
                         # in either view: a brightened copy's highlights) ...
BLOCK_MIN_ENERGY = 0.02  # ... or, of the blocks with detail (mean square about the block mean, both
BLOCK_DETAIL_DIFF = 0.8  # views summed, above this), more than BLOCK_SHARE whose detail differs
BLOCK_SHARE = 0.3        # (mean square difference / that sum above BLOCK_DETAIL_DIFF; 1: unrelated) ...
BLOCK_CAP = 0.0          # ... and the pair scores at most this

# Place check of sparse pictures (:func:`places_differ`): for the exactly aligned families, two sparse
# pictures whose object centres (udfs.robust.object_place, shares of the frame; mirrored for flip)
# differ by more than PLACE_TOLERANCE in x or y score at most PLACE_CAP.
PLACE_TOLERANCE = 0.15
PLACE_CAP = 0.0

STAGE_FAMILY = {"phash": "trim", "phash_trim": "trim", "phash_flip": "flip",
                "phash_crop": "crop", "phash_rotate": "rotate", "phash_wcrop": "crop", "phash_framed": "trim"}
#: stages whose keys were taken on the whole pictures: their views are cut from the whole thumbnails
WHOLE_STAGES = ("phash_wcrop", "phash_framed")


# ---------------------------------------------------------------------------- thumbnails

def load(thumb: bytes) -> np.ndarray:
    """Stored thumbnail bytes -> float32 (THUMB_SIDE, THUMB_SIDE)."""
    a = np.frombuffer(thumb, dtype=np.uint8)
    if a.size != THUMB_SIDE * THUMB_SIDE:
        raise ValueError(f"a thumbnail has {THUMB_SIDE * THUMB_SIDE} bytes, got {a.size}")
    return a.reshape(THUMB_SIDE, THUMB_SIDE).astype(np.float32)


def _resize(a: np.ndarray, side: int, box: tuple[float, float, float, float] | None = None) -> np.ndarray:
    return np.asarray(Image.fromarray(a, mode="F").resize((side, side), Image.Resampling.BILINEAR, box=box))


def _centre(side: int, keep: float) -> tuple[float, float, float, float]:
    m = side * (1 - keep) / 2
    return (m, m, side - m, side - m)


def _turned_centre(a: np.ndarray, degrees: float) -> np.ndarray:
    turned = np.asarray(Image.fromarray(a, mode="F").rotate(degrees, resample=Image.Resampling.BILINEAR))
    return _resize(turned, COMPARE_SIDE, _centre(THUMB_SIDE, ROTATION_KEEP))


def views(a: np.ndarray, b: np.ndarray, family: str) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """Aligned (view of a, view of b) pairs at COMPARE_SIDE for a key family; both directions."""
    whole_a, whole_b = _resize(a, COMPARE_SIDE), _resize(b, COMPARE_SIDE)
    if family == "trim":
        yield whole_a, whole_b
    elif family == "flip":
        yield whole_a[:, ::-1], whole_b
    elif family == "crop":
        for keep in CROP_KEEPS:
            box = _centre(THUMB_SIDE, keep)
            yield _resize(a, COMPARE_SIDE, box), whole_b
            yield whole_a, _resize(b, COMPARE_SIDE, box)
    elif family == "rotate":
        centre_a = _resize(a, COMPARE_SIDE, _centre(THUMB_SIDE, ROTATION_KEEP))
        centre_b = _resize(b, COMPARE_SIDE, _centre(THUMB_SIDE, ROTATION_KEEP))
        for degrees in ROTATION_DEGREES:
            yield _turned_centre(a, degrees), centre_b
            yield centre_a, _turned_centre(b, degrees)
    else:
        raise ValueError(f"unknown key family {family!r}; expected one of trim, flip, crop, rotate")


# ---------------------------------------------------------------------------- scores

def _coarse(v: np.ndarray) -> np.ndarray:
    return _resize(_resize(v, BLUR_SIDE), v.shape[0])


def correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two equal-shape arrays; 0 when either is constant."""
    x = x - x.mean()
    y = y - y.mean()
    den = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / den) if den > 1e-6 else 0.0


def detail_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Correlation of the detail of two views: each less its blurred self (BLUR_SIDE)."""
    return correlation(x - _coarse(x), y - _coarse(y))


def _blocks(v: np.ndarray) -> np.ndarray:
    n = BLOCKS
    k = v.shape[0] // n
    return v[:n * k, :n * k].reshape(n, k, n, k).transpose(0, 2, 1, 3).reshape(n * n, k * k)


def _standard(v: np.ndarray) -> np.ndarray:
    sd = float(v.std())
    return (v - v.mean()) / (sd if sd > 1e-6 else 1.0)


def blocks_disagree(x: np.ndarray, y: np.ndarray, shift: int = BLOCK_SHIFT) -> bool:
    """True when two exactly aligned views differ somewhere, block by block.

    A global correlation is high when two pictures share their layout: two planets on
    black, one icon template with another emblem, two pages of one manual. A copy
    (re-encoded, resized, brightened, noisy, greyscale) agrees in every block; such
    look-alikes disagree in a few blocks strongly or in many blocks' detail. Each view in
    units of its global standard deviation; each block of ``x`` against the best of the
    blocks of ``y`` shifted by up to ``shift`` px (:data:`BLOCK_SHIFTS`):

    - a block whose mean differs by more than BLOCK_MEAN_DIFF: another emblem, a lit
      against an unlit disc (blocks clipped to white in either view, BLOCK_WHITE, are not
      counted: brightening clips highlights, which moves a block's standardised mean);
    - more than BLOCK_SHARE of the blocks with detail (BLOCK_MIN_ENERGY) whose detail
      (each block less its mean) differs (BLOCK_DETAIL_DIFF): another surface, other text.
    """
    zx, zy = _standard(x), _standard(y)
    bx = _blocks(zx)
    mx = bx.mean(axis=1)
    cx = bx - mx[:, None]
    ex = (cx * cx).mean(axis=1)
    padded = np.pad(zy, shift, mode="edge")
    side = zy.shape[0]
    mean_diff = np.full(len(bx), np.inf)
    detail_diff = np.full(len(bx), np.inf)
    energy = np.zeros(len(bx))
    span = range(-shift, shift + 1)
    for dy in span:
        for dx in span:
            by = _blocks(padded[shift + dy:shift + dy + side, shift + dx:shift + dx + side])
            my = by.mean(axis=1)
            cy = by - my[:, None]
            e = ex + (cy * cy).mean(axis=1)
            mean_diff = np.minimum(mean_diff, np.abs(mx - my))
            detail_diff = np.minimum(detail_diff, ((cx - cy) ** 2).mean(axis=1) / np.maximum(e, 1e-9))
            energy = np.maximum(energy, e)
    white = ((_blocks(x) >= BLOCK_WHITE).mean(axis=1) > 0.5) | ((_blocks(y) >= BLOCK_WHITE).mean(axis=1) > 0.5)
    if float(np.where(white, 0.0, mean_diff).max()) > BLOCK_MEAN_DIFF:
        return True
    active = energy > BLOCK_MIN_ENERGY
    if not active.any():
        return False
    return float((detail_diff[active] > BLOCK_DETAIL_DIFF).mean()) > BLOCK_SHARE


def _disagree(x: np.ndarray, y: np.ndarray, shift: int) -> bool:
    """:func:`blocks_disagree` both ways: each block is searched in the other view, whose edge
    padding differs, so one direction alone depends on which picture of a pair comes first."""
    return blocks_disagree(x, y, shift) and blocks_disagree(y, x, shift)


def _capped_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Plain correlation, capped at the detail correlation + DETAIL_MARGIN (exactly aligned views)."""
    return min(correlation(x, y), detail_correlation(x, y) + DETAIL_MARGIN)


def score(thumb_a: bytes, thumb_b: bytes, stage: str, sparse: bool = False) -> float:
    """Best similarity over the alignments of ``stage``'s family (see :data:`STAGE_FAMILY`):
    the plain correlation, or the detail correlation when either picture is ``sparse``.

    Every alignment of the families in :data:`BLOCK_SHIFTS` (trim, flip, crop) must also pass
    the block check (:func:`blocks_disagree`, failed only when it fails both ways, so the score
    does not depend on which picture comes first), else it scores at most :data:`BLOCK_CAP`.
    For the exactly aligned families (:data:`EXACT_FAMILIES`) the plain correlation is
    capped at the detail correlation + :data:`DETAIL_MARGIN`: two planets lit alike or two
    icons of one template share their shapes and shading, not their detail. So are the
    whole-picture stages (:data:`WHOLE_STAGES`): two pictures cut from one backdrop share
    its frame, which dominates a plain correlation of the whole pictures.
    """
    family = STAGE_FAMILY[stage]
    capped = family in EXACT_FAMILIES or stage in WHOLE_STAGES
    measure = detail_correlation if sparse else _capped_correlation if capped else correlation
    a, b = load(thumb_a), load(thumb_b)
    shift = BLOCK_SHIFTS.get(family)
    if shift is None:
        return max(measure(x, y) for x, y in views(a, b, family))
    return _best_checked([(measure(x, y), x, y) for x, y in views(a, b, family)], shift)


def _best_checked(scored: list[tuple[float, np.ndarray, np.ndarray]], shift: int) -> float:
    """max over the views of (their measure, or at most BLOCK_CAP when the block check fails them).

    The block check (~1.5 ms a view, 25 shifts for the crop family) runs on the views in order of
    their measure, and stops at the first that passes or once no measure left could raise the
    best: the same value as checking every view, for a fraction of the checks."""
    best = -np.inf
    for m, x, y in sorted(scored, key=lambda t: -t[0]):
        if m <= best:
            break
        if not _disagree(x, y, shift):
            return max(best, m)
        best = max(best, min(m, BLOCK_CAP))
    return float(best)


def colours_differ(chroma_a: Sequence[float] | None, chroma_b: Sequence[float] | None,
                   stage: str | None = None) -> bool:
    """True when both pictures are coloured and their mean colours point apart (udfs.robust.mean_chroma).

    A greyscale copy has no colour and is never held against a coloured original. A picture
    counts as coloured from CHROMA_MIN grey levels of mean colour, or from CHROMA_MIN_ALIGNED
    for a pair of an exactly aligned family (``stage`` phash, phash_trim, phash_flip): there both
    means are taken over the same content, so a faint tint (a dim brown planet against a blue
    one, a pale recolour of one texture) keeps its direction in every copy. A crop or a turn
    sees another part of the picture, whose faint mean colour may point elsewhere (a crop of a
    grey dialog with a coloured toolbar), so those pairs keep the higher bar.

    For the same reason the exactly aligned pairs' hues must agree within 35 degrees
    (CHROMA_MIN_COS_ALIGNED) once both pictures count as coloured at CHROMA_MIN, the others'
    within 60: an edited copy keeps its hue within ~10 degrees (95% of the true pairs of the
    broad harness's seen parts), brightening that clips the highlights within ~33; a recoloured
    texture or a planet of the next hue does not. Fainter colours (the mean of a few thin strokes
    on black, which brightening or contrast moves in and out of the object) keep the 60.
    """
    if chroma_a is None or chroma_b is None:
        return False
    a, b = np.asarray(chroma_a, dtype=np.float64), np.asarray(chroma_b, dtype=np.float64)
    if np.isnan(a).any() or np.isnan(b).any():
        return False
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    aligned = STAGE_FAMILY.get(stage or "") in EXACT_FAMILIES
    cos, weaker = float(a @ b) / max(na * nb, 1e-12), min(na, nb)
    if aligned and weaker >= CHROMA_MIN and cos < CHROMA_MIN_COS_ALIGNED:
        return True
    return weaker >= (CHROMA_MIN_ALIGNED if aligned else CHROMA_MIN) and cos < CHROMA_MIN_COS


def places_differ(place_a: Sequence[float] | None, place_b: Sequence[float] | None, stage: str) -> bool:
    """True when two sparse pictures' objects sit apart in their frames (udfs.robust.object_place),
    for the exactly aligned families (a crop or a turn moves the object; ``phash_flip`` mirrors x).
    None (a picture that is not sparse): no check."""
    if place_a is None or place_b is None or STAGE_FAMILY.get(stage) not in EXACT_FAMILIES:
        return False
    a, b = np.asarray(place_a, dtype=np.float64), np.asarray(place_b, dtype=np.float64)
    if a.shape != (2,) or b.shape != (2,) or np.isnan(a).any() or np.isnan(b).any():
        return False
    bx = 1.0 - b[0] if STAGE_FAMILY[stage] == "flip" else b[0]
    return max(abs(a[0] - bx), abs(a[1] - b[1])) > PLACE_TOLERANCE


def score_pairs(thumbs_a: Sequence[bytes | None], thumbs_b: Sequence[bytes | None],
                stages: Sequence[str], sparse: Sequence[bool],
                chroma_a: Sequence | None = None, chroma_b: Sequence | None = None,
                place_a: Sequence | None = None, place_b: Sequence | None = None,
                full_a: Sequence[bytes | None] | None = None, full_b: Sequence[bytes | None] | None = None,
                whole_a: Sequence[bytes | None] | None = None, whole_b: Sequence[bytes | None] | None = None
                ) -> np.ndarray:
    """float64 (n,) scores; NaN where a thumbnail is missing or the stage is not a hash stage.

    A full-image pHash pair (stage ``phash``) is also compared on the pixels that hash saw:
    when either picture had a thin frame taken off (``full_a``/``full_b``: the whole
    picture's thumbnail, udfs.robust.is_thin_frame; None otherwise), its score is the better
    of the content boxes' alignment and the whole pictures'. A frame found on one copy only
    (a one-pixel frame that a resize or JPEG blurs away, light margins that brightening makes
    uniform) would otherwise compare a content box with a whole picture.

    A whole-picture crop pair (stage ``phash_wcrop``) and a pHash pair of two framed pictures
    (``phash_framed``) are compared on the whole pictures: the
    thin frame's ``full``, the thick frame's ``whole`` (udfs.robust.KeyFeatures.thumb_whole), or
    the thumbnail itself for a picture without a frame (its box is the whole picture).

    A pair whose two coloured pictures differ in mean colour (:func:`colours_differ`)
    scores at most COLOUR_CAP: the hashes and thumbnails are greyscale, so a red and
    a blue variant of one icon would otherwise pass. A pair of sparse pictures whose
    objects sit in different places (:func:`places_differ`) scores at most PLACE_CAP.
    """
    n = len(stages)
    chroma_a = chroma_a if chroma_a is not None else [None] * n
    chroma_b = chroma_b if chroma_b is not None else [None] * n
    place_a = place_a if place_a is not None else [None] * n
    place_b = place_b if place_b is not None else [None] * n
    full_a = full_a if full_a is not None else [None] * n
    full_b = full_b if full_b is not None else [None] * n
    whole_a = whole_a if whole_a is not None else [None] * n
    whole_b = whole_b if whole_b is not None else [None] * n
    out = np.full(n, np.nan)
    for i, (ta, tb, stage, sp, ca, cb, pa, pb, fa, fb, wa, wb) in enumerate(
            zip(thumbs_a, thumbs_b, stages, sparse, chroma_a, chroma_b, place_a, place_b, full_a, full_b,
                whole_a, whole_b)):
        if ta is None or tb is None or stage not in STAGE_FAMILY:
            continue
        if stage in WHOLE_STAGES:
            out[i] = score(fa or wa or ta, fb or wb or tb, stage, bool(sp))
        else:
            out[i] = score(ta, tb, stage, bool(sp))
            if stage == "phash" and (fa is not None or fb is not None):
                out[i] = max(out[i], score(ta if fa is None else fa, tb if fb is None else fb, stage, bool(sp)))
        if colours_differ(ca, cb, stage):
            out[i] = min(out[i], COLOUR_CAP)
        if places_differ(pa, pb, stage):
            out[i] = min(out[i], PLACE_CAP)
    return out


def best_alignment(thumb_a: bytes | None, thumb_b: bytes | None, sparse: bool,
                   chroma_a: Sequence | None = None, chroma_b: Sequence | None = None,
                   place_a: Sequence | None = None, place_b: Sequence | None = None) -> tuple[float, str | None]:
    """(score, stage): the best pixel check of two pictures over every key family's alignments.

    For a pair that no hash edge links directly (jobs/decisions.attach_lone_keepers):
    whichever edit separates them, one of the families' alignments should fit it.
    (NaN, None) when a thumbnail is missing.
    """
    if thumb_a is None or thumb_b is None:
        return float("nan"), None
    stages = ("phash", "phash_flip", "phash_crop", "phash_rotate")  # trim = phash's alignment
    k = len(stages)
    scores = score_pairs([thumb_a] * k, [thumb_b] * k, stages, [sparse] * k, [chroma_a] * k, [chroma_b] * k,
                         [place_a] * k, [place_b] * k)
    best = int(np.nanargmax(scores))
    return float(scores[best]), stages[best]


ATTACH_DDL = "x string, k string, score double, stage string, sparse boolean"


def attach_scores(batches):
    """pandas batches (x, k, thumb_x, thumb_k, sparse_x, sparse_k, chroma_x, chroma_k[, place_x, place_k])
    -> ATTACH_DDL rows:
    :func:`best_alignment` of each pair (the Spark adapter of jobs/decisions.attach_lone_keepers)."""
    import pandas as pd

    for pdf in batches:
        sparse = (pdf["sparse_x"].fillna(False).astype(bool) | pdf["sparse_k"].fillna(False).astype(bool)).tolist()
        none = [None] * len(pdf)
        places = (pdf["place_x"] if "place_x" in pdf else none, pdf["place_k"] if "place_k" in pdf else none)
        best = [best_alignment(tx, tk, sp, cx, ck, px, pk) for tx, tk, sp, cx, ck, px, pk in
                zip(pdf["thumb_x"], pdf["thumb_k"], sparse, pdf["chroma_x"], pdf["chroma_k"], *places)]
        yield pd.DataFrame({"x": pdf["x"], "k": pdf["k"], "score": [s for s, _ in best],
                            "stage": [st for _, st in best], "sparse": sparse})
