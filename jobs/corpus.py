"""Built-in example corpus and planted-edit test corpora.

The originals are real photographs that scikit-image ships with its package
(loaded offline from ``skimage.data``).  From each original we generate edited
copies with small, named edit functions and a fixed seed, so both a newcomer
running the example job and the test-suite have ground truth: every file
records which original it came from (its duplicate ``group``).

Layout written by :func:`build_corpus` (all paths relative to ``out_dir``)::

    originals/NAME.jpg            JPEG quality 92
    copies/NAME__copyK.jpg        byte-identical copies of originals (exact dups)
    edited/NAME__EDIT.jpg         JPEG quality 92 (quality 30 for ``jpeg_q30``)
    edited/NAME__png.png          lossless PNG re-encode
    broken/{empty,noise,truncated}.jpg, broken/notes.png   unreadable files
    planted.csv                   the rows returned (file, original, edit, group)

Edits are applied to the *decoded* ``originals/NAME.jpg`` (as someone who
downloaded the published JPEG would), so ``png`` is pixel-identical to the
original file.  Everything is deterministic: encoder options are fixed, no
metadata or timestamps are written, and every random draw comes from a
generator seeded by ``(seed, original, edit)``.

Pure PIL/numpy/pandas; no pyspark import.
"""
from __future__ import annotations

import io
import itertools
import os
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Collection, Sequence

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

__all__ = [
    "ORIGINAL_NAMES",
    "EDITS",
    "ALL_EDITS",
    "EDIT_FORMATS",
    "PHASH_ROBUST_EDITS",
    "DEFAULT_EXAMPLE_EDITS",
    "COPY_EDIT",
    "ORIGINAL_EDIT",
    "CORRUPT_EDIT",
    "BROKEN_FILES",
    "PLANTED_COLUMNS",
    "Planted",
    "load_original",
    "apply_edit",
    "encode_image",
    "build_corpus",
    "build_example_corpus",
    "expected_pairs",
    "measure_phash_distances",
    "original_phash_distances",
]

# ---------------------------------------------------------------------------
# Originals
# ---------------------------------------------------------------------------

#: Distinct real photographs bundled with scikit-image (loadable offline).
#: Left out: ``cat`` (the same photo as ``chelsea``) and ``horse`` (a binary
#: silhouette drawing, not a photograph).  All pairwise 64-bit pHash distances
#: between these (as written, JPEG q92) are well above 12 - see
#: :func:`original_phash_distances`.
ORIGINAL_NAMES: tuple[str, ...] = (
    "astronaut",
    "brick",
    "camera",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
)


def load_original(name: str) -> Image.Image:
    """Load bundled sample photo ``name`` as an RGB :class:`PIL.Image.Image`."""
    if name not in ORIGINAL_NAMES:
        raise KeyError(f"unknown original {name!r}; choose from {ORIGINAL_NAMES}")
    import skimage.data  # local import: only needed when building a corpus

    arr = np.asarray(getattr(skimage.data, name)())
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if arr.dtype != np.uint8:
        raise TypeError(f"unexpected dtype {arr.dtype} for sample {name!r}")
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    img = Image.fromarray(arr)
    return img.convert("RGB") if img.mode != "RGB" else img


# ---------------------------------------------------------------------------
# Edits: each takes (image, rng) and returns a new image
# ---------------------------------------------------------------------------

Edit = Callable[[Image.Image, np.random.Generator], Image.Image]

WHITE = (255, 255, 255)


def _resize(img: Image.Image, scale: float) -> Image.Image:
    w, h = img.size
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return img.resize(size, Image.Resampling.LANCZOS)


def resize_50(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Downscale to 50% per side (Lanczos)."""
    return _resize(img, 0.5)


def resize_25(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Downscale to 25% per side (Lanczos)."""
    return _resize(img, 0.25)


def jpeg_q30(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Heavy JPEG recompression (quality 30).

    Returns the decoded pixels of a quality-30 round trip; the corpus writer
    also stores this edit as a quality-30 JPEG (see :data:`EDIT_FORMATS`).
    """
    buf = io.BytesIO()
    img.convert("RGB").save(buf, **_JPEG_OPTS, quality=30)
    buf.seek(0)
    with Image.open(buf) as out:
        return out.convert("RGB")


def png(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Lossless re-encode: pixels unchanged, the writer stores it as PNG."""
    return img.copy()


def grayscale(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Convert to 8-bit grayscale (mode ``L``)."""
    return img.convert("L")


def brighten_30(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Brightness +30%."""
    return ImageEnhance.Brightness(img).enhance(1.3)


def contrast_150(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Contrast x1.5."""
    return ImageEnhance.Contrast(img).enhance(1.5)


def crop_90(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Centre crop keeping 90% of the width and 90% of the height."""
    w, h = img.size
    cw, ch = round(w * 0.9), round(h * 0.9)
    left, top = (w - cw) // 2, (h - ch) // 2
    return img.crop((left, top, left + cw, top + ch))


def flip_h(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Mirror left-right."""
    return ImageOps.mirror(img)


def border_10(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Add a white border 10% of the width (left/right) and height (top/bottom)."""
    w, h = img.size
    bx, by = round(w * 0.1), round(h * 0.1)
    return ImageOps.expand(img.convert("RGB"), border=(bx, by, bx, by), fill=WHITE)


def rotate_5(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Rotate 5 degrees counter-clockwise about the centre, same canvas, black corners."""
    return img.convert("RGB").rotate(5, resample=Image.Resampling.BICUBIC, expand=False)


def noise_5(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Additive Gaussian pixel noise, sigma 5 (out of 255); uses ``rng``."""
    arr = np.asarray(img.convert("RGB"), dtype=np.float32)
    arr = arr + rng.normal(0.0, 5.0, size=arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "RGB")


#: Registry of named edits, in a stable order.
EDITS: dict[str, Edit] = {
    "resize_50": resize_50,
    "resize_25": resize_25,
    "jpeg_q30": jpeg_q30,
    "png": png,
    "grayscale": grayscale,
    "brighten_30": brighten_30,
    "contrast_150": contrast_150,
    "noise_5": noise_5,
    "crop_90": crop_90,
    "flip_h": flip_h,
    "border_10": border_10,
    "rotate_5": rotate_5,
}
ALL_EDITS: tuple[str, ...] = tuple(EDITS)

#: Edits that a plain 64-bit pHash (imagehash.phash) with a Hamming threshold
#: of 10 (inclusive) catches on every original, chosen from
#: :func:`measure_phash_distances` (seed 0, all 16 originals).  Measured max
#: distance to the original: png 0, grayscale 0, resize_50 2, resize_25 2,
#: jpeg_q30 2, noise_5 2, contrast_150 4, brighten_30 10 (``page``, a mostly
#: white scan that saturates; every other original <= 6).  Not robust:
#: crop_90 (6..24), rotate_5 (8..30), border_10 (16..30), flip_h (28..34).
#: Distinct originals are >= 20 apart.  The non-robust edits are planted too;
#: the job is expected to miss them unless embeddings are enabled.
PHASH_ROBUST_EDITS: tuple[str, ...] = (
    "resize_50",
    "resize_25",
    "jpeg_q30",
    "png",
    "grayscale",
    "brighten_30",
    "contrast_150",
    "noise_5",
)

#: Edits planted in the built-in example corpus: all of them, so the job's
#: output honestly shows what pHash misses (see :data:`PHASH_ROBUST_EDITS`).
DEFAULT_EXAMPLE_EDITS: tuple[str, ...] = ALL_EDITS

ORIGINAL_EDIT = "original"
COPY_EDIT = "exact_copy"
CORRUPT_EDIT = "corrupt"


def _rng(seed: int, *keys: str) -> np.random.Generator:
    """A generator seeded from ``seed`` and string keys, stable across runs/platforms."""
    entropy = [int(seed)] + [zlib.crc32(k.encode("utf-8")) for k in keys]
    return np.random.default_rng(entropy)


def apply_edit(img: Image.Image, edit: str, seed: int = 0, original: str = "") -> Image.Image:
    """Apply the named edit with the generator the corpus builder would use."""
    if edit not in EDITS:
        raise KeyError(f"unknown edit {edit!r}; choose from {ALL_EDITS}")
    return EDITS[edit](img, _rng(seed, original, edit))


# ---------------------------------------------------------------------------
# Encoding (fixed options -> byte-identical output)
# ---------------------------------------------------------------------------

# No EXIF/ICC/comments; baseline, 4:2:0, unoptimised Huffman tables.
_JPEG_OPTS = dict(format="JPEG", optimize=False, progressive=False, subsampling=2)
_PNG_OPTS = dict(format="PNG", optimize=False, compress_level=6)

ORIGINAL_QUALITY = 92

#: (file extension, save format, JPEG quality) per edit; default JPEG q92.
EDIT_FORMATS: dict[str, tuple[str, str, int | None]] = {
    "png": ("png", "PNG", None),
    "jpeg_q30": ("jpg", "JPEG", 30),
}
_DEFAULT_FORMAT = ("jpg", "JPEG", ORIGINAL_QUALITY)


def encode_image(img: Image.Image, fmt: str = "JPEG", quality: int | None = ORIGINAL_QUALITY) -> bytes:
    """Encode deterministically (no metadata) as JPEG (given quality) or PNG."""
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    # Drop anything PIL might carry over from a decoded file (exif, icc, dpi...).
    clean = Image.frombytes(img.mode, img.size, img.tobytes())
    buf = io.BytesIO()
    if fmt.upper() == "JPEG":
        clean.save(buf, **_JPEG_OPTS, quality=int(quality or ORIGINAL_QUALITY))
    elif fmt.upper() == "PNG":
        clean.save(buf, **_PNG_OPTS)
    else:
        raise ValueError(f"unsupported format {fmt!r}")
    return buf.getvalue()


def _edit_format(edit: str) -> tuple[str, str, int | None]:
    return EDIT_FORMATS.get(edit, _DEFAULT_FORMAT)


def _decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.copy()


def _original_bytes(name: str) -> bytes:
    return encode_image(load_original(name), "JPEG", ORIGINAL_QUALITY)


def _edited_bytes(name: str, original_jpeg: bytes, edit: str, seed: int) -> tuple[str, bytes]:
    """(extension, encoded bytes) of ``edit`` applied to the decoded original JPEG."""
    src = _decode(original_jpeg).convert("RGB")
    out = apply_edit(src, edit, seed=seed, original=name)
    ext, fmt, quality = _edit_format(edit)
    return ext, encode_image(out, fmt, quality)


# ---------------------------------------------------------------------------
# Planted rows and corpus writer
# ---------------------------------------------------------------------------

PLANTED_COLUMNS: tuple[str, ...] = ("file", "original", "edit", "group")

#: Unreadable files planted when ``corrupt=True`` (relative paths).
BROKEN_FILES: tuple[str, ...] = (
    "broken/empty.jpg",
    "broken/noise.jpg",
    "broken/notes.png",
    "broken/truncated.jpg",
)


@dataclass(frozen=True)
class Planted:
    """One planted file: ``group`` is the ground-truth duplicate group (None if broken)."""

    file: str  # posix path relative to the corpus directory
    original: str | None  # source original name (None for corrupt files)
    edit: str  # edit name, "original", "exact_copy" or "corrupt"
    group: str | None  # = original name; None for corrupt files


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _check_names(names: Sequence[str], known: Collection[str], what: str) -> list[str]:
    names = list(names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown {what}: {unknown}; choose from {tuple(known)}")
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate {what} in {names}")
    return names


def build_corpus(
    out_dir: str | os.PathLike[str],
    originals: Sequence[str] | None = None,
    edits: Sequence[str] | None = None,
    exact_copies: int = 1,
    corrupt: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """Write a planted-duplicate corpus under ``out_dir`` and return its rows.

    ``originals`` defaults to :data:`ORIGINAL_NAMES`, ``edits`` to all of
    :data:`EDITS`.  ``exact_copies`` byte-identical copies are made of the
    originals in order (cycling when there are more copies than originals:
    ``copies/NAME__copy1.jpg``, ``copies/NAME__copy2.jpg``...).  With
    ``corrupt`` the :data:`BROKEN_FILES` are added (edit "corrupt", group None).
    The rows (columns :data:`PLANTED_COLUMNS`) are also written to
    ``out_dir/planted.csv``.  Same arguments -> byte-identical files.
    """
    names = _check_names(ORIGINAL_NAMES if originals is None else originals, ORIGINAL_NAMES, "originals")
    edit_names = _check_names(ALL_EDITS if edits is None else edits, EDITS, "edits")
    if exact_copies < 0:
        raise ValueError("exact_copies must be >= 0")
    if exact_copies and not names:
        raise ValueError("exact_copies needs at least one original")

    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    rows: list[Planted] = []
    originals_jpeg: dict[str, bytes] = {}

    for name in names:
        data = _original_bytes(name)
        originals_jpeg[name] = data
        rel = f"originals/{name}.jpg"
        _write(root, rel, data)
        rows.append(Planted(rel, name, ORIGINAL_EDIT, name))

    for i in range(exact_copies):
        name = names[i % len(names)]
        rel = f"copies/{name}__copy{i // len(names) + 1}.jpg"
        _write(root, rel, originals_jpeg[name])
        rows.append(Planted(rel, name, COPY_EDIT, name))

    for name in names:
        for edit in edit_names:
            ext, data = _edited_bytes(name, originals_jpeg[name], edit, seed)
            rel = f"edited/{name}__{edit}.{ext}"
            _write(root, rel, data)
            rows.append(Planted(rel, name, edit, name))

    if corrupt:
        for rel, data in _broken_files(seed, next(iter(originals_jpeg.values()), None)).items():
            _write(root, rel, data)
            rows.append(Planted(rel, None, CORRUPT_EDIT, None))

    df = pd.DataFrame([asdict(r) for r in rows], columns=list(PLANTED_COLUMNS))
    df = df.astype(object).where(df.notna(), None)
    # Fixed line endings so planted.csv is byte-identical on every platform.
    df.to_csv(root / "planted.csv", index=False, lineterminator="\n")
    return df


def _broken_files(seed: int, sample_jpeg: bytes | None) -> dict[str, bytes]:
    """The unreadable files: empty, random bytes, text-as-PNG, truncated JPEG."""
    rng = _rng(seed, "broken")
    if sample_jpeg is None:  # no originals requested: truncate a fresh one
        sample_jpeg = _original_bytes(ORIGINAL_NAMES[0])
    noise = rng.integers(0, 256, size=4096, dtype=np.uint8).tobytes()
    # Never let the random bytes start with a real image signature.
    noise = b"\x00NOISE" + noise
    text = b"meeting notes\nthis is not a PNG file, just text with a .png name\n"
    # Keep the JPEG header and half the entropy-coded data, drop the rest (incl. EOI).
    truncated = sample_jpeg[: len(sample_jpeg) // 2]
    files = {
        "broken/empty.jpg": b"",
        "broken/noise.jpg": noise,
        "broken/notes.png": text,
        "broken/truncated.jpg": truncated,
    }
    assert tuple(files) == BROKEN_FILES
    return files


def build_example_corpus(out_dir: str | os.PathLike[str], seed: int = 0) -> pd.DataFrame:
    """The built-in example: every original, every edit, one exact copy, broken files, and
    the :data:`LOOKALIKES` (pictures that hash alike but are not duplicates: they must stay apart)."""
    df = build_corpus(out_dir, edits=DEFAULT_EXAMPLE_EDITS, exact_copies=1, corrupt=True, seed=seed)
    rows = [Planted(rel, None, LOOKALIKE_EDIT, rel) for rel in write_lookalikes(out_dir, seed)]
    df = pd.concat([df, pd.DataFrame([asdict(r) for r in rows], columns=list(PLANTED_COLUMNS))], ignore_index=True)
    df = df.astype(object).where(df.notna(), None)
    df.to_csv(Path(out_dir) / "planted.csv", index=False, lineterminator="\n")
    return df


# ---------------------------------------------------------------------------
# Look-alike distractors: low-information pictures whose hashes collide
# ---------------------------------------------------------------------------

LOOKALIKE_EDIT = "lookalike"
#: name -> kind; each is its own group (no duplicates), written under lookalikes/.
LOOKALIKES: dict[str, str] = {
    **{f"nebula_{i}": "nebula" for i in range(4)},      # a small bright blob with knots and stars on black
    **{f"stars_{i}": "stars" for i in range(2)},        # a sparse star field
    **{f"page_{i}": "page" for i in range(2)},          # a blank page with one line of text at the top
    **{f"flag_{i}": "flag" for i in range(2)},          # three vertical bands
}


def lookalike(name: str, seed: int = 0, side: int = 480) -> Image.Image:
    """One look-alike distractor (see :data:`LOOKALIKES`), seeded by ``(seed, name)``."""
    rng = _rng(seed, "lookalike", name)
    kind = LOOKALIKES[name]
    if kind == "flag":
        bands = rng.integers(0, 256, size=(3, 3))
        img = np.zeros((side * 2 // 3, side, 3), np.uint8)
        for i, colour in enumerate(bands):
            img[:, i * side // 3:(i + 1) * side // 3] = colour
        return Image.fromarray(img)
    if kind == "page":
        page = Image.new("RGB", (side * 3 // 4, side), "white")
        words = " ".join("".join(chr(97 + int(c)) for c in rng.integers(0, 26, size=int(n)))
                         for n in rng.integers(2, 8, size=6))
        ImageDraw.Draw(page).text((20, 16), words, fill=(30, 30, 30))
        return page
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    sky = np.zeros((side, side), np.float32)
    if kind == "nebula":
        c = side / 2
        sky += 200 * np.exp(-((x - c) ** 2 + (y - c) ** 2) / (2 * (side / 16) ** 2))
        for _ in range(12):
            kx, ky = rng.normal(c, side / 40, size=2)
            sky += 60 * np.exp(-((x - kx) ** 2 + (y - ky) ** 2) / (2 * (side / 120) ** 2))
    for _ in range(25 if kind == "nebula" else 120):
        sx, sy = rng.integers(0, side, size=2)
        sky[max(0, sy - 1):sy + 2, max(0, sx - 1):sx + 2] += rng.uniform(80, 255)
    grey = np.clip(sky, 0, 255).astype(np.uint8)
    return Image.fromarray(np.stack([grey, grey, (grey * 0.9).astype(np.uint8)], axis=-1))


def write_lookalikes(out_dir: str | os.PathLike[str], seed: int = 0) -> list[str]:
    """Write every look-alike as PNG under ``out_dir/lookalikes/``; returns their relative paths."""
    rels = []
    for name in LOOKALIKES:
        rel = f"lookalikes/{name}.png"
        _write(Path(out_dir), rel, encode_image(lookalike(name, seed), "PNG", None))
        rels.append(rel)
    return rels


# ---------------------------------------------------------------------------
# Ground truth
# ---------------------------------------------------------------------------


def expected_pairs(planted: pd.DataFrame, edits: Collection[str]) -> set[tuple[str, str]]:
    """Ground-truth duplicate pairs ``(file_a, file_b)``, ``file_a < file_b``.

    Only files that are originals, exact copies, or one of ``edits`` take part
    (``edits`` may be any collection; "original"/"exact_copy" are always
    included); pairs are all combinations of such files sharing a group.
    Corrupt files (group None) never pair.
    """
    keep = {ORIGINAL_EDIT, COPY_EDIT, *edits}
    rows = planted[planted["edit"].isin(keep) & planted["group"].notna()]
    pairs: set[tuple[str, str]] = set()
    for _, grp in rows.groupby("group", sort=True):
        files = sorted(set(grp["file"]))
        pairs.update(itertools.combinations(files, 2))
    return pairs


# ---------------------------------------------------------------------------
# pHash measurement (what threshold is safe, which edits pHash survives)
# ---------------------------------------------------------------------------


def _phash(data: bytes, hash_size: int = 8):
    import imagehash  # local import: measurement only

    return imagehash.phash(_decode(data), hash_size=hash_size)


def original_phash_distances(
    originals: Sequence[str] | None = None, hash_size: int = 8
) -> pd.DataFrame:
    """Symmetric table of pHash Hamming distances between the originals (as written)."""
    names = _check_names(ORIGINAL_NAMES if originals is None else originals, ORIGINAL_NAMES, "originals")
    hashes = {n: _phash(_original_bytes(n), hash_size) for n in names}
    table = pd.DataFrame(
        [[int(hashes[a] - hashes[b]) for b in names] for a in names], index=names, columns=names
    )
    table.index.name = "original"
    return table


def measure_phash_distances(
    originals: Sequence[str] | None = None,
    edits: Sequence[str] | None = None,
    seed: int = 0,
    hash_size: int = 8,
) -> pd.DataFrame:
    """pHash distance between each original and each of its edits, as written to disk.

    Returns a DataFrame indexed by original with one column per edit (Hamming
    distance between ``imagehash.phash`` of ``originals/NAME.jpg`` and of the
    edited file, both decoded from the exact bytes :func:`build_corpus`
    writes), plus a final column ``nearest_other_original``: the smallest
    distance from that original to any *different* original in the set -
    a threshold must stay below its minimum to avoid false matches.
    """
    names = _check_names(ORIGINAL_NAMES if originals is None else originals, ORIGINAL_NAMES, "originals")
    edit_names = _check_names(ALL_EDITS if edits is None else edits, EDITS, "edits")
    data = {n: _original_bytes(n) for n in names}
    base = {n: _phash(b, hash_size) for n, b in data.items()}
    records = []
    for n in names:
        rec: dict[str, int | None] = {}
        for e in edit_names:
            _, edited = _edited_bytes(n, data[n], e, seed)
            rec[e] = int(base[n] - _phash(edited, hash_size))
        others = [int(base[n] - base[m]) for m in names if m != n]
        rec["nearest_other_original"] = min(others) if others else None
        records.append(rec)
    table = pd.DataFrame(records, index=list(names), columns=[*edit_names, "nearest_other_original"])
    table.index.name = "original"
    return table


if __name__ == "__main__":  # python -m jobs.corpus  -> print the measurement
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 50)
    t = measure_phash_distances()
    print(t)
    print("\nmax distance per edit:\n" + t.drop(columns="nearest_other_original").max().to_string())
    print("\nmin distance between distinct originals:", int(t["nearest_other_original"].min()))
