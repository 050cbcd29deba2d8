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
``blocked_address``  the URL's host (or a redirect's) resolves to a loopback,
                     private, link-local, metadata, multicast or reserved
                     address not in ``FetchOptions.allow_networks`` (SSRF
                     guard; checked before any connection is made)
==================== ========================================================

:data:`TRANSIENT_REASONS` are worth retrying on the next run; the others are
properties of the input. http(s) is fetched with the standard library only
(``http.client``), with the knobs in :class:`FetchOptions`: each hop's host is
resolved once, every address checked (:func:`blocked_class`), and the
connection made to those checked addresses (TLS still verified against the
host name), so DNS rebinding between check and connect cannot slip through.
Environment proxies are not used: a proxy would resolve and connect itself.
"""
from __future__ import annotations

import errno
import functools
import http.client
import ipaddress
import os
import posixpath
import re
import socket
import ssl
import stat
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence
from urllib.parse import quote, unquote, urljoin, urlsplit

from udfs.errors import ItemError

# ``scheme://`` (at least two letters so a relative path such as ``c:x`` never
# looks like a URI); ``file:`` is recognised separately because Spark writes the
# single-slash form ``file:/a/b``.
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+)://")
_FILE_PREFIX = "file:"
_URL_SCHEMES = frozenset({"http", "https"})
_LOCAL_HOSTS = frozenset({"", "localhost"})

READ_REASONS = ("not_found", "is_directory", "not_a_file", "too_large", "http_error",
                "unavailable", "timeout", "io_error", "unsupported_scheme", "blocked_address")
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


# ---------------------------------------------------------------------------- address guard (SSRF)

# Address classes never fetched unless allowed; first match wins, so the named
# metadata endpoints come before the ranges that hold them. Anything else that
# Python does not call global is "reserved" (see blocked_class).
_BLOCKED = tuple((ipaddress.ip_network(net), kind) for net, kind in (
    ("169.254.169.254/32", "link-local (cloud metadata)"),
    ("fd00:ec2::254/128", "private (cloud metadata)"),
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("192.88.99.0/24", "reserved"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # and 255.255.255.255
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/8", "reserved"),  # IPv4-compatible ::a.b.c.d and the rest of ::/8 (mapped is checked first)
    ("64:ff9b:1::/48", "private"),  # local-use NAT64
    ("100::/64", "reserved"),
    ("2001::/23", "reserved"),  # Teredo, benchmarking, ORCHID ...
    ("2001:db8::/32", "reserved"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "private"),  # site-local
    ("ff00::/8", "multicast"),
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME_RE = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def blocked_class(ip: Address) -> str | None:
    """The class of an address fetching must refuse by default (``"loopback"``, ...), None if public.

    IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``,
    NAT64 ``64:ff9b::a.b.c.d``, 6to4 ``2002:AABB:CCDD::``) take the class of
    that address, prefixed with the form.
    """
    if ip.version == 6:
        for form, inner in (("IPv4-mapped", ip.ipv4_mapped), ("6to4", ip.sixtofour),
                            ("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)):
            if inner is not None:
                kind = blocked_class(inner)
                return f"{form} {kind}" if kind else None
    for network, kind in _BLOCKED:
        if ip in network:
            return kind
    return None if ip.is_global else "reserved"


def _allow_entry(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | str:
    """One ``allow_networks`` entry -> a network (CIDR or single address) or a lower-case host name."""
    text = entry.strip().lower().rstrip(".")
    if "/" in text or ":" in text or re.fullmatch(r"[0-9.]+", text):
        try:
            return ipaddress.ip_network(text)  # strict: "10.0.0.1/8" has host bits set
        except ValueError as exc:
            raise ValueError(f"allow_networks: {entry!r} is not a valid CIDR network or address ({exc})") from None
    if not _HOSTNAME_RE.match(text):
        raise ValueError(f"allow_networks: {entry!r} is neither a CIDR network, an address nor a host name")
    return text


@functools.lru_cache(maxsize=64)
def _allow_list(entries: tuple[str, ...]) -> tuple[tuple, frozenset[str]]:
    """``allow_networks`` -> (networks, host names); parsed once per distinct list."""
    parsed = [_allow_entry(e) for e in entries]
    return (tuple(p for p in parsed if not isinstance(p, str)),
            frozenset(p for p in parsed if isinstance(p, str)))


def _resolve(host: str, port: int) -> list[tuple[int, tuple]]:
    """``getaddrinfo`` -> distinct (family, sockaddr) in the resolver's order; a seam for tests."""
    out = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if family in (socket.AF_INET, socket.AF_INET6) and (family, sockaddr) not in out:
            out.append((family, sockaddr))
    return out


def _checked_addresses(host: str, port: int, fetch: FetchOptions, url: str, via: str) -> list[tuple[int, tuple]]:
    """Resolve ``host`` once; every address must be public or allowed, else ``blocked_address``.

    A host name in ``fetch.allow_networks`` skips the check. The addresses
    returned are the ones to connect to (no second lookup). Resolver failures
    propagate as OSError (``socket.gaierror``), i.e. a retried ``io_error``.
    """
    networks, names = _allow_list(fetch.allow_networks)
    addresses = _resolve(host, port)
    if not addresses:
        raise OSError(f"no IPv4/IPv6 address for {host!r}")
    if host.lower().rstrip(".") in names:
        return addresses
    for _, sockaddr in addresses:
        ip = ipaddress.ip_address(sockaddr[0].partition("%")[0])
        kind = blocked_class(ip)
        plain = ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped else ip
        if kind and not any(plain in net or ip in net for net in networks):
            shown = f"::ffff:{ip.ipv4_mapped}" if plain is not ip else str(ip)
            named = shown if _same_address(host, ip) else f"{host!r} resolves to {shown}:"
            raise ReadError("blocked_address", f"{named} {kind} address, not fetched "
                            f"(fetch.allow_networks can allow it): {url}{via}")
    return addresses


def _same_address(host: str, ip: Address) -> bool:
    """Is ``host`` the literal form of ``ip``?"""
    try:
        return ipaddress.ip_address(host) == ip
    except ValueError:
        return False


def _connect_to(addresses: list[tuple[int, tuple]], timeout: float, source_address=None) -> socket.socket:
    """``socket.create_connection`` over already checked addresses, tried in order (no DNS)."""
    error: OSError | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError("no address to connect to")


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
    ``allow_networks``: CIDR networks (``"10.0.0.0/8"``), single addresses
    (``"127.0.0.1"``, ``"::1"``) and host names (``"images.corp"``, exact
    match) that may be fetched from although :func:`blocked_class` refuses
    their addresses; empty (the default): only public addresses.
    """

    timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 0.5
    max_redirects: int = 5
    allowed_schemes: tuple[str, ...] = ("http", "https")
    deadline_s: float = 300.0
    allow_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        schemes = tuple(str(x).lower() for x in self.allowed_schemes)
        object.__setattr__(self, "allowed_schemes", schemes)
        if not set(schemes) <= _URL_SCHEMES:
            raise ValueError(f"allowed_schemes must be a subset of http, https; got {schemes}")
        if self.timeout_s <= 0 or self.deadline_s <= 0:
            raise ValueError("timeout_s and deadline_s must be > 0")
        if self.retries < 0 or self.backoff_s < 0 or self.max_redirects < 0:
            raise ValueError("retries, backoff_s and max_redirects must be >= 0")
        object.__setattr__(self, "allow_networks", tuple(str(x).strip() for x in self.allow_networks))
        _allow_list(self.allow_networks)  # raises ValueError naming a bad entry


_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 1 << 16
_MAX_RETRY_AFTER_S = 60.0
_USER_AGENT = "image-dedup/1 (python http.client)"
_sleep = time.sleep  # a seam for tests


class _Retry(Exception):
    """One attempt failed in a way worth retrying; ``reason`` is in TRANSIENT_REASONS."""

    def __init__(self, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(reason, message)
        self.reason, self.message, self.retry_after = reason, message, retry_after


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """The system's CA bundle, hostname checking on; built once (a seam for tests)."""
    return ssl.create_default_context()


def _request_target(url: str) -> str:
    """Path and query, percent-encoding what http.client refuses (spaces, non-ASCII); no fragment."""
    parts = urlsplit(url.strip())
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return path + (f"?{query}" if query else "")


def _via(url: str, origin: str) -> str:
    return f" (redirected from {origin})" if url != origin else ""


def _check_url(url: str, fetch: FetchOptions, origin: str) -> None:
    """Refuse a disallowed scheme (``unsupported_scheme``) or a URL no request can be made of."""
    via = _via(url, origin)
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


def _connect(url: str, fetch: FetchOptions, origin: str) -> http.client.HTTPConnection:
    """An unopened connection for ``url`` that can only reach the addresses checked here.

    Host header, SNI and certificate verification use the URL's host name;
    the TCP connection goes to the resolved and checked addresses.
    """
    parts = urlsplit(url.strip())
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    addresses = _checked_addresses(parts.hostname, port, fetch, url, _via(url, origin))
    if https:
        conn = http.client.HTTPSConnection(parts.hostname, port, timeout=fetch.timeout_s, context=_tls_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=fetch.timeout_s)
    # http.client opens its socket through this attribute (3.x); pinning it here means
    # no second lookup. tests/test_ssrf.py fails if a Python version stops honouring it.
    conn._create_connection = lambda _address, timeout, source=None: _connect_to(addresses, timeout, source)
    return conn


def _connection_error(exc: BaseException, url: str) -> Exception:
    """Map a socket / http.client failure to a _Retry (or a final ReadError)."""
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return _Retry("timeout", f"no response within the timeout: {url}")
    if isinstance(exc, ssl.SSLCertVerificationError):  # retrying will not fix a certificate
        return ReadError("io_error", f"TLS certificate rejected ({exc}): {url}")
    if isinstance(exc, (http.client.InvalidURL, UnicodeError)):
        return ReadError("http_error", f"invalid URL ({exc}): {url}")
    return _Retry("io_error", f"{type(exc).__name__}: {_short(str(exc))}: {url}")


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


def _get(url: str, fetch: FetchOptions,
         origin: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """Send one GET to the checked addresses of ``url``; the caller closes the connection."""
    conn = _connect(url, fetch, origin)
    try:
        conn.request("GET", _request_target(url), headers={
            "User-Agent": _USER_AGENT, "Accept-Encoding": "identity", "Connection": "close"})
        return conn, conn.getresponse()
    except BaseException:
        conn.close()
        raise


def _fetch_once(url: str, max_bytes: int, fetch: FetchOptions) -> bytes:
    """One attempt: follow at most max_redirects redirects (each hop checked), then read the body."""
    deadline = time.monotonic() + fetch.deadline_s
    current = url
    for _ in range(fetch.max_redirects + 1):
        _check_url(current, fetch, url)
        try:
            conn, response = _get(current, fetch, url)
            try:
                if response.status in _REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise ReadError("http_error", f"HTTP {response.status} without a Location: {current}")
                    current = urljoin(current, location.strip())
                    continue
                if not 200 <= response.status < 300:
                    raise _status_error(response, current)
                return _read_body(response, current, max_bytes, deadline)
            finally:
                response.close()
                conn.close()
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
    last: _Retry | None = None
    for attempt in range(fetch.retries + 1):
        if attempt:
            _sleep(_backoff(url, attempt - 1, fetch, last.retry_after))
        try:
            return _fetch_once(url, max_bytes, fetch)
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
