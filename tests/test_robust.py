"""udfs.robust kernels on small real photographs (scikit-image's bundled data).

Unit tests, no Spark. Images are downscaled to <= 256 px so the module runs in a few seconds.
"""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from PIL import Image, ImageOps

from jobs.config import PhashConfig
from jobs.corpus import load_original
from udfs import robust
from udfs.hashing import hamming, phash64


def _dist(a: int, b: int) -> int:
    return int(hamming(np.array([a], dtype=np.int64), np.array([b], dtype=np.int64))[0])


@pytest.fixture(scope="module")
def photos() -> dict[str, Image.Image]:
    out = {}
    for name in ("astronaut", "coffee", "camera", "coins", "chelsea", "rocket"):
        img = load_original(name)
        img.thumbnail((256, 256), Image.Resampling.LANCZOS)
        out[name] = img
    return out


def _border(img: Image.Image, share: float, fill=(255, 255, 255)) -> Image.Image:
    w, h = img.size
    bx, by = round(w * share), round(h * share)
    return ImageOps.expand(img.convert("RGB"), border=(bx, by, bx, by), fill=fill)


def _centre_crop(img: Image.Image, keep: float) -> Image.Image:
    w, h = img.size
    cw, ch = round(w * keep), round(h * keep)
    left, top = (w - cw) // 2, (h - ch) // 2
    return img.crop((left, top, left + cw, top + ch))


# ---------------------------------------------------------------------------- hashes

def test_keys_are_signed_int64_and_phash_is_the_job_hash(photos):
    for img in photos.values():
        keys = robust.robust_hashes(img)
        assert set(keys) <= set(robust.ALL_KEYS)
        assert {robust.KEY_PHASH, robust.KEY_TRIM, robust.KEY_FLIP} <= set(keys)
        assert all(isinstance(v, int) and -(1 << 63) <= v < (1 << 63) for v in keys.values())
        assert keys[robust.KEY_PHASH] == phash64(img)


def test_flip_key_is_the_hash_of_the_mirror(photos):
    for name, img in photos.items():
        keys = robust.robust_hashes(img)
        mirrored = robust.robust_hashes(ImageOps.mirror(img))
        assert _dist(robust.phash_flip(img), phash64(ImageOps.mirror(img))) <= 2, name
        assert _dist(mirrored[robust.KEY_TRIM], keys[robust.KEY_FLIP]) <= 2, name
        assert _dist(mirrored[robust.KEY_FLIP], keys[robust.KEY_TRIM]) <= 2, name
        # and a mirror is far from the unmirrored hash (what plain pHash misses)
        assert _dist(mirrored[robust.KEY_TRIM], keys[robust.KEY_TRIM]) > 10, name


def test_flip_from_dct_is_exact_on_a_mirrored_thumbnail():
    rng = np.random.default_rng(0)
    small = Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8), "L")
    coeffs = robust.dct_lowfreq(small)
    mirrored = robust.dct_lowfreq(ImageOps.mirror(small))
    assert robust.flip_hash_from_dct(coeffs) == robust.hash_from_dct(mirrored)


@pytest.mark.parametrize("fill", [(255, 255, 255), (0, 0, 0), (200, 30, 30)])
def test_border_is_trimmed(photos, fill):
    img = photos["astronaut"]
    framed = _border(img, 0.10, fill)
    box = robust.border_box(framed)
    assert box is not None
    w, h = img.size
    bx, by = round(w * 0.1), round(h * 0.1)
    tol = 0.02 * max(framed.size)
    assert np.allclose(box, (bx, by, bx + w, by + h), atol=tol)
    keys, framed_keys = robust.robust_hashes(img), robust.robust_hashes(framed)
    assert _dist(framed_keys[robust.KEY_TRIM], keys[robust.KEY_TRIM]) <= 6
    assert _dist(framed_keys[robust.KEY_PHASH], keys[robust.KEY_PHASH]) > 10  # what plain pHash sees


def test_letterbox_is_trimmed_but_a_one_sided_strip_is_not(photos):
    """Padding on two opposite sides is a frame; a uniform strip on one side is part of the
    picture (a sky that brightening widens), so the content box stays the whole image."""
    img = photos["coffee"]
    w, h = img.size
    boxed = Image.new("RGB", (w, round(h * 1.4)), (0, 0, 0))
    boxed.paste(img, (0, round(h * 0.2)))
    box = robust.border_box(boxed)
    assert box[1] == pytest.approx(0.2 * h, abs=0.02 * boxed.size[1])
    assert box[3] == pytest.approx(1.2 * h, abs=0.02 * boxed.size[1])
    assert _dist(robust.robust_hashes(boxed)[robust.KEY_TRIM], robust.robust_hashes(img)[robust.KEY_TRIM]) <= 6
    strip = Image.new("RGB", (w, round(h * 1.4)), (0, 0, 0))
    strip.paste(img, (0, 0))
    assert robust.border_box(strip) is None


def test_photos_without_borders_and_flat_images_are_not_trimmed(photos):
    assert robust.border_box(photos["astronaut"]) is None
    assert robust.border_box(photos["chelsea"]) is None
    assert robust.border_box(Image.new("RGB", (200, 120), (90, 90, 90))) is None
    assert robust.trim_borders(photos["astronaut"]) is photos["astronaut"]


def test_centre_crop_keys_match_centre_crops(photos):
    for name in ("astronaut", "coffee", "chelsea"):
        keys = robust.robust_hashes(photos[name])
        for keep, key in ((0.8, robust.KEY_C80), (0.6, robust.KEY_C60)):
            copy = robust.robust_hashes(_centre_crop(photos[name], keep))
            assert _dist(copy[robust.KEY_TRIM], keys[key]) <= 4, (name, keep)


def test_whole_picture_crop_keys_match_a_centre_cut_of_a_framed_picture(photos):
    # a photograph on a wide backdrop (a thick frame), cut at the centre of the whole picture: the
    # content-box crop keys are taken on another region, the whole-picture ones on this one
    near = []
    for name in ("astronaut", "coffee", "chelsea"):
        for share, fill in ((0.2, (255, 255, 255)), (0.3, (0, 0, 0))):
            framed = _border(photos[name], share, fill)
            f = robust.key_features(framed)
            assert f.thumb_whole is not None and f.thumb_full is None  # thick: the whole thumbnail is kept
            for keep, key in ((0.9, robust.KEY_W90), (0.8, robust.KEY_W80), (0.6, robust.KEY_W60)):
                cut = robust.key_features(_centre_crop(framed, keep)).hashes
                near.append(_dist(cut[robust.KEY_PHASH], f.hashes[key]) <= PhashConfig().wcrop_hamming)
                assert _dist(cut[robust.KEY_PHASH], f.hashes[key]) <= 4, (name, share, keep)
                box_keys = [f.hashes[k] for k in robust.CROP_KEYS if k in f.hashes]
                if keep > 0.6:  # the cut keeps a strip of the frame: no content-box crop key is near
                    assert min(_dist(cut[robust.KEY_TRIM], k) for k in box_keys) > 4, (name, share, keep)
    assert np.mean(near) >= 0.8  # within the shipped threshold
    plain = robust.key_features(photos["coffee"])  # no frame: the box is the picture, no extra keys
    assert not set(robust.WHOLE_CROP_KEYS) & set(plain.hashes) and plain.thumb_whole is None


def test_rotation_keys_match_a_turned_copy(photos):
    for name in ("astronaut", "coffee", "chelsea"):
        img = photos[name]
        keys = robust.robust_hashes(img)
        ccw = robust.robust_hashes(img.rotate(5, resample=Image.Resampling.BICUBIC))
        cw = robust.robust_hashes(img.rotate(-5, resample=Image.Resampling.BICUBIC))
        assert _dist(ccw[robust.KEY_C60], keys[robust.KEY_CCW5]) <= 6, name
        assert _dist(cw[robust.KEY_C60], keys[robust.KEY_CW5]) <= 6, name


def test_match_rule_names_real_keys():
    for a, b in robust.MATCH_BITS:
        assert a in robust.ALL_KEYS and b in robust.ALL_KEYS
    assert robust.VETO_FROM_BITS <= max(robust.MATCH_BITS.values()) < robust.VERIFY_UPTO_BITS


# ---------------------------------------------------------------------------- quality

def test_quality_is_low_for_flat_images_and_high_for_photos(photos):
    w, h = 240, 160
    flat = Image.new("RGB", (w, h), (128, 128, 128))
    black = Image.new("RGB", (w, h), (0, 0, 0))
    ramp = Image.fromarray(np.tile(np.linspace(0, 255, w, dtype=np.uint8), (h, 1)), "L")
    rng = np.random.default_rng(1)
    faint = Image.fromarray(np.clip(20 + rng.normal(0, 1, (h, w)), 0, 255).astype(np.uint8), "L")
    assert robust.quality(flat) == 0.0
    assert robust.quality(black) == 0.0
    assert robust.quality(ramp) < 5.0
    assert robust.quality(faint) < 1.0
    for name, img in photos.items():
        assert robust.quality(img) > 3.0, name
    dark = Image.eval(photos["coffee"], lambda v: int(v * 0.1))
    assert robust.quality(dark) < robust.quality(photos["coffee"]) / 5


def test_flat_crop_regions_emit_no_crop_keys():
    flat = Image.new("RGB", (200, 200), (30, 30, 30))
    keys = robust.robust_hashes(flat)
    assert robust.KEY_C80 not in keys and robust.KEY_C60 not in keys


# ---------------------------------------------------------------------------- verification
# The ORB verifier (udfs.robust.verify_pair) needs OpenCV, an optional extra the job does not use: only
# these tests wait for it; the key kernels above run everywhere.
needs_cv2 = pytest.mark.skipif(importlib.util.find_spec("cv2") is None,
                               reason="opencv-python-headless is not installed (ORB verifier)")


@needs_cv2
def test_verify_pair_is_high_for_crops_rotations_and_mirrors(photos):
    img = photos["astronaut"]
    assert robust.verify_pair(img, _centre_crop(img, 0.6)) >= 25
    assert robust.verify_pair(_centre_crop(photos["coffee"], 0.6), photos["coffee"]) >= 25
    assert robust.verify_pair(img, img.rotate(5, resample=Image.Resampling.BICUBIC)) >= 25
    assert robust.verify_pair(img, ImageOps.mirror(img)) >= 25
    assert robust.verify_pair(img, _border(img, 0.1)) >= 25


@needs_cv2
def test_verify_pair_is_low_for_unrelated_photos(photos):
    names = list(photos)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert robust.verify_pair(photos[a], photos[b]) < 8, (a, b)


@needs_cv2
def test_verify_pair_is_zero_for_flat_images():
    flat = Image.new("RGB", (160, 160), (128, 128, 128))
    assert robust.verify_pair(flat, flat) == 0.0


@needs_cv2
def test_verify_features_rejects_a_collapsed_fit():
    # every match lands on one spot: an affine map that collapses the image, not a duplicate
    rng = np.random.default_rng(2)
    desc = rng.integers(0, 256, (40, 32), dtype=np.uint8)
    a = robust.OrbFeatures(rng.uniform(0, 384, (40, 2)).astype(np.float32), desc)
    b = robust.OrbFeatures((200 + rng.uniform(0, 2, (40, 2))).astype(np.float32), desc)
    assert robust.verify_features(a, b) == 0


# ---------------------------------------------------------------------------- rotation fill

def _page(seed: int, lines: int = 2) -> Image.Image:
    """A near-blank white page (850 x 1100) with a few dark text-like bars at random places."""
    rng = np.random.default_rng(seed)
    a = np.full((1100, 850), 250, dtype=np.uint8)
    for _ in range(lines):
        x, y, n = int(rng.integers(60, 300)), int(rng.integers(60, 1000)), int(rng.integers(200, 500))
        for k in range(0, n, 9):  # "words": short bars with gaps
            a[y:y + 10, x + k:x + k + int(rng.integers(3, 8))] = 30
    return Image.fromarray(a).convert("RGB")


def _turn(img: Image.Image, degrees: float = 5.0) -> Image.Image:
    """As jobs.corpus.rotate_5: same canvas, black corners."""
    return img.convert("RGB").rotate(degrees, resample=Image.Resampling.BICUBIC, expand=False)


@pytest.mark.parametrize("degrees", [5.0, -5.0, 8.0])
def test_the_filled_corners_of_a_turned_page_are_found_and_painted(degrees):
    turned = _turn(_page(1), degrees)
    work, _ = robust.working_image(turned.convert("L"), 256)
    found = robust.rotation_fill(work)
    assert found is not None and abs(abs(found[0]) - abs(degrees)) <= 1.0 and found[1] < 10
    painted = np.asarray(robust.paint_rotation_fill(work))
    assert painted[:3, :3].min() > 200 and painted[-3:, -3:].min() > 200  # corners now page-coloured


def test_two_near_blank_pages_turned_alike_no_longer_look_alike():
    from udfs import verify

    a, b = _turn(_page(3, lines=1)), _turn(_page(4, lines=1))
    fa, fb = robust.key_features(a), robust.key_features(b)
    # unpainted, the black corners are most of what the thumbnails see: their detail correlates 0.98
    wa, wb = (verify.load(robust.thumbnail(robust.working_image(x.convert("L"), 256)[0])) for x in (a, b))
    assert verify.detail_correlation(wa, wb) > 0.9
    assert verify.score(fa.thumb, fb.thumb, "phash", fa.sparse or fb.sparse) < 0.4
    thumb = verify.load(fa.thumb)
    assert min(thumb[0, 0], thumb[-1, -1], thumb[0, -1], thumb[-1, 0]) > 200  # the page's colour
    # the keys are those of the picture as it is: a turned copy still meets its original's turned
    # keys, and it is not "framed" (that would change which copy is kept)
    assert fa.hashes[robust.KEY_TRIM] == fa.hashes[robust.KEY_PHASH]
    work, _ = robust.working_image(a.convert("L"), 256)
    box = robust.content(robust.paint_rotation_fill(work)).box  # painted, its box would close around the text
    assert box is not None and (box[3] - box[1]) < 0.2 * work.size[1]


def test_backdrop_corners_of_discs_and_rounded_icons_are_not_rotation_fill(photos):
    side = 200
    y, x = np.mgrid[0:side, 0:side]
    disc = np.where((x - 99.5) ** 2 + (y - 99.5) ** 2 <= 100 ** 2, 90, 255).astype(np.uint8)  # touches every edge
    rounded = np.full((side, side), 255, np.uint8)
    r = 30
    inside = ((np.minimum(x, side - 1 - x) >= r) | (np.minimum(y, side - 1 - y) >= r)
              | ((np.minimum(x, side - 1 - x) - r) ** 2 + (np.minimum(y, side - 1 - y) - r) ** 2 <= r * r))
    rounded[inside] = 120
    octagon = np.where(np.abs(x - 99.5) + np.abs(y - 99.5) <= 150, 60, 255).astype(np.uint8)
    for name, a in (("disc", disc), ("rounded", rounded), ("octagon", octagon)):
        assert robust.rotation_fill(Image.fromarray(a)) is None, name
    for name, img in photos.items():  # unturned pictures, with or without a backdrop
        work, _ = robust.working_image(img.convert("L"), 256)
        assert robust.paint_rotation_fill(work) is work, name
    # a picture on black turned on its black canvas: the corners are its own backdrop, nothing to paint
    sparse = _turn(Image.fromarray(np.where(disc < 128, 200, 0).astype(np.uint8)).resize((100, 100)))
    work, _ = robust.working_image(sparse.convert("L"), 256)
    assert robust.paint_rotation_fill(work) is work


def test_small_pictures_are_not_searched_for_rotation_fill():
    # a 64-px icon's rounded or brightened corners look like a turn's slivers; from 128 px on it is found
    icon = Image.new("RGB", (64, 64), (250, 250, 250))
    icon.paste((40, 90, 200), (16, 16, 48, 48))
    assert robust.rotation_fill(_turn(icon).convert("L")) is None
    found = robust.rotation_fill(_turn(icon.resize((256, 256))).convert("L"))
    assert found is not None and abs(abs(found[0]) - 5.0) <= 1.0
