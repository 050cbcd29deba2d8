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
icon) score at most :data:`COLOUR_CAP`.

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

CHROMA_MIN = 8.0         # grey levels of mean colour from which a picture counts as coloured
CHROMA_MIN_COS = 0.5     # two coloured pictures whose mean colours differ by more than 60 degrees ...
COLOUR_CAP = 0.0         # ... score at most this

# Exactly aligned families: their views line up pixel for pixel, so the detail (each view less
# its blurred self) of a copy matches too; crop and rotate alignments are approximate.
EXACT_FAMILIES = ("trim", "flip")
DETAIL_MARGIN = 0.1      # with phash.min_verify 0.6: exactly aligned pairs need detail >= 0.5

STAGE_FAMILY = {"phash": "trim", "phash_trim": "trim", "phash_flip": "flip",
                "phash_crop": "crop", "phash_rotate": "rotate"}


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


def _capped_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Plain correlation, capped at the detail correlation + DETAIL_MARGIN (exactly aligned views)."""
    return min(correlation(x, y), detail_correlation(x, y) + DETAIL_MARGIN)


def score(thumb_a: bytes, thumb_b: bytes, stage: str, sparse: bool = False) -> float:
    """Best similarity over the alignments of ``stage``'s family (see :data:`STAGE_FAMILY`):
    the plain correlation, or the detail correlation when either picture is ``sparse``.

    For the exactly aligned families (:data:`EXACT_FAMILIES`) the plain correlation is
    capped at the detail correlation + :data:`DETAIL_MARGIN`: two planets lit alike or two
    icons of one template share their shapes and shading, not their detail.
    """
    family = STAGE_FAMILY[stage]
    measure = detail_correlation if sparse else _capped_correlation if family in EXACT_FAMILIES else correlation
    a, b = load(thumb_a), load(thumb_b)
    return max(measure(x, y) for x, y in views(a, b, family))


def colours_differ(chroma_a: Sequence[float] | None, chroma_b: Sequence[float] | None) -> bool:
    """True when both pictures are coloured and their mean colours point apart (udfs.robust.mean_chroma).

    A greyscale copy has no colour and is never held against a coloured original.
    """
    if chroma_a is None or chroma_b is None:
        return False
    a, b = np.asarray(chroma_a, dtype=np.float64), np.asarray(chroma_b, dtype=np.float64)
    if np.isnan(a).any() or np.isnan(b).any():
        return False
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return min(na, nb) >= CHROMA_MIN and float(a @ b) / (na * nb) < CHROMA_MIN_COS


def score_pairs(thumbs_a: Sequence[bytes | None], thumbs_b: Sequence[bytes | None],
                stages: Sequence[str], sparse: Sequence[bool],
                chroma_a: Sequence | None = None, chroma_b: Sequence | None = None) -> np.ndarray:
    """float64 (n,) scores; NaN where a thumbnail is missing or the stage is not a hash stage.

    A pair whose two coloured pictures differ in mean colour (:func:`colours_differ`)
    scores at most COLOUR_CAP: the hashes and thumbnails are greyscale, so a red and
    a blue variant of one icon would otherwise pass.
    """
    n = len(stages)
    chroma_a = chroma_a if chroma_a is not None else [None] * n
    chroma_b = chroma_b if chroma_b is not None else [None] * n
    out = np.full(n, np.nan)
    for i, (ta, tb, stage, sp, ca, cb) in enumerate(zip(thumbs_a, thumbs_b, stages, sparse, chroma_a, chroma_b)):
        if ta is not None and tb is not None and stage in STAGE_FAMILY:
            out[i] = score(ta, tb, stage, bool(sp))
            if colours_differ(ca, cb):
                out[i] = min(out[i], COLOUR_CAP)
    return out


def best_alignment(thumb_a: bytes | None, thumb_b: bytes | None, sparse: bool,
                   chroma_a: Sequence | None = None, chroma_b: Sequence | None = None) -> tuple[float, str | None]:
    """(score, stage): the best pixel check of two pictures over every key family's alignments.

    For a pair that no hash edge links directly (jobs/decisions.attach_lone_keepers):
    whichever edit separates them, one of the families' alignments should fit it.
    (NaN, None) when a thumbnail is missing.
    """
    if thumb_a is None or thumb_b is None:
        return float("nan"), None
    stages = ("phash", "phash_flip", "phash_crop", "phash_rotate")  # trim = phash's alignment
    scores = score_pairs([thumb_a] * len(stages), [thumb_b] * len(stages), stages, [sparse] * len(stages),
                         [chroma_a] * len(stages), [chroma_b] * len(stages))
    best = int(np.nanargmax(scores))
    return float(scores[best]), stages[best]


ATTACH_DDL = "x string, k string, score double, stage string, sparse boolean"


def attach_scores(batches):
    """pandas batches (x, k, thumb_x, thumb_k, sparse_x, sparse_k, chroma_x, chroma_k) -> ATTACH_DDL rows:
    :func:`best_alignment` of each pair (the Spark adapter of jobs/decisions.attach_lone_keepers)."""
    import pandas as pd

    for pdf in batches:
        sparse = (pdf["sparse_x"].fillna(False).astype(bool) | pdf["sparse_k"].fillna(False).astype(bool)).tolist()
        best = [best_alignment(tx, tk, sp, cx, ck) for tx, tk, sp, cx, ck in
                zip(pdf["thumb_x"], pdf["thumb_k"], sparse, pdf["chroma_x"], pdf["chroma_k"])]
        yield pd.DataFrame({"x": pdf["x"], "k": pdf["k"], "score": [s for s, _ in best],
                            "stage": [st for _, st in best], "sparse": sparse})
