"""udfs.io and udfs.decode on real small files, including deliberately broken ones."""
from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from udfs import io as uio
from udfs.decode import DecodeError, Decoded, decode_image
from udfs.io import ReadError, normalize_uri, read_bytes

MAX_PIXELS = 50_000_000


def _encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def _astronaut(size: tuple[int, int] = (128, 96)) -> Image.Image:
    return Image.fromarray(skdata.astronaut()).resize(size)


def _decode_reason(data: bytes, max_pixels: int = MAX_PIXELS) -> str:
    with pytest.raises(DecodeError) as info:
        decode_image(data, max_pixels)
    return info.value.reason


# ----------------------------------------------------------------------------- io


def test_read_plain_path_and_file_uris(tmp_path: Path) -> None:
    target = tmp_path / "dir with space" / "a b.jpg"
    target.parent.mkdir()
    target.write_bytes(b"abc123")
    spark_style = "file:" + quote(str(target))  # file:/tmp/.../dir%20with%20space/a%20b.jpg
    for uri in (str(target), spark_style, "file://" + quote(str(target)), "file://localhost" + str(target)):
        assert read_bytes(uri, max_bytes=100) == b"abc123", uri


def test_read_file_uri_with_question_mark_and_hash(tmp_path: Path) -> None:
    target = tmp_path / "what?#1 100%.jpg"
    target.write_bytes(b"odd")
    for uri in ("file:" + str(target), "file:" + quote(str(target)), "file://" + quote(str(target))):
        assert read_bytes(uri, max_bytes=10) == b"odd", uri
    assert normalize_uri("file:" + str(target)) == str(target)


def test_read_error_reasons(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * 101)
    (tmp_path / "ok.bin").write_bytes(b"x" * 100)
    assert read_bytes(str(tmp_path / "ok.bin"), max_bytes=100) == b"x" * 100
    cases = {
        str(tmp_path / "missing.jpg"): "not_found",
        "file:" + str(tmp_path / "missing.jpg"): "not_found",
        str(tmp_path / "ok.bin" / "child"): "not_found",
        str(tmp_path): "is_directory",
        str(tmp_path / "big.bin"): "too_large",
        "ftp://example.com/a.jpg": "unsupported_scheme",
        "nosuchscheme://bucket/key.jpg": "unsupported_scheme",
        "file://otherhost/a.jpg": "unsupported_scheme",
    }
    for uri, reason in cases.items():
        with pytest.raises(ReadError) as info:
            read_bytes(uri, max_bytes=100)
        assert info.value.reason == reason, uri
        assert str(info.value).startswith(reason + ": ")


def test_read_url_with_a_disallowed_scheme_is_refused_before_any_request() -> None:
    with pytest.raises(ReadError) as info:
        read_bytes("http://cdn.example.com/x.png", max_bytes=10, fetch=uio.FetchOptions(allowed_schemes=("https",)))
    assert info.value.reason == "unsupported_scheme"


def _local_reason(path: str, max_bytes: int = 100) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_bytes(path, max_bytes)
    return info.value


def test_read_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    """A FIFO named like an image must not hang the task; a link to a device is not a file."""
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    err = _local_reason(str(fifo))
    assert err.reason == "not_a_file" and "fifo" in err.message
    (tmp_path / "zero.jpg").symlink_to("/dev/zero")
    assert _local_reason(str(tmp_path / "zero.jpg")).reason == "not_a_file"


def test_read_impossible_paths_are_not_found(tmp_path: Path) -> None:
    (tmp_path / "self.jpg").symlink_to(tmp_path / "self.jpg")
    (tmp_path / "dangling.jpg").symlink_to(tmp_path / "nowhere.jpg")
    cases = {str(tmp_path / "self.jpg"): "symbolic link loop",
             str(tmp_path / "dangling.jpg"): "no such file",
             str(tmp_path / ("x" * 300 + ".jpg")): "name too long",
             str(tmp_path / "nul\x00byte.jpg"): "invalid path"}
    for path, words in cases.items():
        err = _local_reason(path)
        assert err.reason == "not_found" and words in err.message, path


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of mode bits")
def test_read_permission_denied_is_io_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.jpg"
    path.write_bytes(b"abc")
    path.chmod(0)
    with pytest.raises(ReadError) as info:
        read_bytes(str(path), max_bytes=10)
    assert info.value.reason == "io_error"


def test_read_other_scheme_routes_through_pyarrow(tmp_path: Path, monkeypatch) -> None:
    """s3:// etc. go to pyarrow.fs; here the filesystem is a local one behind the seam."""
    from pyarrow import fs as pafs

    (tmp_path / "key.jpg").write_bytes(b"remote-bytes")
    (tmp_path / "big.jpg").write_bytes(b"y" * 50)
    seen = []

    def fake_from_uri(uri: str):
        seen.append(uri)
        return pafs.LocalFileSystem(), str(tmp_path / uri.split("/")[-1])

    monkeypatch.setattr(uio, "_filesystem_from_uri", fake_from_uri)
    assert read_bytes("s3://bucket/key.jpg", max_bytes=100) == b"remote-bytes"
    assert seen == ["s3://bucket/key.jpg"]
    for uri, reason in [("gs://b/none.jpg", "not_found"), ("hdfs://nn/big.jpg", "too_large")]:
        with pytest.raises(ReadError) as info:
            read_bytes(uri, max_bytes=10)
        assert info.value.reason == reason
    monkeypatch.setattr(uio, "_filesystem_from_uri", lambda uri: (pafs.LocalFileSystem(), str(tmp_path)))
    with pytest.raises(ReadError) as info:
        read_bytes("s3://bucket/", max_bytes=10)
    assert info.value.reason == "is_directory"


def test_read_pyarrow_failures_are_io_errors(monkeypatch) -> None:
    def no_jvm(uri: str):
        raise OSError("Unable to load libjvm\n" + "dlopen(...) failed\n" * 50)

    monkeypatch.setattr(uio, "_filesystem_from_uri", no_jvm)
    with pytest.raises(ReadError) as info:
        read_bytes("hdfs://namenode:8020/a.jpg", max_bytes=10)
    assert info.value.reason == "io_error"
    assert "libjvm" in info.value.message and "\n" not in info.value.message

    class Broken:
        def get_file_info(self, path):
            raise OSError("connection reset")

    monkeypatch.setattr(uio, "_filesystem_from_uri", lambda uri: (Broken(), "b/k"))
    with pytest.raises(ReadError) as info:
        read_bytes("s3://b/k", max_bytes=10)
    assert info.value.reason == "io_error" and "connection reset" in info.value.message


def test_normalize_uri(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    cwd = os.getcwd()
    assert normalize_uri("file:/data/a%20b/../c.jpg") == "/data/c.jpg"
    assert normalize_uri("file:///data/./x/y.jpg") == "/data/x/y.jpg"
    assert normalize_uri("file://localhost/data/y.jpg") == "/data/y.jpg"
    assert normalize_uri("/data//x/../y.jpg") == "/data/y.jpg"
    assert normalize_uri("//data/y.jpg") == "/data/y.jpg"
    assert normalize_uri("rel/./p.jpg") == cwd + "/rel/p.jpg"
    assert normalize_uri("s3://bucket/a/../b.jpg  \n") == "s3://bucket/a/../b.jpg"
    assert normalize_uri("https://cdn/x.jpg ") == "https://cdn/x.jpg"
    # the same file spelled three ways gets one id
    path = "/data/dir with space/img.jpg"
    assert normalize_uri(path) == normalize_uri("file:" + quote(path)) == normalize_uri("file://" + quote(path))


def test_normalize_does_not_resolve_symlinks(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert normalize_uri(str(tmp_path / "link" / "a.jpg")) == str(tmp_path / "link" / "a.jpg")


# ----------------------------------------------------------------------------- decode: good files


def test_decode_jpeg_and_png_roundtrip() -> None:
    src = _astronaut()
    png = decode_image(_encode(src, "PNG"), MAX_PIXELS)
    assert isinstance(png, Decoded)
    assert png.image.mode == "RGB" and png.image.size == (128, 96) == (png.width, png.height)
    assert np.array_equal(np.asarray(png.image), np.asarray(src))
    jpg = decode_image(_encode(src, "JPEG", quality=95), MAX_PIXELS)
    diff = np.abs(np.asarray(jpg.image, dtype=int) - np.asarray(src, dtype=int))
    assert jpg.image.mode == "RGB" and diff.mean() < 4


def test_decode_grayscale_and_bilevel() -> None:
    gray = Image.fromarray(skdata.camera()).resize((64, 64))
    out = decode_image(_encode(gray, "PNG"), MAX_PIXELS).image
    assert out.mode == "RGB"
    assert np.array_equal(np.asarray(out)[..., 1], np.asarray(gray))
    bilevel = gray.convert("1")
    out = np.asarray(decode_image(_encode(bilevel, "PNG"), MAX_PIXELS).image)
    assert set(np.unique(out)) == {0, 255}


def test_decode_exif_rotation_swaps_size() -> None:
    src = Image.new("RGB", (80, 40), (0, 0, 255))
    src.paste((255, 0, 0), (0, 0, 10, 40))  # red stripe on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    out = decode_image(_encode(src, "JPEG", quality=95, exif=exif), MAX_PIXELS)
    assert out.image.size == (40, 80) == (out.width, out.height)
    top = np.asarray(out.image)[:5, 20]
    assert top[:, 0].mean() > 200 and top[:, 2].mean() < 60  # left edge is now on top


def test_decode_cmyk_jpeg() -> None:
    src = Image.new("RGB", (32, 32), (200, 30, 30))
    out = decode_image(_encode(src.convert("CMYK"), "JPEG", quality=95), MAX_PIXELS).image
    r, g, b = np.asarray(out).reshape(-1, 3).mean(axis=0)
    assert out.mode == "RGB" and r > 150 and g < 80 and b < 80


def test_decode_16bit_png_scaled_not_clipped() -> None:
    ramp = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    data = _encode(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    out = np.asarray(decode_image(data, MAX_PIXELS).image)
    assert out.dtype == np.uint8
    assert not (out == 255).all()
    assert out.min() == 0 and out.max() == 255
    assert abs(int(out[32, 0, 0]) - ramp[32, 0] // 257) <= 1
    assert np.all(np.diff(out[..., 0].reshape(-1).astype(int)) >= 0)  # monotone ramp kept


def test_decode_float_tiff() -> None:
    arr = np.linspace(0.0, 1.0, 32 * 32, dtype=np.float32).reshape(32, 32)
    out = np.asarray(decode_image(_encode(Image.fromarray(arr, mode="F"), "TIFF"), MAX_PIXELS).image)
    assert out[0, 0, 0] == 0 and out[-1, -1, 0] == 255


def test_decode_palette_png_transparency_on_white() -> None:
    img = Image.new("P", (16, 16), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))  # 0 black, 1 red
    img.paste(1, (0, 0, 8, 16))
    data = _encode(img, "PNG", transparency=0)  # black index is transparent
    out = np.asarray(decode_image(data, MAX_PIXELS).image)
    assert (out[:, :8] == [255, 0, 0]).all()
    assert (out[:, 8:] == 255).all()  # transparent -> white, not black


def test_decode_rgba_and_la_composited_on_white() -> None:
    rgba = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 4, 8))
    out = np.asarray(decode_image(_encode(rgba, "PNG"), MAX_PIXELS).image)
    assert (out[:, :4] == [0, 0, 255]).all() and (out[:, 4:] == 255).all()
    la = Image.new("LA", (8, 8), (0, 128))
    out = np.asarray(decode_image(_encode(la, "PNG"), MAX_PIXELS).image)
    assert (np.abs(out.astype(int) - 127) <= 1).all()  # half-transparent black on white


def test_decode_animated_gif_first_frame() -> None:
    frames = [Image.new("RGB", (20, 20), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    out = np.asarray(decode_image(data, MAX_PIXELS).image)
    assert (out == [255, 0, 0]).all()


def test_decode_multipage_tiff_first_page() -> None:
    pages = [Image.new("RGB", (30, 10), (10, 200, 10)), Image.new("RGB", (50, 50), (200, 10, 10))]
    data = _encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    out = decode_image(data, MAX_PIXELS)
    assert (out.width, out.height) == (30, 10)
    assert (np.asarray(out.image) == [10, 200, 10]).all()


def test_decode_draft_keeps_full_size() -> None:
    src = _astronaut((512, 384))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encode(src, "JPEG", quality=90, exif=exif)
    out = decode_image(data, MAX_PIXELS, draft_size=64)
    assert (out.width, out.height) == (384, 512)
    assert out.image.mode == "RGB"
    assert out.image.size == (96, 128)  # 1/4 DCT scale, rotated; still >= 64 both ways
    full = decode_image(data, MAX_PIXELS)
    assert full.image.size == (384, 512)
    png = decode_image(_encode(src, "PNG"), MAX_PIXELS, draft_size=64)  # draft is JPEG-only
    assert png.image.size == (512, 384)


# ----------------------------------------------------------------------------- decode: bad files


def test_decode_empty_and_garbage() -> None:
    rng = np.random.default_rng(0)
    assert _decode_reason(b"") == "empty_file"
    assert _decode_reason(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()) == "not_an_image"
    assert _decode_reason(b"this is a text file, not a png\n" * 20) == "not_an_image"


def test_decode_truncated_jpeg_and_png() -> None:
    jpg = _encode(_astronaut((256, 256)), "JPEG", quality=90)
    assert _decode_reason(jpg[: len(jpg) // 2]) == "truncated"
    png = _encode(_astronaut((256, 256)), "PNG")
    assert _decode_reason(png[: len(png) // 2]) == "truncated"


def test_decode_corrupt_png_stream() -> None:
    """A broken zlib stream inside IDAT (PNG's getexif() would load it: must not be swallowed)."""
    png = bytearray(_encode(_astronaut((64, 64)), "PNG"))
    idat = png.find(b"IDAT")
    png[idat + 8 : idat + 58] = b"\xff" * 50
    assert _decode_reason(bytes(png)) == "truncated"


def _png_with_declared_size(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose IHDR (and CRC) is patched to claim width x height."""
    png = bytearray(_encode(Image.new("L", (1, 1)), "PNG"))
    ihdr = png.find(b"IHDR")
    png[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(png[ihdr : ihdr + 17])) & 0xFFFFFFFF
    png[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(png)


def test_decode_bomb_rejected_from_header() -> None:
    bomb = _png_with_declared_size(30_000, 30_000)  # 900 Mpx declared, ~70 bytes on disk
    assert len(bomb) < 200
    with pytest.raises(DecodeError) as info:
        decode_image(bomb, MAX_PIXELS)
    assert info.value.reason == "too_many_pixels"
    # below PIL's own guard: only our max_pixels check stands in the way
    small_bomb = _png_with_declared_size(5_000, 5_000)
    with pytest.raises(DecodeError) as info:
        decode_image(small_bomb, max_pixels=1_000_000)
    assert info.value.reason == "too_many_pixels"
    assert "5000x5000" in info.value.message


def test_decode_max_pixels_boundary() -> None:
    data = _encode(Image.new("RGB", (100, 50)), "PNG")
    assert decode_image(data, max_pixels=5000).width == 100
    assert _decode_reason(data, max_pixels=4999) == "too_many_pixels"


def test_decode_sets_no_globals() -> None:
    from PIL import ImageFile

    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    decode_image(_encode(_astronaut(), "JPEG"), MAX_PIXELS)
    _decode_reason(_png_with_declared_size(30_000, 30_000))
    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES) == before


def test_decode_error_str_has_reason() -> None:
    with pytest.raises(DecodeError) as info:
        decode_image(b"", MAX_PIXELS)
    assert str(info.value) == "empty_file: 0 bytes"


# ----------------------------------------------------------------------------- decode: hostile formats


def test_decode_refuses_postscript_without_running_ghostscript(monkeypatch) -> None:
    """EPS would make PIL start Ghostscript on untrusted PostScript: not an image here."""
    import subprocess

    def no_subprocess(*args, **kwargs):
        raise AssertionError("decode_image started a subprocess")

    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    monkeypatch.setattr(subprocess, "check_call", no_subprocess)
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto showpage\n"
    assert _decode_reason(eps) == "not_an_image"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    assert _decode_reason(svg) == "not_an_image"


def test_decode_allowed_formats_still_decode() -> None:
    src = _astronaut((48, 32))
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM", "TGA", "PCX"):
        out = decode_image(_encode(src, fmt), MAX_PIXELS)
        assert out.image.mode == "RGB" and (out.width, out.height) == (48, 32), fmt
    assert decode_image(_encode(src, "ICO", sizes=[(32, 32)]), MAX_PIXELS).width == 32


@pytest.mark.filterwarnings("ignore::UserWarning")  # PIL warns about broken TIFF tags
def test_decode_mutated_files_raise_only_decode_errors() -> None:
    """Random byte flips and cuts in small files of every common format: a DecodeError or an RGB image."""
    from udfs.hashing import phash64

    rng = np.random.default_rng(7)
    src = _astronaut((40, 30))
    seeds = [_encode(src, "JPEG", quality=80), _encode(src, "PNG"), _encode(src.quantize(16), "PNG", transparency=0),
             _encode(src, "GIF", save_all=True, append_images=[src.rotate(90)]), _encode(src, "TIFF"),
             _encode(src, "WEBP"), _encode(src.convert("CMYK"), "JPEG"), _encode(src, "BMP")]
    reasons = set()
    for data in seeds:
        for _ in range(25):
            mutated = bytearray(data)
            for pos in rng.integers(0, len(mutated), rng.integers(1, 6)):
                mutated[pos] = rng.integers(0, 256)
            if rng.random() < 0.3:
                mutated = mutated[: rng.integers(1, len(mutated))]
            try:
                out = decode_image(bytes(mutated), MAX_PIXELS)
                phash64(out.image)
                assert out.image.mode == "RGB" and min(out.image.size) >= 1
            except DecodeError as exc:
                reasons.add(exc.reason)
    assert {"truncated", "not_an_image"} <= reasons
