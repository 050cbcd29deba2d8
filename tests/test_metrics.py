"""Metric direction, threshold conversions and stage priority (udfs.metrics)."""
import math

import numpy as np
import pytest

from udfs import metrics as M


def test_cosine_l2_round_trip():
    cos = np.linspace(-1.0, 1.0, 41)
    dist = M.cosine_to_l2(cos)
    assert dist[0] == pytest.approx(2.0) and dist[-1] == 0.0
    assert np.all(np.diff(dist) < 0)  # higher cosine = smaller distance
    np.testing.assert_allclose(M.l2_to_cosine(dist), cos, atol=1e-12)


def test_cosine_to_l2_matches_vectors():
    rng = np.random.default_rng(0)
    x = M.l2_normalize(rng.standard_normal((50, 32)))
    y = M.l2_normalize(rng.standard_normal((50, 32)))
    cos = (x.astype(np.float64) * y).sum(1)
    np.testing.assert_allclose(M.cosine_to_l2(cos), np.linalg.norm(x - y, axis=1), atol=1e-6)


def test_scalars_stay_scalars_and_rounding_is_clipped():
    assert isinstance(M.cosine_to_l2(0.5), float)
    assert M.cosine_to_l2(1.0000001) == 0.0  # float noise above 1: no NaN
    assert M.l2_to_cosine(0.0) == 1.0
    assert isinstance(M.similarity_to_hamming(0.9), int)


@pytest.mark.parametrize("bits", [16, 64, 256])
def test_hamming_similarity_round_trip(bits):
    for h in range(bits + 1):
        s = M.hamming_to_similarity(h, bits)
        assert 0.0 <= s <= 1.0
        assert M.similarity_to_hamming(s, bits) == h


def test_similarity_to_hamming_is_the_largest_passing_distance():
    # 0.9 over 64 bits: 6.4 bits allowed -> 6 passes, 7 does not
    assert M.similarity_to_hamming(0.9) == 6
    assert M.hamming_to_similarity(6) >= 0.9 > M.hamming_to_similarity(7)
    np.testing.assert_array_equal(M.similarity_to_hamming(np.array([1.0, 0.5, 0.0])), [0, 32, 64])


def test_l2_normalize_rows_zero_rows_and_dtype():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1e-30, 0.0]], dtype=np.float64)
    y = M.l2_normalize(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y[0], [0.6, 0.8], rtol=1e-6)
    assert np.all(y[1] == 0.0) and not np.isnan(y).any()
    assert x[0, 0] == 3.0  # input untouched
    np.testing.assert_allclose(np.linalg.norm(M.l2_normalize(np.ones(5))), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="NaN"):
        M.l2_normalize(np.array([[np.nan, 1.0]]))


def test_l2_normalize_matches_float64_norm_rule_bit_for_bit():
    """The einsum norms are the float64 norms: same float32 rows as dividing by np.linalg.norm in float64."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((300, 512)) * rng.uniform(1e-6, 1e6, (300, 1))).astype(np.float32)
    x[7] = 0.0
    ref = x.copy()
    norms = np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
    np.divide(ref, norms, out=ref, where=norms > 0, casting="unsafe")
    y = M.l2_normalize(x)
    np.testing.assert_array_equal(y.view(np.uint32), ref.view(np.uint32))
    assert np.all(y[7] == 0.0)


def test_threshold_validation():
    assert M.check_cosine_threshold(-1) == -1.0 and M.check_cosine_threshold(0.95) == 0.95
    for bad in (1.01, -1.5, math.nan, math.inf):
        with pytest.raises(ValueError, match=r"\[-1, 1\]"):
            M.check_cosine_threshold(bad)
    assert M.check_similarity_threshold(0.0) == 0.0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        M.check_similarity_threshold(-0.1)
    assert M.check_hamming_threshold(0) == 0 and M.check_hamming_threshold(64) == 64
    assert M.check_hamming_threshold(10.0, bits=16) == 10
    for bad in (-1, 65, 2.5):
        with pytest.raises(ValueError, match="hamming threshold"):
            M.check_hamming_threshold(bad)
    with pytest.raises(ValueError, match=r"\[0, 16\]"):
        M.check_hamming_threshold(17, bits=16)


def test_stage_priority_and_best_stage():
    assert M.STAGE_PRIORITY == ("exact", "phash", "phash_trim", "phash_flip", "phash_crop", "phash_rotate",
                                "phash_wcrop", "phash_framed", "embedding", "pixel")
    assert M.best_stage([M.STAGE_PIXEL, M.STAGE_EMBEDDING]) == M.STAGE_EMBEDDING  # a hash/model edge outranks pixels alone
    assert M.best_stage([M.STAGE_EMBEDDING, M.STAGE_PHASH]) == M.STAGE_PHASH
    assert M.best_stage({"embedding", "exact", "phash"}) == M.STAGE_EXACT
    assert M.best_stage(iter(["embedding"])) == M.STAGE_EMBEDDING
    with pytest.raises(ValueError, match="unknown stage"):
        M.best_stage(["exact", "md5"])
    with pytest.raises(ValueError, match="no stages"):
        M.best_stage([])
