"""The http.client transport under httpx: keep-alive, stale connections, chunked and broken
bodies, timeouts, refused connections, and proxies from the environment (which keep httpx's
own transport)."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockcheck.errors import IndexUnavailable
from lockcheck.index.http import HttpSession
from lockcheck.index.settings import IndexSettings
from lockcheck.index.transport import StdlibTransport

Handler = Callable[[BaseHTTPRequestHandler], None]


class _Server:
    def __init__(self, handle: Handler) -> None:
        self.connections = 0
        self.requests: list[str] = []
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                server.connections += 1
                super().setup()

            def do_GET(self) -> None:
                server.requests.append(self.path)
                handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], _Server]]:
    servers: list[_Server] = []

    def start(handle: Handler) -> _Server:
        servers.append(_Server(handle))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _reply(body: bytes, **headers: str) -> Handler:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            request.send_header(name.replace("_", "-"), value)
        request.end_headers()
        request.wfile.write(body)

    return handle


def _client() -> httpx.Client:
    return httpx.Client(transport=StdlibTransport(ssl.create_default_context()), timeout=5)


def test_keep_alive_reuses_one_connection(serve: Callable[[Handler], _Server]) -> None:
    server = serve(_reply(b"hello", Content_Type="text/plain"))
    with _client() as client:
        for _ in range(5):
            response = client.get(server.url + "/page")
            assert (response.status_code, response.text) == (200, "hello")
            assert response.headers["content-type"] == "text/plain"
            assert response.http_version == "HTTP/1.1"
    assert server.connections == 1
    assert server.requests == ["/page"] * 5


def test_a_connection_closed_by_the_server_is_replaced(serve: Callable[[Handler], _Server]) -> None:
    def handle(request: BaseHTTPRequestHandler) -> None:
        _reply(b"ok")(request)
        request.close_connection = True  # the server drops it after answering

    server = serve(handle)
    with _client() as client:
        assert client.get(server.url + "/a").text == "ok"
        time.sleep(0.05)
        assert client.get(server.url + "/b").text == "ok"
    assert server.requests == ["/a", "/b"]


def test_chunked_body_and_streaming(serve: Callable[[Handler], _Server]) -> None:
    parts = [b"x" * 70_000, b"y" * 10, b"z" * 100_000]

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        for part in parts:
            request.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        request.wfile.write(b"0\r\n\r\n")

    server = serve(handle)
    with _client() as client:
        with client.stream("GET", server.url + "/big") as response:
            assert b"".join(response.iter_raw()) == b"".join(parts)
        assert client.get(server.url + "/again").content == b"".join(parts)
    assert server.connections == 1


def test_a_short_body_is_a_protocol_error(serve: Callable[[Handler], _Server]) -> None:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "1000")
        request.end_headers()
        request.wfile.write(b"only this")
        request.close_connection = True

    server = serve(handle)
    with _client() as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(server.url + "/short")


def test_read_timeout_and_refused_connection(serve: Callable[[Handler], _Server]) -> None:
    def slow(request: BaseHTTPRequestHandler) -> None:
        time.sleep(1.0)
        _reply(b"late")(request)

    server = serve(slow)
    client = httpx.Client(transport=StdlibTransport(ssl.create_default_context()), timeout=0.2)
    with client, pytest.raises(httpx.ReadTimeout):
        client.get(server.url + "/slow")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with _client() as client, pytest.raises(httpx.ConnectError):
        client.get(f"http://127.0.0.1:{port}/")


def test_session_retries_a_broken_body_then_succeeds(
    serve: Callable[[Handler], _Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lockcheck.index.http._BACKOFF_BASE", 0)
    calls = []

    def flaky(request: BaseHTTPRequestHandler) -> None:
        calls.append(1)
        if len(calls) == 1:
            request.send_response(200)
            request.send_header("Content-Length", "100")
            request.end_headers()
            request.wfile.write(b"cut")
            request.close_connection = True
        else:
            _reply(b"whole")(request)

    server = serve(flaky)
    session = HttpSession(IndexSettings(index_url=server.url, cache_dir=tmp_path), environ={})
    try:
        assert session.get(server.url + "/x").content == b"whole"
    finally:
        session.close()
    assert len(calls) == 2


def test_unreachable_host_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lockcheck.index.http._BACKOFF_BASE", 0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://user:secret@127.0.0.1:{port}/simple/"
    settings = IndexSettings(index_url=url, cache_dir=tmp_path, retries=1)
    session = HttpSession(settings, environ={})
    try:
        with pytest.raises(IndexUnavailable) as caught:
            session.get(url + "six/")
    finally:
        session.close()
    assert "secret" not in str(caught.value)
    assert "after 1 retries" in str(caught.value)


def test_proxy_from_the_environment_is_used(
    serve: Callable[[Handler], _Server], tmp_path: Path
) -> None:
    """HTTP_PROXY still works: httpx mounts its own proxy transport for it."""
    origin = serve(_reply(b"from origin"))
    proxied: list[str] = []

    def forward(request: BaseHTTPRequestHandler) -> None:
        proxied.append(request.path)  # absolute-form target: the proxy protocol
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(request.path) as upstream:  # not through the proxy variables
            body = upstream.read()
        _reply(body)(request)

    proxy = serve(forward)
    environ = {"HTTP_PROXY": proxy.url, "NO_PROXY": ""}
    settings = IndexSettings(index_url=origin.url, cache_dir=tmp_path)
    # httpx reads proxies from os.environ when the client is built (on the first request);
    # HttpSession passes trust_env=True.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HTTP_PROXY", proxy.url)
        patch.delenv("NO_PROXY", raising=False)
        patch.delenv("no_proxy", raising=False)
        session = HttpSession(settings, environ=environ)
        try:
            assert session.get(origin.url + "/via").content == b"from origin"
        finally:
            session.close()
    assert proxied == [origin.url + "/via"]


def test_an_idle_connection_the_server_answered_on_is_not_reused(
    serve: Callable[[Handler], _Server],
) -> None:
    """A server may write `408 Request Timeout` on an idle keep-alive connection and close
    it; that answer must not be read as the next request's."""
    served = []

    def handle(request: BaseHTTPRequestHandler) -> None:
        served.append(request.path)
        _reply(b"ok")(request)
        request.wfile.write(
            b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        request.wfile.flush()
        request.close_connection = True

    server = serve(handle)
    with _client() as client:
        assert client.get(server.url + "/a").status_code == 200
        time.sleep(0.05)
        second = client.get(server.url + "/b")
    assert (second.status_code, second.text) == (200, "ok")
    assert served == ["/a", "/b"] and server.connections == 2


def test_tls_contexts_keep_the_standard_library_defaults(tmp_path: Path) -> None:
    """A named bundle gets what ssl.create_default_context gives on this Python (3.13 adds
    strict X.509 and partial chains), and a broken system store is a ConfigError."""
    from lockcheck.errors import ConfigError
    from lockcheck.index import tls
    from lockcheck.index.tlsearly import PendingContext

    bundle = Path(ssl.get_default_verify_paths().openssl_cafile)
    if not bundle.is_file():
        bundle = Path(ssl.get_default_verify_paths().cafile or "")
    if not bundle.is_file():
        pytest.skip("no CA file on this machine")
    settings = IndexSettings(cert=str(bundle), cache_dir=tmp_path)
    ctx = tls.build_context(settings, {})
    reference = ssl.create_default_context(cafile=str(bundle))
    assert ctx.verify_flags == reference.verify_flags
    assert (ctx.verify_mode, ctx.check_hostname) == (ssl.CERT_REQUIRED, True)

    def broken(*args: object, **kwargs: object) -> ssl.SSLContext:
        raise ssl.SSLError("no certificate or crl found")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tls.ssl, "create_default_context", broken)
        patch.setattr(tls.sys, "platform", "linux")
        pending = PendingContext(lambda: tls.build_context(IndexSettings(), {}))
        with pytest.raises(ConfigError, match="cannot load the system CA certificates"):
            pending.get()


# -- header blocks: read without the email parser when plain, exactly as it reads them --

_HEADER_LINES = [
    b"Content-Type: application/vnd.pypi.simple.v1+json\r\n",
    b"content-length: 17\r\n",
    b'ETag:   "abc"  \r\n',
    b"X-Empty:\r\n",
    b"X-Blank: \t \r\n",
    b"Set-Cookie: a=1\r\n",
    b"Set-Cookie: b=2\n",
    b"X-Folded: first\r\n",
    b"  continued\r\n",
    b"\tand tabbed\r\n",
    b"X-Latin: caf\xe9\r\n",
    b"X-Form-Feed: a\x0cb\r\n",
    b"X-Bare-CR: a\rb\r\n",
    b": no name\r\n",
    b"no colon at all\r\n",
    b"From somebody\r\n",
    b"Bad Name: v\r\n",
    b"X-Colon:: twice: here\r\n",
    b"X-Trailing-CR: v\r\r\n",
    b"X-NUL: a\x00b\r\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_HEADER_LINES), max_size=8), st.sampled_from([b"\r\n", b"\n", b""]))
def test_header_blocks_read_as_the_email_parser_reads_them(lines: list[bytes], end: bytes) -> None:
    import http.client
    import io

    from lockcheck.index.transport import parse_headers

    block = b"".join(lines) + end
    ours = parse_headers(io.BytesIO(block + b"body"))
    theirs = http.client.parse_headers(io.BytesIO(block + b"body"))
    assert type(ours) is type(theirs)
    assert ours.items() == theirs.items()
    for name in {*ours.keys(), "content-length", "transfer-encoding", "connection"}:
        assert ours.get(name) == theirs.get(name)
        assert ours.get_all(name) == theirs.get_all(name)


def test_responses_keep_the_running_pythons_own_framing_code() -> None:
    """Only the header parse is swapped: status line, chunking and keep-alive rules stay the
    standard library's, whatever Python runs."""
    import http.client

    from lockcheck.index import transport

    assert transport._Response.begin.__code__ is http.client.HTTPResponse.begin.__code__
    assert transport._Response.begin.__globals__["parse_headers"] is transport.parse_headers


def test_folded_and_plain_headers_on_the_wire(serve: Callable[[Handler], _Server]) -> None:
    def handle(request: BaseHTTPRequestHandler) -> None:
        folded = b"X-Folded: first\r\n second\r\n" if request.path == "/b" else b""
        request.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Plain: one\r\n"
            + folded
            + b'ETag: "v1"\r\n\r\nok'
        )

    server = serve(handle)
    with _client() as client:
        plain = client.get(server.url + "/a")
        folded = client.get(server.url + "/b")
    assert plain.text == folded.text == "ok"
    assert plain.headers["x-plain"] == "one" and plain.headers["etag"] == '"v1"'
    assert folded.headers["x-folded"] == "first\r\n second"
    assert server.connections == 1  # the framing (Content-Length) was read right: kept alive
