"""The HTTP layer through httpx.MockTransport: negotiation, redirects, auth, retries, errors."""

from __future__ import annotations

import base64
import json
import ssl
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from lockcheck.errors import IndexUnavailable
from lockcheck.index import http as index_http
from lockcheck.index.finder import PackageFinder
from lockcheck.index.settings import IndexSettings
from lockcheck.index.sources import ACCEPT

Handler = Callable[[httpx.Request], httpx.Response]
JSON = "application/vnd.pypi.simple.v1+json"


class Recorder:
    """A MockTransport handler that logs requests and answers from a route table."""

    def __init__(self, routes: dict[str, Handler | httpx.Response | list]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(str(request.url))
        if route is None:
            return httpx.Response(404)
        if isinstance(route, list):  # successive answers, last one repeats
            route = route.pop(0) if len(route) > 1 else route[0]
        if isinstance(route, BaseException):
            raise route
        if isinstance(route, httpx.Response):
            return route
        return route(request)

    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]


def _page(files: list[dict], status: int = 200) -> httpx.Response:
    body = json.dumps({"meta": {"api-version": "1.0"}, "files": files})
    return httpx.Response(status, content=body, headers={"Content-Type": JSON})


def _finder(tmp_path: Path, recorder: Recorder, **settings: object) -> PackageFinder:
    options = {"index_url": "https://index.example/simple", "cache_dir": tmp_path / "cache"}
    options.update(settings)
    return PackageFinder(
        IndexSettings(**options),  # type: ignore[arg-type]
        transport=httpx.MockTransport(recorder),
        environ={"NETRC": str(tmp_path / "no-netrc")},
    )


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff delays requested by the retry loop (nothing actually sleeps)."""
    delays: list[float] = []
    monkeypatch.setattr(index_http.time, "sleep", delays.append)
    return delays


def test_accept_header_redirect_and_relative_urls(tmp_path: Path) -> None:
    recorder = Recorder(
        {
            "https://index.example/simple/foo/": httpx.Response(
                301, headers={"Location": "https://mirror.example/pypi/simple/foo/"}
            ),
            "https://mirror.example/pypi/simple/foo/": _page(
                [{"filename": "foo-1.0.tar.gz", "url": "../../files/foo-1.0.tar.gz", "hashes": {}}]
            ),
        }
    )
    with _finder(tmp_path, recorder) as finder:
        files = finder.project_files("Foo")
    assert [f.url for f in files] == ["https://mirror.example/pypi/files/foo-1.0.tar.gz"]
    assert files[0].index == "https://index.example/simple"
    assert recorder.requests[0].headers["Accept"] == ACCEPT
    assert recorder.urls()[0] == "https://index.example/simple/foo/"  # canonical name


def test_html_answer_is_parsed_too(tmp_path: Path) -> None:
    html = '<a href="/f/foo-2.0.tar.gz#sha256=' + "1" * 64 + '">foo-2.0.tar.gz</a>'
    recorder = Recorder(
        {
            "https://index.example/simple/foo/": httpx.Response(
                200, text=html, headers={"Content-Type": "text/html"}
            )
        }
    )
    with _finder(tmp_path, recorder) as finder:
        (file,) = finder.project_files("foo")
    assert file.url == "https://index.example/f/foo-2.0.tar.gz"
    assert file.hashes == {"sha256": "1" * 64}


def test_not_found_means_not_on_this_index(tmp_path: Path) -> None:
    recorder = Recorder({})
    with _finder(tmp_path, recorder) as finder:
        assert finder.project_files("nothing") == []
    assert len(recorder.requests) == 1


def test_5xx_is_retried_with_backoff_then_succeeds(tmp_path: Path, sleeps: list[float]) -> None:
    recorder = Recorder(
        {
            "https://index.example/simple/foo/": [
                httpx.Response(503),
                httpx.Response(502),
                _page([{"filename": "foo-1.0.tar.gz", "url": "foo-1.0.tar.gz", "hashes": {}}]),
            ]
        }
    )
    with _finder(tmp_path, recorder) as finder:
        assert len(finder.project_files("foo")) == 1
    assert len(recorder.requests) == 3
    assert sleeps == [0.25, 0.5]


def test_backoff_is_capped(tmp_path: Path, sleeps: list[float]) -> None:
    recorder = Recorder({"https://index.example/simple/foo/": [httpx.Response(500)]})
    with (
        _finder(tmp_path, recorder, retries=7) as finder,
        pytest.raises(IndexUnavailable, match=r"HTTP 500 .* \(after 7 retries\)"),
    ):
        finder.project_files("foo")
    assert len(recorder.requests) == 8
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_unreachable_index_error_is_clear_and_redacted(tmp_path: Path, sleeps: list[float]) -> None:
    recorder = Recorder(
        {
            "https://index.example/simple/foo/": [
                httpx.ConnectError("[Errno 111] Connection refused")
            ]
        }
    )
    finder = _finder(tmp_path, recorder, index_url="https://bob:hunter2@index.example/simple")
    with finder, pytest.raises(IndexUnavailable) as info:
        finder.project_files("foo")
    message = str(info.value)
    assert message.startswith("cannot reach https://****@index.example/simple: connection refused")
    assert "hunter2" not in message and "bob" not in message
    assert "hunter2" not in (info.value.url or "")
    assert len(recorder.requests) == 6  # first try + 5 retries
    # The credentials went to the server, never into the URL line or the error.
    auth = recorder.requests[0].headers["Authorization"]
    assert base64.b64decode(auth.split()[1]) == b"bob:hunter2"
    assert "hunter2" not in str(recorder.requests[0].url)


def test_failures_are_memoised_for_the_run(tmp_path: Path, sleeps: list[float]) -> None:
    recorder = Recorder({"https://index.example/simple/foo/": [httpx.ReadTimeout("slow")]})
    with _finder(tmp_path, recorder, retries=1) as finder:
        for _ in range(2):
            with pytest.raises(IndexUnavailable, match="timed out"):
                finder.project_files("foo")
    assert len(recorder.requests) == 2


def test_auth_errors_are_not_retried(tmp_path: Path, sleeps: list[float]) -> None:
    recorder = Recorder({"https://index.example/simple/foo/": httpx.Response(401)})
    finder = _finder(tmp_path, recorder, index_url="https://u:wrong@index.example/simple")
    with finder, pytest.raises(IndexUnavailable) as info:
        finder.project_files("foo")
    assert "HTTP 401" in str(info.value) and "wrong" not in str(info.value)
    assert "https://****@index.example/simple" in str(info.value)
    assert info.value.hint and "credentials" in info.value.hint
    assert len(recorder.requests) == 1 and sleeps == []

    forbidden = Recorder({"https://index.example/simple/foo/": httpx.Response(403)})
    with (
        _finder(tmp_path, forbidden) as finder,
        pytest.raises(IndexUnavailable, match="HTTP 403"),
    ):
        finder.project_files("foo")


def test_tls_failures_are_not_retried_and_explain_the_fix(
    tmp_path: Path, sleeps: list[float]
) -> None:
    error = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    error.__cause__ = ssl.SSLCertVerificationError("self-signed certificate in chain")
    recorder = Recorder({"https://index.example/simple/foo/": [error]})
    with _finder(tmp_path, recorder) as finder, pytest.raises(IndexUnavailable) as info:
        finder.project_files("foo")
    assert "TLS verification failed" in str(info.value)
    assert info.value.hint and "--cert" in info.value.hint
    assert len(recorder.requests) == 1


def test_url_credentials_apply_to_files_on_the_same_host_only(tmp_path: Path) -> None:
    wheel_url = "https://index.example/files/foo-1.0-py3-none-any.whl"
    meta = b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nRequires-Dist: bar\n\n"
    recorder = Recorder(
        {
            "https://index.example/simple/foo/": _page(
                [
                    {
                        "filename": "foo-1.0-py3-none-any.whl",
                        "url": wheel_url,
                        "hashes": {},
                        "core-metadata": True,
                    },
                    {
                        "filename": "foo-1.0.tar.gz",
                        "url": "https://cdn.example/foo-1.0.tar.gz",
                        "hashes": {},
                    },
                ]
            ),
            wheel_url + ".metadata": httpx.Response(200, content=meta),
            "https://cdn.example/foo-1.0.tar.gz": httpx.Response(200, content=b"sdist"),
        }
    )
    finder = _finder(tmp_path, recorder, index_url="https://me:pw@index.example/simple")
    with finder:
        wheel, sdist = finder.project_files("foo")
        assert "pw" not in wheel.url
        assert [str(r) for r in finder.metadata(wheel).requires_dist] == ["bar"]
        finder.download(sdist, tmp_path / "out")
    by_url = {str(r.url): r for r in recorder.requests}
    expected = "Basic " + base64.b64encode(b"me:pw").decode()
    assert by_url["https://index.example/simple/foo/"].headers["Authorization"] == expected
    assert by_url[wheel_url + ".metadata"].headers["Authorization"] == expected
    assert "Authorization" not in by_url["https://cdn.example/foo-1.0.tar.gz"].headers


def test_netrc_credentials(tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine index.example login alice password s3cret\n", encoding="utf-8")
    recorder = Recorder({})
    finder = PackageFinder(
        IndexSettings(index_url="https://index.example/simple", cache_dir=tmp_path / "c"),
        transport=httpx.MockTransport(recorder),
        environ={"NETRC": str(netrc)},
    )
    with finder:
        finder.project_files("foo")
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert recorder.requests[0].headers["Authorization"] == expected


def test_insecure_http_index_needs_trusted_host(tmp_path: Path) -> None:
    recorder = Recorder({})
    finder = _finder(tmp_path, recorder, index_url="http://plain.example/simple")
    with finder, pytest.raises(IndexUnavailable, match="insecure") as info:
        finder.project_files("foo")
    assert info.value.hint and "--trusted-host plain.example" in info.value.hint
    assert recorder.requests == []

    trusted = _finder(
        tmp_path,
        recorder,
        index_url="http://plain.example/simple",
        trusted_hosts=("plain.example",),
    )
    with trusted:
        assert trusted.project_files("foo") == []
    assert recorder.urls() == ["http://plain.example/simple/foo/"]


def test_offline_never_touches_the_network(tmp_path: Path) -> None:
    recorder = Recorder({})
    with (
        _finder(tmp_path, recorder, offline=True) as finder,
        pytest.raises(IndexUnavailable, match="offline") as info,
    ):
        finder.project_files("foo")
    assert recorder.requests == []
    assert info.value.hint and "without --offline" in info.value.hint


def test_a_compile_that_needs_no_request_does_not_import_httpx(
    tmp_path: Path, universe_index
) -> None:  # type: ignore[no-untyped-def]
    # The commit-hook workload with a warm cache reads pages and metadata from disk: building
    # an HTTP client (httpx's import is a sixth of such a run's CPU) waits for a request.
    import shutil
    import subprocess
    import sys

    from tests.helpers import describe, run_lockcheck, subprocess_env

    (tmp_path / "requirements.in").write_text("idna\n")
    args = ("compile", "-i", universe_index.url, "--cache-dir", tmp_path / "cache")
    stamps = {"LOCKCHECK_CACHE_DIR": str(tmp_path / "stamps")}
    first = run_lockcheck(*args, cwd=tmp_path, env=stamps)
    assert first.returncode == 0, describe(first)
    shutil.rmtree(tmp_path / "stamps")  # no stamp: a real resolution
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('lockcheck.resolve.resolver' in sys.modules,\n"
        "                              'httpx' in sys.modules, file=sys.stderr))\n"
        "from lockcheck._entry import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = subprocess_env(stamps)
    again = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stderr.strip().splitlines()[-1] == "True False", again.stderr
    assert "idna==" in (tmp_path / "requirements.txt").read_text()


def test_big_buffers_are_returned_to_the_system_on_glibc() -> None:
    """The malloc setting that keeps big page buffers off the heap (issue 17): set once on
    glibc, and a no-op answering False elsewhere."""
    import platform

    from lockcheck.index.heap import release_big_buffers

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert release_big_buffers() is glibc
    assert release_big_buffers() is glibc  # once per process; asking again is harmless


# -- the direct path (sending.py): what httpx's Client.send did, without its per-request cost --


def _session(tmp_path: Path, recorder: Recorder, **settings: object) -> index_http.HttpSession:
    options = {"index_url": "https://index.example/simple", "cache_dir": tmp_path / "cache"}
    options.update(settings)
    return index_http.HttpSession(
        IndexSettings(**options),  # type: ignore[arg-type]
        transport=httpx.MockTransport(recorder),
        environ={"NETRC": str(tmp_path / "no-netrc")},
    )


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("headers", "auth", "cookie"),
    [
        (None, None, False),
        ({"Accept": ACCEPT, "If-None-Match": '"v1"'}, None, False),
        ({"Range": "bytes=-65536", "Accept-Encoding": "identity"}, ("u", "p"), False),
        ({"user-agent": "other", "X-Extra": "1"}, ("u", "p"), True),
    ],
)
def test_a_direct_request_is_the_one_the_client_would_send(
    headers: dict[str, str] | None, auth: tuple[str, str] | None, cookie: bool
) -> None:
    """Same URL, headers (names, values, order), cookies and extensions as ``Client.send``."""
    from lockcheck.index.sending import DirectSender

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    client = httpx.Client(
        transport=httpx.MockTransport(answer),
        timeout=httpx.Timeout(7.0),
        follow_redirects=True,
        headers={"User-Agent": "lockcheck/test"},
    )
    if cookie:
        client.cookies.set("session", "abc", domain="index.example")
    url = "https://index.example/simple/f%C3%BCo/?x=1"
    basic = httpx.BasicAuth(*auth) if auth else None
    extensions = {"lockcheck.whole_body": True}
    with client:
        by_client = client.send(
            client.build_request("GET", url, headers=headers, extensions=extensions), auth=basic
        )
        direct = DirectSender(client).get(url, headers=headers, auth=basic, extensions=extensions)
    via_client, via_direct = seen
    assert str(via_direct.url) == str(via_client.url)
    assert via_direct.headers.raw == via_client.headers.raw
    assert ("Cookie" in via_direct.headers) is cookie
    assert via_direct.extensions == via_client.extensions
    assert direct.content == by_client.content == b"ok"
    assert str(direct.url) == str(by_client.url)


def test_a_redirect_to_another_host_drops_the_credentials(tmp_path: Path) -> None:
    recorder = Recorder(
        {
            "https://index.example/simple/foo/": httpx.Response(
                302, headers={"Location": "/moved/foo/"}
            ),
            "https://index.example/moved/foo/": httpx.Response(
                301, headers={"Location": "https://cdn.example/foo/"}
            ),
            "https://cdn.example/foo/": httpx.Response(200, content=b"page"),
        }
    )
    session = _session(tmp_path, recorder, index_url="https://me:pw@index.example/simple")
    try:
        response = session.get("https://index.example/simple/foo/")
    finally:
        session.close()
    assert response.content == b"page"
    assert str(response.url) == "https://cdn.example/foo/"
    assert [r.status_code for r in response.history] == [302, 301]
    first, same_host, other_host = recorder.requests
    assert first.headers["Authorization"] == _basic("me", "pw")
    assert same_host.headers["Authorization"] == _basic("me", "pw")
    assert "Authorization" not in other_host.headers
    assert other_host.headers["Host"] == "cdn.example"


def test_an_upgrade_to_https_on_the_same_host_keeps_the_credentials(tmp_path: Path) -> None:
    recorder = Recorder(
        {
            "http://index.example/simple/foo/": httpx.Response(
                301, headers={"Location": "https://index.example/simple/foo/"}
            ),
            "https://index.example/simple/foo/": httpx.Response(200, content=b"page"),
        }
    )
    session = _session(
        tmp_path,
        recorder,
        index_url="http://me:pw@index.example/simple",
        trusted_hosts=("index.example",),
    )
    try:
        assert session.get("http://index.example/simple/foo/").content == b"page"
    finally:
        session.close()
    assert [r.headers["Authorization"] for r in recorder.requests] == [_basic("me", "pw")] * 2


def test_a_redirect_loop_ends_in_one_clear_error(tmp_path: Path, sleeps: list[float]) -> None:
    loop = httpx.Response(302, headers={"Location": "https://index.example/simple/foo/"})
    recorder = Recorder({"https://index.example/simple/foo/": loop})
    session = _session(tmp_path, recorder, index_url="https://me:pw@index.example/simple")
    try:
        with pytest.raises(IndexUnavailable) as info:
            session.get("https://me:pw@index.example/simple/foo/")
    finally:
        session.close()
    assert str(info.value) == (
        "cannot reach https://****@index.example/simple/foo/: exceeded maximum allowed redirects."
    )
    assert len(recorder.requests) == 21 and sleeps == []  # httpx's limit: 20 redirects


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_body_is_decoded(tmp_path: Path, encoding: str) -> None:
    import zlib

    body = b'{"meta": {"api-version": "1.0"}, "files": []}' * 100
    packer = zlib.compressobj(wbits=31 if encoding == "gzip" else 15)
    packed = packer.compress(body) + packer.flush()
    url = "https://index.example/simple/foo/"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=packed, headers={"Content-Encoding": encoding})

    recorder = Recorder({url: answer})
    session = _session(tmp_path, recorder)
    try:
        assert session.get(url).content == body
        assert session.stream(url, lambda response: response.read()) == body
    finally:
        session.close()
    assert "gzip" in recorder.requests[0].headers["Accept-Encoding"]


def test_cookies_the_index_sets_are_sent_back(tmp_path: Path) -> None:
    """httpx's client kept a cookie jar: a load balancer's session cookie still comes back."""
    url = "https://index.example/simple/foo/"
    recorder = Recorder(
        {
            url: [
                httpx.Response(200, content=b"1", headers={"Set-Cookie": "lb=node7; Path=/"}),
                httpx.Response(200, content=b"2"),
            ]
        }
    )
    session = _session(tmp_path, recorder)
    try:
        session.get(url)
        session.stream(url, lambda response: response.read())
    finally:
        session.close()
    assert "Cookie" not in recorder.requests[0].headers
    assert recorder.requests[1].headers["Cookie"] == "lb=node7"


def test_each_request_is_logged_as_httpx_logs_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = "https://index.example/simple/foo/"
    session = _session(tmp_path, Recorder({url: httpx.Response(200)}))
    try:
        with caplog.at_level("INFO", logger="httpx"):
            session.get(url)
    finally:
        session.close()
    assert [r.getMessage() for r in caplog.records if r.name == "httpx"] == [
        f'HTTP Request: GET {url} "HTTP/1.1 200 OK"'
    ]


def test_a_response_is_freed_as_soon_as_it_is_dropped(tmp_path: Path) -> None:
    """httpx's client tied each response into a reference cycle (its body stream pointed back
    at it), so pages of several MB waited for the cycle collector: the peak memory of a cold
    compile paid for it."""
    import gc
    import weakref

    url = "https://index.example/simple/foo/"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 100_000)

    session = _session(tmp_path, Recorder({url: answer}))
    collecting = gc.isenabled()
    gc.disable()
    try:
        fetched = weakref.ref(session.get(url))
        streamed = session.stream(url, weakref.ref)
        assert fetched() is None and streamed() is None
    finally:
        if collecting:
            gc.enable()
        session.close()
