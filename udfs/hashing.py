"""Content and perceptual hashes, Hamming distance, and multi-index hashing bands.

Executor-side and Spark-free. Perceptual hashes are 64-bit values carried as
SIGNED int64 (Spark LongType / numpy int64); bit 0 of the hash array is the
most significant bit of the unsigned value, then two's-complement reinterpretation.

Multi-index hashing (candidate generation for ``hamming <= t`` without all
pairs): split each hash into ``bands`` contiguous bit chunks (:func:`band_values`);
two hashes within distance t agree up to ``band_radius(t, bands)`` bits in at
least one band, so probing every band value's neighbours within that radius
(:func:`band_variants`) finds every pair. Candidates still need the exact
:func:`hamming` check afterwards.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from itertools import combinations
from math import comb

import imagehash
import numpy as np
from PIL import Image

HASH_BITS = 64
# Guard against a radius that would enumerate an absurd number of variants.
MAX_VARIANTS = 1 << 22

_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 lowercase hex characters."""
    return hashlib.sha256(data).hexdigest()


def phash64(img: Image.Image) -> int:
    """``imagehash.phash(img, hash_size=8)`` as a signed int64 Python int.

    Bits: the 8x8 boolean hash array flattened row-major, first bit most
    significant (the same order as ``str(imagehash_value)``), then two's complement.
    """
    bits = imagehash.phash(img, hash_size=8).hash.reshape(-1).astype(np.uint8)
    return int.from_bytes(np.packbits(bits).tobytes(), "big", signed=True)


def _popcount_table(x: np.ndarray) -> np.ndarray:
    """Popcount of each uint64 in ``x`` via a 256-entry byte table (numpy < 2 path)."""
    x = np.ascontiguousarray(x, dtype=np.uint64)
    per_byte = _BYTE_POPCOUNT[x.view(np.uint8)].reshape(x.shape + (8,))
    return per_byte.sum(axis=-1, dtype=np.int32)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise popcount(a XOR b) of int64 hashes (broadcasting); int32, 0..64."""
    x = np.bitwise_xor(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
    x = np.ascontiguousarray(x).view(np.uint64)
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int32)
    return _popcount_table(x)


def band_layout(bands: int, bits: int = HASH_BITS) -> list[tuple[int, int]]:
    """``(shift, width)`` per band, band 0 holding the most significant bits.

    Widths are as equal as possible, the first ``bits % bands`` bands one bit
    wider: 64 bits in 3 bands -> widths 22, 21, 21 covering bits 63..42, 41..21,
    20..0 (shifts 42, 21, 0). Band value = (unsigned hash >> shift) & (2**width - 1).
    """
    if not 1 <= bands <= bits:
        raise ValueError(f"bands must be in 1..{bits}, got {bands}")
    base, extra = divmod(bits, bands)
    layout, used = [], 0
    for band in range(bands):
        width = base + (1 if band < extra else 0)
        used += width
        layout.append((bits - used, width))
    return layout


def band_values(h: np.ndarray, bands: int) -> np.ndarray:
    """Split int64 hashes (n,) into their band values, (n, bands) int64.

    Layout as in :func:`band_layout`. Each value is non-negative except with
    ``bands == 1``, where the single band is the whole (signed) hash.
    """
    u = np.asarray(h, dtype=np.int64).reshape(-1).view(np.uint64)
    out = np.empty((u.shape[0], bands), dtype=np.uint64)
    for column, (shift, width) in enumerate(band_layout(bands)):
        mask = np.uint64((1 << width) - 1)
        out[:, column] = (u >> np.uint64(shift)) & mask
    return out.view(np.int64)


@lru_cache(maxsize=64)
def _variant_masks(bits: int, radius: int) -> np.ndarray:
    """All XOR masks with 0..radius set bits inside a ``bits``-wide chunk, uint64, read-only."""
    count = sum(comb(bits, r) for r in range(radius + 1))
    if count > MAX_VARIANTS:
        raise ValueError(
            f"{count} variants for bits={bits}, radius={radius} exceeds {MAX_VARIANTS}; use more bands"
        )
    masks = np.empty(count, dtype=np.uint64)
    i = 0
    for r in range(radius + 1):
        for positions in combinations(range(bits), r):
            masks[i] = sum(1 << p for p in positions)
            i += 1
    masks.setflags(write=False)
    return masks


def band_variants(value: int, bits: int, radius: int) -> np.ndarray:
    """All values within Hamming distance <= radius of ``value`` in a ``bits``-wide chunk.

    Returns int64 (sum_{r<=radius} C(bits, r),), ordered by distance, ``value``
    itself first. ``value`` must fit the chunk: 0 <= value < 2**bits (for
    bits == 64 a signed int64 is accepted too).
    """
    if not 1 <= bits <= HASH_BITS:
        raise ValueError(f"bits must be in 1..{HASH_BITS}, got {bits}")
    if not 0 <= radius <= bits:
        raise ValueError(f"radius must be in 0..{bits}, got {radius}")
    signed64 = bits == HASH_BITS and -(1 << 63) <= value < 0
    if not (0 <= value < (1 << bits) or signed64):
        raise ValueError(f"value {value} does not fit in {bits} bits")
    base = np.uint64(value & ((1 << bits) - 1))
    return (_variant_masks(bits, radius) ^ base).view(np.int64)


def band_radius(max_hamming: int, bands: int) -> int:
    """Per-band search radius for a total Hamming threshold: ``max_hamming // bands``.

    Pigeonhole guarantee: if two 64-bit hashes differ in <= t bits, some band
    differs in <= t // bands bits (were every band to differ in more, the total
    would be >= bands * (t // bands + 1) > t). So probing every band's variants
    within this radius finds all pairs with hamming <= t (plus false candidates,
    removed by the exact check).
    """
    if max_hamming < 0 or bands < 1:
        raise ValueError(f"need max_hamming >= 0 and bands >= 1, got {max_hamming}, {bands}")
    return max_hamming // bands
