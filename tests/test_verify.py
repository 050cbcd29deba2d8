"""Pixel check of hash edges (udfs/verify.py) and the information measures of udfs/robust.py."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from jobs import corpus
from jobs.config import PhashConfig
from udfs import robust, verify


def _jpeg(img: Image.Image, quality: int = 30) -> Image.Image:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _features(img: Image.Image) -> robust.KeyFeatures:
    return robust.key_features(img)


def _nebula(seed: int, side: int = 480) -> Image.Image:
    """A small bright blob with its own knots and a few stars, centred on black (as in sky atlases)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    c = side / 2
    img = 220 * np.exp(-((x - c) ** 2 + (y - c) ** 2) / (2 * (side / 14) ** 2))
    for _ in range(12):  # knots inside the blob: the detail that tells two nebulae apart
        kx, ky = rng.normal(c, side / 22, size=2)
        img += 90 * np.exp(-((x - kx) ** 2 + (y - ky) ** 2) / (2 * (side / 90) ** 2))
    for _ in range(25):
        sx, sy = rng.integers(0, side, size=2)
        img[max(0, sy - 1):sy + 2, max(0, sx - 1):sx + 2] += 200
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).convert("RGB")


@pytest.fixture(scope="module")
def photos() -> dict[str, Image.Image]:
    return {n: corpus.load_original(n) for n in ("astronaut", "camera", "chelsea")}


def test_thumbnail_round_trip():
    img = Image.new("L", (300, 200), 10)
    thumb = verify.thumbnail(img)
    assert len(thumb) == verify.THUMB_SIDE ** 2
    assert verify.load(thumb).shape == (verify.THUMB_SIDE, verify.THUMB_SIDE)
    with pytest.raises(ValueError):
        verify.load(b"short")


@pytest.mark.parametrize("edit,stage", [
    ("jpeg", "phash"), ("resize", "phash"), ("brighten", "phash"), ("flip", "phash_flip"),
    ("crop80", "phash_crop"), ("rotate", "phash_rotate")])
def test_an_edited_copy_passes_under_its_family(photos, edit, stage):
    img = photos["astronaut"]
    w, h = img.size
    copy = {"jpeg": lambda: _jpeg(img),
            "resize": lambda: img.resize((w // 4, h // 4), Image.Resampling.LANCZOS),
            "brighten": lambda: img.point(lambda v: min(255, int(v * 1.3))),
            "flip": lambda: img.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            "crop80": lambda: img.crop((w // 10, h // 10, w - w // 10, h - h // 10)),
            "rotate": lambda: img.rotate(5, resample=Image.Resampling.BILINEAR)}[edit]()
    a, b = _features(img), _features(copy)
    assert verify.score(a.thumb, b.thumb, stage) >= 0.8
    assert verify.score(b.thumb, a.thumb, stage) >= 0.8  # either image may be the edited one


def test_different_photos_fail_under_every_family(photos):
    a, b = _features(photos["astronaut"]), _features(photos["camera"])
    for stage in verify.STAGE_FAMILY:
        assert verify.score(a.thumb, b.thumb, stage) < 0.5, stage


def test_two_nebulae_look_alike_but_their_detail_differs():
    one, other = _nebula(1), _nebula(2)
    fa, fb = _features(one), _features(other)
    assert fa.sparse and fb.sparse
    # the whole picture says "a blob in the middle" for both ...
    x, y = next(verify.views(verify.load(fa.thumb), verify.load(fb.thumb), "trim"))
    assert verify.correlation(x, y) > 0.8
    # ... which the exactly aligned families' cap on the detail already sees through
    assert verify.score(fa.thumb, fb.thumb, "phash_trim", sparse=False) < 0.6
    # ... their detail does not, while a compressed, halved copy keeps it
    assert verify.score(fa.thumb, fb.thumb, "phash_trim", sparse=True) < 0.3
    copy = _features(_jpeg(one.resize((240, 240), Image.Resampling.LANCZOS), 40))
    assert copy.sparse
    assert verify.score(fa.thumb, copy.thumb, "phash_trim", sparse=True) >= 0.5


def _icon(emblem: str | None, side: int = 256) -> Image.Image:
    """One icon template (a shaded folder on white) with a small emblem in its lower right corner."""
    img = Image.new("RGB", (side, side), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle((side // 8, side // 4, side - side // 8, side - side // 8), fill=(120, 150, 200))
    draw.rectangle((side // 8, side // 6, side // 2, side // 4), fill=(90, 120, 170))
    draw.rectangle((side // 8, side // 4, side - side // 8, side // 4 + side // 16), fill=(150, 180, 230))
    box = (side // 2, side // 2, side - side // 6, side - side // 6)
    if emblem == "disc":
        draw.ellipse(box, fill=(250, 250, 250), outline=(20, 20, 20), width=side // 40)
    elif emblem == "bars":
        for k in range(4):
            y = box[1] + k * (box[3] - box[1]) // 4
            draw.rectangle((box[0], y, box[2], y + side // 40), fill=(20, 20, 20))
    return img


def test_one_icon_template_with_another_emblem_differs_block_by_block():
    plain, disc, bars = (_features(_icon(e)) for e in (None, "disc", "bars"))
    x, y = next(verify.views(verify.load(plain.thumb), verify.load(bars.thumb), "trim"))
    assert verify.correlation(x, y) > 0.6              # the template alone passes min_verify 0.6 ...
    for fa, fb in ((plain, disc), (disc, bars), (plain, bars)):
        x, y = next(verify.views(verify.load(fa.thumb), verify.load(fb.thumb), "trim"))
        assert verify.blocks_disagree(x, y)            # ... the emblem's blocks do not
        assert verify.score(fa.thumb, fb.thumb, "phash") <= verify.BLOCK_CAP
        assert verify.score(fa.thumb, fb.thumb, "phash_flip") <= verify.BLOCK_CAP
    icon = _icon("disc")
    for copy in (_jpeg(icon, 50), icon.resize((96, 96), Image.Resampling.LANCZOS), icon.convert("L").convert("RGB"),
                 icon.point(lambda v: min(255, int(v * 1.3)))):   # brightened: its white is clipped
        fc = _features(copy)
        x, y = next(verify.views(verify.load(disc.thumb), verify.load(fc.thumb), "trim"))
        assert not verify.blocks_disagree(x, y)
        assert verify.score(disc.thumb, fc.thumb, "phash") >= 0.9


def _centre_cut(img: Image.Image, keep: float) -> Image.Image:
    w, h = img.size
    m = (1 - keep) / 2
    return img.crop((round(w * m), round(h * m), round(w * (1 - m)), round(h * (1 - m))))


@pytest.mark.parametrize("keep", [0.9, 0.8])
def test_a_cut_of_one_template_with_another_emblem_differs_block_by_block(keep):
    plain = _features(_icon(None))
    other = _features(_centre_cut(_icon("bars"), keep))   # a look-alike cut the way a crop copy is
    copy = _features(_jpeg(_centre_cut(_icon(None), keep), 50))
    a, b = verify.load(plain.thumb), verify.load(other.thumb)
    assert max(verify.correlation(x, y) for x, y in verify.views(a, b, "crop")) > 0.6  # passes on correlation ...
    assert verify.score(plain.thumb, other.thumb, "phash_crop") <= verify.BLOCK_CAP      # ... not block by block
    assert verify.score(plain.thumb, copy.thumb, "phash_crop") >= 0.9                   # the copy's cut does
    assert verify.score(copy.thumb, plain.thumb, "phash_crop") >= 0.9


def test_object_box_frames_the_object_of_a_sparse_picture(photos):
    img = Image.new("L", (400, 300), 0)
    img.paste(255, (180, 120, 240, 200))  # a 60 x 80 object
    box = robust.object_box(img)
    assert box is not None
    left, top, right, bottom = box
    assert 165 <= left <= 180 and 240 <= right <= 255 and 105 <= top <= 120 and 200 <= bottom <= 215
    white = Image.eval(img, lambda v: 255 - v)  # a dark object on white
    assert robust.object_box(white) == box
    assert robust.object_box(photos["chelsea"].convert("L")) is None  # not sparse
    grey = Image.new("L", (400, 300), 128)
    grey.paste(0, (180, 120, 240, 200))
    assert robust.object_box(grey) is None  # a mid-grey background is a picture, not a backdrop


def test_information_separates_stripes_blobs_and_pictures(photos):
    flag = np.zeros((200, 300), np.uint8)  # three vertical bands
    flag[:, 100:200], flag[:, 200:] = 120, 240
    gray = lambda im: im.convert("L")  # noqa: E731
    assert robust.information(robust.dct_lowfreq(Image.fromarray(flag))) < 2.0
    assert robust.information(np.zeros((8, 8))) == 0.0
    for img in photos.values():
        assert robust.information(robust.dct_lowfreq(gray(img))) > 5.0
    blob = Image.new("L", (256, 256), 0)
    blob.paste(255, (96, 96, 160, 160))
    blurred = blob.filter(ImageFilter.GaussianBlur(20))
    assert robust.information(robust.dct_lowfreq(blurred)) < robust.information(robust.dct_lowfreq(gray(photos["camera"])))


def test_score_pairs_is_nan_without_a_thumbnail(photos):
    a = _features(photos["astronaut"]).thumb
    out = verify.score_pairs([a, None, a], [a, a, a], ["phash", "phash", "embedding"], [False, False, False])
    assert out[0] == pytest.approx(1.0) and np.isnan(out[1]) and np.isnan(out[2])


def test_colour_variants_are_held_apart_but_a_greyscale_copy_is_not(photos):
    # the orange cat and a blue one (red and blue channels swapped): near one greyscale picture
    red = photos["chelsea"]
    r, g, b = red.split()
    blue = Image.merge("RGB", (b, g, r))
    grey = red.convert("L").convert("RGB")
    fr, fb, fg = _features(red), _features(blue), _features(grey)
    assert verify.colours_differ(fr.chroma, fb.chroma)
    assert not verify.colours_differ(fr.chroma, fg.chroma)  # greyscale copy: no colour to compare
    assert not verify.colours_differ(fr.chroma, _features(_jpeg(red)).chroma)
    scores = verify.score_pairs([fr.thumb, fr.thumb], [fb.thumb, fg.thumb], ["phash", "phash"], [False, False],
                                [fr.chroma, fr.chroma], [fb.chroma, fg.chroma])
    assert scores[0] <= verify.COLOUR_CAP < 0.6 and scores[1] > 0.9


def test_key_features_of_odd_sizes_with_a_content_box(photos):
    # 1001 x 777 reduces to a working copy by an integer factor: the box scaled back must fit
    img = Image.new("RGB", (1001, 777), "black")
    img.paste(photos["astronaut"].resize((301, 233)), (700, 270))  # touching the right edge
    f = _features(img)
    assert f.sparse or f.hashes["phash_trim"] != f.hashes["phash"]
    assert len(f.thumb) == verify.THUMB_SIDE ** 2 and len(f.chroma) == 2


def test_query_applies_the_pixel_check_like_the_job():
    import pandas as pd

    from jobs.config import PhashConfig
    from jobs.query import _pixels_agree

    one, other = _features(_nebula(1)), _features(_nebula(2))
    copy = _features(_jpeg(_nebula(1), 60))
    row = lambda f: pd.Series({"thumb": f.thumb, "sparse": f.sparse, "chroma": list(f.chroma)})  # noqa: E731
    cfg = PhashConfig()
    assert _pixels_agree(one, row(copy), "phash_trim", 0, cfg)
    assert not _pixels_agree(one, row(other), "phash_trim", 0, cfg)
    assert _pixels_agree(one, row(other), "phash_trim", 0, PhashConfig(min_verify=-1, min_verify_sparse=-1))
    assert not _pixels_agree(one, row(other), "phash_trim", 0, PhashConfig(min_verify=-1))  # sparse: its own bar


def _marker(x: float, side: int = 480) -> Image.Image:
    """One small cross drawn on a white page at share `x` of its width (a keyboard key, a map pin)."""
    img = Image.new("RGB", (side, side // 3), "white")
    d = ImageDraw.Draw(img)
    cx, cy, r = round(x * side), side // 6, side // 40
    d.line((cx - r, cy - r, cx + r, cy + r), fill=(40, 60, 200), width=4)
    d.line((cx - r, cy + r, cx + r, cy - r), fill=(40, 60, 200), width=4)
    return img


def test_one_glyph_at_two_places_differs_but_its_resized_copy_does_not():
    left, right = _features(_marker(0.2)), _features(_marker(0.7))
    copy = _features(_jpeg(_marker(0.2).resize((240, 80)), 60))
    assert left.sparse and right.sparse and copy.sparse
    assert left.place[0] == pytest.approx(0.2, abs=0.03) and right.place[0] == pytest.approx(0.7, abs=0.03)
    # the keys are taken on the object box: both crosses hash alike, and their thumbnails agree
    assert left.hashes["phash_trim"] == right.hashes["phash_trim"]
    assert verify.score(left.thumb, right.thumb, "phash_trim", True) > 0.6
    assert verify.places_differ(left.place, right.place, "phash_trim")
    assert not verify.places_differ(left.place, copy.place, "phash_trim")
    assert not verify.places_differ(left.place, right.place, "phash_crop")  # a crop moves the object
    # mirrored: the cross at 0.2 flipped sits at 0.8, close to 0.7... but not to 0.2
    assert verify.places_differ(left.place, left.place, "phash_flip")
    assert not verify.places_differ(left.place, _features(_marker(0.8)).place, "phash_flip")
    scores = verify.score_pairs([left.thumb] * 2, [right.thumb, copy.thumb], ["phash_trim"] * 2, [True, True],
                                place_a=[left.place] * 2, place_b=[right.place, copy.place])
    unplaced = verify.score_pairs([left.thumb] * 2, [right.thumb, copy.thumb], ["phash_trim"] * 2, [True, True])
    assert scores[0] <= verify.PLACE_CAP < unplaced[0] and scores[1] == unplaced[1]
    assert _features(_ramp()).place is None  # not sparse: no place


def _hat(top: int) -> Image.Image:
    """One red cap drawn `top` px from the top of a 64 x 80 white sprite frame (an animation frame):
    the white above and below it is wide enough to look like borders."""
    img = Image.new("RGB", (64, 80), "white")
    d = ImageDraw.Draw(img)
    d.chord((16, top, 48, top + 24), 180, 360, fill=(200, 30, 30))
    d.rectangle((14, top + 12, 50, top + 15), fill=(150, 20, 20))
    d.ellipse((36, top + 3, 42, top + 9), fill=(240, 240, 240))
    return img


def test_one_sprite_higher_or_lower_in_its_frame_differs():
    high, low = _features(_hat(6)), _features(_hat(24))
    copy = _features(_jpeg(_hat(6).resize((128, 160), Image.Resampling.LANCZOS), 60))
    assert high.sparse and low.sparse and copy.sparse
    assert robust.border_box(_hat(6).convert("L")) is not None  # the white margins look like borders ...
    # ... but they are the sprite's backdrop: its place is taken in the whole frame
    assert high.place[1] == pytest.approx(12 / 80, abs=0.05) and low.place[1] == pytest.approx(30 / 80, abs=0.05)
    assert verify.places_differ(high.place, low.place, "phash_trim")
    assert not verify.places_differ(high.place, copy.place, "phash_trim")


@pytest.mark.parametrize("seed", range(3))
def test_a_white_frame_around_stars_on_black_is_taken_off_alone(seed):
    """The frame search trims the white frame and then the black margins inside it; the margins are
    the picture's backdrop, so the framed copy keeps the original's object box, keys and place."""
    original = _nebula(seed, 600)
    framed = corpus.border_10(original, np.random.default_rng(seed))
    a, b = _features(original), _features(framed)
    assert a.sparse and b.sparse
    assert bin((a.hashes["phash_trim"] ^ b.hashes["phash_trim"]) & (2 ** 64 - 1)).count("1") <= 4
    assert not verify.places_differ(a.place, b.place, "phash_trim")
    assert verify.score(a.thumb, b.thumb, "phash_trim", True) > 0.9


def _page_with_figure(seed: int) -> Image.Image:
    """A white 800 x 1000 page holding one small textured figure (48 x 36 px): flat as a whole."""
    rng = np.random.default_rng(seed)
    page = np.full((1000, 800), 250, np.uint8)
    figure = (250 - rng.random((6, 8)) * 200).astype(np.uint8)
    page[300:336, 350:398] = np.asarray(Image.fromarray(figure).resize((48, 36), Image.Resampling.BICUBIC))
    return Image.fromarray(page).convert("RGB")


def test_a_small_figure_on_a_white_page_is_judged_by_its_figure(photos):
    """The hash gate looks at the content box the keys are taken on, not at the whole page."""
    from jobs.config import PhashConfig
    gate = PhashConfig().min_quality
    page = _features(_page_with_figure(0))
    assert robust.quality(_page_with_figure(0)) < gate <= page.quality
    assert page.sparse and page.information >= PhashConfig().min_information
    copy, other = _features(_jpeg(_page_with_figure(0), 75)), _features(_page_with_figure(1))
    assert bin((page.hashes["phash_trim"] ^ copy.hashes["phash_trim"]) & (2 ** 64 - 1)).count("1") <= 2
    assert verify.score(page.thumb, copy.thumb, "phash_trim", True) > 0.9
    assert bin((page.hashes["phash_trim"] ^ other.hashes["phash_trim"]) & (2 ** 64 - 1)).count("1") > 10
    assert verify.score(page.thumb, other.thumb, "phash_trim", True) < PhashConfig().min_verify_sparse
    # a photograph without borders: the gate is the whole picture's flatness, as before
    assert _features(photos["camera"]).quality == pytest.approx(robust.quality(photos["camera"]))


def _ramp() -> Image.Image:
    """A picture that is not sparse (a grey ramp)."""
    return Image.fromarray(np.tile(np.linspace(40, 220, 128).astype(np.uint8), (96, 1))).convert("RGB")


def _planet(rgb: tuple[int, int, int], side: int = 240) -> Image.Image:
    """A dim disc lit from one side on black: the colour is the disc's, most pixels are black."""
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) - side / 2
    disc = (x ** 2 + y ** 2) < (side / 5) ** 2
    light = np.clip((x + y) / (side / 5), 0, 1) * disc
    a = (light[..., None] * np.array(rgb, np.float32)).astype(np.uint8)
    return Image.fromarray(a, "RGB")


def _tinted(img: Image.Image, rgb: tuple[float, float, float]) -> Image.Image:
    """``img`` in grey, scaled per channel: a faint tint of one picture."""
    g = np.asarray(img.convert("L"), dtype=np.float32)
    return Image.fromarray(np.clip(g[..., None] * np.array(rgb, np.float32), 0, 255).astype(np.uint8), "RGB")


def test_faint_tints_are_held_apart_when_aligned_exactly(photos):
    # one texture recoloured faintly brown and faintly blue (mean colour ~5 grey levels, under CHROMA_MIN):
    # an exactly aligned pair compares the same pixels, so the faint colours count; a crop pair does not
    brown, blue = _tinted(photos["camera"], (1.03, 1.0, 0.97)), _tinted(photos["camera"], (0.97, 0.99, 1.03))
    fa, fb = _features(brown), _features(blue)
    assert verify.CHROMA_MIN_ALIGNED <= min(np.hypot(*fa.chroma), np.hypot(*fb.chroma)) < verify.CHROMA_MIN
    for stage in ("phash", "phash_trim", "phash_flip"):
        assert verify.colours_differ(fa.chroma, fb.chroma, stage)
    for stage in ("phash_crop", "phash_rotate", None):
        assert not verify.colours_differ(fa.chroma, fb.chroma, stage)
    # copies of the faint brown one keep its colour's direction; its greyscale copy has none
    for copy in (_jpeg(brown), _jpeg(brown.resize((brown.width // 2, brown.height // 2)), 60), brown.convert("L")):
        assert not verify.colours_differ(fa.chroma, _features(copy.convert("RGB")).chroma, "phash")
    scores = verify.score_pairs([fa.thumb], [fb.thumb], ["phash"], [False], [fa.chroma], [fb.chroma])
    assert scores[0] <= verify.COLOUR_CAP


def test_two_hues_40_degrees_apart_are_held_apart_when_aligned_exactly(photos):
    # one picture tinted orange and tinted red (mean colours ~23 grey levels, 40 degrees apart): the same
    # pixels in two colours are two pictures for an exactly aligned pair; a crop pair keeps the wider 60
    orange, red = _tinted(photos["camera"], (1.10, 1.03, 0.90)), _tinted(photos["camera"], (1.12, 0.96, 0.96))
    fo, fr = _features(orange), _features(red)
    for stage in ("phash", "phash_trim", "phash_flip"):
        assert verify.colours_differ(fo.chroma, fr.chroma, stage)
    assert not verify.colours_differ(fo.chroma, fr.chroma, "phash_crop")
    # copies keep the hue: compressed, halved, brightened with its highlights clipped
    for copy in (_jpeg(orange), _jpeg(orange.resize((orange.width // 2, orange.height // 2)), 60),
                 orange.point(lambda v: min(255, int(v * 1.3)))):
        assert not verify.colours_differ(fo.chroma, _features(copy).chroma, "phash")


def test_sparse_pictures_compare_the_colour_of_their_objects():
    teal, pink = _features(_planet((40, 170, 160))), _features(_planet((190, 110, 120)))
    assert teal.sparse and pink.sparse
    assert verify.colours_differ(teal.chroma, pink.chroma)  # the whole picture's mean is near grey
    assert max(map(abs, robust.mean_chroma(_planet((40, 170, 160))))) < verify.CHROMA_MIN
    copy = _features(_jpeg(_planet((40, 170, 160)).resize((120, 120)), 70))
    grey = _features(_planet((40, 170, 160)).convert("L").convert("RGB"))
    assert not verify.colours_differ(teal.chroma, copy.chroma)
    assert not verify.colours_differ(teal.chroma, grey.chroma)


def test_a_border_found_on_one_copy_only_is_checked_on_the_whole_pictures(photos):
    # an 8-px white frame around a photograph; the copy's grain makes that frame non-uniform, so
    # only the original has a content box: the box of one against the whole of the other do not
    # align, but the full-image pHash saw the whole pictures, and those agree
    rng = np.random.default_rng(0)
    for name, other in (("astronaut", "camera"), ("chelsea", "astronaut")):
        framed = Image.new("RGB", (216, 216), "white")
        framed.paste(photos[name].resize((200, 200)), (8, 8))
        grain = np.asarray(framed).astype(np.int16) + rng.integers(-40, 41, size=(216, 216, 1))
        copy = Image.fromarray(np.clip(grain, 0, 255).astype(np.uint8))
        fo, fc = _features(framed), _features(copy)
        assert fo.thumb_full is not None and fc.thumb_full is None  # a box on the original only
        assert bin((fo.hashes["phash"] ^ fc.hashes["phash"]) & (2 ** 64 - 1)).count("1") <= 6
        boxes_only = verify.score_pairs([fo.thumb], [fc.thumb], ["phash"], [False])[0]
        both = verify.score_pairs([fo.thumb], [fc.thumb], ["phash"], [False], full_a=[fo.thumb_full],
                                  full_b=[fc.thumb_full])[0]
        assert boxes_only < 0.6 <= both
        # the whole pictures only for the full-image pHash: a key family keeps its own alignment
        assert verify.score_pairs([fo.thumb], [fc.thumb], ["phash_trim"], [False], full_a=[fo.thumb_full],
                                  full_b=[fc.thumb_full])[0] == boxes_only
        unrelated = _features(photos[other].resize((216, 216)))
        assert verify.score_pairs([fo.thumb], [unrelated.thumb], ["phash"], [False], full_a=[fo.thumb_full],
                                  full_b=[unrelated.thumb_full])[0] < 0.6
    # a thick frame (the photograph on a wide white field) keeps no whole thumbnail: it is composition
    field = Image.new("RGB", (320, 320), "white")
    field.paste(photos["astronaut"].resize((200, 200)), (60, 60))
    thick = _features(field)
    assert thick.hashes["phash_trim"] != thick.hashes["phash"] and thick.thumb_full is None


def test_whole_picture_crop_pairs_are_checked_on_the_whole_pictures(photos):
    # a photograph on a wide white backdrop and a cut from the centre of the whole picture (part of the
    # backdrop kept): the content boxes are other regions, the whole pictures line up as a crop
    def framed(img: Image.Image) -> Image.Image:
        w, h = img.size
        return ImageOps.expand(img.convert("RGB"), border=(w // 4, h // 4, w // 4, h // 4), fill=(255, 255, 255))

    def cut(img: Image.Image, keep: float = 0.8) -> Image.Image:
        w, h = img.size
        m, n = round(w * (1 - keep) / 2), round(h * (1 - keep) / 2)
        return img.crop((m, n, w - m, h - n))

    original, other = framed(photos["astronaut"]), framed(photos["chelsea"])
    fo, fc, fx = _features(original), _features(_jpeg(cut(original), 70)), _features(_jpeg(cut(other), 70))
    assert fo.thumb_whole is not None

    def wcrop(a, b) -> float:
        return verify.score_pairs([a.thumb], [b.thumb], ["phash_wcrop"], [False], [a.chroma], [b.chroma],
                                  whole_a=[a.thumb_whole], whole_b=[b.thumb_whole])[0]

    assert wcrop(fo, fc) > 0.9 and wcrop(fc, fo) > 0.9
    assert wcrop(fo, fx) < 0.6  # another picture cut from the same backdrop
    boxes_only = verify.score_pairs([fo.thumb], [fc.thumb], ["phash_crop"], [False])[0]
    assert boxes_only < wcrop(fo, fc)
    r, g, b = cut(original).split()  # the same cut in other colours (red and blue swapped): held apart
    assert wcrop(fo, _features(Image.merge("RGB", (b, g, r)))) <= verify.COLOUR_CAP


def test_framed_phash_pairs_are_checked_on_the_whole_pictures(photos):
    # objects on a wide white backdrop: a resized, brightened JPEG copy passes the strong bar on the
    # whole pictures; another object on the same backdrop, of a similar full-image pHash, does not
    def on_white(img: Image.Image) -> Image.Image:
        field = Image.new("RGB", (480, 400), "white")
        field.paste(img.convert("RGB").resize((240, 200)), (120, 100))
        return field

    original = on_white(photos["astronaut"])
    copy = _jpeg(ImageEnhance.Brightness(original.resize((240, 200))).enhance(1.2), 40)
    fo, fc, fx = _features(original), _features(copy), _features(on_white(photos["chelsea"]))
    assert all(f.thumb_whole is not None for f in (fo, fc, fx))  # thick frames: whole thumbnails kept

    def framed(a, b) -> float:
        return verify.score_pairs([a.thumb], [b.thumb], ["phash_framed"], [bool(a.sparse or b.sparse)],
                                  [a.chroma], [b.chroma], [a.place], [b.place],
                                  whole_a=[a.thumb_whole], whole_b=[b.thumb_whole])[0]

    assert framed(fo, fc) >= PhashConfig().far_verify and framed(fc, fo) >= PhashConfig().far_verify
    assert framed(fo, fx) < 0.6


def test_the_pixel_check_does_not_depend_on_which_picture_comes_first():
    # textures and their copies shifted by up to 3 px: the block check searches each block of one view
    # in the other, edge-padded, view; one direction alone made some pairs pass one way and fail the other
    rng = np.random.default_rng(0)
    for _ in range(40):
        base = Image.fromarray((rng.random((80, 80)) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(3))
        dx, dy = (int(v) for v in rng.integers(-3, 4, 2))
        a = np.asarray(base.crop((8, 8, 72, 72)), np.float32)
        b = np.asarray(base.crop((8 + dx, 8 + dy, 72 + dx, 72 + dy)), np.float32) + rng.normal(0, 3, (64, 64))
        ta, tb = (np.clip(v, 0, 255).astype(np.uint8).tobytes() for v in (a, b))
        for stage in ("phash", "phash_crop", "phash_wcrop"):
            assert verify.score(ta, tb, stage) == pytest.approx(verify.score(tb, ta, stage)), (dx, dy, stage)


def test_faint_colours_of_strokes_on_black_keep_the_wider_hue_bar():
    # object colours of a few grey levels (thin coloured strokes on black) move when brightening moves
    # pixels in or out of the object: 35-60 degrees apart at under CHROMA_MIN is not "another colour"
    faint_a, faint_b = (6.0, 1.0), (4.5, -3.0)        # 43 degrees apart, 5.4-6.1 grey levels
    angle = np.degrees(np.arccos(np.dot(faint_a, faint_b) / np.hypot(*faint_a) / np.hypot(*faint_b)))
    assert 35 < angle < 60 and max(np.hypot(*faint_a), np.hypot(*faint_b)) < verify.CHROMA_MIN
    assert not verify.colours_differ(faint_a, faint_b, "phash")
    strong_a, strong_b = tuple(4 * v for v in faint_a), tuple(4 * v for v in faint_b)
    assert verify.colours_differ(strong_a, strong_b, "phash")
    assert not verify.colours_differ(strong_a, strong_b, "phash_crop")


def _every_view_checked(thumb_a: bytes, thumb_b: bytes, stage: str, sparse: bool) -> float:
    """The score as defined: the block check run on every view of the family (the reference the
    early-stopping search in verify.score must equal)."""
    family = verify.STAGE_FAMILY[stage]
    capped = family in verify.EXACT_FAMILIES or stage in verify.WHOLE_STAGES
    measure = verify.detail_correlation if sparse else verify._capped_correlation if capped else verify.correlation
    shift = verify.BLOCK_SHIFTS[family]
    return max(min(measure(x, y), verify.BLOCK_CAP) if verify._disagree(x, y, shift) else measure(x, y)
               for x, y in verify.views(verify.load(thumb_a), verify.load(thumb_b), family))


def test_the_block_check_stops_early_with_the_same_score(photos):
    """Copies (the block check passes), template look-alikes (it fails: the next views are tried)
    and unrelated photos, under every checked family, sparse or not."""
    icon = _icon("disc")
    pictures = [_icon(None), icon, _icon("bars"), _jpeg(icon, 50), _centre_cut(icon, 0.8),
                _centre_cut(_icon("bars"), 0.9), photos["astronaut"], _centre_cut(photos["astronaut"], 0.6),
                ImageOps.mirror(photos["camera"]), photos["chelsea"]]
    thumbs = [_features(p).thumb for p in pictures]
    checked = 0
    for stage in ("phash", "phash_trim", "phash_flip", "phash_crop", "phash_wcrop"):
        for i, ta in enumerate(thumbs):
            for tb in thumbs[i + 1:]:
                for sparse in (False, True):
                    assert verify.score(ta, tb, stage, sparse) == pytest.approx(
                        _every_view_checked(ta, tb, stage, sparse), abs=1e-12)
                    checked += 1
    assert checked == 5 * 45 * 2
    # the look-alike cut fails its best views and is capped, as the reference says
    assert verify.score(thumbs[0], thumbs[5], "phash_crop") <= verify.BLOCK_CAP


def test_a_view_that_fails_the_block_check_gives_way_to_the_next():
    rng = np.random.default_rng(0)
    same = rng.normal(128, 40, (64, 64)).astype(np.float32)
    other_a, other_b = (rng.normal(128, 40, (64, 64)).astype(np.float32) for _ in range(2))
    assert verify._disagree(other_a, other_b, 1) and not verify._disagree(same, same, 1)
    # the best measure's view fails; the next one passes: its measure is the score
    assert verify._best_checked([(0.9, other_a, other_b), (0.7, same, same), (0.5, same, same)], 1) == 0.7
    # every view fails: capped
    assert verify._best_checked([(0.9, other_a, other_b), (0.8, other_b, other_a)], 1) == verify.BLOCK_CAP
    # a negative measure is never raised to the cap
    assert verify._best_checked([(-0.2, other_a, other_b)], 1) == -0.2


def test_query_finds_a_framed_copy_on_the_whole_pictures(photos):
    """`dedup query` decides as the job: a darkened copy of a photograph on a white page (both framed,
    full-image pHash 0 bits apart, the content boxes' keys far apart) matches as phash_framed, and is
    not found when far_verify is off (the framed pair is dropped then)."""
    import dataclasses

    from jobs import query
    from udfs.adapters import robust_keys

    def on_white(img: Image.Image) -> Image.Image:
        field = Image.new("RGB", (480, 400), "white")
        field.paste(img.convert("RGB").resize((240, 200)), (120, 100))
        return field

    cfg = PhashConfig()
    original = on_white(photos["astronaut"])
    stored = robust.key_features(original, robust.RobustConfig(keys=(robust.KEY_PHASH, *robust_keys(cfg.keys))))
    row = {"content_sha256": "s" * 64, "quality": stored.quality, "information": stored.information,
           "thumb": stored.thumb, "thumb_full": stored.thumb_full, "thumb_whole": stored.thumb_whole,
           "sparse": stored.sparse, "chroma": list(stored.chroma),
           "place": None if stored.place is None else list(stored.place), **stored.hashes}

    class OneContent:  # the two calls of jobs.query.Store that the hash path makes
        def index_columns(self) -> list[str]:
            return list(row)

        def index(self, columns: list[str], lists=None) -> pd.DataFrame:
            return pd.DataFrame([{c: row.get(c) for c in columns}])

    copy = ImageEnhance.Brightness(original).enhance(0.8)
    mine = robust.key_features(copy, robust.RobustConfig(keys=(robust.KEY_PHASH, *robust_keys(cfg.keys))))
    dist = lambda k: bin((mine.hashes[k] ^ stored.hashes[k]) & (2 ** 64 - 1)).count("1")  # noqa: E731
    assert dist("phash") <= cfg.max_hamming and dist("phash_trim") > cfg.trim_hamming  # only the framed pair can
    found = query._hash_matches(OneContent(), copy, cfg)
    assert [m["stage"] for m in found] == ["phash_framed"]
    assert query._hash_matches(OneContent(), copy, dataclasses.replace(cfg, far_verify=-1)) == []
