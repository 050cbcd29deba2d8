"""Read raw image bytes from local paths, ``file:`` URIs and pyarrow filesystems.

Executor-side and Spark-free. Failures raise :class:`ReadError` with a short
``reason`` code so callers can record them as data (never a silent ``None``):

==================== ========================================================
reason               meaning
==================== ========================================================
``not_found``        no such file
``is_directory``     the path names a directory
``too_large``        file size in bytes > ``max_bytes``
``io_error``         any other OS / filesystem failure (permissions, network)
``unsupported_scheme`` a scheme this reader does not handle (http/https for now)
==================== ========================================================
"""
from __future__ import annotations

import os
import posixpath
import re
import stat
from urllib.parse import unquote, urlsplit

# ``scheme://`` (at least two letters so a relative path such as ``c:x`` never
# looks like a URI); ``file:`` is recognised separately because Spark writes the
# single-slash form ``file:/a/b``.
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+)://")
_FILE_PREFIX = "file:"
_URL_SCHEMES = frozenset({"http", "https"})
_LOCAL_HOSTS = frozenset({"", "localhost"})

READ_REASONS = ("not_found", "is_directory", "too_large", "io_error", "unsupported_scheme")


class ReadError(Exception):
    """A failed read; ``reason`` is one of :data:`READ_REASONS`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason, message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


def _is_file_uri(uri: str) -> bool:
    return uri[: len(_FILE_PREFIX)].lower() == _FILE_PREFIX


def _scheme(uri: str) -> str | None:
    """Lower-case scheme of a ``scheme://...`` URI, else None (plain path)."""
    match = _SCHEME_RE.match(uri)
    return match.group(1).lower() if match else None


def _file_uri_to_path(uri: str) -> str:
    """``file:/a/b``, ``file:///a/b`` or ``file://localhost/a/b`` -> ``/a/b`` (percent-decoded)."""
    parts = urlsplit(uri)
    if parts.netloc.lower() not in _LOCAL_HOSTS:
        raise ReadError(
            "unsupported_scheme",
            f"file URI with a remote host {parts.netloc!r} is not supported: {uri}",
        )
    return unquote(parts.path) or "/"


def _absolute_posix(path: str) -> str:
    """Absolute path with ``.``/``..`` and repeated slashes collapsed; no symlink resolution."""
    if not posixpath.isabs(path):
        path = posixpath.join(os.getcwd(), path)
    path = posixpath.normpath(path)
    # POSIX keeps a leading "//" as implementation-defined; one root is canonical here.
    return "/" + path.lstrip("/")


def normalize_uri(uri: str) -> str:
    """Canonical string for ids and dedup.

    ``file:`` URIs and plain paths become an absolute POSIX path (percent-encoding
    of the URI decoded, ``.``/``..`` collapsed, symlinks NOT resolved). Other
    schemes (``s3://``, ``hdfs://``, ``http://`` ...) are returned unchanged apart
    from trailing whitespace being stripped.
    """
    if _is_file_uri(uri):
        return _absolute_posix(_file_uri_to_path(uri))
    if _scheme(uri) is not None:
        return uri.rstrip()
    return _absolute_posix(uri)


def _read_local(path: str, max_bytes: int) -> bytes:
    """Read a local file, checking type and size (bytes) before reading."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise ReadError("not_found", f"no such file: {path}") from None
    except OSError as exc:
        raise ReadError("io_error", f"cannot stat {path}: {exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ReadError("is_directory", f"path is a directory: {path}")
    if info.st_size > max_bytes:
        raise ReadError("too_large", f"{info.st_size} bytes > max_bytes={max_bytes}: {path}")
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except IsADirectoryError:
        raise ReadError("is_directory", f"path is a directory: {path}") from None
    except FileNotFoundError:
        raise ReadError("not_found", f"no such file: {path}") from None
    except OSError as exc:
        raise ReadError("io_error", f"cannot read {path}: {exc}") from None
    if len(data) > max_bytes:  # the file grew after stat, or stat lied (procfs)
        raise ReadError("too_large", f"more than max_bytes={max_bytes} bytes: {path}")
    return data


def _short(text: str, limit: int = 300) -> str:
    """First line of an error text, cut to ``limit`` chars (libhdfs errors run to pages)."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 3] + "..."


def _filesystem_from_uri(uri: str):
    """``pyarrow.fs.FileSystem.from_uri`` -> (filesystem, path); a seam for tests.

    A new filesystem object per call: correct for every scheme, but a connection
    per file on HDFS; cache per (scheme, authority) if profiling shows it matters.
    """
    from pyarrow import fs as pafs

    return pafs.FileSystem.from_uri(uri)


def _read_pyarrow(uri: str, max_bytes: int) -> bytes:
    """Read through a pyarrow filesystem (s3://, gs://, hdfs://, viewfs://)."""
    from pyarrow import fs as pafs

    try:
        filesystem, path = _filesystem_from_uri(uri)
    except Exception as exc:  # pyarrow raises ArrowInvalid for unknown schemes
        message = _short(str(exc))
        if "unrecognized filesystem" in message.lower() or isinstance(exc, NotImplementedError):
            raise ReadError("unsupported_scheme", f"{message} (pyarrow.fs cannot open it)") from None
        raise ReadError("io_error", f"cannot open filesystem for {uri}: {message}") from None
    try:
        info = filesystem.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            raise ReadError("not_found", f"no such file: {uri}")
        if info.type == pafs.FileType.Directory:
            raise ReadError("is_directory", f"path is a directory: {uri}")
        if info.size is not None and info.size > max_bytes:
            raise ReadError("too_large", f"{info.size} bytes > max_bytes={max_bytes}: {uri}")
        with filesystem.open_input_stream(path) as stream:
            data = stream.read(max_bytes + 1)
    except ReadError:
        raise
    except FileNotFoundError:
        raise ReadError("not_found", f"no such file: {uri}") from None
    except Exception as exc:
        raise ReadError("io_error", f"cannot read {uri}: {type(exc).__name__}: {_short(str(exc))}") from None
    if len(data) > max_bytes:
        raise ReadError("too_large", f"more than max_bytes={max_bytes} bytes: {uri}")
    return bytes(data)


def read_bytes(uri: str, max_bytes: int) -> bytes:
    """Return the whole content of ``uri`` (at most ``max_bytes`` bytes) or raise ReadError.

    Accepts plain local paths, ``file:`` URIs (``file:/a/b``, ``file:///a/b``,
    percent-encoded as Spark's ``binaryFile`` writes them) and anything
    ``pyarrow.fs.FileSystem.from_uri`` knows (s3://, gs://, hdfs://). http(s)
    URLs raise ``unsupported_scheme``: URL fetching is a later feature.
    """
    if _is_file_uri(uri):
        return _read_local(_file_uri_to_path(uri), max_bytes)
    scheme = _scheme(uri)
    if scheme is None:
        return _read_local(uri, max_bytes)
    if scheme in _URL_SCHEMES:
        raise ReadError(
            "unsupported_scheme",
            f"{scheme} URLs are not fetched yet (URL fetching is a later feature); "
            f"download the files to a filesystem or object store first: {uri}",
        )
    return _read_pyarrow(uri, max_bytes)
