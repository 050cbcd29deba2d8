"""Checks of bench.broad_corpus's package tables, and of blind9's, blind10's and blind11's listers on tiny made-up
files (no apt, no build)."""
from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from bench import broad_corpus as bc

OWN_TABLES = {
    "holdout": bc.HOLDOUT_PACKAGES, "fresh": bc.FRESH_PACKAGES, "blind5": bc.BLIND5_PACKAGES,
    "blind6": bc.BLIND6_PACKAGES, "blind7": bc.BLIND7_PACKAGES, "blind8": bc.BLIND8_PACKAGES,
    "blind9": bc.BLIND9_PACKAGES, "blind10": bc.BLIND10_PACKAGES, "blind11": bc.BLIND11_PACKAGES, "blind12": bc.BLIND12_PACKAGES,
    "blind13": bc.BLIND13_PACKAGES,
}
SCRIPT_VARS = {"tune": "PICTURES", "holdout": "HOLDOUT", "fresh": "FRESH", "blind5": "BLIND5",
               "blind6": "BLIND6", "blind7": "BLIND7", "blind8": "BLIND8",
               "blind9": "BLIND9", "blind10": "BLIND10", "blind11": "BLIND11", "blind12": "BLIND12", "blind13": "BLIND13"}


def _script_lists() -> dict[str, list[str]]:
    text = (Path(bc.__file__).parent / "harness-packages.sh").read_text()
    return {name: words.split() for name, words in re.findall(r'^([A-Z0-9]+)="([^"]*)"', text, re.M)}


def test_parts_and_build_order_agree() -> None:
    assert set(bc.BUILD_ORDER) == set(bc.PARTS)
    assert bc.BUILD_ORDER[:2] == ("aside", "tune")
    assert bc.OWN_PARTS == bc.BUILD_ORDER[2:] == tuple(OWN_TABLES)


def test_each_package_belongs_to_one_part_and_has_a_lister() -> None:
    assert len(bc.PACKAGES) == len(set(bc.PACKAGES))
    assert set(bc.LISTERS) == set(bc.PACKAGES)
    for part, table in OWN_TABLES.items():
        assert all(bc.PACKAGE_PART[p] == part for p in table)
    extras = [e for deps in bc.PACKAGE_EXTRAS.values() for e in deps]
    assert len(extras) == len(set(extras))
    assert not set(extras) & set(bc.PACKAGES)
    assert set(bc.PACKAGE_EXTRAS) <= set(bc.PACKAGES)
    assert not set(bc.FOREIGN_PACKAGES) & (set(bc.PACKAGES) | set(extras))


def test_install_script_installs_exactly_the_tables() -> None:
    lists = _script_lists()
    assert sorted(lists[SCRIPT_VARS["tune"]]) == sorted(bc.TUNE_ASIDE_PACKAGES)
    for part, table in OWN_TABLES.items():
        assert sorted(lists[SCRIPT_VARS[part]]) == sorted(table), part


def _png(path: Path, size: tuple[int, int], value: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, value, value)).save(path)
    return path


def test_blind9_listers_pick_by_folder_and_name(tmp_path: Path) -> None:
    blupi = tmp_path / "usr/share/planetblupi/image"
    files = [_png(blupi / "back-stars.png", (640, 480)), _png(blupi / "obj000.png", (192, 96)),
             _png(blupi / "play.png", (640, 480)), _png(blupi / "jauge.png", (124, 88)),
             _png(blupi / "he" / "play.png", (640, 480))]
    pools = {Path(s.path).relative_to(blupi).as_posix(): s.pool
             for s in bc.blind9_clipart_sources("planetblupi-common", files, 0)}
    assert pools == {"back-stars.png": "wallpaper", "obj000.png": "clipart", "play.png": "screenshot"}

    html = tmp_path / "usr/share/doc/python-pyregion-doc/html"
    files = [_png(html / "figures/demo.png", (480, 400)), _png(html / "figures/demo.hires.png", (1200, 1000)),
             _png(html / "figures/other.png", (480, 400), 10), _png(html / "_static/plus.png", (11, 11))]
    picked = {Path(s.path).name: s.pool for s in bc.blind9_sky_doc_sources("python-pyregion-doc", files)}
    assert picked == {"demo.hires.png": "diagram", "other.png": "astronomy"}   # dark: mostly the sky


def test_blind9_suru_leaves_out_language_badges(tmp_path: Path) -> None:
    suru = tmp_path / "usr/share/icons/suru"
    files = []
    for rel in ("apps/scalable/a.svg", "lang/scalable/en.svg", "toolkit/scalable/t.svg", "apps/256/a.png"):
        p = suru / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("<svg xmlns='http://www.w3.org/2000/svg' width='8' height='8'/>")
        files.append(p)
    got = bc.suru_sources("suru-icon-theme", files, 0)
    assert [Path(s.path).relative_to(suru).as_posix() for s in got] == ["apps/scalable/a.svg"]
    assert {s.pool for s in got} == {"icon"}


def test_blind10_game_world_leaves_out_other_texture_maps(tmp_path: Path) -> None:
    data = tmp_path / "usr/share/games/redeclipse/data"
    files = [_png(data / "trak/trak5/floor1_c.png", (256, 256)), _png(data / "trak/trak5/floor1_n.png", (256, 256)),
             _png(data / "trak/trak5/floor1_s.png", (256, 256)), _png(data / "trak/trak5/small.png", (64, 64)),
             _png(data / "textures/hud/bar.png", (256, 256)),
             _png(data / "skyboxes/stars_up.png", (256, 256), 5),
             _png(data / "skyboxes/clouds_up.png", (256, 256), 200)]
    pools = {Path(s.path).relative_to(data).as_posix(): s.pool
             for s in bc.blind10_game_world_sources("redeclipse-data", files)}
    assert pools == {"trak/trak5/floor1_c.png": "wallpaper", "skyboxes/stars_up.png": "astronomy",
                     "skyboxes/clouds_up.png": "wallpaper"}


def test_blind10_photos_take_the_first_frame_of_a_sequence(tmp_path: Path) -> None:
    root = tmp_path / "usr/share/visp-images-data/ViSP-images"
    files = [_png(root / "Klimt/Klimt.png", (320, 240)), _png(root / "Gaussian-filter/g1.png", (320, 240)),
             _png(root / "AprilTag/benchmark/640x480/tag.png", (640, 480))]
    for i in range(3):
        frame = root / f"cube/image.{i:04d}.pgm"
        frame.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (160, 120), 100 + i).save(frame)
        files.append(frame)
    got = {Path(s.path).relative_to(root).as_posix(): s.pool
           for s in bc.blind10_photo_sources("visp-images-data", files)}
    assert got == {"Klimt/Klimt.png": "photo", "cube/image.0000.pgm": "photo"}


def test_blind11_game_pieces_take_the_first_frame_and_one_tile_per_level(tmp_path: Path) -> None:
    data = tmp_path / "usr/share/games/raincat/data"
    files = [_png(data / f"cat/cat-walk/cat-walk{i}.png", (128, 128), 60 + i) for i in (1, 2, 10)]
    files += [_png(data / "level-misc/fire-hydrant-left1.png", (256, 128)),
              _png(data / "level-misc/fire-hydrant-left2.png", (256, 128)),
              _png(data / "items/cork.png", (128, 128)), _png(data / "items/tarp.png", (256, 16)),
              _png(data / "levels/river/river_0_0.png", (1024, 1024)),
              _png(data / "levels/river/river_1_0.png", (1024, 1024)),
              _png(data / "backgrounds/clouds_background.png", (1024, 1024))]
    pools = {Path(s.path).relative_to(data).as_posix(): s.pool
             for s in bc.blind11_game_sources("raincat-data", files)}
    assert pools == {"cat/cat-walk/cat-walk1.png": "clipart", "level-misc/fire-hydrant-left1.png": "clipart",
                     "items/cork.png": "clipart", "levels/river/river_0_0.png": "wallpaper",
                     "backgrounds/clouds_background.png": "wallpaper"}


def test_blind11_backdrops_dark_are_astronomy_and_masks_are_left_out(tmp_path: Path) -> None:
    images = tmp_path / "usr/share/games/blockout2/images"
    files = [_png(images / "background.png", (256, 256), 5), _png(images / "background2.png", (256, 256), 200),
             _png(images / "sprites.png", (256, 256)), _png(images / "spritesa.png", (256, 256)),
             _png(images / "menufont.png", (256, 256)), _png(images / "online.png", (32, 32))]
    pools = {Path(s.path).name: s.pool for s in bc.blind11_game_sources("blockout2", files)}
    assert pools == {"background.png": "astronomy", "background2.png": "wallpaper", "sprites.png": "clipart"}


def test_blind11_cap_keeps_at_most_cap_per_pool() -> None:
    sources = [bc.Source(f"x-{i}", "p", "screenshot", f"/x/{i}.png", lambda: None) for i in range(10)]
    sources += [bc.Source(f"y-{i}", "p", "diagram", f"/y/{i}.png", lambda: None) for i in range(3)]
    kept = bc._capped(sources, 4)
    assert [s.pool for s in kept].count("screenshot") == 4 and [s.pool for s in kept].count("diagram") == 3
    assert kept == [s for s in sources if s in kept]               # listed order
    assert {s.name for s in bc._capped(list(reversed(sources)), 4)} == {s.name for s in kept}


def test_blind11_photos_take_one_copy_of_each(tmp_path: Path) -> None:
    root = tmp_path / "usr/share/libjxl-testdata"
    files = [_png(root / "external/wesaturate/500px/abc_srgb8.png", (500, 500)),
             _png(root / "external/wesaturate/500px/abc_grayscale.png", (500, 500)),
             _png(root / "external/wesaturate/64px/abc_srgb8.png", (64, 64)),
             _png(root / "external/wesaturate/64px/def_srgb8.png", (64, 64)),
             _png(root / "external/wesaturate/64px/def_709_g1.png", (64, 64)),
             _png(root / "external/pngsuite/basn2c08.png", (32, 32)),
             _png(root / "jxl/flower/flower.png", (320, 240)), _png(root / "jxl/flower/flower_alpha.png", (320, 240))]
    got = {Path(s.path).relative_to(root).as_posix(): s.pool
           for s in bc.blind11_picture_sources("libjxl-testdata", files)}
    assert got == {"external/wesaturate/500px/abc_srgb8.png": "photo",
                   "external/wesaturate/64px/def_srgb8.png": "photo", "jxl/flower/flower.png": "photo"}


def _photo(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    import numpy as np
    rng = np.random.default_rng(seed)
    small = (rng.random((12, 16, 3)) * 255).astype("uint8")
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


def test_the_source_check_rejects_one_picture_from_two_files() -> None:
    """A photograph, then a darkened original made from another file of it (a thumbnail): the darkened
    picture passes the check of the pictures as made (dark is a look-alike kind), so only its source
    tells; rejected in the parts that check sources, accepted (as before) in the others. Windows cut
    from one file never reject each other, and another photograph passes."""
    photo = _photo(1, (640, 480))
    thumb = photo.resize((320, 240), Image.Resampling.BICUBIC)
    dark = bc._scale_to_mean(thumb, 18.0, dark=True)
    for by_source, want in ((True, "same_source"), (False, None)):
        reg = bc.Registry()
        assert reg.check(bc.Candidate("photo_a", "photo", "p", "a.jpg", photo, source=photo), by_source) is None
        got = reg.check(bc.Candidate("dark_under_a_thumb", "dark", "p", "a_thumb.jpg", dark, source=thumb), by_source)
        assert got == want
        other = _photo(2)
        assert reg.check(bc.Candidate("photo_b", "photo", "p", "b.jpg", other, source=other), by_source) is None
    reg = bc.Registry()
    big = _photo(3, (1200, 900))
    windows = [bc.Candidate(f"series_c_w{k}", "series", "p", f"c.jpg@x{k * 240},y0",
                            big.crop((k * 240, 0, k * 240 + 600, 675)), source=big) for k in range(3)]
    assert [reg.check(w, True) for w in windows] == [None, None, None]
    # the parts recorded before the check existed are never checked by source (they stay as they were)
    first = min(bc.BUILD_ORDER.index(p) for p in bc.SOURCE_CHECK_PARTS)
    assert bc.BUILD_ORDER[first] == "blind11" and set(bc.SOURCE_CHECK_PARTS) <= set(bc.BUILD_ORDER[first:])


def test_the_score_leaves_out_files_identical_across_groups(tmp_path: Path, monkeypatch) -> None:
    """Two originals whose brightened copies are the same white sheet: those two files carry no picture
    of their own and are left out of the score; a cluster holding both is then no false merge. With
    --keep-identical (the earlier truth) the same run scores a false merge."""
    import pandas as pd

    from bench import broad

    rows = []
    for g in ("a", "b"):
        for edit, data in (("original", f"picture {g}".encode()), ("jpeg_q30", f"copy {g}".encode()),
                           ("brighten_30", b"white sheet")):
            f = f"{g}__{edit}.jpg"
            (tmp_path / f).write_bytes(data)
            rows.append(dict(file=f, original=g, edit=edit, group=g, kind="scanned_page"))
    planted = pd.DataFrame(rows)
    shared = broad.identical_across_groups(tmp_path, planted)
    assert sorted(planted.loc[shared, "file"]) == ["a__brighten_30.jpg", "b__brighten_30.jpg"]
    # the job: each original with its JPEG copy, and the two identical sheets together (exact duplicates)
    labels = {"a__original.jpg": "A", "a__jpeg_q30.jpg": "A", "b__original.jpg": "B", "b__jpeg_q30.jpg": "B",
              "a__brighten_30.jpg": "A", "b__brighten_30.jpg": "A"}
    planted.to_csv(tmp_path / "planted.csv", index=False)
    monkeypatch.setattr(broad.q, "manifest_labels", lambda result: labels)  # stands in for a run's manifest
    monkeypatch.setattr(broad, "keepers", lambda planted, result: {})
    monkeypatch.setattr(broad, "_errors", lambda result: 0)
    fair = broad.score_result(tmp_path, tmp_path)
    earlier = broad.score_result(tmp_path, tmp_path, keep_identical=True)
    assert fair["left_out_identical"] == 2 and fair["files"] == 4
    assert fair["false_merges"] == 0 and fair["precision"] == 1.0
    assert earlier["false_merges"] == 1 and earlier["precision"] < 1.0
