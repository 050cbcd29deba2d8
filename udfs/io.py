"""Read raw image bytes from local paths, ``file:`` URIs, http(s) URLs and pyarrow filesystems.

Executor-side and Spark-free. Failures raise :class:`ReadError` with a short
``reason`` code so callers can record them as data (never a silent ``None``):

==================== ========================================================
reason               meaning
==================== ========================================================
``not_found``        no such file; HTTP 404 / 410; a path no file can have
                     (NUL byte, symlink loop, name too long)
``is_directory``     the path names a directory
``not_a_file``       a FIFO, socket or device (never opened for reading: a
                     FIFO would block the task forever)
``too_large``        size in bytes > ``max_bytes`` (HTTP: Content-Length
                     checked first, then the bytes counted while streaming)
``http_error``       any other HTTP 4xx, an unexpected status, too many
                     redirects, an invalid URL (the message has the status)
``unavailable``      HTTP 5xx / 429, still failing after the retries
``timeout``          connect/read timeout or deadline, still after the retries
``io_error``         any other OS / filesystem / connection failure (after
                     the retries for URLs; a body cut short counts here)
``unsupported_scheme`` a scheme this reader does not handle or does not allow
                     (also a redirect to one, e.g. ``file://``)
==================== ========================================================

:data:`TRANSIENT_REASONS` are worth retrying on the next run; the others are
properties of the input. http(s) is fetched with the standard library only
(``urllib.request``), with the knobs in :class:`FetchOptions`.
"""
from __future__ import annotations

import errno
import http.client
import os
import posixpath
import re
import socket
import ssl
import stat
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from udfs.errors import ItemError

# ``scheme://`` (at least two letters so a relative path such as ``c:x`` never
# looks like a URI); ``file:`` is recognised separately because Spark writes the
# single-slash form ``file:/a/b``.
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+)://")
_FILE_PREFIX = "file:"
_URL_SCHEMES = frozenset({"http", "https"})
_LOCAL_HOSTS = frozenset({"", "localhost"})

READ_REASONS = ("not_found", "is_directory", "not_a_file", "too_large", "http_error",
                "unavailable", "timeout", "io_error", "unsupported_scheme")
#: Failures of the storage or the network, not of the item: retry them next run.
TRANSIENT_REASONS = ("io_error", "timeout", "unavailable")


class ReadError(ItemError):
    """A failed read; ``reason`` is one of :data:`READ_REASONS`."""


def _is_file_uri(uri: str) -> bool:
    return uri[: len(_FILE_PREFIX)].lower() == _FILE_PREFIX


def _scheme(uri: str) -> str | None:
    """Lower-case scheme of a ``scheme://...`` URI, else None (plain path)."""
    match = _SCHEME_RE.match(uri)
    return match.group(1).lower() if match else None


def _file_uri_to_path(uri: str) -> str:
    """``file:/a/b``, ``file:///a/b`` or ``file://localhost/a/b`` -> ``/a/b`` (percent-decoded).

    "?" and "#" belong to the path: a file has no query or fragment, and file
    names such as ``what?.jpg`` reach here unencoded from hand-written tables.
    """
    rest, host = uri[len(_FILE_PREFIX):], ""
    if rest.startswith("//"):
        host, _, rest = rest[2:].partition("/")
        rest = "/" + rest
    if host.lower() not in _LOCAL_HOSTS:
        raise ReadError("unsupported_scheme", f"file URI with a remote host {host!r} is not supported: {uri}")
    return unquote(rest) or "/"


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


# Errors that say "no file can ever be read at this path", not "the disk failed".
_BAD_PATH_ERRNOS = {errno.ENOENT: "no such file", errno.ENOTDIR: "no such file",
                    errno.ELOOP: "symbolic link loop", errno.ENAMETOOLONG: "name too long"}
_FILE_KINDS = {stat.S_IFIFO: "fifo", stat.S_IFSOCK: "socket", stat.S_IFCHR: "character device",
               stat.S_IFBLK: "block device"}


def _open_local(path: str) -> int:
    """``os.open`` read-only and non-blocking (a FIFO must not block), errors mapped."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags)
    except ValueError as exc:  # embedded NUL byte
        raise ReadError("not_found", f"invalid path ({exc}): {path!r}") from None
    except IsADirectoryError:
        raise ReadError("is_directory", f"path is a directory: {path}") from None
    except OSError as exc:
        if exc.errno in _BAD_PATH_ERRNOS:
            raise ReadError("not_found", f"{_BAD_PATH_ERRNOS[exc.errno]}: {path}") from None
        raise ReadError("io_error", f"cannot open {path}: {exc}") from None


def _read_local(path: str, max_bytes: int) -> bytes:
    """Read a local regular file (symlinks followed), checking type and size (bytes) first.

    Opened before it is checked (``fstat`` on the open descriptor), so the
    file cannot be swapped for a FIFO or a device between check and read.
    """
    fd = _open_local(path)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ReadError("is_directory", f"path is a directory: {path}")
        if not stat.S_ISREG(info.st_mode):
            kind = _FILE_KINDS.get(stat.S_IFMT(info.st_mode), "special file")
            raise ReadError("not_a_file", f"not a regular file ({kind}): {path}")
        if info.st_size > max_bytes:
            raise ReadError("too_large", f"{info.st_size} bytes > max_bytes={max_bytes}: {path}")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ReadError("io_error", f"cannot read {path}: {exc}") from None
    finally:
        os.close(fd)
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


# ---------------------------------------------------------------------------- http(s)

@dataclass(frozen=True)
class FetchOptions:
    """How http(s) URLs are fetched; times in seconds.

    ``timeout_s``: connect timeout, and the limit on each socket read (a
    server silent for longer fails the attempt). ``deadline_s``: wall-clock
    limit on one attempt's whole body (a server dripping a byte per second
    never trips ``timeout_s``). ``retries``: attempts after the first, on
    connection errors, timeouts, truncated bodies, 5xx and 429; never on other
    4xx. The delay before retry k (0-based) is ``backoff_s * 2**k`` times a
    jitter factor in [0.5, 1.5) derived from the URL (deterministic), or the
    server's ``Retry-After`` seconds when longer (at most 60). ``max_redirects``:
    redirects followed per attempt. ``allowed_schemes``: a subset of http and
    https, checked on the URL and on every redirect target.
    """

    timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 0.5
    max_redirects: int = 5
    allowed_schemes: tuple[str, ...] = ("http", "https")
    deadline_s: float = 300.0

    def __post_init__(self) -> None:
        schemes = tuple(str(x).lower() for x in self.allowed_schemes)
        object.__setattr__(self, "allowed_schemes", schemes)
        if not set(schemes) <= _URL_SCHEMES:
            raise ValueError(f"allowed_schemes must be a subset of http, https; got {schemes}")
        if self.timeout_s <= 0 or self.deadline_s <= 0:
            raise ValueError("timeout_s and deadline_s must be > 0")
        if self.retries < 0 or self.backoff_s < 0 or self.max_redirects < 0:
            raise ValueError("retries, backoff_s and max_redirects must be >= 0")


_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 1 << 16
_MAX_RETRY_AFTER_S = 60.0
_USER_AGENT = "image-dedup/1 (python urllib)"
_sleep = time.sleep  # a seam for tests


class _Retry(Exception):
    """One attempt failed in a way worth retrying; ``reason`` is in TRANSIENT_REASONS."""

    def __init__(self, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(reason, message)
        self.reason, self.message, self.retry_after = reason, message, retry_after


def _opener() -> urllib.request.OpenerDirector:
    """http and https only; no redirect or error handlers, so every status comes back to us."""
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.HTTPHandler(),
                    urllib.request.HTTPSHandler()):
        opener.add_handler(handler)
    return opener


def _request_url(url: str) -> str:
    """Percent-encode what http.client refuses (spaces, non-ASCII) in path and query; drop the fragment."""
    parts = urlsplit(url.strip())
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _check_url(url: str, fetch: FetchOptions, origin: str) -> None:
    """Refuse a disallowed scheme (``unsupported_scheme``) or a URL no request can be made of."""
    via = f" (redirected from {origin})" if url != origin else ""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError when out of range
    except ValueError as exc:
        raise ReadError("http_error", f"invalid URL ({exc}): {url}{via}") from None
    scheme = parts.scheme.lower()
    if scheme not in fetch.allowed_schemes:
        raise ReadError("unsupported_scheme", f"scheme {scheme or 'none'!r} is not allowed "
                        f"(allowed: {', '.join(fetch.allowed_schemes)}): {url}{via}")
    if not parts.hostname or "@" in parts.netloc or port == 0:
        raise ReadError("http_error", f"invalid URL (no host, a port 0 or credentials in the URL): {url}{via}")


def _connection_error(exc: BaseException, url: str) -> Exception:
    """Map a socket / urllib / http.client failure to a _Retry (or a final ReadError)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return _Retry("timeout", f"no response within the timeout: {url}")
    if isinstance(reason, ssl.SSLCertVerificationError):  # retrying will not fix a certificate
        return ReadError("io_error", f"TLS certificate rejected ({reason}): {url}")
    if isinstance(reason, http.client.InvalidURL):
        return ReadError("http_error", f"invalid URL ({reason}): {url}")
    return _Retry("io_error", f"{type(reason).__name__}: {_short(str(reason))}: {url}")


def _status_error(response, url: str) -> Exception:
    """A non-2xx, non-redirect response -> ReadError (final) or _Retry."""
    status = response.status
    text = f"HTTP {status} {response.reason}".strip() + f": {url}"
    if status in (404, 410):
        return ReadError("not_found", text)
    if status == 429 or status >= 500:
        return _Retry("unavailable", text, _retry_after(response.headers.get("Retry-After")))
    return ReadError("http_error", text if status >= 400 else f"unexpected {text}")


def _retry_after(value: str | None) -> float | None:
    try:
        return min(max(float(value), 0.0), _MAX_RETRY_AFTER_S) if value else None
    except ValueError:  # an HTTP date: not worth parsing here
        return None


def _read_body(response, url: str, max_bytes: int, deadline: float) -> bytes:
    """Stream the body, refusing more than max_bytes (Content-Length checked first)."""
    declared = response.length  # http.client's parsed Content-Length, None if absent/invalid
    if declared is not None and declared > max_bytes:
        raise ReadError("too_large", f"Content-Length {declared} > max_bytes={max_bytes}: {url}")
    chunks, total = [], 0
    while True:
        if time.monotonic() > deadline:
            raise _Retry("timeout", f"body not complete within the deadline after {total} bytes: {url}")
        chunk = response.read1(min(_CHUNK, max_bytes + 1 - total))  # returns what has arrived
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise ReadError("too_large", f"more than max_bytes={max_bytes} bytes: {url}")
        chunks.append(chunk)
    if declared is not None and total < declared:
        raise _Retry("io_error", f"connection closed after {total} of {declared} bytes: {url}")
    return b"".join(chunks)


def _fetch_once(url: str, max_bytes: int, fetch: FetchOptions, opener) -> bytes:
    """One attempt: follow at most max_redirects redirects, then read the body."""
    deadline = time.monotonic() + fetch.deadline_s
    current = url
    for _ in range(fetch.max_redirects + 1):
        _check_url(current, fetch, url)
        request = urllib.request.Request(_request_url(current), headers={
            "User-Agent": _USER_AGENT, "Accept-Encoding": "identity"})
        try:
            with opener.open(request, timeout=fetch.timeout_s) as response:
                if response.status in _REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise ReadError("http_error", f"HTTP {response.status} without a Location: {current}")
                    current = urljoin(current, location.strip())
                    continue
                if not 200 <= response.status < 300:
                    raise _status_error(response, current)
                return _read_body(response, current, max_bytes, deadline)
        except (ReadError, _Retry):
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise _connection_error(exc, current) from None
    raise ReadError("http_error", f"more than {fetch.max_redirects} redirects (last {current}): {url}")


def _backoff(url: str, attempt: int, fetch: FetchOptions, retry_after: float | None) -> float:
    jitter = 0.5 + zlib.crc32(f"{attempt}|{url}".encode()) / 2**32
    delay = fetch.backoff_s * (2 ** attempt) * jitter
    return max(delay, retry_after or 0.0)


def _fetch(url: str, max_bytes: int, fetch: FetchOptions) -> bytes:
    """GET ``url`` with retries (see FetchOptions); raises ReadError."""
    opener = _opener()
    last: _Retry | None = None
    for attempt in range(fetch.retries + 1):
        if attempt:
            _sleep(_backoff(url, attempt - 1, fetch, last.retry_after))
        try:
            return _fetch_once(url, max_bytes, fetch, opener)
        except _Retry as exc:
            last = exc
    tries = fetch.retries + 1
    raise ReadError(last.reason, f"{last.message} ({tries} attempt{'s' if tries > 1 else ''})")


# ---------------------------------------------------------------------------- entry points

def read_bytes(uri: str, max_bytes: int, fetch: FetchOptions | None = None) -> bytes:
    """Return the whole content of ``uri`` (at most ``max_bytes`` bytes) or raise ReadError.

    Accepts plain local paths, ``file:`` URIs (``file:/a/b``, ``file:///a/b``,
    percent-encoded as Spark's ``binaryFile`` writes them), http(s) URLs
    (fetched as ``fetch`` says, default ``FetchOptions()``) and anything
    ``pyarrow.fs.FileSystem.from_uri`` knows (s3://, gs://, hdfs://).
    """
    if _is_file_uri(uri):
        return _read_local(_file_uri_to_path(uri), max_bytes)
    scheme = _scheme(uri)
    if scheme is None:
        return _read_local(uri, max_bytes)
    if scheme in _URL_SCHEMES:
        fetch = fetch or FetchOptions()
        _check_url(uri, fetch, uri)
        return _fetch(uri, max_bytes, fetch)
    return _read_pyarrow(uri, max_bytes)


def read_many(uris: Sequence[str], max_bytes: int, fetch: FetchOptions | None = None,
              workers: int = 8, *, transform: Callable[[bytes], object] | None = None) -> list:
    """``read_bytes`` over ``uris`` on up to ``workers`` threads; results in input order.

    Each result is the bytes (or ``transform(bytes)``, run in the same worker
    thread) or the exception raised: a ReadError for read failures, whatever
    ``transform`` raised, any other exception for a bug. Nothing is dropped.
    Memory: every result of the call at once, so pass ``transform`` (e.g. a
    digest) when only a summary of the bytes is needed. I/O waits (HTTP,
    object stores) overlap; CPU work in ``transform`` overlaps only where it
    releases the GIL (hashlib on large buffers, PIL decoding).
    """
    def one(uri: str):
        try:
            data = read_bytes(uri, max_bytes, fetch)
            return transform(data) if transform is not None else data
        except Exception as exc:  # noqa: BLE001 - returned as a value, never lost
            return exc

    if workers <= 1 or len(uris) <= 1:
        return [one(u) for u in uris]
    with ThreadPoolExecutor(max_workers=min(workers, len(uris)), thread_name_prefix="read") as pool:
        return list(pool.map(one, uris))
