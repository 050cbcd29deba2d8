"""SSRF guard: URLs from input tables reach only public addresses unless allowed.

Only loopback addresses ever receive traffic here: HTTP servers on 127.0.0.1
and 127.0.0.2 (and ::1 where the host has IPv6). Private, metadata and other
non-loopback cases run under ``no_connect``, which fails the test if any
socket connects, so they prove the refusal comes before a connection.
Host names other than ``localhost`` are answered by a fake resolver.
"""
from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import unquote

import pytest

from jobs.config import ConfigError, load_config
from jobs.dedup import main
from tests import hostile
from tests.helpers import read_run
from udfs import io as uio
from udfs.io import TRANSIENT_REASONS, FetchOptions, ReadError, blocked_class, read_bytes, read_many

MAX = 1 << 20
BODY = hostile.encode(hostile.pattern(7), "JPEG", quality=90)


def opts(*allow: str, **kwargs) -> FetchOptions:
    return FetchOptions(**{"timeout_s": 0.5, "retries": 2, "backoff_s": 0.01, **kwargs}, allow_networks=allow)


def _reason(url: str, fetch: FetchOptions) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_bytes(url, MAX, fetch)
    return info.value


# ----------------------------------------------------------------------------- servers


class _Handler(BaseHTTPRequestHandler):
    """``/img`` -> BODY; ``/go?to=URL`` -> 302 to URL; anything else 404."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.hits[self.path] += 1  # type: ignore[attr-defined]
        if self.path.startswith("/go?to="):
            self.send_response(302)
            self.send_header("Location", unquote(self.path[len("/go?to="):]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, status = (BODY, 200) if self.path.startswith("/img") else (b"no", 404)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass


@contextmanager
def _serve(host: str, family: int = socket.AF_INET, tls: ssl.SSLContext | None = None) -> Iterator[_Server]:
    server_cls = type("S", (_Server,), {"address_family": family})
    server = server_cls((host, 0), _Handler)
    server.hits = Counter()  # type: ignore[attr-defined]
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def one():
    with _serve("127.0.0.1") as server:
        yield server


@pytest.fixture(scope="module")
def two():
    """A second loopback address, never allowed unless a test says so."""
    try:
        with _serve("127.0.0.2") as server:
            yield server
    except OSError as exc:
        pytest.skip(f"cannot bind 127.0.0.2: {exc}")


def _url(server: _Server, path: str = "/img") -> str:
    host = server.server_address[0]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{server.server_port}{path}"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def _is_loopback(host: str) -> bool:
    ip = ipaddress.ip_address(host.partition("%")[0])
    return ip.is_loopback or (ip.version == 6 and ip.ipv4_mapped is not None and ip.ipv4_mapped.is_loopback)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch) -> None:
    """Every test here: a connection to anything but loopback fails the test (and sends nothing)."""
    real = socket.socket.connect

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise AssertionError(f"connection to a non-loopback address attempted: {address}")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def no_connect(monkeypatch) -> list:
    """Fail the test on any outgoing connection; returns the attempted addresses."""
    attempts: list = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture
def resolver(monkeypatch) -> dict:
    """Fake DNS for ``*.test`` names: ``answers[name]`` is a list of address lists, one per lookup
    (the last one repeats). Lookups are counted in ``answers["calls"]``."""
    answers: dict = {"calls": Counter()}
    real = socket.getaddrinfo

    def fake(host, port, family=0, type=0, proto=0, flags=0):
        if isinstance(host, str) and host.endswith(".test"):
            answers["calls"][host] += 1
            rounds = answers[host]
            ips = rounds[min(answers["calls"][host], len(rounds)) - 1]
            out = []
            for ip in ips:
                fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
                sockaddr = (ip, port, 0, 0) if fam == socket.AF_INET6 else (ip, port)
                out.append((fam, socket.SOCK_STREAM, 6, "", sockaddr))
            return out
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers


# ----------------------------------------------------------------------------- address classes


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("172.31.255.254", "private"),
    ("192.168.0.10", "private"), ("fc00::1", "private"), ("fd12:3456::1", "private"),
    ("169.254.169.254", "link-local (cloud metadata)"), ("fd00:ec2::254", "private (cloud metadata)"),
    ("169.254.0.5", "link-local"), ("fe80::1", "link-local"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("100.64.0.1", "carrier-grade NAT"), ("100.127.255.254", "carrier-grade NAT"),
    ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"), ("192.0.2.1", "reserved"),
    ("192.0.0.192", "reserved"), ("2001:db8::1", "reserved"), ("::7f00:1", "reserved"),
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"), ("::ffff:10.0.0.1", "IPv4-mapped private"),
    ("::ffff:169.254.169.254", "IPv4-mapped link-local (cloud metadata)"),
    ("64:ff9b::7f00:1", "NAT64 loopback"), ("2002:a00:1::", "6to4 private"),
    ("8.8.8.8", None), ("1.1.1.1", None), ("100.63.255.255", None), ("172.32.0.1", None),
    ("2606:4700:4700::1111", None), ("::ffff:8.8.8.8", None), ("64:ff9b::808:808", None),
])
def test_address_classes(address, kind) -> None:
    assert blocked_class(ipaddress.ip_address(address)) == kind


def test_blocked_address_is_a_permanent_read_reason() -> None:
    from jobs.features import TRANSIENT_REASONS as JOB_TRANSIENT

    assert "blocked_address" in uio.READ_REASONS
    assert "blocked_address" not in TRANSIENT_REASONS and "blocked_address" not in JOB_TRANSIENT


# ----------------------------------------------------------------------------- refused by default


def test_loopback_refused_by_default_before_connecting(one, no_connect, monkeypatch) -> None:
    slept: list = []
    monkeypatch.setattr(uio, "_sleep", slept.append)
    err = _reason(_url(one, "/img?k=default"), opts())
    assert err.reason == "blocked_address"
    assert err.message.startswith("127.0.0.1 loopback address") and "fetch.allow_networks" in err.message
    assert "attempt" not in err.message and slept == []  # not retried
    assert one.hits["/img?k=default"] == 0 and no_connect == []
    assert _reason(_url(one), FetchOptions()).reason == "blocked_address"  # the real defaults


@pytest.mark.parametrize("url, kind", [
    ("http://169.254.169.254/latest/meta-data/", "link-local (cloud metadata)"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "private (cloud metadata)"),
    ("http://[::ffff:169.254.169.254]/latest/", "IPv4-mapped link-local (cloud metadata)"),
    ("http://10.0.0.1/x.jpg", "private"), ("http://172.16.5.4:8080/x.jpg", "private"),
    ("https://192.168.1.1/x.jpg", "private"), ("http://[fc00::1]/x.jpg", "private"),
    ("http://[fe80::1]/x.jpg", "link-local"), ("http://100.64.1.1/x.jpg", "carrier-grade NAT"),
    ("http://0.0.0.0:80/x.jpg", "unspecified"), ("http://[::]/x.jpg", "unspecified"),
    ("http://224.0.0.1/x.jpg", "multicast"), ("http://[::ffff:10.1.1.1]/x.jpg", "IPv4-mapped private"),
])
def test_private_and_metadata_refused_without_any_connection(url, kind, no_connect) -> None:
    err = _reason(url, opts())
    assert err.reason == "blocked_address" and f" {kind} address" in err.message, err.message
    assert no_connect == []


@pytest.mark.parametrize("host", ["[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.2]",
                                  "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0"])
def test_ipv6_loopback_mapped_and_odd_ipv4_forms_refused(host, no_connect) -> None:
    """getaddrinfo turns decimal/hex/octal/short forms into 127.0.0.1 (0 into 0.0.0.0): checked after that."""
    err = _reason(f"http://{host}:8080/img", opts("10.0.0.0/8"))
    assert err.reason == "blocked_address", err.message
    assert "loopback" in err.message or "unspecified" in err.message
    assert no_connect == []


def test_hostnames_resolving_to_internal_addresses_are_refused(resolver, no_connect) -> None:
    resolver["internal.test"] = [["10.20.30.40"]]
    resolver["mixed.test"] = [["93.184.216.34", "192.168.0.7"]]  # one bad address is enough
    resolver["meta.test"] = [["169.254.169.254"]]
    for name, kind in [("internal.test", "private"), ("mixed.test", "private"),
                       ("meta.test", "link-local (cloud metadata)")]:
        err = _reason(f"http://{name}/x.jpg", opts())
        assert err.reason == "blocked_address", name
        assert err.message.startswith(f"{name!r} resolves to ") and f"{kind} address" in err.message
    assert no_connect == []


def test_localhost_refused_by_default(one, no_connect) -> None:
    err = _reason(f"http://localhost:{one.server_port}/img", opts())
    assert err.reason == "blocked_address" and "'localhost' resolves to" in err.message
    assert "loopback" in err.message and no_connect == []


def test_redirect_to_another_loopback_address_is_refused(one, two) -> None:
    """127.0.0.1 is allowed, 127.0.0.2 is not: the redirect hop is checked like the first URL."""
    key = "/img?k=redirect"
    start = _url(one, f"/go?to={_url(two, key)}")
    err = _reason(start, opts("127.0.0.1"))
    assert err.reason == "blocked_address" and err.message.startswith("127.0.0.2 loopback address")
    assert f"(redirected from {start})" in err.message
    assert two.hits[key] == 0 and one.hits[f"/go?to={_url(two, key)}"] == 1  # not retried
    assert read_bytes(start, MAX, opts("127.0.0.1", "127.0.0.2")) == BODY
    assert read_bytes(start, MAX, opts("127.0.0.0/8")) == BODY
    assert two.hits[key] == 2


def test_redirect_to_metadata_is_refused_before_connecting(one, monkeypatch) -> None:
    """The first hop connects to 127.0.0.1; the metadata hop must not connect at all."""
    connected: list = []
    real = uio._connect_to

    def record(addresses, *args):
        connected.append(addresses)
        return real(addresses, *args)

    monkeypatch.setattr(uio, "_connect_to", record)
    for target in ("http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/"):
        err = _reason(_url(one, f"/go?to={target}"), opts("127.0.0.1"))
        assert err.reason == "blocked_address" and "cloud metadata" in err.message
    assert all(addrs == [(socket.AF_INET, ("127.0.0.1", one.server_port))] for addrs in connected)
    assert len(connected) == 2


# ----------------------------------------------------------------------------- allowed


def test_allow_list_by_network_address_and_host_name(one, two) -> None:
    assert read_bytes(_url(one), MAX, opts("127.0.0.0/8")) == BODY
    assert read_bytes(_url(one), MAX, opts("127.0.0.1")) == BODY
    assert read_bytes(_url(one), MAX, opts("127.0.0.1/32", "10.0.0.0/8")) == BODY
    assert read_bytes(f"http://localhost:{one.server_port}/img", MAX, opts("localhost")) == BODY
    assert read_bytes(f"http://LOCALHOST:{one.server_port}/img", MAX, opts("localhost.")) == BODY
    assert _reason(_url(two), opts("127.0.0.1")).reason == "blocked_address"  # only what is listed
    assert _reason(_url(one), opts("10.0.0.0/8", "::1")).reason == "blocked_address"
    # an IPv4 entry covers the IPv4-mapped form of the same address; whether the connection then
    # reaches the IPv4 server depends on the host's dual-stack setting, so either outcome but blocked
    mapped = f"http://[::ffff:127.0.0.1]:{one.server_port}/img"
    assert _reason(mapped, opts()).reason == "blocked_address"
    try:
        assert read_bytes(mapped, MAX, opts("127.0.0.1", retries=0)) == BODY
    except ReadError as exc:
        assert exc.reason != "blocked_address", exc.message


def test_ipv6_loopback_allowed_only_when_listed() -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback: {exc}")
    with _serve("::1", socket.AF_INET6) as server:
        assert _reason(_url(server), opts("127.0.0.0/8")).reason == "blocked_address"
        assert read_bytes(_url(server), MAX, opts("::1")) == BODY
        assert read_bytes(_url(server), MAX, opts("::1/128", "10.0.0.0/8")) == BODY
        assert server.hits["/img"] == 2


def test_read_many_returns_blocked_errors_in_place(one) -> None:
    out = read_many([_url(one), "http://10.9.9.9/x.jpg", _url(one)], MAX, opts("127.0.0.1"), workers=1)
    assert out[0] == out[2] == BODY
    assert isinstance(out[1], ReadError) and out[1].reason == "blocked_address"


def test_environment_proxy_is_not_used(one, monkeypatch) -> None:
    """A proxy would resolve and connect past the check; the fetcher always connects itself."""
    monkeypatch.setenv("http_proxy", "http://127.0.0.3:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.3:9")
    assert read_bytes(_url(one), MAX, opts("127.0.0.1")) == BODY


# ----------------------------------------------------------------------------- rebinding and TLS


def test_dns_rebinding_cannot_swap_the_checked_address(one, two, resolver) -> None:
    """First answer allowed (127.0.0.1), every later one not (127.0.0.2): the name is
    resolved once per hop and the connection goes to the address that was checked."""
    resolver["rebind.test"] = [["127.0.0.1"], ["127.0.0.2"]]
    key = "/img?k=rebind"
    assert read_bytes(f"http://rebind.test:{one.server_port}{key}", MAX, opts("127.0.0.1")) == BODY
    assert resolver["calls"]["rebind.test"] == 1
    assert one.hits[key] == 1 and two.hits[key] == 0
    # the next fetch sees the new answer, and refuses it
    err = _reason(f"http://rebind.test:{one.server_port}{key}", opts("127.0.0.1"))
    assert err.reason == "blocked_address" and "resolves to 127.0.0.2" in err.message


def test_each_redirect_hop_is_resolved_and_checked(one, resolver) -> None:
    resolver["hop.test"] = [["10.0.0.5"]]
    err = _reason(_url(one, f"/go?to=http://hop.test:{one.server_port}/img"), opts("127.0.0.1"))
    assert err.reason == "blocked_address" and "'hop.test' resolves to 10.0.0.5" in err.message
    assert resolver["calls"]["hop.test"] == 1


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for DNS:pinned.test (openssl CLI; skipped without it)."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command")
    base = tmp_path_factory.mktemp("tls")
    cert, key = base / "cert.pem", base / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=pinned.test", "-addext", "subjectAltName=DNS:pinned.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_https_goes_to_the_checked_address_and_verifies_the_host_name(tls_files, resolver, monkeypatch) -> None:
    cert, key = tls_files
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    seen_sni: list = []
    server_ctx.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(uio, "_tls_context", lambda: client_ctx)
    resolver["pinned.test"] = [["127.0.0.1"], ["127.0.0.2"]]
    resolver["other.test"] = [["127.0.0.1"]]
    with _serve("127.0.0.1", tls=server_ctx) as server:
        port = server.server_port
        assert read_bytes(f"https://pinned.test:{port}/img", MAX, opts("127.0.0.1")) == BODY
        assert seen_sni == ["pinned.test"] and resolver["calls"]["pinned.test"] == 1
        # same address, a name the certificate does not hold: refused by verification, not retried
        for url in (f"https://other.test:{port}/img", f"https://127.0.0.1:{port}/img"):
            err = _reason(url, opts("127.0.0.1"))
            assert err.reason == "io_error" and "TLS certificate rejected" in err.message, url
            assert "attempt" not in err.message


# ----------------------------------------------------------------------------- configuration


def test_config_allow_networks_is_validated() -> None:
    cfg = load_config(overrides=["fetch.allow_networks=[127.0.0.1/32, 10.0.0.0/8, '::1', images.corp]"])
    assert cfg.fetch.options().allow_networks == ("127.0.0.1/32", "10.0.0.0/8", "::1", "images.corp")
    comma = load_config(overrides=["fetch.allow_networks=127.0.0.1,::1"])
    assert comma.fetch.allow_networks == ("127.0.0.1", "::1")
    assert load_config().fetch.options().allow_networks == ()
    for bad, words in [("10.0.0.300/8", "not a valid CIDR"), ("10.0.0.1/8", "host bits set"),
                       ("999.1.1.1", "not a valid CIDR"), ("fe80::1/200", "not a valid CIDR"),
                       ("*.example.com", "neither a CIDR"), ("two words", "neither a CIDR")]:
        with pytest.raises(ConfigError) as info:
            load_config(overrides=[f"fetch.allow_networks=[{json.dumps(bad)}]"])
        assert "allow_networks" in str(info.value) and bad in str(info.value) and words in str(info.value)


# ----------------------------------------------------------------------------- the job


@pytest.mark.spark
def test_job_over_a_table_gives_blocked_address_rows(spark, one, two, tmp_path) -> None:
    """Only loopback URLs: 127.0.0.1 allowed by the setting, everything else refused as data."""
    (tmp_path / "local.jpg").write_bytes(hostile.encode(hostile.pattern(3), "JPEG", quality=90))
    via = _url(one, f"/go?to={_url(two, '/img?k=job')}")
    rows = {
        "local": ("local.jpg", "keep", None),
        "allowed": (_url(one, "/img?k=job"), "keep", None),
        "loopback-2": (_url(two, "/img?k=job"), "error", "127.0.0.2 loopback address"),
        "redirect": (via, "error", f"(redirected from {via})"),
        "ipv6": (f"http://[::1]:{one.server_port}/img", "error", "::1 loopback address"),
        "mapped": (f"http://[::ffff:127.0.0.2]:{one.server_port}/img", "error", "IPv4-mapped loopback"),
        "decimal": (f"http://2130706434:{one.server_port}/img", "error", "resolves to 127.0.0.2"),
    }
    table = tmp_path / "urls.jsonl"
    table.write_text("".join(json.dumps({"id": k, "url": v[0]}) + "\n" for k, v in rows.items()))
    out = tmp_path / "out"
    assert main(["run", "--input", str(table), "--output", str(out), "--run-id", "ssrf",
                 "--set", "spark.shuffle_partitions=2", "--set", "fetch.allow_networks=[127.0.0.1]",
                 "--set", "fetch.retries=1", "--set", "fetch.backoff_s=0.01"]) == 0
    manifest, _, _, summary = read_run(out)
    got = manifest.set_index("item_id")
    assert sorted(got.index) == sorted(rows)
    for item_id, (_, action, words) in rows.items():
        assert got.at[item_id, "action"] == action, (item_id, got.at[item_id, "error"])
        if action == "error":
            assert got.at[item_id, "reason"] == "blocked_address"
            assert got.at[item_id, "error"].startswith("blocked_address: ") and words in got.at[item_id, "error"]
    assert summary["reasons"]["blocked_address"] == 5 and summary["counts"]["error"] == 5
    assert two.hits["/img?k=job"] == 0
