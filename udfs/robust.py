"""Weight-free match robustness: extra 64-bit keys, a flatness score, a pair verifier.

Executor-side and Spark-free; pure functions of a decoded PIL image (any mode).
Every key is a 64-bit pHash (same bit layout and signed-int64 convention as
:func:`udfs.hashing.phash64`), so all of them go through the existing
multi-index Hamming join. The keys (:func:`robust_hashes`):

=============== ==============================================================
``phash``       identical to ``phash64(img)`` (imagehash.phash, full image)
``phash_trim``  pHash of the content box: the image less its uniform borders
                (letterbox, padding, frames); equal to ``phash`` without them
``phash_flip``  pHash of the mirrored content box, from the same DCT (free):
                mirroring a row negates its odd horizontal frequencies
``phash_c90``   pHash of the centre 90% x 90% of the content box
``phash_c80``   ... 80% x 80%
``phash_c60``   ... 60% x 60%
``phash_ccw5``  pHash of the centre 60% x 60% of the content box turned 5
                degrees counter-clockwise (``phash_cw5``: clockwise); a copy
                turned by that angle has ``phash_c60`` close to it
``phash_w90``   pHash of the centre 90% x 90% of the whole picture, frame included
                (``phash_w80``, ``phash_w60``: 80%, 60%); only for a picture with a
                frame or backdrop (a content box): a copy cut out of its centre has
                ``phash`` close to it, whatever its content box is
=============== ==============================================================

A picture turned on its own canvas (four corner triangles of one fill colour, black after a
5-degree turn of a white page) is seen by the pixel check without them: :func:`paint_rotation_fill`
paints the triangles in the colour just inside them before its thumbnails and information are
taken, so that two near-blank pages turned alike are not "four black triangles" to the check.

Match on the content-box keys, not on ``phash``: a border dominates the low
frequencies, so two unrelated photographs with the same frame get close
``phash`` values (measured in bench/quality.py).
A crop key whose region is flat (:func:`quality` of the region below
``min_region_quality``) is omitted: flat regions hash to noise and collide.
``phash_c80``/``phash_c60`` of an original match ``phash_trim`` of a copy
cropped to that region; ``phash_trim`` of a padded copy matches
``phash_trim`` of the original; ``phash_flip`` of a mirrored copy matches
``phash_trim`` of the original.

:func:`quality` is a PDQ-style gradient score (mean neighbour difference in
grey levels on a 64x64 thumbnail): flat, blank or nearly black images score
near 0 and should not be matched by hash alone.

:func:`key_features` returns the keys with what the pixel check of hash edges
needs (udfs/verify.py): the content box's :func:`thumbnail`, whether the picture is
sparse (:func:`object_box`: then the content box closes around its objects), how
many hash coefficients carry it (:func:`information`) and its :func:`mean_chroma`.

:func:`verify_pair` counts ORB keypoint matches consistent with one affine
map (RANSAC), trying the mirror of the second image too. Run it on candidate
pairs only; :func:`orb_features` + :func:`verify_features` split it into a
per-image and a per-pair part.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from PIL import Image
from scipy.fftpack import dct

HASH_SIZE = 8
DCT_SIZE = 32  # imagehash: hash_size * highfreq_factor(4)

KEY_PHASH = "phash"
KEY_FLIP = "phash_flip"
KEY_TRIM = "phash_trim"
KEY_C90 = "phash_c90"
KEY_C80 = "phash_c80"
KEY_C60 = "phash_c60"
KEY_CCW5 = "phash_ccw5"
KEY_CW5 = "phash_cw5"
KEY_W90 = "phash_w90"
KEY_W80 = "phash_w80"
KEY_W60 = "phash_w60"
ALL_KEYS: tuple[str, ...] = (KEY_PHASH, KEY_TRIM, KEY_FLIP, KEY_C90, KEY_C80, KEY_C60, KEY_CCW5, KEY_CW5,
                             KEY_W90, KEY_W80, KEY_W60)
CROP_KEYS: dict[str, float] = {KEY_C90: 0.9, KEY_C80: 0.8, KEY_C60: 0.6}
# Centre crops of the whole picture (frame or backdrop included), for pictures with a content box: a
# copy cut out of the centre of an icon on a wide backdrop, a diagram on a white page or a planet on
# black is a crop of the whole picture, not of the content box, and its own content box is another.
WHOLE_CROP_KEYS: dict[str, float] = {KEY_W90: 0.9, KEY_W80: 0.8, KEY_W60: 0.6}
ROTATION_KEYS: dict[str, float] = {KEY_CCW5: 5.0, KEY_CW5: -5.0}  # degrees, counter-clockwise
ROTATION_KEEP = 0.6  # rotation keys hash this centre share: the rotated corners stay outside
ROTATION_SIDE = 96   # ... of the content box turned at this size (longer side, pixels)
# A frame is thin when the content box covers at least this share of the picture (margins of about
# 1/16 a side): the whole picture is then mostly content, and its thumbnail is kept (KeyFeatures.thumb_full)
# so that a full-image pHash pair can be checked on the pixels that hash saw.
THIN_FRAME_SHARE = 0.75
# A picture turned on its own canvas (expand off) has four corner triangles of one fill colour. Turns of
# ROTATION_FILL_DEGREES are searched (every FILL_STEP degrees, both ways) on a copy of FILL_SEARCH_SIDE px;
# the largest turn whose corners are fill (FILL_SHARE of their pixels within trim_tolerance of the corner
# colour), refined to FILL_FINE degrees on the working copy, is painted in the colour just inside them
# (paint_rotation_fill). Smaller turns leave slivers too small to matter.
ROTATION_FILL_DEGREES = (3.0, 12.0)
FILL_STEP = 0.5
FILL_SEARCH_SIDE = 128
FILL_SHARE = 0.98
FILL_FINE = 0.1
FILL_EDGE = (2.0, 4.0)   # px band just inside the triangles and along the canvas edges (working copy) ...
FILL_EDGE_SHARE = 0.25   # ... of which at most this share may be fill-coloured (_fill_edges)
FILL_RING = 3            # px of the working copy just inside the corners whose median is the paint
FILL_MIN_SIDE = 128      # working copies with a shorter side are not searched (a turn's corners are slivers,
                         # and a small icon's rounded corners look like them)

# Odd horizontal frequencies change sign under a left-right mirror (DCT-II of a reversed row).
_FLIP_SIGNS = np.where(np.arange(HASH_SIZE) % 2 == 1, -1.0, 1.0)[np.newaxis, :]


@dataclass(frozen=True)
class RobustConfig:
    """Settings of the robust keys. Units: pixels of the full image unless said."""

    keys: tuple[str, ...] = ALL_KEYS
    trim_thumb: int = 256           # border search on a thumbnail with at most this longest side
    trim_tolerance: int = 8         # grey levels a border pixel may differ from the border colour
    trim_fraction: float = 0.98     # share of a line's pixels that must be border-coloured
    trim_min_side: float = 0.03     # a side counts as a border from this share of the side length
    trim_max_side: float = 0.35     # ... up to this share (more is a flat region of the picture)
    trim_inset: float = 0.0         # shave this share more off each trimmed side (edge ringing)
    min_region_quality: float = 1.0  # omit a crop/rotation key whose region is flatter than this
    object_background: int = 40     # a sparse picture's background is this close to black or to white
    object_level: int = 24          # grey levels from the background at which a pixel is part of an object
    object_max_share: float = 0.3   # an image whose object pixels cover less than this share is sparse ...
    object_mass: float = 0.01       # ... and its content box holds all but this share of object mass per side
    object_pad: float = 0.1         # ... widened by this share of its size on each side
    work_side: int = 256            # keys other than phash use a copy reduced to about this size


DEFAULT_CONFIG = RobustConfig()


# ---------------------------------------------------------------------------- the match rule
# Chosen on bench/quality.py (bench/RESULTS.md, section "quality"). A pair of images is a
# duplicate when the smallest distance over the key pairs of MATCH_BITS is within that pair's
# bound (``phash|phash`` not counted when both images have a border: phash_trim != phash), and
# both quality() >= MIN_QUALITY. With the verifier: a pair so accepted at VETO_FROM_BITS or
# more needs verify_pair() >= VETO_MIN_INLIERS; a pair within VERIFY_UPTO_BITS on any key pair
# of MATCH_BITS (or hash-accepted but below MIN_QUALITY) is a duplicate when verify_pair() >=
# VERIFY_MIN_INLIERS. Key pairs are unordered: (a, b) means key a of one image, key b of the other.

MATCH_BITS: dict[tuple[str, str], int] = {
    (KEY_TRIM, KEY_TRIM): 6, (KEY_TRIM, KEY_FLIP): 6, (KEY_PHASH, KEY_PHASH): 6,
    (KEY_TRIM, KEY_C90): 4, (KEY_TRIM, KEY_C80): 4, (KEY_TRIM, KEY_C60): 4,
    (KEY_C60, KEY_CCW5): 2, (KEY_C60, KEY_CW5): 2,
}
MIN_QUALITY = 1.0
VETO_FROM_BITS, VETO_MIN_INLIERS = 4, 5
VERIFY_UPTO_BITS, VERIFY_MIN_INLIERS = 14, 15


# ---------------------------------------------------------------------------- hashing

def _bits_to_int64(bits: np.ndarray) -> int:
    """Flattened 64 booleans, first bit most significant -> signed int64 (as phash64)."""
    return int.from_bytes(np.packbits(bits.reshape(-1).astype(np.uint8)).tobytes(), "big", signed=True)


def _gray(img: Image.Image) -> Image.Image:
    return img if img.mode == "L" else img.convert("L")


def dct_lowfreq(gray: Image.Image, box: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """8x8 low-frequency DCT of the 32x32 Lanczos thumbnail of ``gray`` (or of its ``box``).

    Exactly imagehash.phash's coefficients when ``box`` is None. float64 (8, 8).
    """
    small = gray.resize((DCT_SIZE, DCT_SIZE), Image.Resampling.LANCZOS, box=box)
    pixels = np.asarray(small)
    return dct(dct(pixels, axis=0), axis=1)[:HASH_SIZE, :HASH_SIZE]


def information(coeffs: np.ndarray) -> float:
    """How many of the hash's 63 AC coefficients carry the picture: exp(entropy of their energy).

    A pHash keeps the sign of each low frequency, but only coefficients with
    energy say anything about the picture; the others take their sign from
    noise and resampling, alike in many unrelated pictures. Stripes, a blob on
    black, a blank page with a line of text put their energy in 1-4
    coefficients; photographs, drawings and screenshots in 8-30. Range 1..63
    (0 for a flat picture).
    """
    ac = np.asarray(coeffs, dtype=np.float64).ravel()[1:]
    energy = ac * ac
    total = energy.sum()
    if total <= 1e-9:
        return 0.0
    share = energy[energy > 0] / total
    return float(np.exp(-(share * np.log(share)).sum()))


def mean_chroma(img: Image.Image, box: tuple[float, float, float, float] | None = None) -> tuple[float, float]:
    """Mean opponent colour of ``img`` (or of its ``box``): (R - G, (R + G) / 2 - B), grey levels.

    (0, 0) for grey pictures. Its direction (hue) survives resizing, compression,
    crops, flips and brightness changes; the pixel check uses it to tell apart two
    coloured pictures that differ only in colour, which the greyscale hashes cannot.
    """
    if img.mode != "RGB":
        if img.mode in ("L", "1", "I", "I;16", "F"):
            return 0.0, 0.0
        img = img.convert("RGB")
    a = np.asarray(img.resize((32, 32), Image.Resampling.BOX, box=box), dtype=np.float32)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    return float((r - g).mean()), float(((r + g) / 2 - b).mean())


def object_chroma(img: Image.Image, work: Image.Image,
                  cfg: RobustConfig = DEFAULT_CONFIG) -> tuple[float, float] | None:
    """Mean opponent colour (as :func:`mean_chroma`) of a sparse picture's object pixels: those
    further than ``cfg.object_level`` grey levels from the background (the median) of ``work``,
    its greyscale working copy. The whole picture's mean is mostly backdrop (black or white,
    no colour), so a teal and a pink planet on black would both count as grey. None when the
    picture has no colour channels or fewer than 16 object pixels."""
    if img.mode != "RGB":
        if img.mode in ("L", "1", "I", "I;16", "F"):
            return None
        img = img.convert("RGB")
    g = np.asarray(_gray(work), dtype=np.float32)
    mask = np.abs(g - float(np.median(g))) > cfg.object_level
    if mask.sum() < 16:
        return None
    a = np.asarray(img.resize(work.size, Image.Resampling.BOX), dtype=np.float32)[mask]
    r, gr, b = a[:, 0], a[:, 1], a[:, 2]
    return float((r - gr).mean()), float(((r + gr) / 2 - b).mean())


def hash_from_dct(coeffs: np.ndarray) -> int:
    """pHash bits (coefficient > median) as a signed int64."""
    return _bits_to_int64(coeffs > np.median(coeffs))


def flip_hash_from_dct(coeffs: np.ndarray) -> int:
    """pHash of the left-right mirror, from the unmirrored coefficients."""
    return hash_from_dct(coeffs * _FLIP_SIGNS)


def phash_flip(img: Image.Image) -> int:
    """pHash of ``ImageOps.mirror(img)`` (up to rounding in the resize), signed int64."""
    return flip_hash_from_dct(dct_lowfreq(_gray(img)))


# ---------------------------------------------------------------------------- borders

def _edge_run(lines: np.ndarray, tolerance: int, fraction: float, limit: int) -> int:
    """How many leading lines (rows of ``lines``, uint8 2-D) are one uniform colour, up to ``limit``.

    The colour is the median of the first line; a line counts while at least
    ``fraction`` of its pixels lie within ``tolerance`` of that colour. Only the
    first ``limit`` lines are looked at (a longer run is not a border anyway),
    and the first line alone when it is not uniform (most photographs).
    """
    ref = float(np.median(lines[0]))
    if (np.abs(lines[0].astype(np.int16) - ref) <= tolerance).mean() < fraction:
        return 0
    close = np.abs(lines[:limit].astype(np.int16) - ref) <= tolerance
    ok = close.mean(axis=1) >= fraction
    return int(np.argmin(ok)) if not ok.all() else len(ok)


def border_box(img: Image.Image, cfg: RobustConfig = DEFAULT_CONFIG,
               rounds: int = 3) -> tuple[int, int, int, int] | None:
    """``(left, top, right, bottom)`` of the content inside uniform borders, or None.

    Searched on a greyscale thumbnail of at most ``cfg.trim_thumb`` pixels on
    its longest side (robust_hashes passes its ~256 px working copy, so the box
    edge is within about one working pixel: a content box 2% too small moves
    the hash of a textured photo by 8-10 bits).
    Each side is trimmed on its own (its own border colour), and trimming
    repeats while it finds more (a white frame around a photo with black
    edges loses both). None when no side has a border of at least
    ``cfg.trim_min_side`` of its length, or when less than a quarter of
    either side would be left (a flat image). A round of trimming counts only
    when it trims two opposite sides: frames, padding, letterbox and pillarbox
    bars come in pairs, while a uniform strip on one side is usually sky or
    wall, which an edit such as brightening widens or narrows. ``rounds``: at most this many
    rounds (1: the outermost frame alone).
    """
    gray = _gray(img)
    w, h = gray.size
    s = min(cfg.trim_thumb, max(w, h)) / max(w, h)  # never upsampled
    size = (max(1, round(w * s)), max(1, round(h * s)))
    thumb = np.asarray(gray if size == gray.size else gray.resize(size, Image.Resampling.BOX))
    th, tw = thumb.shape
    l, t, r, b = 0, 0, tw, th
    for _ in range(rounds):
        region = thumb[t:b, l:r]
        if region.shape[0] < th / 4 or region.shape[1] < tw / 4:
            return None
        runs = [_edge_run(lines, cfg.trim_tolerance, cfg.trim_fraction, int(cfg.trim_max_side * side) + 1)
                for lines, side in zip((region.T, region, region.T[::-1], region[::-1]), (tw, th, tw, th))]
        # left, top, right, bottom
        # a border: at least trim_min_side, at most trim_max_side of the side; then skip the
        # one blended line between border and content (resampling, JPEG ringing)
        runs = [run + 1 if max(2, cfg.trim_min_side * side) <= run <= cfg.trim_max_side * side else 0
                for run, side in zip(runs, (tw, th, tw, th))]
        if not ((runs[0] and runs[2]) or (runs[1] and runs[3])):
            break  # one-sided: a uniform sky or wall in the photo, not a frame or padding
        l, t, r, b = l + runs[0], t + runs[1], r - runs[2], b - runs[3]
    if (l, t, r, b) == (0, 0, tw, th) or r - l < tw / 4 or b - t < th / 4:
        return None
    inset = cfg.trim_inset
    left = l / tw + inset if l else 0.0
    top = t / th + inset if t else 0.0
    right = r / tw - inset if r < tw else 1.0
    bottom = b / th - inset if b < th else 1.0
    return (round(left * w), round(top * h), round(right * w), round(bottom * h))


def object_box(gray: Image.Image, cfg: RobustConfig = DEFAULT_CONFIG) -> tuple[int, int, int, int] | None:
    """Box around the object(s) of a sparse picture, or None when the picture is not sparse.

    Sparse: the background (the median) is within ``cfg.object_background``
    grey levels of black or white, and pixels further than ``cfg.object_level``
    from it cover less than ``cfg.object_max_share`` of the picture: a small
    nebula or planet on black, a star field, a clip-art figure or product on
    white. Such a picture's full-image hash says little more than "a blob
    in the middle", so its keys are taken on this box instead: the range that
    holds all but ``cfg.object_mass`` of the object mass (deviation beyond the
    level) on each side, widened by ``cfg.object_pad`` of its size. Computed on
    ``gray`` as given (the working copy, ~256 px).
    """
    a = np.asarray(_gray(gray), dtype=np.float32)
    background = float(np.median(a))
    if cfg.object_background < background < 255 - cfg.object_background:
        return None
    dev = np.abs(a - background) - cfg.object_level
    mass = np.clip(dev, 0, None)
    if not mass.any() or (mass > 0).mean() >= cfg.object_max_share:
        return None
    h, w = a.shape

    def span(weights: np.ndarray, n: int) -> tuple[int, int]:
        c = np.cumsum(weights) / weights.sum()
        lo, hi = int(np.searchsorted(c, cfg.object_mass)), int(np.searchsorted(c, 1 - cfg.object_mass)) + 1
        pad = round((hi - lo) * cfg.object_pad)
        return max(0, lo - pad), min(n, hi + pad)

    left, right = span(mass.sum(axis=0), w)
    top, bottom = span(mass.sum(axis=1), h)
    return left, top, right, bottom


def object_place(box: tuple[int, int, int, int] | None, frame: tuple[int, int, int, int]) -> tuple[float, float]:
    """Centre of a sparse picture's content ``box`` as shares (x, y) of its ``frame``
    (:func:`content`: the picture inside uniform borders, or the whole picture).

    The keys of a sparse picture are taken on its object box, which forgets where the object
    sits: a marker on a map, the highlighted key of one keyboard drawing, a glyph placed on
    a page, one hat drawn higher or lower in the frames of an animation would all hash alike.
    The pixel check compares the places (udfs/verify.py).
    """
    box = box or frame
    fw, fh = max(1, frame[2] - frame[0]), max(1, frame[3] - frame[1])
    return ((box[0] + box[2]) / 2 - frame[0]) / fw, ((box[1] + box[3]) / 2 - frame[1]) / fh


class Content(NamedTuple):
    """Where the keys of a picture are taken (:func:`content`)."""

    box: tuple[int, int, int, int] | None  # the box the keys are taken on; None: the whole picture
    sparse: bool                           # objects on a black or white background (object_box)
    frame: tuple[int, int, int, int]       # the picture inside uniform borders; the whole picture when
    #                                        it has none or when the "border" is a sparse picture's backdrop


def content(gray: Image.Image, cfg: RobustConfig = DEFAULT_CONFIG, _outer: bool = True) -> Content:
    """The box the keys are taken on, inside uniform borders (:func:`border_box`) and around the
    objects of a sparse picture (:func:`object_box`); whether the picture is sparse; and its frame.

    A sprite on white whose white margins look like borders keeps its whole picture as frame:
    the margins are its backdrop, and where the object sits in them is part of the picture.
    A frame of another colour around a sparse picture (a white frame around stars on black)
    is taken off first, alone: the picture inside it is then judged as if it had no frame, so
    its dark margins stay backdrop, as they are in the unframed original.
    """
    whole_frame = (0, 0, *gray.size)
    frame = border_box(gray, cfg)
    whole = object_box(gray, cfg)
    if whole is not None and (frame is None or _is_backdrop(gray, frame, cfg)):
        # objects on a backdrop; a uniform "frame" of the backdrop's colour is backdrop too
        return Content(None if whole == whole_frame else whole, True, whole_frame)
    if frame is None:
        return Content(None, False, whole_frame)
    outer = border_box(gray, cfg, rounds=1) if _outer else None
    if outer is not None and outer != frame:
        inner = content(gray.crop(outer), cfg, _outer=False)
        if inner.sparse:
            return Content(_offset(inner.box or inner.frame, outer), True, _offset(inner.frame, outer))
    obj = object_box(gray.crop(frame), cfg)
    if obj is None:
        return Content(frame, False, frame)
    return Content(_offset(obj, frame), True, frame)


def _offset(box: tuple[int, int, int, int], at: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``box``, found inside the crop ``at``, in the coordinates of the whole picture."""
    return box[0] + at[0], box[1] + at[1], box[2] + at[0], box[3] + at[1]


def content_box(gray: Image.Image, cfg: RobustConfig = DEFAULT_CONFIG) -> tuple[tuple[int, int, int, int] | None, bool]:
    """(box, sparse) of :func:`content`: the box the keys are taken on (None: the whole picture)
    and whether the picture is sparse."""
    found = content(gray, cfg)
    return found.box, found.sparse


def _is_backdrop(gray: Image.Image, frame: tuple[int, int, int, int], cfg: RobustConfig) -> bool:
    """True when the pixels outside ``frame`` have the picture's background colour (its median)."""
    a = np.asarray(_gray(gray), dtype=np.float32)
    outside = np.ones(a.shape, dtype=bool)
    outside[frame[1]:frame[3], frame[0]:frame[2]] = False
    return bool(outside.any()) and abs(float(np.median(a[outside])) - float(np.median(a))) <= cfg.object_level


class KeyFeatures(NamedTuple):
    """What :func:`key_features` computes for one image."""

    hashes: dict[str, int]   # key name -> signed int64
    thumb: bytes             # udfs.verify.thumbnail of the content box
    sparse: bool             # object_box found a sparse picture (its pairs get the detail check)
    information: float       # information() of the content box's hash coefficients
    chroma: tuple[float, float]  # mean_chroma() of the content box (object_chroma() of a sparse picture)
    place: tuple[float, float] | None = None  # a sparse picture's object centre in its frame (object_place)
    quality: float | None = None  # quality_of_gray() of the content box: how flat what the keys see is
    thumb_full: bytes | None = None  # the whole picture's thumbnail when a thin frame was taken off
                                     # (is_thin_frame; the pixels the full-image pHash saw); None otherwise
    thumb_whole: bytes | None = None  # ... when a thick frame or backdrop was taken off (what the
                                      # whole-picture crop keys phash_w* saw); None otherwise
    area: float = 1.0  # share of the picture inside the content box (1.0 without a box, or when the
                       # keys were not asked for): the keep policy's content_pixels


def trim_borders(img: Image.Image, cfg: RobustConfig = DEFAULT_CONFIG) -> Image.Image:
    """``img`` without its uniform borders (itself when it has none)."""
    box = border_box(img, cfg)
    return img if box is None else img.crop(box)


def centre_box(box: tuple[int, int, int, int], keep: float) -> tuple[float, float, float, float]:
    """The centred sub-box of ``box`` keeping ``keep`` of its width and of its height."""
    left, top, right, bottom = box
    dw, dh = (right - left) * (1 - keep) / 2, (bottom - top) * (1 - keep) / 2
    return (left + dw, top + dh, right - dw, bottom - dh)


# ---------------------------------------------------------------------------- rotation fill

def fill_mask(size: tuple[int, int], degrees: float, grow: float = 0.0) -> np.ndarray:
    """bool (h, w): the pixels of a ``size`` (w, h) canvas that a turn of its picture by ``degrees``
    about the centre (same canvas, as ``Image.rotate(expand=False)``) leaves uncovered: the four
    corner triangles; widened by ``grow`` px into the picture (negative: narrowed)."""
    w, h = size
    dx, dy = _centred_grid(w, h)
    t = np.deg2rad(degrees)
    u = np.cos(t) * dx + np.sin(t) * dy
    v = -np.sin(t) * dx + np.cos(t) * dy
    return (np.abs(u) > w / 2 - grow) | (np.abs(v) > h / 2 - grow)


@lru_cache(maxsize=64)
def _centred_grid(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (x, y) relative to the centre of a w x h canvas, float32 (h, w) each."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return x + 0.5 - w / 2, y + 0.5 - h / 2


def rotation_fill(gray: Image.Image, cfg: RobustConfig = DEFAULT_CONFIG) -> tuple[float, float] | None:
    """(degrees, fill colour) of a picture turned on its own canvas, or None.

    A turn of the picture (expand off) fills four corner triangles with one colour; on a
    page or a drawing on white, those black triangles are most of what the hashes and the
    thumbnail see, so two pages turned alike look alike. Found when the four corner pixels
    share one colour and, for some turn of ROTATION_FILL_DEGREES either way, FILL_SHARE of the
    triangles' pixels lie within ``cfg.trim_tolerance`` of it (searched on a FILL_SEARCH_SIDE copy;
    the largest such turn). Turns below the range leave slivers too small to matter.
    """
    a = np.asarray(_gray(gray), dtype=np.float32)
    h, w = a.shape
    if min(h, w) < FILL_MIN_SIDE:
        return None
    corners = np.concatenate([a[:2, :2].ravel(), a[:2, -2:].ravel(), a[-2:, :2].ravel(), a[-2:, -2:].ravel()])
    colour = float(np.median(corners))
    if np.abs(corners - colour).max() > cfg.trim_tolerance:
        return None
    k, m = int(FILL_EDGE[1]), (round(0.3 * w), round(0.3 * h))  # the middle of each side, clear of any triangle
    sides = np.concatenate([a[:k, m[0]:w - m[0]].ravel(), a[-k:, m[0]:w - m[0]].ravel(),
                            a[m[1]:h - m[1], :k].ravel(), a[m[1]:h - m[1], -k:].ravel()])
    if (np.abs(sides - colour) <= cfg.trim_tolerance).mean() > 2 * FILL_EDGE_SHARE:
        return None  # the picture's own backdrop reaches the canvas's edges: nothing to tell apart
    s = min(1.0, FILL_SEARCH_SIDE / max(w, h))
    size = (max(8, round(w * s)), max(8, round(h * s)))
    small = _gray(gray).resize(size, Image.Resampling.BOX)
    lo, hi = ROTATION_FILL_DEGREES
    best = None
    for sign in (1.0, -1.0):
        for degrees in np.arange(lo, hi + 1e-9, FILL_STEP):
            if not _is_fill(small, sign * degrees, colour, cfg):
                break
            if best is None or degrees > abs(best):
                best = sign * degrees
    if best is None:
        return None
    # refine on the working copy: the largest turn within a coarse step that is still all fill
    for degrees in np.arange(abs(best) + FILL_STEP - FILL_FINE, abs(best) - FILL_STEP, -FILL_FINE):
        turn = float(np.sign(best) * round(degrees, 3))
        if degrees >= lo and _is_fill(gray, turn, colour, cfg):
            return (turn, colour) if _fill_edges(gray, turn, colour, cfg) else None
    return None


def _fill_edges(gray: Image.Image, degrees: float, colour: float, cfg: RobustConfig) -> bool:
    """True when the picture begins where a turn's corner triangles end: in the band of FILL_EDGE px
    just inside each triangle's straight edge, at most FILL_EDGE_SHARE of the pixels are within
    cfg.trim_tolerance of the fill ``colour`` (in three corners of four: the picture itself may be
    dark in one), and along the canvas's outer FILL_EDGE[1] px between the triangles at most twice that. The corners of a disc, a polygon or a rounded icon on
    a backdrop are backdrop beyond any straight line, and so is most of the canvas's edge."""
    inner, outer = FILL_EDGE
    near = fill_mask(gray.size, degrees, grow=inner)
    band = fill_mask(gray.size, degrees, grow=outer) & ~near
    rim = np.zeros_like(near)
    k = int(outer)
    rim[:k, :] = rim[-k:, :] = rim[:, :k] = rim[:, -k:] = True
    rim &= ~fill_mask(gray.size, degrees, grow=outer)
    a = np.asarray(_gray(gray), dtype=np.float32)
    filled = np.abs(a - colour) <= cfg.trim_tolerance
    dx, dy = _centred_grid(*gray.size)
    clean = 0
    for quarter in ((dx < 0) & (dy < 0), (dx >= 0) & (dy < 0), (dx < 0) & (dy >= 0), (dx >= 0) & (dy >= 0)):
        part = band & quarter
        clean += bool(part.any()) and float(filled[part].mean()) <= FILL_EDGE_SHARE
    return clean >= 3 and bool(rim.any()) and float(filled[rim].mean()) <= 2 * FILL_EDGE_SHARE


def _is_fill(gray: Image.Image, degrees: float, colour: float, cfg: RobustConfig) -> bool:
    """True when the corner triangles of a turn by ``degrees`` (less a pixel along their edge) have
    FILL_SHARE of their pixels within cfg.trim_tolerance of ``colour``."""
    m = fill_mask(gray.size, degrees, grow=-1.0)
    if m.sum() < 8:
        return False
    a = np.asarray(_gray(gray), dtype=np.float32)
    return bool((np.abs(a[m] - colour) <= cfg.trim_tolerance).mean() >= FILL_SHARE)


def paint_rotation_fill(gray: Image.Image, cfg: RobustConfig = DEFAULT_CONFIG) -> Image.Image:
    """``gray`` with the corner triangles of a turn on its own canvas (:func:`rotation_fill`) painted
    in the colour just inside them (the median of a FILL_RING px band); ``gray`` itself when it has
    none, or when that colour is the fill's (a picture on a backdrop of the fill colour).

    The keys, the content box, the thumbnail and the information of a turned picture are then those
    of what was turned: a near-blank page turned 5 degrees is a near-blank page again, not four black
    triangles, and a copy turned 5 degrees keys its content box as the original does.
    """
    found = rotation_fill(gray, cfg)
    if found is None:
        return gray
    degrees, colour = found
    g = _gray(gray)
    fill = fill_mask(g.size, degrees, grow=1.0)
    ring = fill_mask(g.size, degrees, grow=1.0 + FILL_RING) & ~fill
    a = np.asarray(g, dtype=np.float32)
    paint = float(np.median(a[ring])) if ring.any() else colour
    if abs(paint - colour) <= cfg.trim_tolerance:
        return gray
    out = np.asarray(g).copy()
    out[fill] = int(round(paint))
    return Image.fromarray(out, mode="L")


# ---------------------------------------------------------------------------- thumbnail

THUMB_SIDE = 64  # the pixel check's thumbnail (udfs/verify.py), pixels


def thumbnail(gray: Image.Image, box: tuple[float, float, float, float] | None = None) -> bytes:
    """THUMB_SIDE x THUMB_SIDE uint8 greyscale of ``gray`` (or of its ``box``), row-major bytes."""
    return _gray(gray).resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BOX, box=box).tobytes()


# ---------------------------------------------------------------------------- quality

QUALITY_SIZE = 64


def quality_of_gray(gray: Image.Image, box: tuple[float, float, float, float] | None = None) -> float:
    """Flatness score of a greyscale image (or of its ``box``): mean gradient, grey levels.

    Mean of |horizontal| and |vertical| neighbour differences on a 64x64
    box-filtered thumbnail, in grey levels (0..255). Like PDQ's quality, but
    not capped (PDQ's 0..100 scale saturates at a mean of ~2.8 grey levels,
    below most photos): a blank or nearly uniform image scores ~0, a
    dark or hazy photo 1..4, an ordinary photo 5..40.
    """
    small = gray.resize((QUALITY_SIZE, QUALITY_SIZE), Image.Resampling.BOX, box=box)
    return mean_gradient(np.asarray(small, dtype=np.float32))


def mean_gradient(a: np.ndarray) -> float:
    """Mean |neighbour difference| of a 2-D array, averaged over both axes."""
    return float((np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean()) / 2.0)


def quality(img: Image.Image) -> float:
    """Flatness score of the whole image (mean gradient, grey levels); see :func:`quality_of_gray`."""
    return quality_of_gray(_gray(img))


# ---------------------------------------------------------------------------- all keys

def rotated_centre(small: Image.Image, degrees: float) -> Image.Image:
    """The centre ROTATION_KEEP share of ``small`` after turning it by ``degrees`` (counter-clockwise).

    ``small``: the content box at a small size with its aspect kept (so the
    turn is a true rotation), see :func:`robust_hashes`.
    """
    turned = small.rotate(degrees, resample=Image.Resampling.BILINEAR, expand=False)
    return turned.crop(tuple(round(v) for v in centre_box((0, 0, *turned.size), ROTATION_KEEP)))


def working_image(gray: Image.Image, side: int) -> tuple[Image.Image, float]:
    """``gray`` reduced by an integer factor (box filter) to about ``side`` px; and the factor.

    Every key but ``phash`` is computed on it: the crops, the border search and
    the quality checks then cost little whatever the input size.
    """
    factor = max(1, max(gray.size) // side)
    return (gray.reduce(factor) if factor > 1 else gray), float(factor)


def robust_hashes(img: Image.Image, cfg: RobustConfig = DEFAULT_CONFIG) -> dict[str, int]:
    """The configured keys of ``img`` as ``{name: signed int64}``; see :func:`hashes_and_thumbnail`."""
    return key_features(img, cfg).hashes


def _quality_thumb(work: Image.Image, box: tuple[float, float, float, float] | None) -> np.ndarray:
    """QUALITY_SIZE x QUALITY_SIZE float32 box-filtered thumbnail of ``work`` (or of its ``box``)."""
    return np.asarray(work.resize((QUALITY_SIZE, QUALITY_SIZE), Image.Resampling.BOX, box=box), np.float32)


def _flat_centre(small: np.ndarray, keep: float, cfg: RobustConfig) -> bool:
    """True when the centre ``keep`` share of a quality thumbnail is flatter than cfg.min_region_quality."""
    m = round(QUALITY_SIZE * (1 - keep) / 2)
    return mean_gradient(small[m:QUALITY_SIZE - m, m:QUALITY_SIZE - m]) < cfg.min_region_quality


def key_features(img: Image.Image, cfg: RobustConfig = DEFAULT_CONFIG) -> KeyFeatures:
    """The configured keys of ``img`` as ``{name: signed int64}``; see the module docstring.

    ``phash`` is the full image (bit for bit ``phash64``); every other key is
    taken inside the content box (the image less its uniform borders), on a
    working copy of about ``cfg.work_side`` px: ``phash_trim`` the box itself
    (``phash`` when there is no border), ``phash_flip`` its mirror, the crop
    and rotation keys its centre; with a content box, ``phash_w*`` the centre of the
    whole picture. Those are omitted when their region is flat.
    Also returns the content box's thumbnail (:func:`thumbnail`), made
    from the same working copy, which the pixel check of hash edges compares, and
    whether the picture is sparse (:func:`object_box`), and then where its object sits
    (:func:`object_place`) and the colour of its object pixels (:func:`object_chroma`) rather
    than of the whole box; and how flat the content box is (:func:`quality_of_gray`): a white
    page with a small figure or a dark frame with a few stars is flat as a whole, not inside
    the box its keys are taken on. The whole picture's thumbnail comes too when a box was
    found: in ``thumb_full`` for a thin frame, in ``thumb_whole`` for a thick one.

    A picture turned on its own canvas is seen by the pixel check without its filled corner
    triangles (:func:`paint_rotation_fill`: painted in the colour just inside them): its
    thumbnails, information and flatness are of what was turned. Its keys and content box stay
    those of the picture as it is, so that its copies, its rotation keys and whether it counts
    as framed (jobs/hashkeys.is_framed, which orders keepers) do not change.
    """
    gray = _gray(img)
    out: dict[str, int] = {}
    full = dct_lowfreq(gray)
    if KEY_PHASH in cfg.keys:
        out[KEY_PHASH] = hash_from_dct(full)
    work, factor = working_image(gray, cfg.work_side)
    if set(cfg.keys) <= {KEY_PHASH}:
        return KeyFeatures(out, thumbnail(work), False, information(full), mean_chroma(img), None, quality(img))
    seen = paint_rotation_fill(work, cfg)  # what the pixel check and the information measure see
    painted = seen is not work
    box, sparse, frame = content(work, cfg)
    region = box or (0, 0, *work.size)
    coeffs = full if box is None else dct_lowfreq(work, box)
    if KEY_TRIM in cfg.keys:
        out[KEY_TRIM] = hash_from_dct(coeffs)
    if KEY_FLIP in cfg.keys:
        out[KEY_FLIP] = flip_hash_from_dct(coeffs)
    # flatness of the centre regions, from one 64x64 thumbnail of the content box (of the whole picture)
    box_small = _quality_thumb(work, region)
    for name, keep in CROP_KEYS.items():
        if name in cfg.keys and not _flat_centre(box_small, keep, cfg):
            out[name] = hash_from_dct(dct_lowfreq(work, centre_box(region, keep)))
    if box is not None and any(name in cfg.keys for name in WHOLE_CROP_KEYS):
        whole, whole_small = (0, 0, *work.size), _quality_thumb(work, None)
        for name, keep in WHOLE_CROP_KEYS.items():
            if name in cfg.keys and not _flat_centre(whole_small, keep, cfg):
                out[name] = hash_from_dct(dct_lowfreq(work, centre_box(whole, keep)))
    rotations = [(n, d) for n, d in ROTATION_KEYS.items() if n in cfg.keys]
    if rotations and not _flat_centre(box_small, ROTATION_KEEP, cfg):
        cw, ch = region[2] - region[0], region[3] - region[1]
        s = ROTATION_SIDE / max(cw, ch)
        small = work.resize((max(8, round(cw * s)), max(8, round(ch * s))), Image.Resampling.BILINEAR, box=region)
        for name, degrees in rotations:
            out[name] = hash_from_dct(dct_lowfreq(rotated_centre(small, degrees)))
    # the working copy is the image reduced by an integer factor (sizes rounded down): clamp
    full_box = None if box is None else (min(box[0] * factor, img.width), min(box[1] * factor, img.height),
                                         min(box[2] * factor, img.width), min(box[3] * factor, img.height))
    place = object_place(box, frame) if sparse else None
    chroma = (object_chroma(img, seen, cfg) if sparse else None) or mean_chroma(img, full_box)
    if painted:  # a turned picture: how much its content box carries, without the filled corners
        info, flatness = information(dct_lowfreq(seen, box)), quality_of_gray(seen, box)
    else:
        info, flatness = information(coeffs), quality(img) if box is None else quality_of_gray(work, box)
    thin = is_thin_frame(box, work.size)
    return KeyFeatures(out, thumbnail(seen, box), sparse, info, chroma, place, flatness,
                       thumbnail(seen) if thin else None,
                       thumbnail(seen) if box is not None and not thin else None,
                       box_area(box, work.size))


def box_area(box: tuple[int, int, int, int] | None, size: tuple[int, int]) -> float:
    """Share of a picture of ``size`` (w, h) inside ``box`` (1.0 when there is none)."""
    if box is None:
        return 1.0
    return float((box[2] - box[0]) * (box[3] - box[1])) / float(max(1, size[0] * size[1]))


def is_thin_frame(box: tuple[int, int, int, int] | None, size: tuple[int, int]) -> bool:
    """True when a content box was found and covers at least THIN_FRAME_SHARE of the picture.

    A thin uniform margin is what one copy may have and another lose (a resize or JPEG
    blurs a one-pixel frame, brightening makes light margins uniform), so the two are
    compared on the whole pictures as well. A thick frame (a disc on a black field, an
    icon on a wide backdrop) is composition: on the whole picture it dominates the check.
    """
    if box is None:
        return False
    return (box[2] - box[0]) * (box[3] - box[1]) >= THIN_FRAME_SHARE * size[0] * size[1]


# ---------------------------------------------------------------------------- verification

@dataclass(frozen=True)
class VerifyConfig:
    """ORB + RANSAC settings. ``max_side`` in pixels; ``ransac_px`` at that scale."""

    max_side: int = 384
    nfeatures: int = 800
    ratio: float = 0.75       # Lowe ratio test on the two nearest descriptors
    ransac_px: float = 5.0    # reprojection tolerance of the affine fit
    min_matches: int = 6      # fewer ratio-test matches than this: score 0
    max_scale: float = 4.0    # the affine map's singular values must lie in [1/max_scale, max_scale]
    max_anisotropy: float = 2.0  # and differ by at most this factor (squash, not collapse)
    min_spread: float = 0.05  # inliers must spread: std in x and in y >= this share of max_side
    mirror: bool = True       # also try the left-right mirror of the second image


DEFAULT_VERIFY = VerifyConfig()


class OrbFeatures(NamedTuple):
    """Keypoint coordinates (n, 2) float32 and ORB descriptors (n, 32) uint8 (n may be 0)."""

    points: np.ndarray
    descriptors: np.ndarray


def _verify_gray(img: Image.Image, max_side: int) -> np.ndarray:
    """Greyscale uint8, longest side ``max_side`` (up or down), histogram-equalised.

    Equalising makes dark and low-contrast photos yield keypoints, and makes
    the detector indifferent to brightness and contrast edits.
    """
    import cv2

    gray = _gray(img)
    w, h = gray.size
    s = max_side / max(w, h)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.equalizeHist(np.asarray(gray.resize(size, Image.Resampling.BILINEAR)))


def orb_features(img: Image.Image, cfg: VerifyConfig = DEFAULT_VERIFY) -> OrbFeatures:
    """ORB keypoints and descriptors of ``img`` rescaled to ``cfg.max_side`` (per-image part)."""
    import cv2  # heavy import: only where verification runs

    arr = _verify_gray(img, cfg.max_side)
    orb = cv2.ORB_create(nfeatures=cfg.nfeatures, edgeThreshold=15, patchSize=15, fastThreshold=10)
    kps, desc = orb.detectAndCompute(arr, None)
    if desc is None or not kps:
        return OrbFeatures(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    return OrbFeatures(np.array([k.pt for k in kps], dtype=np.float32), desc)


def _plausible(affine: np.ndarray, cfg: VerifyConfig) -> bool:
    """An affine map a duplicate can have: no collapse, no mirror, bounded scale and squash."""
    s = np.linalg.svd(affine[:, :2], compute_uv=False)
    return bool(np.linalg.det(affine[:, :2]) > 0 and s[1] >= 1 / cfg.max_scale and s[0] <= cfg.max_scale
                and s[0] <= cfg.max_anisotropy * s[1])


def _ratio_matches(a: OrbFeatures, b: OrbFeatures, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Matched point pairs passing the ratio test, at most one per point of ``b``: (m, 2) each."""
    import cv2

    best: dict[int, tuple[float, int]] = {}
    for pair in cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2):
        if len(pair) == 2 and pair[0].distance < ratio * pair[1].distance:
            m = pair[0]
            if m.trainIdx not in best or m.distance < best[m.trainIdx][0]:
                best[m.trainIdx] = (m.distance, m.queryIdx)
    train = np.fromiter(best, dtype=np.int64, count=len(best))
    query = np.array([best[t][1] for t in train], dtype=np.int64)
    return a.points[query], b.points[train]


def verify_features(a: OrbFeatures, b: OrbFeatures, cfg: VerifyConfig = DEFAULT_VERIFY) -> int:
    """Matches of ``a`` to ``b`` that agree with one plausible affine map (RANSAC inliers).

    0 when there are too few matches, when the fitted map collapses, mirrors,
    or scales beyond ``cfg.max_scale``, or when the inliers bunch in a spot
    smaller than ``cfg.min_spread`` of the image (a degenerate fit).
    """
    import cv2

    if len(a.descriptors) < 2 or len(b.descriptors) < 2:
        return 0
    src, dst = _ratio_matches(a, b, cfg.ratio)
    if len(src) < cfg.min_matches:
        return 0
    affine, inliers = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=cfg.ransac_px,
                                           maxIters=2000, confidence=0.99, refineIters=0)
    if affine is None or inliers is None or not _plausible(affine, cfg):
        return 0
    keep = inliers.reshape(-1).astype(bool)
    spread = cfg.min_spread * cfg.max_side
    for pts in (src[keep], dst[keep]):
        if len(pts) < 3 or pts[:, 0].std() < spread or pts[:, 1].std() < spread:
            return 0
    return int(keep.sum())


def verify_pair(img_a: Image.Image, img_b: Image.Image, cfg: VerifyConfig = DEFAULT_VERIFY) -> float:
    """Evidence that two images show the same picture: RANSAC inlier count (0 = none).

    Robust to crops, borders, rotation, scale, squash, brightness; with
    ``cfg.mirror`` the mirror of ``img_b`` is tried too when the direct score
    is below 2 x ``min_matches``. Unrelated photos score in the single digits.
    """
    fa = orb_features(img_a, cfg)
    score = verify_features(fa, orb_features(img_b, cfg), cfg)
    if cfg.mirror and score < 2 * cfg.min_matches:
        mirrored = img_b.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        score = max(score, verify_features(fa, orb_features(mirrored, cfg), cfg))
    return float(score)
