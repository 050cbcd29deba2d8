"""The image keep policy keeps the copy with the most content: a crop or a thumbnail never
replaces its whole original, and a lossless file wins over a noisier re-encode of one size
(cluster.keep_order: content_pixels, framed, pixels, lossless, bytes)."""
from __future__ import annotations

import io
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw, ImageOps

from jobs import corpus
from jobs.config import ClusterConfig
from jobs.dedup import main
from jobs.manifest import content_pixels
from tests.helpers import read_run
from udfs import robust
from udfs.decode import decode_image, is_lossless


def _encode(img: Image.Image, fmt: str, **opts) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **opts)
    return buf.getvalue()


def _lossless(data: bytes) -> bool:
    return decode_image(data, 10**8).lossless


def test_lossless_formats_are_told_from_lossy_ones():
    img = corpus.load_original("astronaut").resize((64, 64))
    assert _lossless(_encode(img, "PNG")) and _lossless(_encode(img, "BMP"))
    assert _lossless(_encode(img, "WEBP", lossless=True))
    assert _lossless(_encode(img, "TIFF"))
    assert not _lossless(_encode(img, "JPEG", quality=95))
    assert not _lossless(_encode(img, "WEBP", quality=90))
    assert not _lossless(_encode(img.convert("P"), "GIF"))  # a palette of 256 colours is not the picture
    rgba = img.convert("RGBA")
    assert not _lossless(_encode(rgba, "WEBP", quality=90))  # VP8X + ALPH + VP8: lossy
    assert _lossless(_encode(rgba, "WEBP", lossless=True))
    assert not is_lossless(Image.new("RGB", (1, 1)), b"")  # made in memory: no format at all


def test_content_area_is_the_share_inside_the_content_box():
    photo = corpus.load_original("astronaut").resize((256, 256))
    assert robust.key_features(photo).area == 1.0
    padded = ImageOps.expand(photo, border=32, fill=(255, 255, 255))  # 256 of 320 per side
    assert robust.key_features(padded).area == pytest.approx((256 / 320) ** 2, rel=0.06)
    assert robust.box_area(None, (10, 10)) == 1.0 and robust.box_area((0, 0, 5, 10), (10, 10)) == 0.5


@pytest.mark.spark
def test_content_pixels_ties_a_padded_copy_and_ranks_crops_below(spark):
    from pyspark.sql import functions as F
    mp = 1024 * 1024  # the middle of a step: a box one working pixel off stays in it
    rows = [(mp, 1.0), (int(mp * 1.44), 1.01 / 1.44), (int(mp * 0.81), 1.0), (mp // 4, 1.0),
            (None, None), (mp, None)]
    df = spark.createDataFrame(rows, "pixels long, area float")
    got = [r[0] for r in df.select(content_pixels(F.col("pixels"), F.col("area"))).collect()]
    original, padded, crop90, half, unknown, no_area = got
    assert padded == original          # a padded copy holds as much content as its original
    assert crop90 < original and half < crop90
    assert unknown is None and no_area == original
    assert original == mp and half == mp // 4  # whole steps of 1/8 octave are exact


def test_default_keep_order_puts_content_first():
    order = ClusterConfig().order()
    assert [c for c, _ in order][:5] == ["content_pixels", "framed", "pixels", "lossless", "bytes"]
    assert order[-1] == ("item_id", "asc")


def _shapes(size: int = 320) -> Image.Image:
    """A flat drawing (few colours: a small PNG) with structure at every scale."""
    img = Image.new("RGB", (size, size), (40, 90, 160))
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(7)
    for _ in range(40):
        x, y = rng.integers(0, size, 2)
        r = int(rng.integers(size // 40, size // 6))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x - r, y - r, x + r, y + r), fill=colour)
    return img


@pytest.fixture(scope="module")
def keep_out(spark, tmp_path_factory) -> Path:
    """Two originals and their copies, each original the copy that should be kept; the run's output folder.

    framed: a photo on a black backdrop (it counts as framed) with a centre crop that cuts the
    backdrop off (unframed: the former keep order put unframed first and kept the crop) and a
    half-size copy. flat: a drawing stored as PNG and a noisier JPEG of the same size that has
    more bytes (the former order kept the larger file).
    """
    root = tmp_path_factory.mktemp("keep")
    photo = corpus.load_original("astronaut").resize((400, 400))
    framed = ImageOps.expand(photo, border=32, fill=(0, 0, 0))
    w, h = framed.size
    crop = framed.crop((w // 10, h // 10, w - w // 10, h - h // 10))
    drawing = _shapes()
    noisy = corpus.noise_5(drawing, np.random.default_rng(1))
    files = {"framed_original.png": _encode(framed, "PNG"),
             "framed_crop80.png": _encode(crop, "PNG"),
             "framed_half.jpg": _encode(framed.resize((w // 2, h // 2)), "JPEG", quality=90),
             "flat_original.png": _encode(drawing, "PNG", optimize=True),
             "flat_noisy.jpg": _encode(noisy, "JPEG", quality=98)}
    assert len(files["flat_noisy.jpg"]) > len(files["flat_original.png"])  # bytes alone would keep the noise
    for name, data in files.items():
        (root / name).write_bytes(data)
    out = root / "out"
    assert main(["run", "--input", str(root), "--output", str(out), "--run-id", "keep"]) == 0
    return out


@pytest.fixture(scope="module")
def keep_run(keep_out) -> pd.DataFrame:
    """The keep run's manifest by item_id."""
    return read_run(keep_out)[0].set_index("item_id")


@pytest.mark.spark
def test_two_framed_pictures_pair_as_phash_framed_on_the_strong_check(keep_out):
    # the original on its black backdrop and its half-size JPEG are both framed: their full-image pHash pair
    # is stored as phash_framed, a duplicate exactly when the whole pictures' check reaches far_verify
    _, pairs, _, summary = read_run(keep_out)
    framed = pairs[pairs["stage"] == "phash_framed"]
    assert {"framed_half.jpg", "framed_original.png"} <= set(framed["item_a"]) | set(framed["item_b"])
    assert (framed["hamming"] <= summary["thresholds"]["phash_candidate_hamming"]).all()
    far = summary["thresholds"]["phash_far_verify"]
    assert (framed["is_duplicate"] == (framed["verify_score"].fillna(-2) >= far)).all()
    assert framed["is_duplicate"].any()


@pytest.mark.spark
def test_whole_original_is_kept_over_its_crop_and_thumbnail(keep_run):
    by_id = keep_run
    assert by_id.at["framed_original.png", "action"] == "keep"
    for copy in ("framed_crop80.png", "framed_half.jpg"):
        assert by_id.at[copy, "action"] == "drop", by_id.loc[copy].to_dict()
        assert by_id.at[copy, "keeper_id"] == "framed_original.png"


@pytest.mark.spark
def test_lossless_original_is_kept_over_a_larger_noisy_reencode(keep_run):
    by_id = keep_run
    assert by_id.at["flat_original.png", "action"] == "keep"
    assert by_id.at["flat_noisy.jpg", "action"] == "drop"
    assert by_id.at["flat_noisy.jpg", "keeper_id"] == "flat_original.png"
