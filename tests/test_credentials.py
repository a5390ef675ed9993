"""Credentials for a private index, end to end against pypiserver behind an htpasswd file.

A lock never holds a secret: compile writes ``http://****@host/simple/``.  ``****`` means
"the credentials live elsewhere": on the command line (``-i``), in pip's settings
(``PIP_INDEX_URL``, pip.conf) or in ``~/.netrc``.  Every command must find them there, and
the secret must appear in no output, lock, cache entry, stamp or installed file.
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from tests.fixtures.builders import make_sdist, make_wheel
from tests.fixtures.index_server import IndexServer
from tests.fixtures.private_index import PrivateIndex
from tests.helpers import describe, run_lockcheck


def _serve_packages(directory: Path) -> None:
    """alpha (a wheel) needs beta (an sdist only, so sync builds it)."""
    make_wheel(directory, "alpha", "1.0", requires_dist=["beta>=2"])
    make_sdist(directory, "beta", "2.0")


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.in").write_text("alpha\n", encoding="utf-8")
    return project


def _run(
    *args: str | Path, cwd: Path, env: Mapping[str, str | None] | None = None, code: int = 0
) -> subprocess.CompletedProcess[str]:
    result = run_lockcheck(*args, cwd=cwd, env=env)
    assert result.returncode == code, describe(result)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result


def _secret_forms(user: str, password: str) -> list[bytes]:
    """The password as text, URL-quoted, and inside a Basic Authorization header."""
    from urllib.parse import quote

    basic = base64.b64encode(f"{user}:{password}".encode())
    return sorted({password.encode(), quote(password, safe="").encode(), basic})


def _assert_secret_nowhere(
    forms: list[bytes], results: Iterable[subprocess.CompletedProcess[str]], *dirs: Path
) -> None:
    for result in results:
        for form in forms:
            assert form.decode() not in result.stdout + result.stderr, describe(result)
    checked = 0
    for top in dirs:
        for root, _dirs, files in os.walk(top):
            for name in files:
                path = Path(root) / name
                if path.is_symlink() or not path.is_file():
                    continue
                data = path.read_bytes()
                checked += 1
                for form in forms:
                    assert form not in data, f"the secret is in {path}"
    assert checked, "no file was searched"


def _installed(venv: Path) -> list[str]:
    [site] = list((venv / "lib").glob("python*/site-packages"))
    return sorted(p.name for p in site.glob("*.dist-info"))


def _netrc_home(tmp_path: Path, index: PrivateIndex) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text(
        f"machine {index.host} login {index.user} password {index.password}\n", encoding="utf-8"
    )
    netrc.chmod(0o600)
    return home


def _credentials(
    source: str, index: PrivateIndex, tmp_path: Path
) -> tuple[tuple[str, ...], dict[str, str | None]]:
    """(command-line arguments, environment) that give the credentials from *source*."""
    if source == "url":
        return ("--index-url", index.url_with_auth), {}
    if source == "netrc":
        return (), {"HOME": str(_netrc_home(tmp_path, index)), "NETRC": None}
    assert source == "env"
    return (), {"PIP_INDEX_URL": index.url_with_auth}


@pytest.mark.parametrize("source", ["url", "netrc", "env"])
def test_masked_lock_works_with_credentials_from(
    source: str, private_index: PrivateIndex, tmp_path: Path, _isolated_environment: Path
) -> None:
    """A lock compiled with ``-i http://user:pw@...`` holds ``****``; check, the hook's
    compile and sync then find the real credentials in *source*."""
    _serve_packages(private_index.packages)
    project = _project(tmp_path)
    made = _run("compile", "-v", "--index-url", private_index.url_with_auth, cwd=project)
    lock = (project / "requirements.txt").read_text(encoding="utf-8")
    masked = f"http://****@127.0.0.1:{private_index.port}/simple/"
    assert f"--index-url {masked}\n" in lock
    assert "alpha==1.0" in lock and "beta==2.0" in lock

    args, env = _credentials(source, private_index, tmp_path)
    checked = _run("check", "-v", *args, cwd=project, env=env)
    hook = _run("compile", "-v", "--changed", *args, "requirements.in", cwd=project, env=env)
    assert (project / "requirements.txt").read_text(encoding="utf-8") == lock
    venv = tmp_path / "venv"
    synced = _run("sync", "-v", "--python", venv, *args, cwd=project, env=env)
    assert _installed(venv) == ["alpha-1.0.dist-info", "beta-2.0.dist-info"]
    _assert_secret_nowhere(
        _secret_forms(private_index.user, private_index.password),
        [made, checked, hook, synced],
        project,
        venv,
        _isolated_environment,  # the caches and stamps (XDG_CACHE_HOME, LOCKCHECK_CACHE_DIR)
    )


@pytest.mark.parametrize("source", ["netrc", "env"])
def test_compile_check_sync_with_credentials_from(
    source: str, private_index: PrivateIndex, tmp_path: Path, _isolated_environment: Path
) -> None:
    """No credentials on the command line at all: compile, check and sync read them from
    ~/.netrc or from PIP_INDEX_URL."""
    _serve_packages(private_index.packages)
    project = _project(tmp_path)
    args, env = _credentials(source, private_index, tmp_path)
    if source == "netrc":
        args = ("--index-url", private_index.url)
    made = _run("compile", "-v", *args, cwd=project, env=env)
    lock = (project / "requirements.txt").read_text(encoding="utf-8")
    assert "alpha==1.0" in lock and "beta==2.0" in lock
    checked = _run("check", "-v", cwd=project, env=env)
    venv = tmp_path / "venv"
    synced = _run("sync", "-v", "--python", venv, cwd=project, env=env)
    assert _installed(venv) == ["alpha-1.0.dist-info", "beta-2.0.dist-info"]
    _assert_secret_nowhere(
        _secret_forms(private_index.user, private_index.password),
        [made, checked, synced],
        project,
        venv,
        _isolated_environment,
    )


def test_masked_lock_without_credentials_fails_cleanly(
    private_index: PrivateIndex, tmp_path: Path
) -> None:
    """No credentials anywhere: one error line naming the masked index URL and where
    credentials can come from; the venv is not created."""
    _serve_packages(private_index.packages)
    project = _project(tmp_path)
    _run("compile", "--index-url", private_index.url_with_auth, cwd=project)
    masked = f"http://****@127.0.0.1:{private_index.port}/simple/"
    venv = tmp_path / "venv"
    # An empty cache: the one compile filled would answer check without the network.
    env = {"LOCKCHECK_CACHE_DIR": str(tmp_path / "empty-cache")}
    for command in (("sync", "--python", venv), ("check",)):
        result = _run(*command, cwd=project, env=env, code=2)
        output = result.stdout + result.stderr
        assert masked in output, describe(result)
        assert "netrc" in output and "PIP_INDEX_URL" in output, describe(result)
        assert private_index.password not in output
    assert not venv.exists()


def test_masked_user_info_is_never_sent(dist_factory, make_index, tmp_path: Path) -> None:
    """``****`` is a placeholder, not a user name: without real credentials no
    Authorization header goes out (the server log shows every request's headers)."""
    _serve_packages(dist_factory.directory)
    server: IndexServer = make_index(auth=("alice", "pw-Zq81xK3v-secret"))
    project = _project(tmp_path)
    _run("compile", "--index-url", server.url_with_auth, cwd=project)
    assert "--index-url http://****@127.0.0.1" in (project / "requirements.txt").read_text()
    server.clear_log()
    result = _run("sync", "--python", tmp_path / "venv", cwd=project, code=2)
    assert server.requests, describe(result)
    sent = [r.headers.get("authorization") for r in server.requests]
    assert sent == [None] * len(sent), sent


# --------------------------------------------------------------------------------------
# the rule, without a server
# --------------------------------------------------------------------------------------

MASKED = "https://****@idx.example/simple/"


@pytest.mark.parametrize("masked", [MASKED, "https://u:****@idx.example/simple/"])
def test_a_masked_url_takes_the_credentials_of_the_same_index(masked: str) -> None:
    from lockcheck.errors import redact_url
    from lockcheck.index.auth import fill_masked

    configured = ["https://x:y@elsewhere.example/simple", "https://u:p%40w@idx.example/simple"]
    filled = fill_masked(masked, configured)
    assert filled == "https://u:p%40w@idx.example/simple/"
    assert redact_url(filled) == "https://****@idx.example/simple/"
    for other in ("https://****@idx.example/other/", "https://****@idx.example:8443/simple/"):
        assert fill_masked(other, configured) == other  # another index: no credentials


def test_masked_credentials_are_never_looked_up_as_credentials(tmp_path: Path) -> None:
    from lockcheck.index.auth import Credentials

    netrc = tmp_path / "netrc"
    netrc.write_text("machine idx.example login nina password netrc-pw\n", encoding="utf-8")
    with_netrc = Credentials({"NETRC": str(netrc)})
    with_netrc.remember(MASKED)
    assert with_netrc.lookup(MASKED + "alpha/") == ("nina", "netrc-pw")
    assert with_netrc.lookup("https://idx.example/files/alpha-1.0.tar.gz") == ("nina", "netrc-pw")

    nothing = Credentials({"NETRC": str(tmp_path / "none")})
    nothing.remember(MASKED)
    assert nothing.lookup(MASKED + "alpha/") is None
    detail, _hint = nothing.refusal("https://idx.example/files/alpha-1.0.tar.gz")
    assert MASKED in detail and "'machine idx.example'" in detail


def test_merged_settings_give_a_lock_s_masked_index_the_configured_credentials() -> None:
    from lockcheck.index.settings import merge_index_options
    from lockcheck.models import IndexOptions
    from lockcheck.settings import NetworkOptions

    lock = IndexOptions(index_url=MASKED, extra_index_urls=("https://****@two.example/simple",))
    env = {"PIP_CONFIG_FILE": os.devnull, "PIP_EXTRA_INDEX_URL": "https://e:f@two.example/simple"}
    given = NetworkOptions(index_url="https://u:p@idx.example/simple")
    merged = merge_index_options(given, lock, env)
    assert merged.index_urls == (
        "https://u:p@idx.example/simple/",
        "https://e:f@two.example/simple",
    )
    alone = merge_index_options(NetworkOptions(), lock, {"PIP_CONFIG_FILE": os.devnull})
    assert alone.index_url == MASKED  # stays masked: the host's credentials are looked up


def test_pip_never_gets_a_mask_as_user_name() -> None:
    from lockcheck.index.settings import IndexSettings

    masked = IndexSettings(
        index_url=MASKED,
        extra_index_urls=("https://u:****@two.example/simple",),
        find_links=("https://****@three.example/links/",),
    ).pip_env()
    assert masked["PIP_INDEX_URL"] == "https://idx.example/simple/"
    assert masked["PIP_EXTRA_INDEX_URL"] == "https://two.example/simple"
    assert masked["PIP_FIND_LINKS"] == "https://three.example/links/"
    real = IndexSettings(index_url="https://u:p@idx.example/simple").pip_env()
    assert real["PIP_INDEX_URL"] == "https://u:p@idx.example/simple"


def test_locks_naming_one_index_differently_merge_to_one_index(tmp_path: Path) -> None:
    """lockcheck writes ``https://****@h/simple/``, pip-compile ``https://u:****@h/simple``:
    one index, not an extra one queried twice."""
    from lockcheck.sync.locks import _merge_options, read_locks

    first, second = tmp_path / "requirements.txt", tmp_path / "requirements-dev.txt"
    first.write_text(f"--index-url {MASKED}\n\nalpha==1.0\n", encoding="utf-8")
    second.write_text(
        "--index-url https://u:****@idx.example/simple\n"
        "--extra-index-url https://****@two.example/simple/\n\nbeta==2.0\n",
        encoding="utf-8",
    )
    options = _merge_options(read_locks([first, second]))
    assert options.index_url == MASKED
    assert options.extra_index_urls == ("https://****@two.example/simple/",)
