"""A corpus of hostile and broken inputs, and what the job should make of each.

``build_hostile_corpus(root, outside)`` writes the files and returns
``{relative path: expected}`` where ``expected`` is one of

- ``{"action": "error", "reason": CODE}``: an error row with that reason;
- ``{"action": "keep"}``: decoded, unique (its content is unlike every other);
- ``{"action": "drop", "reason": "exact_duplicate", "keeper": REL}``;
- ``{"same_cluster_as": REL}``: a near-duplicate of REL (either may be kept).

An extra ``"reader"`` key gives the outcome of ``read_bytes`` + ``decode_image``
alone where the listing decides otherwise (None: they succeed).

Every kept image is a distinct random low-frequency pattern (independent
64-bit pHashes, ~32 bits apart), so nothing clusters by accident; only the
planted pairs are duplicates. Files are small: the whole corpus is ~3 MB,
most of it the deliberately oversize file.

``LISTING_GAPS``: paths Spark's file index leaves out today (see
tests/test_hostile.py); ``SKIPPED_BY_DESIGN``: not inputs (no image extension).
"""
from __future__ import annotations

import io
import os
import struct
import threading
import zlib
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

import numpy as np
from PIL import Image

MAX_PIXELS = 20_000_000        # pass with --set decode.max_pixels=...
MAX_FILE_BYTES = 2_000_000     # pass with --set input.max_file_bytes=...
EXTENSIONS = "[jpg,jpeg,png,gif,bmp,tif,tiff,webp,svg]"  # svg added so the SVG is an input

KEEP = {"action": "keep"}

# Names Spark's file index (binaryFile / InMemoryFileIndex) drops without a word:
# names starting with "_" or ".", everything under such a directory, dangling links.
LISTING_GAPS = ("_underscore.jpg", ".hidden.jpg", "_private/inside.jpg", "links/dangling.jpg")
SKIPPED_BY_DESIGN = ("notes_no_extension",)  # no image extension: not an input (logged)


def pattern(seed: int, size: tuple[int, int] = (96, 72), mode: str = "RGB") -> Image.Image:
    """A smooth random image: an 8x6 random field upsampled bicubically (distinct pHash per seed)."""
    rng = np.random.default_rng(seed)
    bands = 3 if mode == "RGB" else 1
    small = rng.integers(0, 256, (6, 8, bands), dtype=np.uint8)
    img = Image.fromarray(small if bands == 3 else small[..., 0])
    return img.resize(size, Image.Resampling.BICUBIC)


def encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def png_with_declared_size(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose IHDR (and CRC) claims width x height: a decompression bomb header."""
    png = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    at = png.find(b"IHDR")
    png[at + 4: at + 12] = struct.pack(">II", width, height)
    png[at + 17: at + 21] = struct.pack(">I", zlib.crc32(bytes(png[at: at + 17])) & 0xFFFFFFFF)
    return bytes(png)


def gif_with_declared_size(width: int, height: int) -> bytes:
    """A 1x1 GIF whose logical screen and image descriptor claim width x height."""
    gif = bytearray(encode(Image.new("P", (1, 1)), "GIF"))
    gif[6:10] = struct.pack("<HH", width, height)
    at = gif.find(b"\x2c")  # image descriptor
    gif[at + 5: at + 9] = struct.pack("<HH", width, height)
    return bytes(gif)


def png_with_text_bomb() -> bytes:
    """A valid small PNG carrying a zTXt chunk that inflates to 64 MB (PIL caps text chunks)."""
    png = encode(pattern(90), "PNG")
    payload = b"Comment\x00\x00" + zlib.compress(b"\x00" * (64 << 20), 9)
    chunk = struct.pack(">I", len(payload)) + b"zTXt" + payload
    chunk += struct.pack(">I", zlib.crc32(b"zTXt" + payload) & 0xFFFFFFFF)
    at = png.find(b"IDAT") - 4  # before the image data, so it is parsed by Image.open
    return png[:at] + chunk + png[at:]


def _files(seed_base: int = 0) -> dict[str, tuple[bytes, dict]]:
    """rel path -> (bytes, expected) for every plain file of the corpus."""
    s = seed_base
    good_jpeg = encode(pattern(s + 1, (256, 192)), "JPEG", quality=90)
    rgba = pattern(s + 5).convert("RGBA")
    rgba.putalpha(Image.fromarray(np.tile(np.linspace(0, 255, 96, dtype=np.uint8), (72, 1))))
    palette = pattern(s + 6).quantize(64)
    deep = (np.asarray(pattern(s + 7, mode="L"), dtype=np.uint16) * 257).astype(np.uint16)
    frames = [pattern(s + 8 + i) for i in range(3)]
    pages = [pattern(s + 11), pattern(s + 12, (40, 40))]
    sideways = pattern(s + 13, (128, 96))  # stored landscape, displayed portrait
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    strip = pattern(s + 14, (1, 64)).resize((1, 5000), Image.Resampling.BICUBIC)
    identical = encode(pattern(s + 15), "PNG")
    big = np.random.default_rng(s).integers(0, 256, MAX_FILE_BYTES + 1000, dtype=np.uint8).tobytes()
    svg = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
           b'<circle cx="50" cy="50" r="40" fill="red"/></svg>\n')
    return {
        # broken bytes
        "empty.jpg": (b"", {"action": "error", "reason": "empty_file"}),
        "truncated.jpg": (good_jpeg[: len(good_jpeg) // 2], {"action": "error", "reason": "truncated"}),
        "random_bytes.jpg": (np.random.default_rng(s + 2).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
                             {"action": "error", "reason": "not_an_image"}),
        "text.png": (b"just some text, not a PNG\n" * 10, {"action": "error", "reason": "not_an_image"}),
        "vector.svg": (svg, {"action": "error", "reason": "not_an_image"}),
        "zero_size.png": (png_with_declared_size(0, 0), {"action": "error", "reason": "not_an_image"}),
        "too_big_bytes.jpg": (big, {"action": "error", "reason": "too_large"}),
        # bombs and oversize images
        "bomb.png": (png_with_declared_size(100_000, 100_000), {"action": "error", "reason": "too_many_pixels"}),
        "bomb.gif": (gif_with_declared_size(65_535, 65_535), {"action": "error", "reason": "too_many_pixels"}),
        "huge_5000x5000.png": (encode(Image.new("L", (5000, 5000), 255), "PNG", optimize=True),
                               {"action": "error", "reason": "too_many_pixels"}),
        "text_chunk_bomb.png": (png_with_text_bomb(), {"action": "error", "reason": "decode_error"}),
        # unusual but valid images
        "cmyk.jpg": (encode(pattern(s + 3).convert("CMYK"), "JPEG", quality=92), KEEP),
        "deep16.png": (encode(Image.fromarray(deep), "PNG"), KEEP),
        "rgba.png": (encode(rgba, "PNG"), KEEP),
        "palette_transparent.png": (encode(palette, "PNG", transparency=0), KEEP),
        "animated.gif": (encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=40,
                                loop=0), KEEP),
        "animated.png": (encode(pattern(s + 16), "PNG", save_all=True,
                                append_images=[pattern(s + 17)], duration=40), KEEP),
        "multipage.tif": (encode(pages[0], "TIFF", save_all=True, append_images=pages[1:]), KEEP),
        "image.webp": (encode(pattern(s + 18), "WEBP", quality=90), KEEP),
        "png_named.jpg": (encode(pattern(s + 19), "PNG"), KEEP),
        "UPPER_CASE.JPG": (encode(pattern(s + 20), "JPEG", quality=90), KEEP),
        "tiny_1x1.png": (encode(Image.new("RGB", (1, 1), (10, 200, 30)), "PNG"), KEEP),
        "strip_1x5000.png": (encode(strip, "PNG"), KEEP),
        # EXIF orientation 6 and the same picture stored upright: duplicates
        "exif/rotated6.jpg": (encode(sideways, "JPEG", quality=92, exif=exif),
                              {"same_cluster_as": "exif/upright.jpg"}),
        "exif/upright.jpg": (encode(sideways.transpose(Image.Transpose.ROTATE_270), "JPEG", quality=92),
                             {"same_cluster_as": "exif/rotated6.jpg"}),
        # names
        "dir with space/éñ 画像.jpg": (encode(pattern(s + 21), "JPEG", quality=90), KEEP),
        "odd names/100% real.jpg": (encode(pattern(s + 22), "JPEG", quality=90), KEEP),
        "odd names/a%41b.jpg": (encode(pattern(s + 23), "JPEG", quality=90), KEEP),
        "odd names/what?.jpg": (encode(pattern(s + 24), "JPEG", quality=90), KEEP),
        "odd names/hash#1.jpg": (encode(pattern(s + 25), "JPEG", quality=90), KEEP),
        "odd names/12:30:00.jpg": (encode(pattern(s + 26), "JPEG", quality=90), KEEP),
        "odd names/brace{1}[2].jpg": (encode(pattern(s + 27), "JPEG", quality=90), KEEP),
        "folder.jpg/inner.png": (encode(pattern(s + 28), "PNG"), KEEP),
        "dup/a.png": (identical, KEEP),
        "dup/b copy.png": (identical, {"action": "drop", "reason": "exact_duplicate", "keeper": "dup/a.png"}),
        # names Spark's listing hides (LISTING_GAPS): each should still be an input
        "_underscore.jpg": (encode(pattern(s + 29), "JPEG", quality=90), KEEP),
        ".hidden.jpg": (encode(pattern(s + 30), "JPEG", quality=90), KEEP),
        "_private/inside.jpg": (encode(pattern(s + 31), "JPEG", quality=90), KEEP),
        # not inputs
        "notes_no_extension": (encode(pattern(s + 32), "JPEG"), {"action": "absent"}),
    }


def build_hostile_corpus(root: Path, outside: Path | None = None) -> dict[str, dict]:
    """Write the hostile corpus under ``root``; returns {relative path: expected} (see module doc).

    ``outside``: a directory beside (not under) ``root`` for the symlink that
    escapes the root (default ``root.parent / (root.name + "-outside")``).
    POSIX only (symlinks, a FIFO).
    """
    root, outside = Path(root), Path(outside or Path(root).parent / (Path(root).name + "-outside"))
    expected: dict[str, dict] = {}
    for rel, (data, want) in _files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[rel] = want
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.jpg").write_bytes(encode(pattern(99), "JPEG", quality=90))
    (root / "links").mkdir()
    links = {
        # followed by the listing and by the reader: a second name for cmyk.jpg
        "links/inside.jpg": (Path("../cmyk.jpg"), {"action": "drop", "reason": "exact_duplicate",
                                                   "keeper": "cmyk.jpg"}),
        # out of the root: refused by the listing (policy "within_root"); the reader
        # alone has no root, so "reader" says what read_bytes + decode_image give
        "links/outside.jpg": (outside / "secret.jpg", {"action": "error", "reason": "outside_root",
                                                       "reader": None}),
        "links/devzero.jpg": (Path("/dev/zero"), {"action": "error", "reason": "outside_root",
                                                  "reader": "not_a_file"}),
        "links/dangling.jpg": (Path("../no_such_file.jpg"), {"action": "error", "reason": "not_found"}),
    }
    for rel, (target, want) in links.items():
        (root / rel).symlink_to(target)
        expected[rel] = want
    os.mkfifo(root / "pipe.jpg")  # would block a plain open() forever
    expected["pipe.jpg"] = {"action": "error", "reason": "not_a_file"}
    return expected


def inputs(expected: dict[str, dict]) -> dict[str, dict]:
    """The entries that should be manifest rows (everything but SKIPPED_BY_DESIGN)."""
    return {rel: want for rel, want in expected.items() if want.get("action") != "absent"}


# ----------------------------------------------------------------------------- a tiny HTTP server


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        body = self.server.files.get(unquote(urlsplit(self.path).path))  # type: ignore[attr-defined]
        self.send_response(200 if body is not None else 404)
        payload = body if body is not None else b"not found"
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def serve_files(files: dict[str, bytes]) -> Iterator[str]:
    """Serve ``{"/path": bytes}`` on 127.0.0.1 (404 elsewhere); yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.files = files  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
