"""Decode image bytes once into an 8-bit RGB PIL image with a bounded pixel count.

Executor-side and Spark-free. Failures raise :class:`DecodeError` with a short
``reason`` code so callers can record them as data:

=================== =========================================================
reason              meaning
=================== =========================================================
``empty_file``      0 bytes
``not_an_image``    no allowed PIL plugin recognises the bytes (see
                    :data:`IMAGE_FORMATS`: PostScript, SVG, PDF, HDF5 ... are not images here)
``truncated``       recognised, but the data is truncated or corrupt
``too_many_pixels`` declared width*height > ``max_pixels`` (checked from the
                    header, before decoding) or PIL's own bomb guard fired (at
                    2 * ``Image.MAX_IMAGE_PIXELS``, ~179 Mpx, whatever max_pixels says)
``decode_error``    anything else (message starts with the exception type)
=================== =========================================================

Nothing global is changed: no ``Image.MAX_IMAGE_PIXELS``, no
``ImageFile.LOAD_TRUNCATED_IMAGES``.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from udfs.errors import ItemError

DECODE_REASONS = ("empty_file", "not_an_image", "truncated", "too_many_pixels", "decode_error")

#: PIL plugins allowed to open input bytes: raster formats decoded in-process.
#: Left out on purpose: EPS (PIL runs Ghostscript on it, an external program
#: fed untrusted PostScript), WMF, and scientific/legacy containers (FITS,
#: HDF5, GRIB, SPIDER, IM, ...) whose weak magic numbers let random bytes pass
#: for an image. A file in another format is ``not_an_image``.
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "PPM", "TGA", "ICO",
                 "JPEG2000", "AVIF", "QOI", "PCX", "PSD")

_WHITE = (255, 255, 255)
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_EXIF_ORIENTATION = 0x0112
# Same table as PIL.ImageOps.exif_transpose (orientation tag -> transpose method).
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = frozenset({5, 6, 7, 8})


class DecodeError(ItemError):
    """A failed decode; ``reason`` is one of :data:`DECODE_REASONS`."""


@dataclass(frozen=True)
class Decoded:
    """A decoded image.

    ``image``: mode "RGB", uint8, EXIF orientation applied; smaller than
    width x height when decoded with a JPEG draft scale.
    ``width``, ``height``: full-size pixel dimensions after orientation.
    ``lossless``: the file stores its pixels without loss (:func:`is_lossless`).
    """

    image: Image.Image
    width: int
    height: int
    lossless: bool = False


# Formats whose files keep every pixel as it was written (the keep policy prefers them between
# copies of one size: `lossless` in cluster.keep_order). GIF is not one: it keeps a palette.
_LOSSLESS_FORMATS = frozenset({"PNG", "BMP", "PPM", "QOI", "TGA", "DIB", "ICO", "PCX"})
_LOSSY_TIFF = frozenset({"jpeg", "tiff_jpeg", "webp"})


def is_lossless(img: Image.Image, data: bytes) -> bool:
    """True for PNG, BMP and the like, TIFF without JPEG compression and lossless WebP (a ``VP8L``
    bitstream, read from the RIFF chunks); False for JPEG, lossy WebP, GIF and unknown formats."""
    fmt = (img.format or "").upper()
    if fmt in _LOSSLESS_FORMATS:
        return True
    if fmt == "TIFF":
        return str(img.info.get("compression", "raw")).lower() not in _LOSSY_TIFF
    if fmt == "WEBP":
        pos = 12  # RIFF....WEBP, then chunks: fourcc, little-endian size, payload padded to even
        while pos + 8 <= min(len(data), 4096):
            fourcc, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
            if fourcc in (b"VP8L", b"VP8 ", b"ANMF"):
                return fourcc == b"VP8L"
            pos += 8 + size + (size & 1)
    return False


def _open(data: bytes) -> Image.Image:
    """Read only the header (lazy ``Image.open``, IMAGE_FORMATS only), mapping failures to DecodeError."""
    if not data:
        raise DecodeError("empty_file", "0 bytes")
    try:
        return Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except UnidentifiedImageError:
        raise DecodeError("not_an_image", f"unrecognised image format ({len(data)} bytes)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecodeError("too_many_pixels", f"PIL decompression-bomb guard: {exc}") from None
    except (OSError, SyntaxError, EOFError) as exc:
        raise DecodeError("truncated", f"corrupt header: {type(exc).__name__}: {exc}") from None
    except Exception as exc:
        raise DecodeError("decode_error", f"{type(exc).__name__}: {exc}") from None


def _check_pixels(img: Image.Image, max_pixels: int) -> None:
    """Reject before decoding when the declared width*height exceeds max_pixels."""
    width, height = img.size
    if width * height > max_pixels:
        raise DecodeError(
            "too_many_pixels", f"{width}x{height} = {width * height} pixels > max_pixels={max_pixels}"
        )


def _orientation(img: Image.Image) -> int:
    """EXIF orientation tag (1..8); 1 when absent or unreadable (broken EXIF is common)."""
    try:
        value = int(img.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:
        return 1
    return value if value in _ORIENTATION_TRANSPOSE else 1


def _load(img: Image.Image) -> None:
    """Decode the pixels of the current (first) frame, mapping failures to DecodeError."""
    try:
        img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecodeError("too_many_pixels", f"PIL decompression-bomb guard: {exc}") from None
    except (OSError, SyntaxError, EOFError) as exc:
        message = f"{type(exc).__name__}: {exc}"
        if "not available" in str(exc):  # e.g. "decoder jpeg2k not available"
            raise DecodeError("decode_error", message) from None
        raise DecodeError("truncated", message) from None
    except Exception as exc:
        raise DecodeError("decode_error", f"{type(exc).__name__}: {exc}") from None


def _scale_to_uint8(img: Image.Image) -> Image.Image:
    """Integer / float single-channel modes -> "L", scaled, never clipped to white.

    "I;16*": v / 257. "I" (int32): v / 257 when all values lie in 0..65535 (how
    16-bit data usually arrives), else min-max stretched. "F": v * 255 when in
    0..1, as-is when in 0..255, else min-max stretched. NaN -> 0.
    """
    arr = np.asarray(img).astype(np.float64)
    arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    if img.mode in _SIXTEEN_BIT_MODES or (img.mode == "I" and lo >= 0 and hi <= 65535):
        scaled = arr / 257.0
    elif img.mode == "F" and lo >= 0 and hi <= 1:
        scaled = arr * 255.0
    elif img.mode == "F" and lo >= 0 and hi <= 255:
        scaled = arr
    else:
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L")


def _flatten_alpha(img: Image.Image) -> Image.Image:
    """Composite an image with an alpha channel onto white; returns "RGB"."""
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, _WHITE)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode -> "RGB" uint8 (alpha and transparency keys composited onto white)."""
    if img.mode == "RGB" and "transparency" not in img.info:
        return img
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        if img.mode in _SIXTEEN_BIT_MODES or img.mode in ("I", "F"):
            return _scale_to_uint8(img).convert("RGB")  # transparency key of deep gray: ignored
        return _flatten_alpha(img)
    if img.mode in _SIXTEEN_BIT_MODES or img.mode in ("I", "F"):
        return _scale_to_uint8(img).convert("RGB")
    return img.convert("RGB")  # "1", "L", "P", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"


def _convert(img: Image.Image, orientation: int) -> Image.Image:
    """Mode conversion then EXIF orientation; failures -> DecodeError("decode_error")."""
    try:
        rgb = _to_rgb(img)
        method = _ORIENTATION_TRANSPOSE.get(orientation)
        return rgb.transpose(method) if method is not None else rgb
    except DecodeError:
        raise
    except (OSError, SyntaxError, EOFError) as exc:  # lazily decoded palette/tiles
        raise DecodeError("truncated", f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:
        raise DecodeError("decode_error", f"{type(exc).__name__}: {exc}") from None


def decode_image(data: bytes, max_pixels: int, draft_size: int | None = None) -> Decoded:
    """Decode ``data`` once into an RGB image, first frame only.

    ``max_pixels`` bounds the declared width*height, checked from the header
    before any pixel is decoded. ``draft_size`` (JPEG only): decode at the
    smallest DCT scale (1/2, 1/4, 1/8) whose result is still >= draft_size on
    both sides; ``Decoded.width``/``height`` stay the full-size dimensions.
    EXIF orientation is applied as ``ImageOps.exif_transpose`` would (broken
    EXIF is ignored rather than failing the image). Raises DecodeError.
    """
    img = _open(data)
    _check_pixels(img, max_pixels)
    width, height = img.size  # full size, before any draft scaling
    if draft_size is not None and img.format == "JPEG":
        try:
            img.draft("RGB", (draft_size, draft_size))
        except Exception as exc:
            raise DecodeError("decode_error", f"draft: {type(exc).__name__}: {exc}") from None
    # Load before reading EXIF: PNG's getexif() loads the pixels itself, and a
    # failure there must surface as "truncated", not be swallowed as "no EXIF".
    _load(img)
    orientation = _orientation(img)
    if orientation in _SWAPS_AXES:
        width, height = height, width
    return Decoded(image=_convert(img, orientation), width=width, height=height,
                   lossless=is_lossless(img, data))
