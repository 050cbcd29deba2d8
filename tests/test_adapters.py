"""The pandas-UDF adapters on plain pandas input, without Spark."""
from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pandas as pd
import pytest

from udfs import adapters
from udfs.hashing import band_radius, hamming


def test_hash_contents_turns_failures_into_rows(small_corpus):
    pdf = pd.DataFrame({
        "item_id": ["ok", "missing", "bad-input", "empty"],
        "uri": [str(small_corpus / "originals/astronaut.jpg"), str(small_corpus / "nope.jpg"), None,
                (small_corpus / "broken/empty.jpg").as_uri()],
        "input_error": [None, None, "missing_path: x", None]})
    out = next(adapters.hash_contents(iter([pdf]), max_bytes=1 << 26))
    assert len(out["content_sha256"][0]) == 64 and out["bytes"][0] > 1000
    assert out["read_error"][1].startswith("not_found:")
    assert pd.isna(out["content_sha256"][2]) and pd.isna(out["read_error"][2])  # input error kept as is
    assert out["bytes"][3] == 0 and out["content_sha256"][3] is not None


def test_compute_features_decodes_and_reports_errors(small_corpus):
    coffee = hashlib.sha256((small_corpus / "originals/coffee.jpg").read_bytes()).hexdigest()
    pdf = pd.DataFrame({"content_sha256": [coffee, "b", "c"],
                        "uri": [str(small_corpus / "originals/coffee.jpg"),
                                str(small_corpus / "broken/notes.png"),
                                str(small_corpus / "broken/truncated.jpg")]})
    out = next(adapters.compute_features(iter([pdf]), 1 << 26, 10**8, embed=None))
    assert list(out.columns) == list(adapters.FEATURE_COLUMNS)
    assert (out["width"][0], out["height"][0]) == (600, 400)
    assert out["quality"][0] > 1.0 and out[list(adapters.ROBUST_KEY_COLUMNS)].isna().all(axis=None)  # no keys asked
    assert out["decode_error"][1].startswith("not_an_image:")
    assert out["decode_error"][2].startswith("truncated:")
    assert pd.isna(out["phash"][1])


def test_compute_features_refuses_bytes_that_changed_since_hashing(small_corpus):
    pdf = pd.DataFrame({"content_sha256": ["0" * 64], "uri": [str(small_corpus / "originals/coffee.jpg")]})
    out = next(adapters.compute_features(iter([pdf]), 1 << 26, 10**8, embed=None, workers=2))
    assert out["decode_error"][0].startswith("changed: content sha256 is now ")
    assert pd.isna(out["width"][0]) and pd.isna(out["phash"][0])


def test_phash_bands_join_finds_exactly_the_pairs_within_the_threshold():
    rng = np.random.default_rng(3)
    base = rng.integers(-2**63, 2**63 - 1, size=60, dtype=np.int64)
    flips = [np.int64(1) << np.int64(b) for b in rng.integers(0, 63, size=(60, 12)).ravel()]
    near = base ^ np.array([np.bitwise_xor.reduce(flips[i * 12:i * 12 + k])
                            for i, k in enumerate(rng.integers(1, 12, size=60))], dtype=np.int64)
    hashes = np.unique(np.concatenate([base, near]))
    t, bands = 10, 4
    keys = next(adapters.phash_bands(iter([pd.DataFrame({"phash": hashes})]), bands, band_radius(t, bands)))
    exact, probe = keys[~keys["probe"]], keys[keys["probe"]]
    joined = probe.merge(exact, on=["band", "value"], suffixes=("_a", "_b"))
    joined = joined[joined["phash_a"] < joined["phash_b"]]
    d = hamming(joined["phash_a"].to_numpy(), joined["phash_b"].to_numpy())
    found = set(zip(joined["phash_a"][d <= t], joined["phash_b"][d <= t]))
    truth = {(a, b) for a, b in itertools.combinations(sorted(hashes), 2)
             if hamming(np.array([a]), np.array([b]))[0] <= t}
    assert truth and found == truth


def test_search_group_drops_self_pairs_and_orders_ids():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(6, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    v[1] = v[0]
    ids = [f"s{i}" for i in range(6)]
    for dtype in ("float32", "float16"):
        packed = next(adapters.pack_vectors(iter([pd.DataFrame({"content_sha256": ids, "embedding": list(v)})]),
                                            dtype))
        assert packed["embedding"].map(len).tolist() == [8 * np.dtype(dtype).itemsize] * 6
        pdf = pd.concat([packed.assign(role="m"), packed.assign(role="q")], ignore_index=True)
        out = adapters.search_group(pdf, threshold=0.99, max_neighbors=10, block_rows=2, dtype=dtype)
        pairs = set(zip(out["sha_a"], out["sha_b"]))
        assert pairs == {("s0", "s1")}
        assert np.allclose(out["similarity"], 1.0, atol=1e-5)
        # a 'b' row (member and query, shuffled once) counts as both
        both = adapters.search_group(packed.assign(role="b"), threshold=0.99, max_neighbors=10, block_rows=2,
                                     dtype=dtype)
        pd.testing.assert_frame_equal(both.sort_values(["sha_a", "sha_b"]).reset_index(drop=True),
                                      out.sort_values(["sha_a", "sha_b"]).reset_index(drop=True))
        mixed = pd.concat([packed.iloc[:3].assign(role="b"), packed.iloc[3:].assign(role="q")], ignore_index=True)
        got = adapters.search_group(mixed, threshold=-1.0, max_neighbors=10, block_rows=2, dtype=dtype)
        # every pair among the first three (members and queries), and each of the last three with them
        assert len(set(zip(got["sha_a"], got["sha_b"]))) == 3 + 3 * 3


def test_phash_survives_batches_with_failures_bit_exact(small_corpus):
    """A None in the batch must not push the 64-bit hashes through float64."""
    from PIL import Image

    from udfs.hashing import phash64

    good = small_corpus / "originals/astronaut.jpg"
    sha = hashlib.sha256(good.read_bytes()).hexdigest()
    pdf = pd.DataFrame({"content_sha256": [sha, "b"], "uri": [str(good), str(small_corpus / "broken/noise.jpg")]})
    out = next(adapters.compute_features(iter([pdf]), 1 << 26, 10**8, embed=None))
    with Image.open(good) as im:
        assert int(out["phash"][0]) == phash64(im.convert("RGB"))


def test_compute_features_adds_the_robust_keys_asked_for_bit_exact(small_corpus):
    """The key columns equal udfs.robust on the decoded image, also next to a failed row."""
    from PIL import Image

    from udfs import robust

    good = small_corpus / "originals/astronaut.jpg"
    sha = hashlib.sha256(good.read_bytes()).hexdigest()
    pdf = pd.DataFrame({"content_sha256": ["b", sha], "uri": [str(small_corpus / "broken/noise.jpg"), str(good)]})
    keys = adapters.robust_keys(["flip", "rotate"])
    assert keys == ("phash_trim", "phash_flip", "phash_c60", "phash_ccw5", "phash_cw5")
    out = next(adapters.compute_features(iter([pdf]), 1 << 26, 10**8, embed=None, keys=keys))
    with Image.open(good) as im:
        want = robust.robust_hashes(im.convert("RGB"))
        q = robust.quality(im.convert("RGB"))
    for column in keys:
        assert int(out[column][1]) == want[column], column
    assert pd.isna(out["phash_c80"][1]) and pd.isna(out["phash_trim"][0])
    assert out["quality"][1] == pytest.approx(q, rel=1e-6) and pd.isna(out["quality"][0])
