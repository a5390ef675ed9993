"""Sync installs from the unpacked-wheel cache (issue 17): a verified wheel is unzipped once
into ``<cache>/v1/unpacked/`` and its files are hard-linked into each venv after that (copied
where no link can be made), without downloading or hashing the wheel again; the lock's
hashes still decide, and a run killed while unpacking leaves no half entry behind."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lockcheck.sync.crashpoint import ENV_VAR
from tests.fixtures.builders import DistFactory
from tests.fixtures.index_server import IndexServer
from tests.helpers import describe, run_lockcheck
from tests.test_sync_crash import KILLED, assert_whole
from tests.test_sync_engine import freeze, make_venv, pins, site_packages, write_lock


@pytest.fixture
def server(dist_factory: DistFactory, make_index) -> IndexServer:  # type: ignore[no-untyped-def]
    modules = {f"bigpkg/m{i:03d}.py": f"N = {i}\n" for i in range(30)}
    dist_factory.wheel("bigpkg", "1.0", files=modules)
    dist_factory.wheel("alpha", "1.0", entry_points="[console_scripts]\nalpha-cli = alpha:x\n")
    return make_index()


def _sync(venv: Path, lock: Path, cache: Path, crash: str | None = None):  # type: ignore[no-untyped-def]
    return run_lockcheck(
        "sync",
        "--python",
        venv,
        "--cache-dir",
        cache,
        lock,
        cwd=lock.parent,
        env={ENV_VAR: crash} if crash else None,
        timeout=120,
    )


def _wheel_downloads(server: IndexServer) -> int:
    return sum(1 for r in server.requests_for("/files/", "GET") if r.path.endswith(".whl"))


def _unpacked(cache: Path) -> list[Path]:
    root = cache / "v1" / "unpacked"
    return sorted(p for p in root.glob("*/*") if p.is_dir()) if root.is_dir() else []


def test_a_second_venv_links_the_cached_files_and_downloads_nothing(
    tmp_path: Path, server: IndexServer
) -> None:
    lock = write_lock(tmp_path / "lock.txt", server, "alpha==1.0", "bigpkg==1.0")
    cache = tmp_path / "cache"
    first, second = tmp_path / "one", tmp_path / "two"
    result = _sync(first, lock, cache)
    assert result.returncode == 0, describe(result)
    assert len(_unpacked(cache)) == 2
    server.clear_log()

    result = _sync(second, lock, cache)
    assert result.returncode == 0, describe(result)
    assert _wheel_downloads(server) == 0
    module = site_packages(second) / "bigpkg" / "m007.py"
    assert os.path.samefile(module, site_packages(first) / "bigpkg" / "m007.py")
    assert module.stat().st_nlink == 3  # the cache's copy and the two venvs'
    # The console script names this venv's python: written, not linked.
    script = second / "bin" / "alpha-cli"
    assert script.read_text().startswith(f"#!{second / 'bin' / 'python'}")
    assert_whole(second, "linked install")
    assert freeze(second) == pins(lock)


def test_the_locks_hashes_still_decide_when_the_wheel_is_unpacked(
    tmp_path: Path, server: IndexServer
) -> None:
    good = write_lock(tmp_path / "good.txt", server, "bigpkg==1.0")
    cache = tmp_path / "cache"
    assert _sync(tmp_path / "one", good, cache).returncode == 0
    bad = write_lock(tmp_path / "bad.txt", server, f"bigpkg==1.0 --hash=sha256:{'0' * 64}")
    venv = make_venv(tmp_path / "two")
    result = _sync(venv, bad, cache)
    assert result.returncode == 2, describe(result)
    assert "does not match any hash locked for bigpkg" in result.stderr, describe(result)
    assert not list(site_packages(venv).glob("bigpkg*"))


def test_a_sync_killed_while_unpacking_leaves_no_entry_and_the_next_one_installs(
    tmp_path: Path, server: IndexServer
) -> None:
    lock = write_lock(tmp_path / "lock.txt", server, "alpha==1.0", "bigpkg==1.0")
    cache = tmp_path / "cache"
    venv = make_venv(tmp_path / "venv")
    killed = _sync(venv, lock, cache, crash="unpack")
    assert killed.returncode == KILLED, describe(killed)
    assert _unpacked(cache) == []  # only a temporary directory, never a half entry
    assert not list(site_packages(venv).glob("*.dist-info"))
    result = _sync(venv, lock, cache)
    assert result.returncode == 0, describe(result)
    assert len(_unpacked(cache)) == 2
    assert_whole(venv, "after a kill while unpacking")
    assert freeze(venv) == pins(lock)


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs a second filesystem")
def test_a_cache_on_another_filesystem_is_copied_from(tmp_path: Path, server: IndexServer) -> None:
    lock = write_lock(tmp_path / "lock.txt", server, "alpha==1.0", "bigpkg==1.0")
    shm = Path("/dev/shm") / f"lockcheck-test-{os.getpid()}-{tmp_path.name}"
    if os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same filesystem here")
    try:
        venv = tmp_path / "venv"
        result = _sync(venv, lock, shm / "cache")
        assert result.returncode == 0, describe(result)
        [entry] = [e for e in _unpacked(shm / "cache") if (e / "bigpkg").is_dir()]
        module = site_packages(venv) / "bigpkg" / "m007.py"
        assert not os.path.samefile(module, entry / "bigpkg" / "m007.py")
        assert_whole(venv, "copied install")
        assert freeze(venv) == pins(lock)
    finally:
        shutil.rmtree(shm, ignore_errors=True)
