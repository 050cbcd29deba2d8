"""Video match-quality corpus: shot montages of real photographs, planted edits, hard negatives, kept-aside parts.

One command::

    python -m bench.video_corpus              # out/video/corpus/{tune,aside,blind2,blind3,blind4}/, <= 100 originals
    python -m bench.video_corpus --quick      # 20 originals per part (tests, development)
    python -m bench.video_corpus --per-part 60 --workers 2
    python -m bench.video_corpus --parts blind2   # one part alone (the others are left as they are)
    python -m bench.video_corpus --parts blind3   # a kept-aside part alone (its packages: below)
    python -m bench.video_corpus --parts blind4   # the newest kept-aside part alone (its packages: below)

Nothing is downloaded: every picture is a photograph from an installed Debian or pip package
(:data:`PHOTOS`; ``bench/harness-packages.sh`` installs the Debian ones, plus ``tuxpaint-data``;
scikit-image is a dependency of the project, scikit-learn is not: without it aside lacks its two
photos, and ``report.json`` ``missing_photos`` counts what was not found). blind3's and blind4's packages
are not in ``bench/harness-packages.sh``: ``apt-get install --no-install-recommends`` :data:`BLIND3_DEBIAN`
and :data:`BLIND4_DEBIAN`; blind3 and blind4 are each built only when every photo they list, and every
photo of the parts they are checked against (scikit-learn's two included), is found
(:data:`COMPLETE_PARTS`), else the build stops before writing.
Clips are written with PyAV (libx264 / mpeg4 / libvpx / mjpeg; AAC silence in some containers).

Shots
-----
Every photo is decoded (longer side at most ``MAX_PHOTO`` px) and cut into a grid of cells
(up to 6 x 6, each at least ``MIN_CELL`` px): a cell is the source of one shot, and **every cell
is used at most once in the whole corpus**, so two originals never share a picture. A cell is
rejected when it is flat (grey std < ``MIN_STD``) or when its 32x18 grey thumbnail correlates
>= ``MAX_CORRELATION`` with an accepted cell's (or its mirror's). A shot is a slow pan and zoom
(Ken Burns) over its cell, 1.5-4 s long.

Originals (``kind``)
--------------------
- ``montage``: 3-6 shots with hard cuts, 8-20 s, 24/25/30 fps, 160-320 px wide (16:9), H.264 MP4;
- ``intro``: pairs of originals that open with the same ``INTRO_S`` s title card (one cell and a
  caption, identical frames) and then differ (2-4 shots each): each is its own group.

Every original gets ``EDITS_PER_ORIGINAL`` distinct edits (balanced over the part, seeded), applied
to the **decoded original file** (a second-generation encode, as copies are made):

- full copies: ``reencode`` (H.264 at ~1/4 of the bitrate), ``rescale`` (x0.5 or x1.5), ``fps``
  (30/25 -> 15, 24 -> 30), ``crop10`` (centre crop keeping 90% of each side), ``mirror``,
  ``letterbox`` (16:9 in a 4:3 frame, black bars), ``watermark`` (a caption box in a corner),
  ``brightness`` (contrast x1.25, +20 levels), ``grayscale``, ``codec`` (VP9 WebM, MPEG-4 AVI
  with AAC, MJPEG MKV or VP8 WebM), ``trim_head`` / ``trim_tail`` (15% of the duration cut);
- ``speed`` (1.25x faster: time_scale 1.25, original seconds per copy second) and the partial
  copies ``excerpt`` (35-55% of the original from a point after its start) and ``prepend``
  (3-6 s of unrelated footage, then the whole original).

Each copy's truth row holds the segment it shares with its original: ``orig_start``..``orig_end``
(seconds in the original) and ``copy_start``..``copy_end`` (seconds in the copy), and ``time_scale``.

Hard negatives (``role`` = negative; each its own group, never a duplicate of anything)
------------------------------------------------------------------------------------
- ``reorder``: the shots of an original (4+ shots, with edits) in another order: no shot where it
  was, no two shots that followed each other still in that order side by side;
- ``intro`` (above): the shared opening;
- ``static``: one cell held still for 6-12 s; ``dark``: a cell's pan at ~5% brightness (near
  black, little detail); both low-information clips that must not match one another;
- ``slideshow``: 4 whole photos of one package held 2-3 s each with short cross-fades, two or
  more slideshows per part from the same package (a photo series): look-alikes.

Split (``split.json``)
----------------------
Each photo package goes wholly to one part (:data:`PACKAGE_PART`); ``tune/`` is the only part
that may be looked at while tuning. **Never tune on ``aside/``, ``blind2/``, ``blind3/`` or ``blind4/``**
(:data:`KEPT_ASIDE`).

- ``tune``: plasma-workspace-wallpapers, tuxpaint-data (the slideshows' series), gimp-help-en,
  lomiri-wallpapers-20.04;
- ``aside``: mate-backgrounds (series), lomiri-wallpapers-16.04, scikit-learn's two photos; the
  first kept-aside part, run once blind on 2026-12-06 and seen since;
- ``blind2`` (added 2026-12-07, after aside had been seen): lxqt-themes wallpapers, tuxtype-data's
  ``kcas*`` photos (series), scikit-image's bundled photos: packages that no earlier video part
  uses. Its cells are also checked against every picture of tune and aside (whole photos and
  non-flat grid cells, mirrors too, :data:`EARLIER_PARTS`): a look-alike (correlation >=
  ``MAX_CORRELATION``) is rejected, so blind2 shares no picture with them; tune and aside are
  built exactly as before blind2 existed. Nobody looks at its clips, probes or tunes on it: the
  lead builds it with ``--parts blind2`` and runs ``python -m bench.video --part blind2`` once
  with the shipped defaults, to quote a frozen configuration;
- ``blind3`` (added 2026-12-07, after blind2 had been run): photographs from Debian packages that no
  earlier video part uses and that the image harnesses (bench/broad_corpus.py's packages,
  bench/harness-packages.sh, bench/quality_corpus.py's pip photos) do not use either:
  kphotoalbum's demo album (24), digikam-data's about-page landscape (1), gramps' example
  photographs (7 portraits and groups), kodi-data's Estuary home pictures (2), libvips-doc's owl (1),
  scribus-data's newsletter photo (1), and dde-account-faces' avatar photos (13, the series). Its
  cells are checked against every picture of tune, aside and blind2 (:data:`EARLIER_PARTS`), as
  blind2's were against tune and aside; tune, aside and blind2 are built exactly as before blind3
  existed. Kept blind like blind2: ``--parts blind3``, then ``python -m bench.video --part blind3``
  once, by the lead, with the configuration to be quoted (run once on 2026-12-07 and seen since);
- ``blind4`` (added 2026-12-07, after blind3 had been run): photographs from Debian packages that no
  earlier video part uses and that the image harnesses do not use either (as for blind3): Scratch's
  photographic stage backdrops (53, 480 x 360: rooms, landscapes, streets, murals, sports fields; the
  slideshows' series), libelementary-data's test photographs (11: a dog, skies, stone walls, a plant,
  people), renpy-demo's photographic backgrounds (4: a lava tube, Washington, a road) and efl-doc's
  example photo (1). Its cells are checked against every picture of tune, aside, blind2 and blind3
  (:data:`EARLIER_PARTS`); the earlier parts are built exactly as before blind4 existed. Kept blind
  like blind3: ``--parts blind4``, then ``python -m bench.video --part blind4`` once, by the lead,
  with the configuration to be quoted.

Parts are independent (cells, plans and seeds are per part), so a part built alone
(``--parts blind4``) is the same as in a full build, and the other parts are left as they are
(``report.json`` and ``split.json`` keep their entries).

Layout::

    OUT/{tune,aside,blind2,blind3,blind4}/originals/<id>.mp4
    OUT/{tune,aside,blind2,blind3,blind4}/copies/<id>__<edit>.<ext>
    OUT/{tune,aside,blind2,blind3,blind4}/negatives/<kind>/<id>.mp4
    OUT/{tune,aside,blind2,blind3,blind4}/truth.csv      one row per file (file = its path under the part = its item_id)
    OUT/split.json, OUT/report.json

Deterministic: the same arguments give the same plans, rendered frames and truth (seeded per name;
encoders on one thread, containers bitexact). The files' bytes are not always identical between
builds: libx264 (one thread, the same options in its SEI) now and then encodes the same frames
differently, seen on the first encode in a process (cause not found), so a rebuild can differ by
encoder noise (a mean of a few grey levels), not by content.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import time
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "out" / "video" / "corpus"
PARTS = ("tune", "aside", "blind2", "blind3", "blind4")
KEPT_ASIDE = ("aside", "blind2", "blind3", "blind4")   # never tuned on; blind2-4 are each run once, blind (docstring)
# a part's cells are also checked against the pictures of these parts (a look-alike is rejected), so
# a part added later shares no picture with the parts built before it; tune and aside check nothing
EARLIER_PARTS = {"blind2": ("tune", "aside"), "blind3": ("tune", "aside", "blind2"),
                 "blind4": ("tune", "aside", "blind2", "blind3")}
# parts built only when every photo they list, and every photo of their EARLIER_PARTS, is found: a
# missing package would silently give another part (and a weaker look-alike check) on another machine
COMPLETE_PARTS = ("blind3", "blind4")
DEFAULT_PER_PART = 100
QUICK_PER_PART = 20

# photographs only (picked by eye from the contact sheets of the installed packages; the
# abstract, rendered and painted wallpapers are left out), package -> globs
PHOTOS: dict[str, list[str]] = {
    "plasma-workspace-wallpapers": [f"/usr/share/wallpapers/{d}/contents/images/*" for d in (
        "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey",
        "Kite", "OneStandsOut", "Path", "Volna", "summer_1am", "MilkyWay")],
    "tuxpaint-data": [f"/usr/share/tuxpaint/templates/{n}.jpg" for n in (
        "burnt_bark", "cliff", "corn_maze", "jellyfish", "lighthouse", "mossy_bark", "mossy_log", "mudstone",
        "ocean_splash", "ocean_waves", "redwoods_above", "rocks", "sheep", "spiders_web", "sun_behind_clouds",
        "sun_behind_leaves", "wool_mill_machine")],
    "gimp-help-en": [f"/usr/share/gimp/2.0/help/en/images/tutorials/tone-mapping/{n}.jpg" for n in (
        "apple-orchard-truck-from-camera", "power-lines", "tree-exposed-for-sky-ground-is-dark")],
    "lomiri-wallpapers-20.04": ["/usr/share/backgrounds/Infinite-Sea_by_Aury88.jpg",
                                "/usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg"],
    "mate-backgrounds": [f"/usr/share/backgrounds/mate/nature/{n}.jpg" for n in (
        "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops", "Storm",
        "TwoWings", "Wood", "YellowFlower")],
    "lomiri-wallpapers-16.04": [f"/usr/share/backgrounds/{n}.jpg" for n in (
        "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "Picture_0B_by_freespace", "Picture_1A_by_freespace",
        "Wine_by_Jakkub_Mede", "aitzgorri_by_Aitzol_Berasategi", "analogpattern_by_Peter_Nerlich",
        "free_by_Peter_Nerlich", "friends_by_Aitzol_Berasategi", "greentock_by_Peter_Nerlich",
        "life_by_Aitzol_Berasategi", "picosdeeuropa_by_Aitzol_Berasategi", "seeding_by_Clements_Engelhardt",
        "sunset_by_Aitzol_Berasategi")],
    "scikit-learn": ["sklearn:china.jpg", "sklearn:flower.jpg"],
    # blind2 (added 2026-12-07): packages no earlier video part uses. palapeli-data and
    # sddm-theme-maldives were on the first list and were taken off before the build, on a check
    # that wrongly found them missing (both are installed by bench/harness-packages.sh, for the
    # image harness); the part was built and run without them and stays so
    "lxqt-themes": [f"/usr/share/lxqt/wallpapers/{n}" for n in (
        "Valendas.png", "appleflower.png", "beam.png", "butterfly.png", "cloud.png", "drop.png", "flowers.png",
        "Butterfly-Kenneth-Wimer.jpg", "fog.jpg", "after-the-rain.jpg", "this-is-not-windows.jpg")],
    "tuxtype-data": [f"/usr/share/tuxtype/images/kcas{i}.jpg" for i in range(12)],
    "scikit-image": [f"skimage:{n}" for n in (
        "astronaut.png", "camera.png", "chelsea.png", "coffee.png", "hubble_deep_field.jpg", "motorcycle_left.png",
        "rocket.jpg")],
    # blind3 (added 2026-12-07): Debian packages that no earlier video part and no image harness uses
    # (BLIND3_DEBIAN installs them). Left out by eye: dde-account-faces' 9.png (a rendered room) and
    # default.png (1.png again), gramps' engravings (O1, Alimehemet) and its thumbnails (O0, O2, O3)
    "kphotoalbum": [f"/usr/share/kphotoalbum/demo/{n}.jpg" for n in (   # the demo album, 800 px wide
        "anne_helene", "bar55", "bar55_2", "blackie", "cold_water", "donna", "donna_2", "grand_canyon_1",
        "grand_canyon_2", "grand_canyon_3", "jesper", "jesper_2", "new_wave_1", "new_wave_2", "pool", "pool_2",
        "qt-logo", "skagen", "skagen_2", "snow", "spiff", "spiff_2", "sunset", "wayne")],
    "digikam-data": ["/usr/share/digikam/about/images/body-background.jpg"],
    "gramps": [f"/usr/share/doc/gramps/example/gramps/{n}" for n in (
        "E_W_Dahlgren.jpg", "654px-Aksel_Andersson.jpg", "Gunnlaugur_Larusson_-_Yawn.jpg",
        "1897_expeditionsmannschaft_rio_a.jpg", "AntoineClaudet.png", "O4.jpg", "O5.jpg")],
    "kodi-data": [f"/usr/share/kodi/addons/skin.estuary/extras/home-images/{n}.jpg" for n in ("movie", "music")],
    "libvips-doc": ["/usr/share/gtk-doc/html/libvips/owl.jpg"],
    "scribus-data": ["/usr/share/scribus/templates/nl2/flowers.jpg"],
    "dde-account-faces": [f"/var/lib/AccountsService/icons/bigger/{i}.png" for i in (
        1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14)],   # 200 x 200 stock photos: the slideshows' series
    # blind4 (added 2026-12-07): Debian packages that no earlier video part and no image harness uses
    # (BLIND4_DEBIAN installs them). Left out by eye: Scratch's drawn backdrops (bedroom1/2, party-room,
    # room1-3, spotlight-stage, desert, stars, underwater, woods, woods-and-bench, brick-wall1, night-city*,
    # school1/2, train-tracks3, basketball-court2, xy-grid), basketball-court1-b (court1-a again, from
    # nearby) and its costumes (cut-outs); libelementary-data's panel_01 and wood_01 (near-uniform
    # textures); renpy-demo's panorama, concert and character pictures (renders, drawings); efl-doc's
    # other example pictures (textures, renders, and sky_01, which is libelementary-data's)
    "scratch": [f"/usr/share/scratch/Media/Backgrounds/{n}" for n in (   # 480 x 360: the slideshows' series
        "Indoors/chalkboard.jpg", "Indoors/clothing-store.jpg", "Indoors/hall.jpg", "Indoors/kitchen.jpg",
        "Indoors/the-movies-inside.jpg", "Nature/beach-malibu.jpg", "Nature/canyon.jpg", "Nature/flower-bed.jpg",
        "Nature/flowers.gif", "Nature/forest.jpg", "Nature/garden-rock.jpg", "Nature/grand-canyon.jpg",
        "Nature/gravel-desert.jpg", "Nature/hill.jpg", "Nature/lake.jpg", "Nature/moon.jpg", "Nature/pathway.jpg",
        "Nature/tree.jpg", "Nature/water-and-rocks.jpg", "Nature/wave.jpg", "Outdoors/all-sports-mural.jpg",
        "Outdoors/atom-playground.jpg", "Outdoors/bench-with-view.jpg", "Outdoors/berkeley-mural.jpg",
        "Outdoors/boardwalk.jpg", "Outdoors/brick-wall-and-stairs.jpg", "Outdoors/brick-wall2.jpg",
        "Outdoors/building-at-mit.jpg", "Outdoors/building-fireproof.jpg", "Outdoors/castle.jpg",
        "Outdoors/city-with-water.jpg", "Outdoors/city-with-water2.jpg", "Outdoors/driveway.jpg",
        "Outdoors/graffiti.jpg", "Outdoors/hallway_outdoors.jpg", "Outdoors/hay_field.jpg", "Outdoors/houses.jpg",
        "Outdoors/mansion.jpg", "Outdoors/mural-faro.jpg", "Outdoors/parking-ramp.jpg", "Outdoors/pool.jpg",
        "Outdoors/route66.jpg", "Outdoors/silos.jpg", "Outdoors/the-movies.jpg", "Outdoors/train-tracks1.jpg",
        "Outdoors/train-tracks2.jpg", "Outdoors/village.jpg", "Outdoors/wooden-house.jpg",
        "Sports/baseball-field.jpg", "Sports/basketball-court1-a.jpg", "Sports/football-field.jpg",
        "Sports/playing-field.jpg", "Sports/tennis-backboard.jpg")],
    "libelementary-data": [f"/usr/share/elementary/images/{n}.jpg" for n in (   # EFL's test photographs
        "insanely_huge_test_image", "mystrale", "mystrale_2", "plant_01", "rock_01", "rock_02", "sky_01", "sky_02",
        "sky_03", "sky_04", "twofish")],
    "renpy-demo": [f"/usr/share/games/renpy/demo/game/{n}.jpg" for n in (   # 1280 x 720
        "images/bg cave", "images/bg washington", "images/bg whitehouse", "gui/main_menu")],
    "efl-doc": ["/usr/share/doc/efl-doc/examples/evas/resources/images/im1.png"],   # a drink, 720 x 420
}
PACKAGE_PART = {"plasma-workspace-wallpapers": "tune", "tuxpaint-data": "tune", "gimp-help-en": "tune",
                "lomiri-wallpapers-20.04": "tune", "mate-backgrounds": "aside", "lomiri-wallpapers-16.04": "aside",
                "scikit-learn": "aside", "lxqt-themes": "blind2", "tuxtype-data": "blind2",
                "scikit-image": "blind2", "kphotoalbum": "blind3", "digikam-data": "blind3", "gramps": "blind3",
                "kodi-data": "blind3", "libvips-doc": "blind3", "scribus-data": "blind3",
                "dde-account-faces": "blind3", "scratch": "blind4", "libelementary-data": "blind4",
                "renpy-demo": "blind4", "efl-doc": "blind4"}
SERIES_PACKAGE = {"tune": "tuxpaint-data", "aside": "mate-backgrounds",   # the slideshows' photo series
                  "blind2": "tuxtype-data", "blind3": "dde-account-faces", "blind4": "scratch"}
# the Debian packages of blind3 and blind4 (not in bench/harness-packages.sh): apt-get install --no-install-recommends
BLIND3_DEBIAN = tuple(p for p, q in PACKAGE_PART.items() if q == "blind3")
BLIND4_DEBIAN = tuple(p for p, q in PACKAGE_PART.items() if q == "blind4")
PART_DEBIAN = {"blind3": BLIND3_DEBIAN, "blind4": BLIND4_DEBIAN}   # a COMPLETE_PARTS part's own Debian packages
# photos that ship inside pip packages: "<prefix>:<file>" -> <module>/<folder>/<file>
PIP_PHOTOS = {"sklearn": ("sklearn", "datasets/images"), "skimage": ("skimage", "data")}

MAX_PHOTO = 2560
MIN_CELL = (320, 180)
MAX_GRID = 6
MIN_STD = 14.0
MAX_CORRELATION = 0.9
WIDTHS = (160, 192, 256, 320)
FPS = (24, 25, 30)
SHOT_S = (1.5, 4.0)
DURATION_S = (8.0, 20.0)
INTRO_S = 2.5
EDITS_PER_ORIGINAL = 5
FULL_EDITS = ("reencode", "rescale", "fps", "crop10", "mirror", "letterbox", "watermark", "brightness",
              "grayscale", "codec", "trim_head", "trim_tail")
PARTIAL_EDITS = ("speed", "excerpt", "prepend")
EDITS = FULL_EDITS + PARTIAL_EDITS
NEGATIVES = {"full": {"reorder": 10, "static": 8, "dark": 8, "slideshow": 3, "intro_pairs": 4},
             "quick": {"reorder": 3, "static": 3, "dark": 3, "slideshow": 2, "intro_pairs": 1}}
CODECS = (("vp9", ".webm"), ("mpeg4", ".avi"), ("mjpeg", ".mkv"), ("vp8", ".webm"))
ORIGINAL, NEGATIVE = "original", "negative"
TRUTH_COLUMNS = ["file", "group", "original", "role", "edit", "kind", "package", "part", "duration_s", "fps",
                 "width", "height", "codec", "orig_start", "orig_end", "copy_start", "copy_end", "time_scale"]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _rng(seed: int, *keys) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(str(k).encode()) for k in keys)])


# ---------------------------------------------------------------------------- photos and cells

@dataclass(frozen=True)
class Cell:
    """One grid cell of one photo: the picture of one shot (never used twice)."""
    package: str
    photo: str
    box: tuple[int, int, int, int]    # x0, y0, x1, y1 in the (downscaled) photo


def _photo_paths(package: str) -> list[str]:
    out = []
    for pat in PHOTOS[package]:
        prefix, _, name = pat.partition(":")
        if name and prefix in PIP_PHOTOS:
            module, folder = PIP_PHOTOS[prefix]
            try:
                mod = __import__(module)
            except ImportError:
                continue
            p = Path(mod.__file__).parent / folder / name
            out += [str(p)] if p.exists() else []
            continue
        found = sorted(glob.glob(pat))
        if found:   # several sizes of one wallpaper: the largest
            out.append(max(found, key=lambda f: os.path.getsize(f)))
    return out


def load_photo(path: str) -> np.ndarray:
    """RGB uint8 (h, w, 3), longer side at most MAX_PHOTO."""
    from PIL import Image

    im = Image.open(path).convert("RGB")
    scale = MAX_PHOTO / max(im.size)
    if scale < 1:
        im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
    return np.asarray(im)


def _thumb(img: np.ndarray) -> np.ndarray:
    import cv2

    g = cv2.resize(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32)
    return g.ravel()


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    d = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / d) if d else 1.0


def photo_cells(package: str, path: str, img: np.ndarray) -> list[Cell]:
    """Grid cells of one photo (each >= MIN_CELL, up to MAX_GRID x MAX_GRID), row-major."""
    h, w = img.shape[:2]
    cols = int(np.clip(w // MIN_CELL[0], 1, MAX_GRID))
    rows = int(np.clip(h // MIN_CELL[1], 1, MAX_GRID))
    xs = np.linspace(0, w, cols + 1).astype(int)
    ys = np.linspace(0, h, rows + 1).astype(int)
    return [Cell(package, path, (int(xs[c]), int(ys[r]), int(xs[c + 1]), int(ys[r + 1])))
            for r in range(rows) for c in range(cols)]


class CellPool:
    """The part's cells, distinct (no flat, no look-alike), in a seeded order; take() hands each out once."""

    def __init__(self, cells: list[Cell], seed: int, part: str) -> None:
        order = _rng(seed, part, "cells").permutation(len(cells))
        self.cells = [cells[i] for i in order]
        self.next = 0

    def take(self, n: int) -> list[Cell]:
        if self.next + n > len(self.cells):
            raise IndexError("out of cells")
        out = self.cells[self.next:self.next + n]
        self.next += n
        return out

    def left(self) -> int:
        return len(self.cells) - self.next


def _unit(t: np.ndarray) -> np.ndarray:
    """A thumbnail (or rows of them) centred and scaled to norm 1: dot products are _corr."""
    a = np.atleast_2d(t).astype(np.float64)
    a = a - a.mean(axis=1, keepdims=True)
    n = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.where(n > 0, n, 1.0)


def earlier_thumbs(part: str) -> np.ndarray:
    """Unit thumbnails (k, 576) of the pictures of the parts built before `part`
    (:data:`EARLIER_PARTS`): every whole photo and every grid cell that is not flat, accepted or
    not, of every photo of their packages (the slideshows' series included)."""
    thumbs = []
    for earlier in EARLIER_PARTS.get(part, ()):
        for package in sorted(p for p, q in PACKAGE_PART.items() if q == earlier):
            for path in _photo_paths(package):
                img = load_photo(path)
                thumbs.append(_thumb(img))
                for cell in photo_cells(package, path, img):
                    x0, y0, x1, y1 = cell.box
                    t = _thumb(img[y0:y1, x0:x1])
                    if t.std() >= MIN_STD:
                        thumbs.append(t)
    return _unit(np.stack(thumbs)) if thumbs else np.zeros((0, 32 * 18))


def missing_photos(part: str) -> dict[str, int]:
    """Listed photos that are not found, per package, of `part` and of its :data:`EARLIER_PARTS`
    (packages that miss none are left out)."""
    parts = (part, *EARLIER_PARTS.get(part, ()))
    out = {}
    for package in sorted(p for p, q in PACKAGE_PART.items() if q in parts):
        n = len(PHOTOS[package]) - len(_photo_paths(package))
        if n:
            out[package] = n
    return out


def part_cells(part: str, photos: dict[str, np.ndarray], exclude: set[str], report: dict,
               earlier: np.ndarray | None = None) -> list[Cell]:
    """Every accepted cell of the part's photos (minus the whole photos in `exclude`); with `earlier`
    (:func:`earlier_thumbs`), a cell that correlates >= MAX_CORRELATION with one of them (or whose
    mirror does) is rejected too."""
    accepted: list[Cell] = []
    thumbs: list[np.ndarray] = []
    rejected = {"flat": 0, "look-alike": 0} | ({"earlier-part look-alike": 0} if earlier is not None else {})
    for package in sorted(p for p, q in PACKAGE_PART.items() if q == part):
        for path in _photo_paths(package):
            if path in exclude or path not in photos:
                continue
            img = photos[path]
            for cell in photo_cells(package, path, img):
                x0, y0, x1, y1 = cell.box
                t = _thumb(img[y0:y1, x0:x1])
                if t.std() < MIN_STD:
                    rejected["flat"] += 1
                    continue
                mirror = t.reshape(18, 32)[:, ::-1].ravel()
                if earlier is not None and len(earlier) and \
                        float((earlier @ _unit(np.stack([t, mirror])).T).max()) >= MAX_CORRELATION:
                    rejected["earlier-part look-alike"] += 1
                    continue
                if any(_corr(t, u) >= MAX_CORRELATION or _corr(mirror, u) >= MAX_CORRELATION for u in thumbs):
                    rejected["look-alike"] += 1
                    continue
                thumbs.append(t)
                accepted.append(cell)
    report.setdefault("cells", {})[part] = {"accepted": len(accepted), **rejected}
    return accepted


# ---------------------------------------------------------------------------- rendering

@dataclass
class Shot:
    cell: Cell
    seconds: float
    motion: tuple[float, ...]   # s0, s1, dx0, dy0, dx1, dy1 (window scale and centre shift, cell units)
    hold: bool = False          # a still frame (static clips, slideshows)
    gain: float = 1.0           # brightness multiplier (dark clips)
    caption: str = ""


def _motion(rng: np.random.Generator) -> tuple[float, ...]:
    s0 = rng.uniform(0.72, 0.92)
    s1 = float(np.clip(s0 * rng.uniform(0.85, 1.15), 0.6, 0.98))
    m0, m1 = (1 - s0) / 2, (1 - s1) / 2
    return (s0, s1, rng.uniform(-m0, m0), rng.uniform(-m0, m0), rng.uniform(-m1, m1), rng.uniform(-m1, m1))


def _cell_image(photos: dict[str, np.ndarray], cell: Cell, out_w: int) -> np.ndarray:
    """The cell, downscaled so that its widest 16:9 window is about 1.5x the output width."""
    import cv2

    x0, y0, x1, y1 = cell.box
    img = photos[cell.photo][y0:y1, x0:x1]
    w, h = x1 - x0, y1 - y0
    win_w = min(w, h * 16 / 9)
    scale = min(1.0, 1.5 * out_w / win_w)
    if scale < 1:
        img = cv2.resize(img, (max(2, round(w * scale)), max(2, round(h * scale))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img)


def render_shot(img: np.ndarray, shot: Shot, size: tuple[int, int], n: int) -> np.ndarray:
    """n frames (n, h, w, 3) uint8 of a pan/zoom over img (16:9 window)."""
    import cv2

    out_w, out_h = size
    h, w = img.shape[:2]
    base_w = min(w, h * 16 / 9)
    s0, s1, dx0, dy0, dx1, dy1 = shot.motion
    frames = np.empty((n, out_h, out_w, 3), np.uint8)
    for i in range(n):
        t = 0.0 if shot.hold else (i / max(1, n - 1))
        t = t * t * (3 - 2 * t)   # ease in and out
        s = s0 + (s1 - s0) * t
        cx = w / 2 + (dx0 + (dx1 - dx0) * t) * w
        cy = h / 2 + (dy0 + (dy1 - dy0) * t) * h
        ww, wh = base_w * s, base_w * s * 9 / 16
        k = out_w / ww
        m = np.array([[k, 0, out_w / 2 - k * cx], [0, k, out_h / 2 - k * cy]], np.float32)
        frames[i] = cv2.warpAffine(img, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if shot.gain != 1.0:
        frames = np.clip(frames.astype(np.float32) * shot.gain, 0, 255).astype(np.uint8)
    if shot.caption:
        frames = overlay(frames, caption_image(shot.caption, out_w, out_h // 5), "center")
    return frames


def caption_image(text: str, w: int, h: int) -> np.ndarray:
    """RGBA (h, w, 4): white text on a half-transparent black box."""
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("RGBA", (w, h), (0, 0, 0, 140))
    font = ImageFont.load_default(size=max(8, int(h * 0.6)))
    d = ImageDraw.Draw(im)
    box = d.textbbox((0, 0), text, font=font)
    d.text(((w - (box[2] - box[0])) / 2 - box[0], (h - (box[3] - box[1])) / 2 - box[1]), text,
           fill=(255, 255, 255, 230), font=font)
    return np.asarray(im)


def overlay(frames: np.ndarray, rgba: np.ndarray, where: str) -> np.ndarray:
    """Alpha-blend rgba onto every frame, at the centre or a corner ("tl", "tr", "bl", "br")."""
    H, W = frames.shape[1:3]
    h, w = rgba.shape[:2]
    y = {"t": 2, "b": H - h - 2}.get(where[0], (H - h) // 2) if where != "center" else (H - h) // 2
    x = {"l": 2, "r": W - w - 2}.get(where[-1], (W - w) // 2) if where != "center" else (W - w) // 2
    a = rgba[..., 3:4].astype(np.float32) / 255
    out = frames.copy()
    region = out[:, y:y + h, x:x + w].astype(np.float32)
    out[:, y:y + h, x:x + w] = (region * (1 - a) + rgba[..., :3] * a).astype(np.uint8)
    return out


def render(photos: dict[str, np.ndarray], shots: list[Shot], size: tuple[int, int], fps: int,
           fade_s: float = 0.0) -> np.ndarray:
    """All frames of a clip: shots back to back (hard cuts, or cross-fades of fade_s)."""
    parts = []
    for shot in shots:
        n = max(1, round(shot.seconds * fps))
        parts.append(render_shot(_cell_image(photos, shot.cell, size[0]), shot, size, n))
    if fade_s <= 0:
        return np.concatenate(parts)
    k = max(1, round(fade_s * fps))
    out = parts[0]
    for p in parts[1:]:
        a = np.linspace(0, 1, k + 2)[1:-1, None, None, None]
        mix = (out[-k:] * (1 - a) + p[:k] * a).astype(np.uint8)
        out = np.concatenate([out[:-k], mix, p[k:]])
    return out


# ---------------------------------------------------------------------------- encoding and decoding

def encode(path: Path, frames: np.ndarray, fps: float, codec: str = "libx264", crf: int = 23,
           bit_rate: int | None = None, audio: bool = False) -> None:
    """Write frames (n, h, w, 3) uint8 RGB; the container follows the suffix."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    rate = Fraction(fps).limit_denominator(1001)
    name = {"vp9": "libvpx-vp9", "vp8": "libvpx"}.get(codec, codec)
    # bitexact: no random ids or dates in the container (Matroska, WebM), so files are reproducible
    with av.open(str(path), "w", options={"fflags": "+bitexact"}) as out:
        s = out.add_stream(name, rate=rate)
        s.width, s.height = w, h
        s.thread_count = 1   # PyAV's default (auto) gives frame threads: not byte-reproducible
        s.pix_fmt = "yuvj420p" if name == "mjpeg" else "yuv420p"
        opts = {}
        if name == "libx264":
            opts = {"preset": "veryfast", "threads": "1"} | ({} if bit_rate else {"crf": str(crf)})
        elif name.startswith("libvpx"):
            opts = {"deadline": "good", "cpu-used": "5", "threads": "1"} | \
                   ({} if bit_rate else {"crf": "33", "b:v": "0"})
        elif name == "mjpeg":
            opts = {"q:v": "5"}
        if bit_rate:
            s.bit_rate = bit_rate
        elif name == "mpeg4":
            s.bit_rate = int(w * h * fps * 0.15)
        s.options = opts
        a = None
        if audio:
            a = out.add_stream("aac", rate=44100, layout="mono")
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
        if a is not None:
            _silence(out, a, len(frames) / float(fps))


def _silence(out, stream, seconds: float) -> None:
    import av

    n, pos = int(seconds * 44100), 0
    while pos < n:
        k = min(1024, n - pos)
        fr = av.AudioFrame.from_ndarray(np.zeros((1, k), np.float32), format="fltp", layout="mono")
        fr.sample_rate, fr.pts = 44100, pos
        for p in stream.encode(fr):
            out.mux(p)
        pos += k
    for p in stream.encode():
        out.mux(p)


def decode(path: Path) -> tuple[np.ndarray, float]:
    """Every frame (n, h, w, 3) RGB and the stream's average fps."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate or s.guessed_rate or 25)
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
    return np.stack(frames), fps


# ---------------------------------------------------------------------------- edits

def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def _resize(frames: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    interp = cv2.INTER_AREA if w < frames.shape[2] else cv2.INTER_LINEAR
    return np.stack([cv2.resize(f, (w, h), interpolation=interp) for f in frames])


def _resample(frames: np.ndarray, fps_in: float, fps_out: float, scale: float = 1.0) -> np.ndarray:
    """Frames at fps_out of the clip played `scale` times faster (nearest frame in time)."""
    duration = len(frames) / fps_in / scale
    n = max(1, int(round(duration * fps_out)))
    idx = np.minimum(len(frames) - 1, np.floor(np.arange(n) / fps_out * scale * fps_in + 1e-6).astype(int))
    return frames[idx]


@dataclass
class Copy:
    """One edited file: frames, fps, codec and suffix, and the segment shared with the original."""
    frames: np.ndarray
    fps: float
    codec: str = "libx264"
    suffix: str = ".mp4"
    bit_rate: int | None = None
    audio: bool = False
    segment: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)   # orig_start, orig_end, copy_start, copy_end
    time_scale: float = 1.0
    extra: dict = field(default_factory=dict)


def apply_edit(edit: str, frames: np.ndarray, fps: float, rng: np.random.Generator,
               filler: np.ndarray | None = None) -> Copy:
    """The copy of an original's decoded frames under one edit (filler: unrelated footage for prepend)."""
    n, h, w = frames.shape[:3]
    dur = n / fps
    full = (0.0, dur, 0.0, dur)
    if edit == "reencode":
        return Copy(frames, fps, bit_rate=int(w * h * fps * 0.02), segment=full)
    if edit == "rescale":
        f = 0.5 if rng.random() < 0.5 or w >= 320 else 1.5
        return Copy(_resize(frames, _even(w * f), _even(h * f)), fps, segment=full, extra={"factor": f})
    if edit == "fps":
        new = 30.0 if fps < 25 else 15.0
        return Copy(_resample(frames, fps, new), new, segment=full)
    if edit == "crop10":
        cw, ch = _even(w * 0.9), _even(h * 0.9)
        x, y = (w - cw) // 2, (h - ch) // 2
        return Copy(np.ascontiguousarray(frames[:, y:y + ch, x:x + cw]), fps, segment=full)
    if edit == "mirror":
        return Copy(np.ascontiguousarray(frames[:, :, ::-1]), fps, segment=full)
    if edit == "letterbox":
        H = _even(w * 3 / 4)
        out = np.zeros((n, H, w, 3), np.uint8)
        y = (H - h) // 2
        out[:, y:y + h] = frames
        return Copy(out, fps, segment=full)
    if edit == "watermark":
        mark = caption_image("@channel", _even(w * 0.35), _even(h * 0.14))
        return Copy(overlay(frames, mark, ["tl", "tr", "bl", "br"][int(rng.integers(4))]), fps, segment=full)
    if edit == "brightness":
        out = np.clip((frames.astype(np.float32) - 128) * 1.25 + 148, 0, 255).astype(np.uint8)
        return Copy(out, fps, segment=full)
    if edit == "grayscale":
        g = (frames @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.uint8)
        return Copy(np.repeat(g[..., None], 3, axis=3), fps, segment=full)
    if edit == "codec":
        codec, suffix = CODECS[int(rng.integers(len(CODECS)))]
        return Copy(frames, fps, codec=codec, suffix=suffix, audio=suffix in (".avi", ".mkv"), segment=full)
    if edit == "trim_head":
        k = int(round(0.15 * n))
        return Copy(frames[k:], fps, segment=(k / fps, dur, 0.0, (n - k) / fps))
    if edit == "trim_tail":
        k = n - int(round(0.15 * n))
        return Copy(frames[:k], fps, segment=(0.0, k / fps, 0.0, k / fps))
    if edit == "speed":
        out = _resample(frames, fps, fps, 1.25)
        return Copy(out, fps, segment=(0.0, dur, 0.0, len(out) / fps), time_scale=1.25)
    if edit == "excerpt":
        length = int(round(n * rng.uniform(0.35, 0.55)))
        start = int(rng.integers(max(1, int(0.1 * n)), n - length + 1))
        return Copy(frames[start:start + length], fps,
                    segment=(start / fps, (start + length) / fps, 0.0, length / fps))
    if edit == "prepend":
        assert filler is not None
        p = len(filler) / fps
        return Copy(np.concatenate([filler, frames]), fps, segment=(0.0, dur, p, p + dur))
    raise KeyError(edit)


def assign_edits(names: list[str], seed: int, part: str, k: int = EDITS_PER_ORIGINAL) -> dict[str, list[str]]:
    """k distinct edits per original, each edit used about equally often within the part."""
    used = {e: 0 for e in EDITS}
    out = {}
    for name in names:
        tie = _rng(seed, part, name, "edits").random(len(EDITS))
        ranked = sorted(range(len(EDITS)), key=lambda i: (used[EDITS[i]], tie[i]))
        pick = [EDITS[i] for i in ranked[:k]]
        for e in pick:
            used[e] += 1
        out[name] = pick
    return out


# ---------------------------------------------------------------------------- plans

@dataclass
class Plan:
    """One file to make: an original (with its copies) or a negative."""
    name: str
    role: str            # original | negative
    kind: str            # montage | intro | reorder | static | dark | slideshow
    shots: list[Shot]
    size: tuple[int, int]
    fps: int
    edits: list[str] = field(default_factory=list)
    fillers: dict[str, list[Shot]] = field(default_factory=dict)
    fade_s: float = 0.0


def _format(rng: np.random.Generator) -> tuple[tuple[int, int], int]:
    w = int(rng.choice(WIDTHS))
    return (w, _even(w * 9 / 16)), int(rng.choice(FPS))


def _durations(rng: np.random.Generator, n_range=(3, 6), total=DURATION_S) -> list[float]:
    while True:
        n = int(rng.integers(n_range[0], n_range[1] + 1))
        d = rng.uniform(*SHOT_S, size=n)
        if total[0] <= d.sum() <= total[1]:
            return [round(float(x), 2) for x in d]


def plan_part(part: str, pool: CellPool, series: list[str], n_originals: int, negatives: dict, seed: int,
              photos: dict[str, np.ndarray]) -> list[Plan]:
    """Every file of the part: negatives first (their cells), then intro pairs and montages while cells last."""
    plans: list[Plan] = []
    whole = [Cell(SERIES_PACKAGE[part], p, (0, 0, photos[p].shape[1], photos[p].shape[0])) for p in series]
    per = 4
    for i in range(negatives["slideshow"]):
        chunk = whole[i * per:(i + 1) * per]
        if len(chunk) < per:
            break
        rng = _rng(seed, part, "slideshow", i)
        size, fps = _format(rng)
        shots = [Shot(c, float(rng.uniform(2.0, 3.0)), (0.95, 0.95, 0, 0, 0, 0), hold=True) for c in chunk]
        plans.append(Plan(f"slideshow{i:02d}", NEGATIVE, "slideshow", shots, size, fps, fade_s=0.4))
    for kind in ("static", "dark"):
        for i in range(negatives[kind]):
            rng = _rng(seed, part, kind, i)
            size, fps = _format(rng)
            if kind == "static":
                shots = [Shot(pool.take(1)[0], float(rng.uniform(6, 12)), (0.95, 0.95, 0, 0, 0, 0), hold=True)]
            else:
                shots = [Shot(c, d, _motion(rng), gain=float(rng.uniform(0.04, 0.07)))
                         for c, d in zip(pool.take(2), rng.uniform(3, 6, size=2))]
            plans.append(Plan(f"{kind}{i:02d}", NEGATIVE, kind, shots, size, fps))
    originals: list[Plan] = []
    for i in range(negatives["intro_pairs"]):
        rng = _rng(seed, part, "intro", i)
        size, fps = _format(rng)
        intro = Shot(pool.take(1)[0], INTRO_S, _motion(rng), caption=f"CHANNEL {i + 1}")
        for j in range(2):
            d = _durations(_rng(seed, part, "intro", i, j), (2, 4), (6.0, 16.0))
            shots = [Shot(c, x, _motion(rng)) for c, x in zip(pool.take(len(d)), d)]
            originals.append(Plan(f"intro{i:02d}{'ab'[j]}", ORIGINAL, "intro", [intro] + shots, size, fps))
    # prepend fillers come out of the pool before the montages take the rest: about a share
    # 1/len(EDITS) x EDITS_PER_ORIGINAL of the originals get a prepend copy, 2 cells each
    per_original = 4.5 + 2 * EDITS_PER_ORIGINAL / len(EDITS)   # mean shots + filler cells
    expected = min(n_originals, len(originals) + int(pool.left() / per_original))
    fillers = pool.take(min(pool.left(), 2 * (int(np.ceil(expected * EDITS_PER_ORIGINAL / len(EDITS))) + 2)))
    i = 0
    while len(originals) < n_originals:
        rng = _rng(seed, part, "montage", i)
        d = _durations(rng)
        if pool.left() < len(d):
            break
        size, fps = _format(rng)
        shots = [Shot(c, x, _motion(rng)) for c, x in zip(pool.take(len(d)), d)]
        originals.append(Plan(f"m{i:03d}", ORIGINAL, "montage", shots, size, fps))
        i += 1
    edits = assign_edits([p.name for p in originals], seed, part)
    for p in originals:
        p.edits = edits[p.name]
        if "prepend" in p.edits:
            rng = _rng(seed, part, p.name, "filler")
            d = [float(x) for x in rng.uniform(1.5, 3.0, size=2)]
            if len(fillers) < 2:
                raise RuntimeError(f"{part}: out of filler cells for prepend copies")
            p.fillers["prepend"] = [Shot(c, x, _motion(rng)) for c, x in zip(fillers[:2], d)]
            fillers = fillers[2:]
    # 4+ shots: with 3 every shuffle keeps two shots in place or side by side
    montages = [p for p in originals if p.kind == "montage" and len(p.shots) >= 4]
    pick = _rng(seed, part, "reorder").permutation(len(montages))[:negatives["reorder"]]
    for j in sorted(pick):
        src = montages[j]
        order = _derangement(len(src.shots), _rng(seed, part, src.name, "reorder"))
        plans.append(Plan(f"reorder_{src.name}", NEGATIVE, "reorder", [src.shots[k] for k in order], src.size,
                          src.fps))
    return originals + plans


def _derangement(n: int, rng: np.random.Generator) -> list[int]:
    """A shot order with no shot in its place and no two shots that followed each other still
    following each other (else an excerpt of those two shots would be a true partial copy of it)."""
    while True:
        p = [int(x) for x in rng.permutation(n)]
        if all(p[i] != i for i in range(n)) and all(p[i + 1] != p[i] + 1 for i in range(n - 1)):
            return p


# ---------------------------------------------------------------------------- building

_PHOTOS: dict[str, np.ndarray] = {}


def _init_worker(photos: dict[str, np.ndarray]) -> None:
    global _PHOTOS
    _PHOTOS = photos


def make(args: tuple[Plan, Path, str, int]) -> list[dict]:
    """Write one plan's files (an original and its copies, or a negative); their truth rows."""
    plan, root, part, seed = args
    frames = render(_PHOTOS, plan.shots, plan.size, plan.fps, plan.fade_s)
    folder = "originals" if plan.role == ORIGINAL else f"negatives/{plan.kind}"
    rel = f"{folder}/{plan.name}.mp4"
    encode(root / rel, frames, plan.fps)
    packages = "+".join(sorted({s.cell.package for s in plan.shots}))
    group = f"{part}/{plan.name}"
    dur = len(frames) / plan.fps
    base = {"group": group, "kind": plan.kind, "package": packages, "part": part}
    rows = [{"file": rel, "original": group if plan.role == ORIGINAL else "", "role": plan.role,
             "edit": ORIGINAL if plan.role == ORIGINAL else NEGATIVE, **base, **_shape(frames, plan.fps, "h264"),
             "orig_start": 0.0, "orig_end": dur, "copy_start": 0.0, "copy_end": dur, "time_scale": 1.0}]
    if not plan.edits:
        return rows
    decoded, fps = decode(root / rel)
    for edit in plan.edits:
        rng = _rng(seed, part, plan.name, edit)
        filler = None
        if edit == "prepend":
            filler = render(_PHOTOS, plan.fillers["prepend"], (decoded.shape[2], decoded.shape[1]), plan.fps)
        c = apply_edit(edit, decoded, fps, rng, filler)
        crel = f"copies/{plan.name}__{edit}{c.suffix}"
        encode(root / crel, c.frames, c.fps, c.codec, bit_rate=c.bit_rate, audio=c.audio)
        rows.append({"file": crel, "original": group, "role": "copy", "edit": edit, **base,
                     **_shape(c.frames, c.fps, c.codec), "orig_start": c.segment[0], "orig_end": c.segment[1],
                     "copy_start": c.segment[2], "copy_end": c.segment[3], "time_scale": c.time_scale})
    return rows


def _shape(frames: np.ndarray, fps: float, codec: str) -> dict:
    return {"duration_s": round(len(frames) / fps, 3), "fps": fps, "width": frames.shape[2],
            "height": frames.shape[1], "codec": codec.replace("libx264", "h264")}


def build(out_dir: Path = DEFAULT_OUT, per_part: int = DEFAULT_PER_PART, seed: int = 0, workers: int = 2,
          quick: bool = False, parts: tuple[str, ...] = PARTS) -> dict:
    t0 = time.perf_counter()
    negatives = NEGATIVES["quick" if quick else "full"]
    report: dict = {"per_part": per_part, "seed": seed, "negatives": negatives, "missing_photos": {}}
    split = {"rule": "each photo package wholly in one part (bench/video_corpus.py PACKAGE_PART); aside, "
                     "blind2, blind3 and blind4 are never tuned on; blind2, blind3 and blind4 are each run once, "
                     "blind",
             "packages": dict(sorted(PACKAGE_PART.items())), "parts": {}}
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ValueError(f"unknown parts {unknown}: choose from {PARTS}")
    for part in parts:   # before anything is written
        missing = missing_photos(part) if part in COMPLETE_PARTS else {}
        if missing:
            raise RuntimeError(
                f"{part} is built only with every photo of its packages and of {', '.join(EARLIER_PARTS[part])}; "
                f"missing (package: photos): {missing}. Install the Debian ones (bench/harness-packages.sh; "
                f"{part}'s own: apt-get install --no-install-recommends {' '.join(PART_DEBIAN[part])}) and the pip "
                f"ones (scikit-learn, scikit-image), or leave {part} out (--parts)")
    for part in parts:
        photos: dict[str, np.ndarray] = {}
        for package in sorted(p for p, q in PACKAGE_PART.items() if q == part):
            paths = _photo_paths(package)
            report["missing_photos"][package] = len(PHOTOS[package]) - len(paths)
            for path in paths:
                photos[path] = load_photo(path)
        series_all = _photo_paths(SERIES_PACKAGE[part])
        series = [series_all[i] for i in _rng(seed, part, "series").permutation(len(series_all))]
        series = series[:4 * negatives["slideshow"]]
        earlier = earlier_thumbs(part) if part in EARLIER_PARTS else None
        if earlier is not None:
            report.setdefault("earlier_pictures", {})[part] = len(earlier)
        pool = CellPool(part_cells(part, photos, set(series), report, earlier), seed, part)
        plans = plan_part(part, pool, series, per_part, negatives, seed, photos)
        report.setdefault("cells_left", {})[part] = pool.left()
        root = out_dir / part
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        tasks = [(p, root, part, seed) for p in sorted(plans, key=lambda p: -len(p.edits))]
        if workers > 1:
            with Pool(workers, initializer=_init_worker, initargs=(photos,)) as workers_:
                rows = [r for rs in workers_.imap_unordered(make, tasks) for r in rs]
        else:
            _init_worker(photos)
            rows = [r for t in tasks for r in make(t)]
        truth = pd.DataFrame(rows)[TRUTH_COLUMNS].sort_values("file").reset_index(drop=True)
        truth.to_csv(root / "truth.csv", index=False)
        originals = truth[truth["role"] == ORIGINAL]
        report.setdefault("files", {})[part] = len(truth)
        report.setdefault("originals", {})[part] = len(originals)
        report.setdefault("roles", {})[part] = truth["role"].value_counts().to_dict()
        report.setdefault("kinds", {})[part] = truth.groupby("role")["kind"].value_counts().unstack(fill_value=0) \
            .to_dict(orient="index")
        report.setdefault("edits", {})[part] = truth.loc[truth["role"] == "copy", "edit"].value_counts().to_dict()
        report.setdefault("video_seconds", {})[part] = round(float(truth["duration_s"].sum()), 1)
        report.setdefault("mib", {})[part] = round(sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
                                                   / 2**20, 1)
        split["parts"][part] = sorted({g for g in originals["group"]})
        _log(f"[video_corpus] {part}: {len(truth)} files, {len(originals)} originals, "
             f"{report['video_seconds'][part]} s of video, {time.perf_counter() - t0:.0f} s")
    report["build_s"] = {"+".join(parts): round(time.perf_counter() - t0, 1)}
    out_dir.mkdir(parents=True, exist_ok=True)
    report, split = _merge(out_dir / "report.json", report, parts), _merge(out_dir / "split.json", split, parts)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    (out_dir / "split.json").write_text(json.dumps(split, indent=1) + "\n")
    return report


def _merge(path: Path, new: dict, parts: tuple[str, ...]) -> dict:
    """new, plus what an earlier build of the other parts wrote to path (a part built alone keeps
    the other part's numbers)."""
    if not path.exists():
        return new
    old = json.loads(path.read_text())
    for key, value in old.items():
        if isinstance(value, dict) and isinstance(new.get(key), dict):
            new[key] = {**{k: v for k, v in value.items() if k not in parts and k not in new[key]}, **new[key]}
    return new


def load_truth(part_dir: str | Path) -> pd.DataFrame:
    df = pd.read_csv(Path(part_dir) / "truth.csv", dtype={"file": str, "group": str, "original": str},
                     keep_default_na=False)
    return df


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.video_corpus", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--per-part", type=int, default=DEFAULT_PER_PART, help="originals per part (cells permitting)")
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_PER_PART} originals per part, fewer negatives")
    ap.add_argument("--parts", default=",".join(PARTS),
                    help=f"comma list of {', '.join(PARTS)} (default: all); a part built alone leaves the others "
                         "as they are and is the same as in a full build")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    report = build(args.out, QUICK_PER_PART if args.quick else args.per_part, args.seed, args.workers, args.quick,
                   tuple(args.parts.split(",")))
    print(json.dumps({k: report[k] for k in ("files", "originals", "roles", "cells", "cells_left", "video_seconds",
                                             "mib", "build_s")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
