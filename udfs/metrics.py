"""Metric direction and threshold conversions, decided in one place.

Conventions used by every stage of the job:

* Embeddings are L2-normalised float32 rows, so cosine similarity equals the
  inner product and lies in [-1, 1]; higher means more similar.
* The squared L2 distance between unit vectors is ``2 - 2 * cosine``.
* Perceptual hashes are ``bits``-bit integers (64 by default); the Hamming
  distance ``h`` in [0, bits] maps to the unified similarity ``1 - h / bits``
  in [0, 1]; lower distance means more similar.
* Stages that can produce an edge are named by the ``STAGE_*`` constants; when
  several stages find the same pair, the edge is attributed to the strongest
  evidence, in the order of ``STAGE_PRIORITY``.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

STAGE_EXACT = "exact"
STAGE_PHASH = "phash"
STAGE_EMBEDDING = "embedding"
# Weight-free keys beyond the full-image pHash (udfs/robust.py, jobs/hashkeys.py): the content
# box (borders trimmed), its mirror, its centre crops, its centre turned by 5 degrees, the centre
# crops of a framed picture's whole (frame included).
STAGE_PHASH_TRIM = "phash_trim"
STAGE_PHASH_FLIP = "phash_flip"
STAGE_PHASH_CROP = "phash_crop"
STAGE_PHASH_ROTATE = "phash_rotate"
STAGE_PHASH_WCROP = "phash_wcrop"
KEY_STAGES: tuple[str, ...] = (STAGE_PHASH_TRIM, STAGE_PHASH_FLIP, STAGE_PHASH_CROP, STAGE_PHASH_ROTATE,
                               STAGE_PHASH_WCROP)
# A full-image pHash pair of two framed pictures (both with a frame or backdrop, not both thin):
# their frames dominate the hash, so such a pair is a duplicate only on a strong pixel check of
# the whole pictures (phash.far_verify; jobs/hashkeys.framed_phash_pairs).
STAGE_PHASH_FRAMED = "phash_framed"
# Text (jobs/text_kind.py): the same normalised text; the verified Jaccard similarity of the
# word shingles of a MinHash LSH candidate pair. Text pairs never meet image pairs.
STAGE_TEXT_EXACT = "text_exact"
STAGE_TEXT_MINHASH = "text_minhash"
TEXT_STAGES: tuple[str, ...] = (STAGE_TEXT_EXACT, STAGE_TEXT_MINHASH)
# Video (jobs/video_kind.py): two videos whose sampled frames line up in time (udfs/video.align);
# similarity = the share of the aligned segment's informative frames that match. Video pairs
# never meet image or text pairs.
STAGE_VIDEO_FRAMES = "video_frames"
# Audio (jobs/audio_kind.py): two recordings whose spectral-peak hashes line up in time
# (udfs/audio.align); similarity = the share of the matched span's anchors that align.
STAGE_AUDIO_PEAKS = "audio_peaks"
# A copy that matched the keeper only through another copy, attached on its pixels
# (jobs/decisions.attach_lone_keepers): similarity = the thumbnails' correlation.
STAGE_PIXEL = "pixel"
#: Strongest evidence first: identical bytes, then perceptual hashes (full image, then
#: the content box and its transforms, then two framed whole pictures), then embedding, then
#: the pixel attachment.
STAGE_PRIORITY: tuple[str, ...] = (STAGE_EXACT, STAGE_PHASH, *KEY_STAGES, STAGE_PHASH_FRAMED, STAGE_EMBEDDING,
                                   STAGE_PIXEL)

DEFAULT_HASH_BITS = 64
_EPS = 1e-9

ArrayLike = float | np.ndarray


def _as_output(values: np.ndarray, scalar: bool) -> ArrayLike:
    """Return a Python float for scalar input, else the array unchanged."""
    return float(values) if scalar else values


def cosine_to_l2(c: ArrayLike) -> ArrayLike:
    """Cosine similarity of unit vectors -> L2 distance ``sqrt(2 - 2c)``.

    ``c`` is a float or array of cosines in [-1, 1]; the result is in [0, 2]
    (float64 for scalars/float input, same shape as ``c``).  Values are
    clipped so rounding just above 1 gives distance 0, never NaN.
    """
    arr = np.asarray(c, dtype=np.float64)
    dist = np.sqrt(np.clip(2.0 - 2.0 * arr, 0.0, 4.0))
    return _as_output(dist, arr.ndim == 0)


def l2_to_cosine(d: ArrayLike) -> ArrayLike:
    """L2 distance between unit vectors -> cosine ``1 - d**2 / 2`` in [-1, 1]."""
    arr = np.asarray(d, dtype=np.float64)
    cos = np.clip(1.0 - 0.5 * arr * arr, -1.0, 1.0)
    return _as_output(cos, arr.ndim == 0)


def hamming_to_similarity(h: ArrayLike, bits: int = DEFAULT_HASH_BITS) -> ArrayLike:
    """Hamming distance in [0, bits] -> unified similarity ``1 - h / bits``."""
    arr = np.asarray(h, dtype=np.float64)
    return _as_output(1.0 - arr / float(bits), arr.ndim == 0)


def similarity_to_hamming(s: ArrayLike, bits: int = DEFAULT_HASH_BITS) -> int | np.ndarray:
    """Unified similarity -> the largest Hamming distance that still reaches it.

    ``floor((1 - s) * bits + 1e-9)``: an edge with distance ``h`` passes a
    similarity threshold ``s`` iff ``h <= similarity_to_hamming(s)``.  The
    epsilon makes ``similarity_to_hamming(hamming_to_similarity(h)) == h``.
    Returns a Python int for scalar input, else an int64 array.
    """
    arr = np.asarray(s, dtype=np.float64)
    h = np.floor((1.0 - arr) * bits + _EPS).astype(np.int64)
    return int(h) if arr.ndim == 0 else h


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-normalise ``x`` of shape (n, d) (or (d,)) to unit L2 norm.

    Returns a new float32 array of the same shape.  Rows with zero norm stay
    all-zero (no NaN); non-finite input raises ValueError.
    """
    arr = np.array(x, dtype=np.float32, copy=True)
    if not np.all(np.isfinite(arr)):
        raise ValueError("l2_normalize: input contains NaN or inf")
    rows = arr.reshape(1, -1) if arr.ndim == 1 else arr
    # float64 sums of squares without a float64 copy of the rows (einsum casts as it goes):
    # the same norms as np.linalg.norm in float64, at a fraction of the memory traffic
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows, dtype=np.float64))[:, None]
    norms[norms == 0] = 1.0  # zero rows stay zero
    np.divide(rows, norms, out=rows, casting="unsafe")
    return arr


def check_cosine_threshold(value: float, name: str = "cosine threshold") -> float:
    """Return ``value`` as float if it is a finite cosine in [-1, 1], else raise ValueError."""
    v = float(value)
    if not np.isfinite(v) or not -1.0 <= v <= 1.0:
        raise ValueError(f"{name} must be a cosine similarity in [-1, 1], got {value!r}")
    return v


def check_similarity_threshold(value: float, name: str = "similarity threshold") -> float:
    """Return ``value`` as float if it is a unified similarity in [0, 1], else raise ValueError."""
    v = float(value)
    if not np.isfinite(v) or not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be a similarity in [0, 1], got {value!r}")
    return v


def check_hamming_threshold(
    value: int, bits: int = DEFAULT_HASH_BITS, name: str = "hamming threshold"
) -> int:
    """Return ``value`` as int if it is a whole Hamming distance in [0, bits], else raise ValueError."""
    if bits <= 0:
        raise ValueError(f"hash bits must be positive, got {bits!r}")
    if isinstance(value, bool) or float(value) != int(value):
        raise ValueError(f"{name} must be a whole number of bits, got {value!r}")
    v = int(value)
    if not 0 <= v <= bits:
        raise ValueError(f"{name} must be a Hamming distance in [0, {bits}], got {value!r}")
    return v


def stage_priority(stage: str) -> int:
    """Position of ``stage`` in STAGE_PRIORITY (0 = strongest); ValueError if unknown."""
    try:
        return STAGE_PRIORITY.index(stage)
    except ValueError:
        raise ValueError(
            f"unknown stage {stage!r}; expected one of {STAGE_PRIORITY}"
        ) from None


def best_stage(stages: Iterable[str]) -> str:
    """The strongest stage among ``stages`` (e.g. {"embedding", "phash"} -> "phash").

    Raises ValueError on an unknown stage name or an empty input.
    """
    names = list(stages)
    if not names:
        raise ValueError("best_stage: no stages given")
    return min(names, key=stage_priority)
