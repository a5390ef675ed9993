"""Remote requirement files: ``-r https://…`` and ``-c https://…`` inside an input, read as
pip reads them (fetched, relative includes joined to the URL), with clean errors, no stamp
answers, and ``check --offline`` answered from the last online copy."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import call_lockcheck, describe
from tests.test_differential import STRIP, compare

pytestmark = pytest.mark.slow


class FileServer:
    """A tiny HTTP server on loopback serving ``files`` (path → (body, content type))."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: list[str] = []
        self.auth: str | None = None  # "user:password" to demand basic auth
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if server.auth is not None:
                    expected = "Basic " + base64.b64encode(server.auth.encode()).decode()
                    if self.headers.get("Authorization") != expected:
                        self.send_response(401)
                        self.send_header("WWW-Authenticate", 'Basic realm="files"')
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                entry = server.files.get(self.path)
                if entry is None:
                    self.send_error(404)
                    return
                body, content_type = entry
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def put(self, path: str, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        self.files[path] = (text.encode("utf-8"), content_type)

    def secret_url(self, path: str, content: str) -> str:
        """Serve *content* at *path* behind basic auth; the URL that carries the secret."""
        self.auth = "alice:s3cret"
        self.put(path, content)
        return self.url.replace("http://", f"http://{self.auth}@") + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    server = FileServer()
    yield server
    server.close()


def test_remote_constraint_same_lock_as_pip_compile(tmp_path, universe_index, file_server):
    file_server.put("/lint/common_constraints.txt", "urllib3<2\n")
    url = f"{file_server.url}/lint/common_constraints.txt"
    files = {"requirements.in": f"-c {url}\nrequests\n"}
    text = compare(tmp_path, universe_index.url, files, STRIP)
    assert "urllib3==1.26.18" in text
    assert f"    #   -c {url}\n" in text


def test_relative_include_in_remote_file_joins_its_url(tmp_path, universe_index, file_server):
    file_server.put("/a/base.txt", "-r sub/more.txt\n-c ../constraints.txt\n")
    file_server.put("/a/sub/more.txt", "requests\n")
    file_server.put("/constraints.txt", "urllib3<2\n")
    files = {"requirements.in": f"-r {file_server.url}/a/base.txt\n"}
    text = compare(tmp_path, universe_index.url, files, STRIP)
    assert f"# via -r {file_server.url}/a/sub/more.txt" in text
    assert f"    #   -c {file_server.url}/constraints.txt\n" in text


def _compile(folder: Path, index_url: str, *args: str, env=None):
    return call_lockcheck("compile", "--index-url", index_url, *STRIP, *args, cwd=folder, env=env)


def test_missing_remote_file_is_one_clear_error(tmp_path, universe_index, file_server):
    url = file_server.url.replace("http://", "http://alice:s3cret@") + "/missing.txt"
    (tmp_path / "requirements.in").write_text(f"requests\n-c {url}\n")
    result = _compile(tmp_path, universe_index.url)
    assert result.returncode == 2, describe(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, describe(result)
    assert lines[0].startswith("lockcheck: error: requirements.in:2: "), describe(result)
    assert "http://****@127.0.0.1" in lines[0] and "/missing.txt" in lines[0]
    assert "404" in lines[0]
    assert "s3cret" not in result.stderr + result.stdout
    assert not (tmp_path / "requirements.txt").exists()


def test_unreachable_remote_file_is_one_clear_error(tmp_path, universe_index):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "requirements.in").write_text(f"-r http://127.0.0.1:{port}/base.txt\n")
    result = _compile(tmp_path, universe_index.url, env={"PIP_RETRIES": "0"})
    assert result.returncode == 2, describe(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, describe(result)
    assert lines[0].startswith("lockcheck: error: requirements.in:1: "), describe(result)
    assert f"http://127.0.0.1:{port}/base.txt" in lines[0]
    assert not (tmp_path / "requirements.txt").exists()


def test_remote_recursion_is_detected_by_url(tmp_path, universe_index, file_server):
    file_server.put("/a.txt", "-r b.txt\n")
    file_server.put("/b.txt", f"-r {file_server.url}/a.txt\n")
    (tmp_path / "requirements.in").write_text(f"-r {file_server.url}/a.txt\n")
    result = _compile(tmp_path, universe_index.url)
    assert result.returncode == 2, describe(result)
    assert "recursively references itself" in result.stderr, describe(result)
    assert "Traceback" not in result.stderr


def test_remote_change_is_never_answered_from_the_stamp(tmp_path, universe_index, file_server):
    file_server.put("/c.txt", "urllib3<2\n")
    (tmp_path / "requirements.in").write_text(f"-c {file_server.url}/c.txt\nrequests\n")
    first = _compile(tmp_path, universe_index.url)
    assert first.returncode == 0, describe(first)
    assert "urllib3==1.26.18" in (tmp_path / "requirements.txt").read_text()
    clean = call_lockcheck("check", cwd=tmp_path)
    assert clean.returncode == 0, describe(clean)

    file_server.put("/c.txt", "urllib3>=2\n")
    check = call_lockcheck("check", cwd=tmp_path)
    assert check.returncode == 1, describe(check)
    second = _compile(tmp_path, universe_index.url)
    assert second.returncode == 0, describe(second)
    assert "urllib3==1.26.18" not in (tmp_path / "requirements.txt").read_text()


def test_check_offline_uses_the_last_fetched_copy(tmp_path, universe_index, file_server):
    file_server.put("/c.txt", "urllib3<2\n")
    (tmp_path / "requirements.in").write_text(f"-c {file_server.url}/c.txt\nrequests\n")
    assert _compile(tmp_path, universe_index.url).returncode == 0
    file_server.close()  # no network from here on
    offline = call_lockcheck("check", "--offline", cwd=tmp_path)
    assert offline.returncode == 0, describe(offline)
    # A hand edit that breaks the cached constraint is drift, offline too.
    lock = tmp_path / "requirements.txt"
    lock.write_text(lock.read_text().replace("urllib3==1.26.18", "urllib3==2.0.7"))
    drift = call_lockcheck("check", "--offline", cwd=tmp_path)
    assert drift.returncode == 1, describe(drift)


@pytest.mark.parametrize(
    ("served", "lines"),
    [
        pytest.param("/c.txt", "-c {url}/c.txt\nrequests\n", id="constraints"),
        # pins only the unread file asks for (requests and its tree) are not called orphans
        pytest.param("/base.txt", "-r {url}/base.txt\nclick\n", id="requirements"),
    ],
)
def test_check_offline_without_a_cached_copy_says_so(
    tmp_path, universe_index, file_server, monkeypatch, served, lines
):
    file_server.put(served, "requests\n" if served == "/base.txt" else "urllib3<2\n")
    (tmp_path / "requirements.in").write_text(lines.format(url=file_server.url))
    assert _compile(tmp_path, universe_index.url).returncode == 0
    monkeypatch.setenv("LOCKCHECK_CACHE_DIR", str(tmp_path / "empty-cache"))
    offline = call_lockcheck("check", "--offline", cwd=tmp_path)
    assert offline.returncode == 0, describe(offline)
    note = f"{file_server.url}{served} was not checked (no copy from an online run)"
    assert note in offline.stdout + offline.stderr, describe(offline)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param("# caf\u00e9\nurllib3<2\n".encode("latin-1"), "text/plain", id="latin-1"),
        pytest.param(
            "# \u2603\nurllib3<2\n".encode("utf-16"),
            "text/plain; charset=utf-16",
            id="utf-16-charset",
        ),
        pytest.param(
            "# \u2603\nurllib3<2\n".encode(), "application/octet-stream", id="no-text-type"
        ),
    ],
)
def test_remote_file_decoded_as_pip_does(tmp_path, universe_index, file_server, body, content_type):
    file_server.files["/c.txt"] = (body, content_type)
    files = {"requirements.in": f"-c {file_server.url}/c.txt\nrequests\n"}
    text = compare(tmp_path, universe_index.url, files, STRIP)
    assert "urllib3==1.26.18" in text


def test_remote_file_behind_basic_auth(tmp_path, universe_index, file_server):
    url = file_server.secret_url("/c.txt", "urllib3<2\n")
    (tmp_path / "requirements.in").write_text(f"-c {url}\nrequests\n")
    result = _compile(tmp_path, universe_index.url)
    assert result.returncode == 0, describe(result)
    lock = (tmp_path / "requirements.txt").read_text()
    assert "urllib3==1.26.18" in lock
    assert "s3cret" not in lock + result.stdout + result.stderr


def test_compile_offline_reads_the_cached_copy_and_never_drops_a_file(
    tmp_path, universe_index, file_server, monkeypatch
):
    file_server.put("/c.txt", "urllib3<2\n")
    (tmp_path / "requirements.in").write_text(f"-c {file_server.url}/c.txt\nrequests\n")
    assert _compile(tmp_path, universe_index.url).returncode == 0
    lock = (tmp_path / "requirements.txt").read_text()
    file_server.close()
    (tmp_path / "requirements.txt").unlink()
    offline = _compile(tmp_path, universe_index.url, "--offline")
    assert offline.returncode == 0, describe(offline)
    assert (tmp_path / "requirements.txt").read_text() == lock
    # Without a cached copy the constraint is not silently left out.
    (tmp_path / "requirements.txt").unlink()
    monkeypatch.setenv("LOCKCHECK_CACHE_DIR", str(tmp_path / "empty-cache"))
    missing = _compile(tmp_path, universe_index.url, "--offline")
    assert missing.returncode == 2, describe(missing)
    assert f"{file_server.url}/c.txt" in missing.stderr, describe(missing)
    assert not (tmp_path / "requirements.txt").exists()


def test_hook_without_network_compiles_from_the_cached_remote_copy(
    tmp_path, make_index, universe_wheelhouse, file_server
):
    """pre-commit.ci runs hooks offline: a remote constraints file that cannot be reached is
    read from the copy the last online run kept, as the index pages are."""
    server = make_index(universe_wheelhouse)
    file_server.put("/c.txt", "urllib3<2\n")
    (tmp_path / "requirements.in").write_text(f"-c {file_server.url}/c.txt\nrequests\n")
    assert _compile(tmp_path, server.url).returncode == 0
    server.stop()
    file_server.close()
    (tmp_path / "requirements.in").write_text(f"-c {file_server.url}/c.txt\nrequests\nidna\n")
    result = call_lockcheck(
        "compile", "--changed", "--refresh", "requirements.in", cwd=tmp_path,
        env={"PIP_RETRIES": "0"},
    )  # fmt: skip
    assert result.returncode == 1, describe(result)  # rewritten: the commit stops
    assert "compiled from the cache" in result.stderr, describe(result)
    lock = (tmp_path / "requirements.txt").read_text()
    assert "urllib3==1.26.18" in lock
    assert f"#   -c {file_server.url}/c.txt" in lock


def test_bad_line_in_a_remote_file_names_its_url_and_line(tmp_path, universe_index, file_server):
    url = file_server.secret_url("/bad.txt", "urllib3<2\nnot a requirement!!\n")
    (tmp_path / "requirements.in").write_text(f"requests\n-c {url}\n")
    result = _compile(tmp_path, universe_index.url)
    assert result.returncode == 2, describe(result)
    shown = file_server.url.replace("http://", "http://****@") + "/bad.txt"
    assert result.stderr.startswith(f"lockcheck: error: {shown}:2: "), describe(result)
    assert "s3cret" not in result.stderr + result.stdout
    assert not (tmp_path / "requirements.txt").exists()
