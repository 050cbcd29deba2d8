"""Tests for jobs.corpus: the built-in example corpus and planted-edit corpora."""
from __future__ import annotations

import io
from pathlib import Path

import imagehash
import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageFile

from jobs import corpus
from jobs.corpus import (
    ALL_EDITS,
    BROKEN_FILES,
    DEFAULT_EXAMPLE_EDITS,
    EDITS,
    ORIGINAL_NAMES,
    PHASH_ROBUST_EDITS,
    PLANTED_COLUMNS,
    build_corpus,
    expected_pairs,
    load_original,
    measure_phash_distances,
    original_phash_distances,
)

SUBSET = ("astronaut", "camera", "text")  # colour photo, grayscale photo, small scan
REQUIRED_EDITS = {
    "resize_50", "resize_25", "jpeg_q30", "png", "grayscale", "brighten_30",
    "contrast_150", "crop_90", "flip_h", "border_10", "rotate_5",
}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus_a")
    df = build_corpus(root, originals=SUBSET, exact_copies=2, corrupt=True, seed=0)
    return root, df


def test_registry_and_names():
    assert REQUIRED_EDITS <= set(EDITS)
    assert ALL_EDITS == tuple(EDITS)
    assert set(PHASH_ROBUST_EDITS) < set(EDITS)
    assert set(DEFAULT_EXAMPLE_EDITS) == set(EDITS)
    assert {"flip_h", "border_10", "rotate_5"}.isdisjoint(PHASH_ROBUST_EDITS)
    assert "cat" not in ORIGINAL_NAMES and "chelsea" in ORIGINAL_NAMES
    assert len(set(ORIGINAL_NAMES)) == len(ORIGINAL_NAMES) >= 12
    with pytest.raises(KeyError):
        load_original("not_a_sample")
    with pytest.raises(KeyError):
        build_corpus("/nonexistent-never-written", edits=["nope"])


def test_load_original_is_rgb():
    for name in ORIGINAL_NAMES:
        img = load_original(name)
        assert isinstance(img, Image.Image)
        assert img.mode == "RGB"
        assert min(img.size) >= 100


def test_edits_are_small_functions_returning_images():
    img = load_original("coins")
    rng = np.random.default_rng(0)
    for name, fn in EDITS.items():
        out = fn(img, rng)
        assert isinstance(out, Image.Image), name
        assert out is not img, name
    assert EDITS["resize_50"](img, rng).size == (192, 152)
    assert EDITS["crop_90"](img, rng).size == (round(384 * 0.9), round(303 * 0.9))
    assert EDITS["border_10"](img, rng).size[0] > img.size[0]
    assert EDITS["grayscale"](img, rng).mode == "L"
    assert np.array_equal(np.asarray(EDITS["png"](img, rng)), np.asarray(img))
    assert np.array_equal(np.asarray(EDITS["flip_h"](img, rng))[:, ::-1], np.asarray(img))


def test_rows_schema_and_layout(small_corpus):
    root, df = small_corpus
    assert tuple(df.columns) == PLANTED_COLUMNS
    n = len(SUBSET)
    assert len(df) == n + 2 + n * len(ALL_EDITS) + len(BROKEN_FILES)
    assert df["file"].is_unique
    ok = df[df["edit"] != "corrupt"]
    assert (ok["group"] == ok["original"]).all()
    assert set(ok["group"]) == set(SUBSET)
    bad = df[df["edit"] == "corrupt"]
    assert sorted(bad["file"]) == sorted(BROKEN_FILES)
    assert bad["group"].isna().all() and bad["original"].isna().all()
    assert bad["group"].map(lambda g: g is None).all()
    for name in SUBSET:
        assert f"originals/{name}.jpg" in set(df["file"])
        assert f"edited/{name}__png.png" in set(df["file"])
        assert f"edited/{name}__jpeg_q30.jpg" in set(df["file"])
    # copies cycle through the originals in order
    assert list(df.loc[df["edit"] == "exact_copy", "file"]) == [
        "copies/astronaut__copy1.jpg", "copies/camera__copy1.jpg",
    ]


def test_file_counts_match_rows_and_csv(small_corpus):
    root, df = small_corpus
    on_disk = set(_files(root)) - {"planted.csv"}
    assert on_disk == set(df["file"])
    csv = pd.read_csv(root / "planted.csv")
    assert list(csv.columns) == list(PLANTED_COLUMNS)
    assert csv["file"].tolist() == df["file"].tolist()
    assert csv["edit"].tolist() == df["edit"].tolist()
    assert csv["group"].isna().tolist() == df["group"].isna().tolist()


def test_files_are_valid_and_formats(small_corpus):
    root, df = small_corpus
    for rel, edit in zip(df["file"], df["edit"]):
        if edit == "corrupt":
            continue
        with Image.open(root / rel) as im:
            im.load()
            assert im.format == ("PNG" if edit == "png" else "JPEG"), rel
            assert not im.info.get("exif") and not im.info.get("icc_profile"), rel
    # png edit is a lossless re-encode of the decoded original JPEG
    for name in SUBSET:
        a = np.asarray(Image.open(root / f"originals/{name}.jpg").convert("RGB"))
        b = np.asarray(Image.open(root / f"edited/{name}__png.png").convert("RGB"))
        assert np.array_equal(a, b)
    # jpeg_q30 really is smaller than the q92 original
    for name in SUBSET:
        assert (root / f"edited/{name}__jpeg_q30.jpg").stat().st_size < (root / f"originals/{name}.jpg").stat().st_size


def test_exact_copies_are_byte_identical(small_corpus):
    root, df = small_corpus
    copies = df[df["edit"] == "exact_copy"]
    assert len(copies) == 2
    for rel, name in zip(copies["file"], copies["original"]):
        assert (root / rel).read_bytes() == (root / f"originals/{name}.jpg").read_bytes()


def test_corrupt_files_fail_to_open(small_corpus, monkeypatch):
    root, _ = small_corpus
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", False)
    assert (root / "broken/empty.jpg").stat().st_size == 0
    for rel in BROKEN_FILES:
        with pytest.raises(Exception):
            with Image.open(root / rel) as im:
                im.load()


def test_deterministic_byte_identical(small_corpus, tmp_path):
    root_a, df_a = small_corpus
    root_b = tmp_path / "corpus_b"
    df_b = build_corpus(root_b, originals=SUBSET, exact_copies=2, corrupt=True, seed=0)
    pd.testing.assert_frame_equal(df_a, df_b)
    fa, fb = _files(root_a), _files(root_b)
    assert fa.keys() == fb.keys()
    for rel in fa:
        assert fa[rel] == fb[rel], rel


def test_seed_changes_only_random_edits(tmp_path):
    a = build_corpus(tmp_path / "s0", originals=["coins"], edits=["noise_5", "png"], seed=0, exact_copies=0)
    b = build_corpus(tmp_path / "s1", originals=["coins"], edits=["noise_5", "png"], seed=1, exact_copies=0)
    assert a["file"].tolist() == b["file"].tolist()
    read = lambda root, rel: (root / rel).read_bytes()  # noqa: E731
    assert read(tmp_path / "s0", "edited/coins__noise_5.jpg") != read(tmp_path / "s1", "edited/coins__noise_5.jpg")
    assert read(tmp_path / "s0", "edited/coins__png.png") == read(tmp_path / "s1", "edited/coins__png.png")
    assert read(tmp_path / "s0", "broken/noise.jpg") != read(tmp_path / "s1", "broken/noise.jpg")


def test_no_corrupt_no_copies(tmp_path):
    df = build_corpus(tmp_path, originals=["moon"], edits=["flip_h"], exact_copies=0, corrupt=False)
    assert df["file"].tolist() == ["originals/moon.jpg", "edited/moon__flip_h.jpg"]
    assert not (tmp_path / "broken").exists() and not (tmp_path / "copies").exists()


def test_originals_pairwise_distinct():
    table = original_phash_distances()
    d = table.to_numpy().copy()
    assert (np.diag(d) == 0).all()
    assert (d == d.T).all()
    np.fill_diagonal(d, 999)
    assert d.min() > 12, table  # measured: 20 (hubble_deep_field vs retina)


def test_phash_measurement_supports_robust_edits():
    t = measure_phash_distances()
    assert list(t.index) == list(ORIGINAL_NAMES)
    assert list(t.columns) == [*ALL_EDITS, "nearest_other_original"]
    robust = t[list(PHASH_ROBUST_EDITS)]
    assert robust.to_numpy().max() <= 10
    # every robust edit sits closer to its original than any other original does
    assert robust.to_numpy().max() < t["nearest_other_original"].min()
    assert (t["png"] == 0).all() and (t["grayscale"] == 0).all()
    # flips are hopeless for pHash; crop/border/rotate miss on some photos
    assert (t["flip_h"] > 10).all()
    for edit in set(ALL_EDITS) - set(PHASH_ROBUST_EDITS):
        assert t[edit].max() > 10, edit


def test_phash_measurement_matches_files_on_disk(small_corpus):
    root, _ = small_corpus
    t = measure_phash_distances(originals=SUBSET, edits=["brighten_30", "rotate_5"])

    def h(rel):
        with Image.open(root / rel) as im:
            return imagehash.phash(im)

    for name in SUBSET:
        for edit in ("brighten_30", "rotate_5"):
            assert t.loc[name, edit] == h(f"originals/{name}.jpg") - h(f"edited/{name}__{edit}.jpg")


def test_expected_pairs_tiny():
    planted = pd.DataFrame(
        [
            ("originals/a.jpg", "a", "original", "a"),
            ("copies/a__copy1.jpg", "a", "exact_copy", "a"),
            ("edited/a__flip_h.jpg", "a", "flip_h", "a"),
            ("edited/a__png.png", "a", "png", "a"),
            ("originals/b.jpg", "b", "original", "b"),
            ("edited/b__png.png", "b", "png", "b"),
            ("broken/empty.jpg", None, "corrupt", None),
            ("broken/noise.jpg", None, "corrupt", None),
        ],
        columns=list(PLANTED_COLUMNS),
    )
    assert expected_pairs(planted, {"png"}) == {
        ("copies/a__copy1.jpg", "edited/a__png.png"),
        ("copies/a__copy1.jpg", "originals/a.jpg"),
        ("edited/a__png.png", "originals/a.jpg"),
        ("edited/b__png.png", "originals/b.jpg"),
    }
    assert expected_pairs(planted, []) == {("copies/a__copy1.jpg", "originals/a.jpg")}
    assert len(expected_pairs(planted, ["png", "flip_h", "corrupt"])) == 6 + 1
    for a, b in expected_pairs(planted, ALL_EDITS):
        assert a < b


def test_expected_pairs_on_built_corpus(small_corpus):
    _, df = small_corpus
    pairs = expected_pairs(df, PHASH_ROBUST_EDITS)
    # per group: original + copies + robust edits, all pairs
    per_group = {"astronaut": 1 + 1, "camera": 1 + 1, "text": 1}
    k = len(PHASH_ROBUST_EDITS)
    assert len(pairs) == sum((c + k) * (c + k - 1) // 2 for c in per_group.values())
    files = {f for p in pairs for f in p}
    assert not any(f.startswith("broken/") for f in files)
    assert not any("__flip_h" in f for f in files)


def test_encode_is_metadata_free():
    img = load_original("camera")
    a = corpus.encode_image(img, "JPEG", 92)
    b = corpus.encode_image(Image.open(io.BytesIO(a)), "JPEG", 92)  # decoded file (has jfif info)
    assert a[:2] == b"\xff\xd8" and b[:2] == b"\xff\xd8"
    assert b"Exif" not in a and b"ICC_PROFILE" not in a
    assert corpus.encode_image(img, "PNG", None)[:8] == b"\x89PNG\r\n\x1a\n"
