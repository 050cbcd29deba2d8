"""http(s) inputs: udfs.io fetching against a local HTTP server (no network).

The server runs in a thread on 127.0.0.1 (port 0) and serves each failure mode
once per request; every handler that waits does so on an Event, so shutdown
never hangs. Timeouts are tiny (timeout_s=0.3, backoff_s=0.01). Loopback is
refused by default (tests/test_ssrf.py), so every FetchOptions here allows
127.0.0.1 alone (``allow_networks=LOCAL``).
"""
from __future__ import annotations

import hashlib
import io
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

from udfs import io as uio
from udfs.io import TRANSIENT_REASONS, FetchOptions, ReadError, read_bytes, read_many

LOCAL = ("127.0.0.1",)  # the test server's address; nothing else may be fetched


def options(**kwargs) -> FetchOptions:
    """FetchOptions that may reach the local test server."""
    return FetchOptions(allow_networks=LOCAL, **kwargs)


FAST = options(timeout_s=0.3, retries=3, backoff_s=0.01, max_redirects=5)
MAX = 1 << 20


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


GOOD = _jpeg()
BIG = b"\xff" * 5000  # served to clients whose max_bytes is 1000


class _Handler(BaseHTTPRequestHandler):
    """Routes by path; the query string (``?k=...``) only keys the per-test request counters."""

    server: "_Server"

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        path, count = unquote(parts.path), self.server.hit(self.path)
        base = f"http://127.0.0.1:{self.server.server_port}"
        if path in ("/good.jpg", "/dir with space/éñ 画像.jpg"):
            return self._send(200, GOOD)
        if path == "/slow.jpg":  # headers only after 1 s (> timeout_s)
            self.server.stop.wait(1.0)
            return self._send(200, GOOD)
        if path == "/drip.jpg":  # headers at once, then a byte every 0.1 s: only the deadline stops it
            self._head(200, {"Content-Length": "50"})
            for _ in range(50):
                if self.server.stop.wait(0.1):
                    return
                self.wfile.write(b"x")
                self.wfile.flush()
            return None
        if path in ("/404", "/410", "/403", "/500", "/503"):
            return self._send(int(path[1:]), b"nope")
        if path == "/429":
            return self._send(429, b"slow down", {"Retry-After": "2"})
        if path == "/flaky.jpg":  # 500, 500, then the image: succeeds on the 3rd try
            return self._send(500, b"err") if count < 3 else self._send(200, GOOD)
        if path == "/truncated.jpg":  # promises more than it sends, then closes
            self._head(200, {"Content-Length": str(len(GOOD))})
            self.wfile.write(GOOD[: len(GOOD) // 2])
            self.close_connection = True
            return None
        if path == "/big-declared.bin":
            return self._send(200, BIG)
        if path == "/big-undeclared.bin":  # no Content-Length: the client must count
            self._head(200, {})
            self.wfile.write(BIG)
            self.close_connection = True
            return None
        if path == "/empty":
            return self._send(200, b"")
        if path == "/redirect":
            return self._send(302, b"", {"Location": "/good.jpg"})
        if path.startswith("/hops/"):  # /hops/N -> /hops/N-1 -> ... -> /good.jpg
            n = int(path.rsplit("/", 1)[1])
            return self._send(301, b"", {"Location": f"/hops/{n - 1}" if n > 1 else f"{base}/good.jpg"})
        if path in ("/loop-a", "/loop-b"):
            return self._send(307, b"", {"Location": "/loop-b" if path == "/loop-a" else "/loop-a"})
        if path == "/to-file":
            return self._send(302, b"", {"Location": "file:///etc/passwd"})
        if path == "/to-https":
            return self._send(308, b"", {"Location": f"https://127.0.0.1:{self.server.server_port}/good.jpg"})
        if path == "/no-location":
            return self._send(302, b"")
        return self._send(404, b"no route")

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self._head(status, {"Content-Length": str(len(body)), **(headers or {})})
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stop = threading.Event()
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()

    def handle_error(self, request, client_address) -> None:
        pass  # clients hang up early on purpose (too_large, timeouts): no tracebacks

    def hit(self, key: str) -> int:
        with self._lock:
            self.hits[key] += 1
            return self.hits[key]


@pytest.fixture(scope="module")
def server():
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.stop.set()
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture
def url(server):
    return lambda path: f"http://127.0.0.1:{server.server_port}{path}"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """A proxy from the environment must not carry 127.0.0.1 traffic away."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def _reason(uri: str, fetch: FetchOptions = FAST, max_bytes: int = MAX) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_bytes(uri, max_bytes, fetch)
    return info.value


# ----------------------------------------------------------------------------- success


def test_good_image_bytes_equal_the_file(url) -> None:
    assert read_bytes(url("/good.jpg"), MAX, FAST) == GOOD
    assert read_bytes(url("/good.jpg"), MAX, options()) == GOOD  # default knobs
    assert _reason(url("/good.jpg"), FetchOptions()).reason == "blocked_address"  # default: no loopback
    assert read_bytes(url("/good.jpg#fragment"), MAX, FAST) == GOOD


def test_url_with_space_and_non_ascii_is_encoded(url) -> None:
    assert read_bytes(url("/dir with space/éñ 画像.jpg"), MAX, FAST) == GOOD


def test_redirects_followed_up_to_the_limit(url) -> None:
    assert read_bytes(url("/redirect"), MAX, FAST) == GOOD
    assert read_bytes(url("/hops/5"), MAX, FAST) == GOOD  # 5 redirects: allowed
    err = _reason(url("/hops/6"))
    assert err.reason == "http_error" and "more than 5 redirects" in err.message


def test_retries_until_success(server, url) -> None:
    key = "/flaky.jpg?k=retry"
    assert read_bytes(url(key), MAX, FAST) == GOOD
    assert server.hits[key] == 3


def test_empty_body_is_returned_not_an_error(url) -> None:
    assert read_bytes(url("/empty"), MAX, FAST) == b""  # decode reports empty_file


# ----------------------------------------------------------------------------- failures


def test_status_codes_map_to_reasons_and_4xx_is_not_retried(server, url) -> None:
    for path, reason in [("/404", "not_found"), ("/410", "not_found"), ("/403", "http_error")]:
        key = f"{path}?k=status"
        err = _reason(url(key))
        assert err.reason == reason, path
        assert server.hits[key] == 1, f"{path} was retried"
    assert "HTTP 403" in _reason(url("/403")).message


def test_always_5xx_is_unavailable_after_retries(server, url) -> None:
    for path in ("/500", "/503"):
        key = f"{path}?k=always"
        err = _reason(url(key))
        assert err.reason == "unavailable" and f"HTTP {path[1:]}" in err.message
        assert server.hits[key] == FAST.retries + 1
        assert "4 attempts" in err.message


def test_429_waits_for_retry_after(server, url, monkeypatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(uio, "_sleep", slept.append)
    err = _reason(url("/429?k=ra"), options(timeout_s=0.3, retries=2, backoff_s=0.01))
    assert err.reason == "unavailable" and server.hits["/429?k=ra"] == 3
    assert slept == [2.0, 2.0]  # Retry-After beats the 0.01 s backoff


def test_backoff_is_exponential_with_deterministic_jitter(monkeypatch, url) -> None:
    slept: list[float] = []
    monkeypatch.setattr(uio, "_sleep", slept.append)
    _reason(url("/500?k=backoff"), options(timeout_s=0.3, retries=3, backoff_s=1.0))
    assert len(slept) == 3
    for k, delay in enumerate(slept):
        assert 0.5 * 2**k <= delay < 1.5 * 2**k
    again: list[float] = []
    monkeypatch.setattr(uio, "_sleep", again.append)
    _reason(url("/500?k=backoff"), options(timeout_s=0.3, retries=3, backoff_s=1.0))
    assert again == slept


def test_slow_server_times_out_after_retries(server, url) -> None:
    key = "/slow.jpg?k=slow"
    start = time.monotonic()
    err = _reason(url(key), options(timeout_s=0.3, retries=1, backoff_s=0.01))
    assert err.reason == "timeout" and server.hits[key] == 2
    assert time.monotonic() - start < 2.0


def test_dripping_body_stops_at_the_deadline(url) -> None:
    start = time.monotonic()
    err = _reason(url("/drip.jpg"), options(timeout_s=0.3, retries=0, deadline_s=0.35))
    assert err.reason == "timeout" and "deadline" in err.message
    assert time.monotonic() - start < 1.5


def test_truncated_body_is_io_error_after_retries(server, url) -> None:
    key = "/truncated.jpg?k=trunc"
    err = _reason(url(key))
    assert err.reason == "io_error" and f"of {len(GOOD)} bytes" in err.message
    assert server.hits[key] == FAST.retries + 1


def test_oversize_with_and_without_content_length(server, url) -> None:
    declared = _reason(url("/big-declared.bin?k=big"), max_bytes=1000)
    assert declared.reason == "too_large" and "Content-Length 5000" in declared.message
    undeclared = _reason(url("/big-undeclared.bin?k=big"), max_bytes=1000)
    assert undeclared.reason == "too_large" and "more than max_bytes=1000" in undeclared.message
    assert server.hits["/big-declared.bin?k=big"] == server.hits["/big-undeclared.bin?k=big"] == 1
    assert read_bytes(url("/big-undeclared.bin"), 5000, FAST) == BIG  # exactly at the limit


def test_redirect_loop_and_missing_location(server, url) -> None:
    err = _reason(url("/loop-a?k=loop"))
    assert err.reason == "http_error" and "redirects" in err.message
    assert server.hits["/loop-a?k=loop"] == 1  # not retried
    assert _reason(url("/no-location")).reason == "http_error"


def test_redirect_to_a_disallowed_scheme_is_refused(url) -> None:
    err = _reason(url("/to-file"))
    assert err.reason == "unsupported_scheme" and "file:///etc/passwd" in err.message
    http_only = options(timeout_s=0.3, retries=0, allowed_schemes=("http",))
    assert _reason(url("/to-https"), http_only).reason == "unsupported_scheme"
    https_only = FetchOptions(allowed_schemes=("https",))
    assert _reason(url("/good.jpg"), https_only).reason == "unsupported_scheme"


def test_connection_refused_is_io_error_after_retries() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    err = _reason(f"http://127.0.0.1:{port}/x.jpg", options(timeout_s=0.3, retries=1, backoff_s=0.01))
    assert err.reason == "io_error" and "2 attempts" in err.message


def test_invalid_urls_are_http_errors_without_a_request() -> None:
    for bad in ("http:///no-host.jpg", "http://[::1/x.jpg", "http://127.0.0.1:99999/x.jpg",
                "http://user:secret@127.0.0.1:1/x.jpg"):
        assert _reason(bad).reason == "http_error", bad


def test_transient_reasons() -> None:
    assert set(TRANSIENT_REASONS) == {"io_error", "timeout", "unavailable"}
    assert set(TRANSIENT_REASONS) <= set(uio.READ_REASONS)


def test_fetch_options_are_validated() -> None:
    with pytest.raises(ValueError):
        FetchOptions(allowed_schemes=("http", "file"))
    with pytest.raises(ValueError):
        FetchOptions(timeout_s=0)
    with pytest.raises(ValueError):
        FetchOptions(retries=-1)
    assert FetchOptions(allowed_schemes=["HTTPS"]).allowed_schemes == ("https",)


# ----------------------------------------------------------------------------- read_many


def test_read_many_keeps_order_and_errors(url, tmp_path) -> None:
    local = tmp_path / "a.jpg"
    local.write_bytes(b"local")
    uris = [url("/good.jpg"), url("/404?k=many"), str(local), url("/flaky.jpg?k=many"),
            str(tmp_path / "missing.jpg"), "nosuchscheme://b/k", url("/redirect")]
    out = read_many(uris, MAX, FAST, workers=4)
    assert out[0] == GOOD and out[2] == b"local" and out[3] == GOOD and out[6] == GOOD
    assert [r.reason for r in (out[1], out[4], out[5])] == ["not_found", "not_found", "unsupported_scheme"]
    assert read_many(uris, MAX, FAST, workers=1)[2] == b"local"
    assert read_many([], MAX, FAST) == []


def test_read_many_transform_runs_in_the_worker(url) -> None:
    digest = lambda data: hashlib.sha256(data).hexdigest()  # noqa: E731
    out = read_many([url("/good.jpg"), url("/404")], MAX, FAST, workers=2, transform=digest)
    assert out[0] == hashlib.sha256(GOOD).hexdigest()
    assert isinstance(out[1], ReadError)

    def boom(data: bytes) -> None:
        raise ValueError("bad transform")

    assert isinstance(read_many([url("/good.jpg")], MAX, FAST, transform=boom)[0], ValueError)
