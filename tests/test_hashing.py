"""udfs.hashing: sha256, pHash as int64, Hamming, and multi-index hashing bands."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from math import comb

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageEnhance
from skimage import data as skdata

from udfs.hashing import (
    _popcount_table,
    band_layout,
    band_radius,
    band_values,
    band_variants,
    hamming,
    phash64,
    sha256_hex,
)


def _photo(name: str, size: tuple[int, int] = (160, 120)) -> Image.Image:
    arr = getattr(skdata, name)()
    img = Image.fromarray(arr)
    return img.convert("RGB").resize(size)


def test_sha256_hex() -> None:
    assert sha256_hex(b"") == hashlib.sha256(b"").hexdigest()
    digest = sha256_hex(b"abc")
    assert len(digest) == 64 and digest == digest.lower()
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_phash64_matches_imagehash_bits_and_is_int64() -> None:
    for name in ("astronaut", "camera", "chelsea", "coffee", "rocket"):
        img = _photo(name)
        value = phash64(img)
        assert -(1 << 63) <= value < (1 << 63)
        assert np.array([value], dtype=np.int64)[0] == value
        unsigned = value & ((1 << 64) - 1)
        assert unsigned == int(str(imagehash.phash(img, hash_size=8)), 16)


def test_phash64_sign_bit_is_first_hash_bit() -> None:
    img = _photo("astronaut")
    first_bit = bool(imagehash.phash(img, hash_size=8).hash[0, 0])
    assert (phash64(img) < 0) == first_bit


def test_phash64_near_duplicates_close_unrelated_far() -> None:
    base = _photo("chelsea", (320, 240))
    variants = [
        base.resize((200, 150)),
        ImageEnhance.Brightness(base).enhance(1.1),
        base.crop((4, 3, 316, 237)),
    ]
    h0 = np.array([phash64(base)] * len(variants), dtype=np.int64)
    near = hamming(h0, np.array([phash64(v) for v in variants], dtype=np.int64))
    assert (near <= 8).all(), near
    others = np.array([phash64(_photo(n, (320, 240))) for n in ("camera", "coins", "rocket")], dtype=np.int64)
    far = hamming(h0[:3], others)
    assert (far >= 16).all(), far


def test_hamming_matches_python_popcount() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, 1000, dtype=np.int64)
    b = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, 1000, dtype=np.int64)
    expected = np.array([bin((int(x) ^ int(y)) & ((1 << 64) - 1)).count("1") for x, y in zip(a, b)])
    out = hamming(a, b)
    assert out.dtype == np.int32
    assert np.array_equal(out, expected)
    assert np.array_equal(_popcount_table((a ^ b).view(np.uint64)), expected)
    assert hamming(np.array([-1], dtype=np.int64), np.array([0], dtype=np.int64))[0] == 64
    assert hamming(a, a).sum() == 0


def test_hamming_broadcasts() -> None:
    rng = np.random.default_rng(2)
    a = rng.integers(-(2**63), 2**63 - 1, 7, dtype=np.int64)
    matrix = hamming(a[:, None], a[None, :])
    assert matrix.shape == (7, 7)
    assert (np.diag(matrix) == 0).all() and np.array_equal(matrix, matrix.T)


def test_band_layout_and_values() -> None:
    assert [w for _, w in band_layout(3)] == [22, 21, 21]
    assert band_layout(3) == [(42, 22), (21, 21), (0, 21)]
    assert band_layout(4) == [(48, 16), (32, 16), (16, 16), (0, 16)]
    assert band_layout(1) == [(0, 64)]
    with pytest.raises(ValueError):
        band_layout(0)
    h = np.array([0x0123456789ABCDEF, -1, 0, -(1 << 63)], dtype=np.int64)
    v4 = band_values(h, 4)
    assert v4.shape == (4, 4) and v4.dtype == np.int64
    assert v4[0].tolist() == [0x0123, 0x4567, 0x89AB, 0xCDEF]
    assert v4[1].tolist() == [0xFFFF] * 4
    assert v4[3].tolist() == [0x8000, 0, 0, 0]
    assert np.array_equal(band_values(h, 1)[:, 0], h)
    # recombining the bands gives the hash back, for uneven widths too
    for bands in (3, 5, 7):
        values = band_values(h, bands)
        assert (values >= 0).all()
        for row, original in zip(values, h):
            rebuilt = 0
            for value, (shift, width) in zip(row, band_layout(bands)):
                assert 0 <= value < (1 << width)
                rebuilt |= int(value) << shift
            assert rebuilt == int(original) & ((1 << 64) - 1)


def test_band_variants() -> None:
    v = band_variants(0b1010, bits=4, radius=1)
    assert v.dtype == np.int64
    assert v[0] == 0b1010
    assert sorted(v.tolist()) == sorted([0b1010, 0b1011, 0b1000, 0b1110, 0b0010])
    many = band_variants(12345, bits=21, radius=2)
    assert len(many) == 1 + 21 + comb(21, 2) == len(set(many.tolist()))
    assert (hamming(many, np.full(len(many), 12345, dtype=np.int64)) <= 2).all()
    assert (many >= 0).all() and (many < (1 << 21)).all()
    assert band_variants(7, bits=8, radius=0).tolist() == [7]
    signed = band_variants(-1, bits=64, radius=1)
    assert signed[0] == -1 and len(signed) == 65
    with pytest.raises(ValueError):
        band_variants(16, bits=4, radius=1)
    with pytest.raises(ValueError):
        band_variants(1, bits=64, radius=20)  # would enumerate billions


def test_band_radius() -> None:
    assert band_radius(10, 4) == 2
    assert band_radius(3, 4) == 0
    assert band_radius(8, 3) == 2
    with pytest.raises(ValueError):
        band_radius(-1, 4)


def _planted_hashes(rng: np.random.Generator, n: int, t: int) -> np.ndarray:
    """n random hashes, then near copies at distances 0..t (flips spread across bands)."""
    base = rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64)
    copies = []
    for i in range(n // 2):
        distance = i % (t + 1)
        flips = rng.choice(64, size=distance, replace=False)
        mask = sum(1 << int(p) for p in flips)
        copies.append(int(base[i]) ^ (mask - (1 << 64) if mask >= 1 << 63 else mask))
    # adversarial: exactly t bits spread evenly across the bands
    for i in range(20):
        mask = sum(1 << p for p in range(0, 64, 64 // t)[:t])
        value = (int(base[n - 1 - i]) & ((1 << 64) - 1)) ^ mask
        copies.append(value - (1 << 64) if value >= 1 << 63 else value)
    return np.concatenate([base, np.array(copies, dtype=np.int64)])


def _mih_pairs(hashes: np.ndarray, max_hamming: int, bands: int) -> set[tuple[int, int]]:
    """Multi-index hashing candidate search, then the exact Hamming check."""
    values = band_values(hashes, bands)
    radius = band_radius(max_hamming, bands)
    widths = [w for _, w in band_layout(bands)]
    tables = [defaultdict(list) for _ in range(bands)]
    for i, row in enumerate(values):
        for band, value in enumerate(row):
            tables[band][int(value)].append(i)
    pairs = set()
    for i, row in enumerate(values):
        for band, value in enumerate(row):
            for probe in band_variants(int(value), widths[band], radius).tolist():
                for j in tables[band].get(probe, ()):
                    if j > i:
                        pairs.add((i, j))
    found = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    keep = hamming(hashes[found[:, 0]], hashes[found[:, 1]]) <= max_hamming
    return {tuple(p) for p in found[keep].tolist()}


@pytest.mark.parametrize("max_hamming,bands", [(10, 4), (8, 3), (6, 6), (5, 2), (4, 5)])
def test_multi_index_hashing_equals_brute_force(max_hamming: int, bands: int) -> None:
    rng = np.random.default_rng(max_hamming * 100 + bands)
    hashes = _planted_hashes(rng, 600, max_hamming)
    dist = hamming(hashes[:, None], hashes[None, :])
    i, j = np.nonzero(np.triu(dist <= max_hamming, k=1))
    brute = set(zip(i.tolist(), j.tolist()))
    assert len(brute) >= 300  # the planted pairs are there
    assert _mih_pairs(hashes, max_hamming, bands) == brute
