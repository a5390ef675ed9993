"""TLS against a local HTTPS index with a self-signed certificate (made with the openssl CLI)."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lockcheck.errors import ConfigError, IndexUnavailable
from lockcheck.index.finder import PackageFinder
from lockcheck.index.settings import IndexSettings

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps(
            {"files": [{"filename": "foo-1.0.tar.gz", "url": "foo-1.0.tar.gz", "hashes": {}}]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = _self_signed(directory, "server")
    client_cert, client_key = _self_signed(directory, "client")
    client_pem = directory / "client-combined.pem"
    client_pem.write_bytes(client_cert.read_bytes() + client_key.read_bytes())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.load_verify_locations(client_cert)
    context.verify_mode = ssl.CERT_OPTIONAL
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield {
        "url": f"https://127.0.0.1:{httpd.server_address[1]}/simple",
        "cert": cert,
        "client": client_pem,
        "context": context,
    }
    httpd.shutdown()
    httpd.server_close()


def _files(tmp_path: Path, url: str, environ: dict[str, str], **options: object) -> list:
    settings = IndexSettings(index_url=url, cache_dir=tmp_path / "c", retries=0, **options)  # type: ignore[arg-type]
    with PackageFinder(settings, environ=environ) as finder:
        return finder.project_files("foo")


def test_system_trust_store_rejects_an_unknown_ca(tls: dict, tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable) as info:
        _files(tmp_path, tls["url"], {})
    assert "TLS verification failed" in str(info.value)
    assert info.value.hint and "--cert" in info.value.hint


def test_cert_option_and_environment_bundles(tls: dict, tmp_path: Path) -> None:
    assert len(_files(tmp_path, tls["url"], {}, cert=str(tls["cert"]))) == 1
    assert len(_files(tmp_path / "a", tls["url"], {"SSL_CERT_FILE": str(tls["cert"])})) == 1
    assert len(_files(tmp_path / "b", tls["url"], {"REQUESTS_CA_BUNDLE": str(tls["cert"])})) == 1


def test_unusable_ca_bundle_is_a_config_error(tls: dict, tmp_path: Path) -> None:
    """The bundle loads in the background; a broken one still fails with its own message."""
    garbage = tmp_path / "not-a-bundle.pem"
    garbage.write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
    )
    with pytest.raises(ConfigError, match=r"cannot load CA bundle .*not-a-bundle\.pem"):
        _files(tmp_path, tls["url"], {"SSL_CERT_FILE": str(garbage)})
    with pytest.raises(ConfigError, match=r"cannot load CA bundle .*missing\.pem"):
        _files(tmp_path / "m", tls["url"], {}, cert=str(tmp_path / "missing.pem"))


def test_trusted_host_skips_verification(tls: dict, tmp_path: Path) -> None:
    assert len(_files(tmp_path, tls["url"], {}, trusted_hosts=("127.0.0.1",))) == 1
    port = tls["url"].split(":")[2].split("/")[0]
    hosted = _files(tmp_path / "p", tls["url"], {}, trusted_hosts=(f"127.0.0.1:{port}",))
    assert len(hosted) == 1


def test_client_certificate_is_presented(tls: dict, tmp_path: Path) -> None:
    context: ssl.SSLContext = tls["context"]  # type: ignore[assignment]
    context.verify_mode = ssl.CERT_REQUIRED
    try:
        with pytest.raises(IndexUnavailable):
            _files(tmp_path, tls["url"], {}, cert=str(tls["cert"]))
        found = _files(
            tmp_path / "ok", tls["url"], {}, cert=str(tls["cert"]), client_cert=str(tls["client"])
        )
        assert len(found) == 1
    finally:
        context.verify_mode = ssl.CERT_OPTIONAL


# -- the trust store loaded as a cold compile starts (tlsearly) ---------------------------


@pytest.fixture
def early(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from lockcheck.index import tlsearly

    monkeypatch.setattr(tlsearly, "_early", None)
    yield tlsearly
    tlsearly.settle(5)


def test_a_cold_compile_loads_its_trust_store_early_and_takes_it(
    early, tls: dict, tmp_path: Path
) -> None:
    environ = {"SSL_CERT_FILE": str(tls["cert"])}
    early.start(["compile", "--cache-dir", str(tmp_path / "cold"), "requirements.in"], environ)
    assert early.settle(5)
    loaded = early._early[1].get()
    assert isinstance(loaded, ssl.SSLContext)
    assert early.context_for(IndexSettings(), environ) is loaded
    assert early.context_for(IndexSettings(), {}) is not loaded  # another store
    assert len(_files(tmp_path, tls["url"], environ)) == 1  # it verifies the index


def test_a_warm_cache_another_command_or_an_offline_run_loads_nothing_early(
    early, tls: dict, tmp_path: Path
) -> None:
    warm = tmp_path / "warm"
    (warm / "v1" / "core-metadata").mkdir(parents=True)
    (warm / "v1" / "core-metadata" / "x.metadata").write_bytes(b"")
    environ = {"SSL_CERT_FILE": str(tls["cert"])}
    early.start(["compile", f"--cache-dir={warm}"], environ)
    early.start(["sync", "--cache-dir", str(tmp_path / "cold")], environ)
    early.start(["compile", "--cache-dir", str(tmp_path / "cold"), "--help"], environ)
    early.start(["compile", "--offline", "--cache-dir", str(tmp_path / "cold")], environ)
    assert early._early is None
    early.start(["check", "--cache-dir", str(tmp_path / "cold")], environ)  # check compiles
    assert early._early is not None


def test_settings_that_name_their_own_trust_store_do_not_take_the_early_one(
    early, tls: dict, tmp_path: Path
) -> None:
    """The early store comes from the environment; ``--cert`` (or pip's ``cert``) and a
    client certificate are the settings' own: such a run builds its context as before."""
    other, _key = _self_signed(tmp_path, "other")  # trusts nothing the index shows
    environ = {"SSL_CERT_FILE": str(other)}
    early.start(["compile", "--cache-dir", str(tmp_path / "cold")], environ)
    assert early.settle(5)
    loaded = early._early[1].get()
    assert len(_files(tmp_path / "a", tls["url"], environ, cert=str(tls["cert"]))) == 1
    with pytest.raises(IndexUnavailable, match="TLS verification failed"):
        _files(tmp_path / "b", tls["url"], environ)
    with_client = IndexSettings(client_cert=str(tls["client"]))
    assert early.context_for(with_client, environ) is not loaded


def test_an_unusable_bundle_loaded_early_fails_with_its_own_message(
    early, tls: dict, tmp_path: Path
) -> None:
    garbage = tmp_path / "not-a-bundle.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    environ = {"SSL_CERT_FILE": str(garbage)}
    early.start(["compile", "--cache-dir", str(tmp_path / "cold")], environ)
    assert early.settle(5)
    with pytest.raises(ConfigError, match=r"cannot load CA bundle"):
        early._early[1].get()  # the early load failed; the run's own build says so
    with pytest.raises(ConfigError, match=r"cannot load CA bundle .*not-a-bundle\.pem"):
        _files(tmp_path, tls["url"], environ)
