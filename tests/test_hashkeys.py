"""The weight-free key families (jobs/hashkeys.py) against a brute-force reference."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from jobs import candidates, hashkeys
from jobs.config import PhashConfig
from udfs.adapters import FEATURE_COLUMNS, FEATURE_DDL, ROBUST_KEY_COLUMNS
from udfs.hashing import hamming

pytestmark = pytest.mark.spark

KEYS = ("phash", *ROBUST_KEY_COLUMNS)


def _random_hashes(rng, n: int) -> np.ndarray:
    """Hashes with about 32 bits set, as pHashes have."""
    bits = rng.random((n, 64)) < 0.5
    return np.array([int.from_bytes(np.packbits(b).tobytes(), "big", signed=True) for b in bits], dtype=np.int64)


def _near(rng, h: int, distance: int) -> int:
    """A hash `distance` bits away from h (signed int64 in, signed int64 out)."""
    mask = np.uint64(sum(1 << int(p) for p in rng.choice(64, size=distance, replace=False)))
    return int((np.array([h], np.int64).view(np.uint64) ^ mask).view(np.int64)[0])


def _features(rng, n: int = 120) -> pd.DataFrame:
    """n contents with random keys, then planted near pairs for every key pair of KEY_PAIRS."""
    rows = {k: list(_random_hashes(rng, n)) for k in KEYS}
    rows["phash_trim"] = [p if i % 3 else t for i, (p, t) in enumerate(zip(rows["phash"], rows["phash_trim"]))]
    bound = PhashConfig().key_candidate_hamming
    for probe, index, family in hashkeys.KEY_PAIRS * 4:  # some within the bound, some just beyond
        a, b = rng.choice(n, size=2, replace=False)
        rows[index][b] = _near(rng, int(rows[probe][a]), int(rng.integers(0, bound(family) + 2)))
    df = pd.DataFrame({k: pd.array(v, dtype="Int64") for k, v in rows.items()})
    df["content_sha256"] = [f"c{i:04d}" for i in range(n)]
    df["quality"] = np.where(np.arange(n) % 17 == 5, 0.2, 8.0).astype(np.float32)  # a few flat images
    df.loc[7, "phash_c60"] = pd.NA  # a flat centre emits no key
    df["width"], df["height"], df["embedding"], df["decode_error"] = 100, 100, None, None
    df["thumb"], df["thumb_full"], df["thumb_whole"] = None, None, None
    df["sparse"], df["information"] = False, np.float32(9.0)
    df["chroma"], df["place"] = None, None
    df["content_area"], df["lossless"] = np.float32(1.0), False
    return df[list(FEATURE_COLUMNS)]


def _brute(df: pd.DataFrame, cfg: PhashConfig) -> set[tuple[str, str, str, int]]:
    ok = df[df["quality"] >= cfg.min_quality].reset_index(drop=True)
    framed = (ok["phash_trim"].notna() & (ok["phash_trim"] != ok["phash"])).to_numpy()
    out: dict[tuple[str, str, str], int] = {}
    for probe, index, family in hashkeys.KEY_PAIRS:
        if family not in cfg.keys:
            continue
        for i in range(len(ok)):
            for j in range(len(ok)):
                if i == j or pd.isna(ok.at[i, probe]) or pd.isna(ok.at[j, index]):
                    continue
                if family == "trim" and not framed[i]:
                    continue
                d = int(hamming(np.array([ok.at[i, probe]]), np.array([ok.at[j, index]]))[0])
                if d <= cfg.key_candidate_hamming(family):
                    a, b = sorted((ok.at[i, "content_sha256"], ok.at[j, "content_sha256"]))
                    key = (a, b, f"phash_{family}")
                    out[key] = min(d, out.get(key, 64))
    return {(*k, d) for k, d in out.items()}


@pytest.mark.parametrize("keys", [("trim", "flip", "crop", "rotate", "wcrop"), ("flip",), ("wcrop",), ()])
def test_key_pairs_equal_brute_force(spark, keys):
    rng = np.random.default_rng(len(keys))
    df = _features(rng)
    cfg = PhashConfig(keys=keys)
    feats = spark.createDataFrame(df, FEATURE_DDL)
    got = hashkeys.key_pairs(hashkeys.hashable(feats, cfg), cfg).toPandas()
    found = set(zip(got["sha_a"], got["sha_b"], got["stage"], got["hamming"]))
    truth = _brute(df, cfg)
    assert found == truth
    if keys:
        assert len(truth) >= 2 * len(keys) and {s for *_, s, _ in truth} == {f"phash_{k}" for k in keys}
    assert np.allclose(got["similarity"], 1 - got["hamming"] / 64)
    flat = set(df.loc[df["quality"] < PhashConfig().min_quality, "content_sha256"])
    assert not flat & (set(got["sha_a"]) | set(got["sha_b"]))


def test_decide_applies_each_family_threshold(spark):
    cfg = PhashConfig(trim_hamming=5, flip_hamming=3, crop_hamming=2, rotate_hamming=1, wcrop_hamming=0, max_hamming=4,
                      min_verify=0.5, min_verify_sparse=0.3)
    rows = [("a", "b", s, 1 - h / 64, h, v, False)
            for s in ("phash", "phash_trim", "phash_flip", "phash_crop", "phash_rotate", "phash_wcrop")
            for h in range(0, 7) for v in (0.9, 0.4, None)]
    ddl = "sha_a string, sha_b string, stage string, similarity double, hamming int, verify_score double, sparse boolean"
    pairs = spark.createDataFrame(rows, ddl)
    from jobs.config import EmbeddingConfig
    got = candidates.decide(pairs, cfg, EmbeddingConfig()).toPandas()
    limit = {"phash": 4, "phash_trim": 5, "phash_flip": 3, "phash_crop": 2, "phash_rotate": 1, "phash_wcrop": 0}
    verified = got["verify_score"].fillna(-2) >= 0.5  # a pair the pixel check could not score fails it
    assert (got["is_duplicate"] == ((got["hamming"] <= got["stage"].map(limit)) & verified)).all()
    assert got["is_duplicate"].sum() == 5 + 6 + 4 + 3 + 2 + 1  # distances within each limit, verified at 0.9 only
    unchecked = candidates.decide(pairs, dataclasses.replace(cfg, min_verify=-1), EmbeddingConfig()).toPandas()
    assert (unchecked["is_duplicate"] == (unchecked["hamming"] <= unchecked["stage"].map(limit))).all()
    # a pair with a sparse image is held to min_verify_sparse (on the detail correlation)
    sparse = spark.createDataFrame([("a", "b", "phash", 1.0, 0, 0.4, True), ("a", "b", "phash", 1.0, 0, 0.2, True)], ddl)
    assert candidates.decide(sparse, cfg, EmbeddingConfig()).toPandas()["is_duplicate"].tolist() == [True, False]


def test_far_phash_pairs_pass_only_on_a_strong_pixel_check(spark):
    """Beyond max_hamming, up to candidate_hamming, a full-image pHash pair is a duplicate when its
    pixel check reaches far_verify; the key families keep their own bounds."""
    from jobs.config import EmbeddingConfig
    cfg = PhashConfig(max_hamming=4, trim_hamming=4, candidate_hamming=10, min_verify=0.5, min_verify_sparse=0.5,
                      far_verify=0.95)
    ddl = "sha_a string, sha_b string, stage string, similarity double, hamming int, verify_score double, sparse boolean"
    rows = [("a", "b", s, 1 - h / 64, h, v, sp) for s in ("phash", "phash_trim") for h in (4, 6, 8, 10, 12)
            for v in (0.97, 0.9, None) for sp in (False, True)]
    got = candidates.decide(spark.createDataFrame(rows, ddl), cfg, EmbeddingConfig()).toPandas()
    v = got["verify_score"].fillna(-2)
    near = (got["hamming"] <= 4) & (v >= 0.5)
    far = (got["stage"] == "phash") & (got["hamming"] <= 10) & (v >= 0.95)
    assert (got["is_duplicate"] == (near | far)).all()
    assert int((far & ~near).sum()) == 3 * 2  # h 6, 8, 10 at 0.97, sparse or not: only the far rule takes them
    off = candidates.decide(spark.createDataFrame(rows, ddl), dataclasses.replace(cfg, far_verify=-1),
                            EmbeddingConfig()).toPandas()
    assert (off["is_duplicate"] == near).all()


def test_pairs_at_the_limit_need_limit_verify(spark):
    """A full-image or mirrored pHash pair at its family's limit (the last even step) needs
    limit_verify; nearer pairs and the other families keep min_verify; -1 turns the rule off."""
    from jobs.config import EmbeddingConfig
    cfg = PhashConfig(max_hamming=6, flip_hamming=4, trim_hamming=6, crop_hamming=6, candidate_hamming=6,
                      min_verify=0.6, min_verify_sparse=0.4, far_verify=0.95, limit_verify=0.8)
    ddl = "sha_a string, sha_b string, stage string, similarity double, hamming int, verify_score double, sparse boolean"
    rows = [("a", "b", s, 1 - h / 64, h, v, sp) for s in ("phash", "phash_flip", "phash_trim", "phash_crop")
            for h in (2, 3, 4, 5, 6) for v in (0.85, 0.7, 0.5) for sp in (False, True)]
    got = candidates.decide(spark.createDataFrame(rows, ddl), cfg, EmbeddingConfig()).toPandas()
    limit = got["stage"].map({"phash": 6, "phash_flip": 4, "phash_trim": 6, "phash_crop": 6})
    at_limit = got["stage"].isin(["phash", "phash_flip"]) & (got["hamming"] >= limit - 1) & (got["hamming"] <= limit)
    bar = np.where(got["sparse"], 0.4, 0.6)
    bar = np.where(at_limit, np.maximum(bar, 0.8), bar)
    want = (got["hamming"] <= limit) & (got["verify_score"] >= bar)
    assert (got["is_duplicate"] == want).all()
    # a pHash pair at 6 bits with a 0.7 check fails, at 4 bits it passes; a trim pair at 6 passes
    pick = lambda st, h, v: got[(got["stage"] == st) & (got["hamming"] == h) & (got["verify_score"] == v)  # noqa: E731
                                & ~got["sparse"]]["is_duplicate"].item()
    assert not pick("phash", 6, 0.7) and pick("phash", 4, 0.7) and pick("phash_trim", 6, 0.7)
    assert not pick("phash_flip", 4, 0.7) and pick("phash_flip", 2, 0.7) and pick("phash", 6, 0.85)
    off = candidates.decide(spark.createDataFrame(rows, ddl), dataclasses.replace(cfg, limit_verify=-1),
                            EmbeddingConfig()).toPandas()
    assert (off["is_duplicate"] == ((off["hamming"] <= limit) & (off["verify_score"] >= np.where(off["sparse"], 0.4, 0.6)))).all()
    assert cfg.verify_bar(False, "phash", 6) == 0.8 and cfg.verify_bar(True, "phash", 2) == 0.4
    assert cfg.verify_bar(False, "phash_trim", 6) == 0.6 and cfg.verify_bar(False) == 0.6


def _framed_stages(pairs, feats, keep: bool = True) -> dict:
    got = hashkeys.framed_phash_pairs(pairs, feats, keep=keep).toPandas()
    return dict(zip(zip(got["sha_a"], got["sha_b"]), got["stage"]))


def test_full_phash_pairs_between_two_framed_images_need_the_whole_pictures(spark):
    # a and b framed, c not: a-b becomes a phash_framed pair (decided on the whole pictures),
    # or is dropped when the strong check is off (far_verify -1)
    feats = spark.createDataFrame(pd.DataFrame({
        "content_sha256": ["a", "b", "c"], "phash": [1, 2, 3], "phash_trim": [11, 12, 3]}))
    pairs = spark.createDataFrame([("a", "b", "phash"), ("a", "c", "phash"), ("b", "c", "phash")],
                                  "sha_a string, sha_b string, stage string")
    assert _framed_stages(pairs, feats) == {("a", "b"): "phash_framed", ("a", "c"): "phash", ("b", "c"): "phash"}
    assert _framed_stages(pairs, feats, keep=False) == {("a", "c"): "phash", ("b", "c"): "phash"}


def test_full_phash_pairs_between_two_thin_frames_stay_plain(spark):
    # a, b, d framed; a and b thinly (they keep their whole thumbnails), d thickly
    feats = spark.createDataFrame(pd.DataFrame({
        "content_sha256": ["a", "b", "c", "d"], "phash": [1, 2, 3, 4], "phash_trim": [11, 12, 3, 14],
        "thumb_full": [b"\x01", b"\x02", None, None]}))
    pairs = spark.createDataFrame([("a", "b", "phash"), ("a", "c", "phash"), ("a", "d", "phash"), ("b", "d", "phash"),
                                   ("c", "d", "phash")], "sha_a string, sha_b string, stage string")
    assert _framed_stages(pairs, feats) == {("a", "b"): "phash", ("a", "c"): "phash", ("a", "d"): "phash_framed",
                                            ("b", "d"): "phash_framed", ("c", "d"): "phash"}


def test_framed_phash_pairs_pass_only_on_the_strong_check(spark):
    """A phash_framed pair is a duplicate up to candidate_hamming when its whole-picture check
    reaches far_verify, never on the ordinary bar; with far_verify -1 never."""
    from jobs.config import EmbeddingConfig
    cfg = PhashConfig(max_hamming=4, candidate_hamming=10, min_verify=0.5, min_verify_sparse=0.5, far_verify=0.95)
    ddl = "sha_a string, sha_b string, stage string, similarity double, hamming int, verify_score double, sparse boolean"
    rows = [("a", "b", "phash_framed", 1 - h / 64, h, v, sp) for h in (0, 4, 8, 10, 12) for v in (0.97, 0.9, None)
            for sp in (False, True)]
    got = candidates.decide(spark.createDataFrame(rows, ddl), cfg, EmbeddingConfig()).toPandas()
    want = (got["hamming"] <= 10) & (got["verify_score"].fillna(-2) >= 0.95)
    assert (got["is_duplicate"] == want).all() and int(want.sum()) == 4 * 2
    off = candidates.decide(spark.createDataFrame(rows, ddl), dataclasses.replace(cfg, far_verify=-1),
                            EmbeddingConfig()).toPandas()
    assert not off["is_duplicate"].any()


def test_pictures_turned_on_their_canvas_keep_their_keys_and_are_not_framed(spark):
    # two near-blank pages turned 5 degrees (black corners): the pixel check sees them without the
    # corners (udfs.verify), but their keys stay those of the pictures as they are: not framed, so
    # their full-image pHash pair is kept for the check and the keep order does not change
    from PIL import Image
    from udfs import robust

    def page(seed: int) -> Image.Image:
        rng = np.random.default_rng(seed)
        a = np.full((1100, 850), 250, np.uint8)
        x, y = int(rng.integers(80, 600)), int(rng.integers(80, 1000))
        a[y:y + 10, x:x + int(rng.integers(60, 160))] = 30
        return Image.fromarray(a).convert("RGB").rotate(5, resample=Image.Resampling.BICUBIC, expand=False)

    keyed = [robust.key_features(page(s)) for s in (1, 2)]
    feats = spark.createDataFrame(pd.DataFrame({
        "content_sha256": ["a", "b"], "phash": [k.hashes["phash"] for k in keyed],
        "phash_trim": [k.hashes["phash_trim"] for k in keyed], "thumb_full": [k.thumb_full for k in keyed]}))
    assert feats.select(hashkeys.is_framed().alias("f")).toPandas()["f"].tolist() == [False, False]
    pairs = spark.createDataFrame([("a", "b", "phash")], "sha_a string, sha_b string, stage string")
    assert _framed_stages(pairs, feats) == {("a", "b"): "phash"}
