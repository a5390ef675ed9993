"""Sync installs from the unpacked-wheel cache (issue 17): a verified wheel is unzipped once
into ``<cache>/v1/unpacked/`` and its files are hard-linked into each venv after that (copied
where no link can be made), without downloading or hashing the wheel again; the lock's
hashes still decide, and a run killed while unpacking leaves no half entry behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lockcheck.crashpoint import ENV_VAR
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


@pytest.mark.parametrize("where", ["first half", "second half"])
def test_a_big_wheel_missing_a_cached_file_fails_and_leaves_the_venv_as_it_was(
    tmp_path: Path, dist_factory: DistFactory, make_index, where: str
) -> None:
    """A big wheel's files are linked by two threads; a file neither can place (here: gone
    from the cache) fails the sync, whichever thread met it, and the venv is restored."""
    from lockcheck.sync.linkinstall import _THREADED_LINKS

    count = 2 * _THREADED_LINKS
    modules = {f"huge/m{i:04d}.py": f"N = {i}\n" for i in range(count)}
    dist_factory.wheel("huge", "1.0", files=modules)
    dist_factory.wheel("alpha", "1.0")
    server = make_index()
    lock = write_lock(tmp_path / "lock.txt", server, "alpha==1.0", "huge==1.0")
    cache = tmp_path / "cache"
    result = _sync(tmp_path / "first", lock, cache)
    assert result.returncode == 0, describe(result)
    assert_whole(tmp_path / "first", "a big wheel linked by two threads")
    assert freeze(tmp_path / "first") == pins(lock)

    [entry] = [e for e in _unpacked(cache) if (e / "huge").is_dir()]
    gone = entry / "huge" / f"m{(10 if where == 'first half' else count - 10):04d}.py"
    gone.unlink()
    venv = make_venv(tmp_path / "venv")
    before = sorted(p.name for p in site_packages(venv).iterdir())
    result = _sync(venv, lock, cache)
    assert result.returncode == 2, describe(result)
    assert "installing huge-1.0-py3-none-any.whl failed" in result.stderr, describe(result)
    assert gone.name in result.stderr and "the environment was restored" in result.stderr
    assert sorted(p.name for p in site_packages(venv).iterdir()) == before
    assert_whole(venv, f"restored after a failure in the {where}")


def test_a_linked_install_writes_the_record_installer_writes(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    """RECORD of a wheel installed from the unpacked cache is, byte for byte, what
    ``installer`` writes installing the archive: csv quoting of odd names, other schemes'
    paths, scripts, entry points, INSTALLER and REQUESTED, RECORD's own line."""
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    files = {
        "odd/__init__.py": "",
        "odd/a,b.py": "A = 1\n",
        'odd/say "hi".py': "Q = 1\n",
        "odd/plain.py": "P = 1\n",
        "odd-1.0.data/data/share/odd/x,y.txt": "x",
        "odd-1.0.data/scripts/odd-tool": "#!python\nprint(1)\n",
    }
    wheel = dist_factory.wheel(
        "odd", "1.0", files=files, entry_points="[console_scripts]\nodd-cli = odd:main\n"
    )
    server = make_index()
    lock = write_lock(tmp_path / "lock.txt", server, "odd==1.0")
    venv = make_venv(tmp_path / "venv")
    site = site_packages(venv)
    python_xy = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    scheme = {
        "purelib": str(site),
        "platlib": str(site),
        "scripts": str(venv / "bin"),
        "data": str(venv),
        "headers": str(venv / "include" / "site" / python_xy / "odd"),
    }
    destination = SchemeDictionaryDestination(scheme, str(venv / "bin" / "python"), "posix")
    with WheelFile.open(wheel) as source:
        install(source, destination, {"INSTALLER": b"lockcheck\n", "REQUESTED": b""})
    expected = (site / "odd-1.0.dist-info" / "RECORD").read_bytes()
    assert b'"odd/a,b.py"' in expected and b"../../../share/odd/x,y.txt" in expected

    shutil.rmtree(venv)
    make_venv(venv)
    result = _sync(venv, lock, tmp_path / "cache")
    assert result.returncode == 0, describe(result)
    assert _unpacked(tmp_path / "cache"), "installed from the unpacked cache"
    assert (site / "odd-1.0.dist-info" / "RECORD").read_bytes() == expected
    assert_whole(venv, "odd names")


def test_an_entry_unpacked_by_an_older_lockcheck_installs_the_same(
    tmp_path: Path, server: IndexServer
) -> None:
    """An entry's manifest records the wheel's .dist-info directory and root scheme; one
    without them (written before they were recorded) installs the same, reading WHEEL."""
    import json

    lock = write_lock(tmp_path / "lock.txt", server, "alpha==1.0", "bigpkg==1.0")
    cache = tmp_path / "cache"
    first = tmp_path / "one"
    assert _sync(first, lock, cache).returncode == 0
    for entry in _unpacked(cache):
        manifest = entry / ".lockcheck-manifest.json"
        data = json.loads(manifest.read_text(encoding="utf-8"))
        assert data["layout"][1] == "purelib", data["layout"]
        del data["layout"]
        manifest.write_text(json.dumps(data), encoding="utf-8")

    second = tmp_path / "two"
    result = _sync(second, lock, cache)
    assert result.returncode == 0, describe(result)
    assert _wheel_downloads(server) == 2  # the first sync's only: the entries were used
    record = "bigpkg-1.0.dist-info/RECORD"
    assert (site_packages(second) / record).read_bytes() == (
        site_packages(first) / record
    ).read_bytes()
    assert_whole(second, "from entries without a layout")


def test_a_wheel_installer_refuses_is_refused_again_from_the_cache(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    """A Wheel-Version 2 wheel is unpacked (it verified) but never installed: refused on the
    sync that downloads it and on every one after, which finds it unpacked."""
    import zipfile

    built = dist_factory.wheel("future", "1.0")
    members = {}
    with zipfile.ZipFile(built) as archive:
        for info in archive.infolist():
            members[info.filename] = archive.read(info)
    members["future-1.0.dist-info/WHEEL"] = b"Wheel-Version: 2.0\nRoot-Is-Purelib: true\n"
    with zipfile.ZipFile(built, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    server = make_index()
    lock = write_lock(tmp_path / "lock.txt", server, "future==1.0")
    for attempt in ("downloaded", "from the cache"):
        venv = make_venv(tmp_path / attempt)
        result = _sync(venv, lock, tmp_path / "cache")
        assert result.returncode == 2, f"{attempt}\n{describe(result)}"
        assert "Wheel-Version 2.0 is not supported (1.x only)" in result.stderr, describe(result)
        assert "the environment was restored" in result.stderr
        assert not list(site_packages(venv).iterdir()), attempt
    assert len(_unpacked(tmp_path / "cache")) == 1


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
    assert list((cache / "v1" / "tmp").glob("unpack-*"))  # what the kill left
    result = _sync(venv, lock, cache)
    assert result.returncode == 0, describe(result)
    assert len(_unpacked(cache)) == 2
    assert not list((cache / "v1" / "tmp").glob("unpack-*"))  # removed by the next sync
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


def _age(entry: Path, days: float) -> None:
    """Make *entry* look last used *days* ago."""
    then = time.time() - days * 86400
    os.utime(entry / ".lockcheck-manifest.json", (then, then))


def _prune_due(cache: Path) -> None:
    """Make the next sync's once-a-day pruning due."""
    (cache / "v1" / "unpacked" / ".pruned").unlink(missing_ok=True)


def _cache_of_both(tmp_path: Path, server: IndexServer) -> tuple[Path, Path, Path]:
    """Locks of alpha + bigpkg and of alpha alone, and a cache a sync of the first filled
    (venv ``one``)."""
    both = write_lock(tmp_path / "both.txt", server, "alpha==1.0", "bigpkg==1.0")
    only_alpha = write_lock(tmp_path / "alpha.txt", server, "alpha==1.0")
    cache = tmp_path / "cache"
    assert _sync(tmp_path / "one", both, cache).returncode == 0
    return both, only_alpha, cache


def test_entries_unused_for_a_month_are_pruned_and_used_ones_kept(
    tmp_path: Path, server: IndexServer
) -> None:
    both, only_alpha, cache = _cache_of_both(tmp_path, server)
    [alpha, bigpkg] = sorted(_unpacked(cache), key=lambda e: not (e / "alpha").is_dir())
    _age(alpha, 20)
    _age(bigpkg, 40)
    _prune_due(cache)
    result = _sync(tmp_path / "two", only_alpha, cache)
    assert result.returncode == 0, describe(result)
    [kept] = _unpacked(cache)
    assert (kept / "alpha").is_dir()
    # The venvs hold their own links: pruning the cache leaves the first venv whole.
    assert_whole(tmp_path / "one", "after pruning")
    # Pruning is not due again on the same day: a fresh stale entry stays until then.
    _age(kept, 40)
    assert _sync(tmp_path / "three", both, cache).returncode == 0
    assert len(_unpacked(cache)) == 2


def test_nothing_is_removed_while_another_sync_uses_the_cache(
    tmp_path: Path, server: IndexServer
) -> None:
    from lockcheck.sync import unpacked

    _both, only_alpha, cache = _cache_of_both(tmp_path, server)
    # A sync in another process holds the cache (as each one does from its first use).
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from lockcheck.sync.unpacked import claim_cache; "
         "assert claim_cache(Path(sys.argv[1])); print('held', flush=True); time.sleep(60)",
         str(cache)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    stray = cache / "v1" / "tmp" / "unpack-inflight"
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        for entry in _unpacked(cache):
            _age(entry, 40)
        _prune_due(cache)
        stray.mkdir(parents=True)
        result = _sync(tmp_path / "two", only_alpha, cache)
        assert result.returncode == 0, describe(result)
        assert len(_unpacked(cache)) == 2  # the other sync may still link bigpkg
        assert stray.is_dir()  # ... or be unpacking into its temporary directory
    finally:
        holder.kill()
        holder.wait()
    result = _sync(tmp_path / "three", only_alpha, cache)
    assert result.returncode == 0, describe(result)
    assert len(_unpacked(cache)) == 1
    assert not stray.exists()
    assert unpacked.PRUNE_AFTER_DAYS == 30


def test_compile_byte_compiles_every_installed_module(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    # Enough modules for the files to be shared among several compileall processes.
    modules = {f"many/m{i:03d}.py": f"N = {i}\n" for i in range(160)}
    dist_factory.wheel("many", "1.0", files=modules)
    server = make_index()
    lock = write_lock(tmp_path / "lock.txt", server, "many==1.0")
    venv = make_venv(tmp_path / "venv")
    result = run_lockcheck(
        "sync", "--python", venv, "--cache-dir", tmp_path / "cache", "--compile", lock,
        cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, describe(result)
    package = site_packages(venv) / "many"
    compiled = {p.name.split(".")[0] for p in (package / "__pycache__").glob("*.pyc")}
    assert compiled == {f"m{i:03d}" for i in range(160)}


def test_a_sync_killed_while_pruning_leaves_whole_entries_and_the_next_one_finishes(
    tmp_path: Path, server: IndexServer
) -> None:
    lock = write_lock(tmp_path / "lock.txt", server, "alpha==1.0", "bigpkg==1.0")
    cache = tmp_path / "cache"
    assert _sync(tmp_path / "one", lock, cache).returncode == 0
    for entry in _unpacked(cache):
        _age(entry, 40)
    _prune_due(cache)
    killed = _sync(tmp_path / "two", lock, cache, crash="prune")
    assert killed.returncode == KILLED, describe(killed)
    assert len(_unpacked(cache)) == 1  # one entry moved out whole, the other untouched
    assert list((cache / "v1" / "tmp").glob("prune-*"))
    result = _sync(tmp_path / "two", lock, cache)
    assert result.returncode == 0, describe(result)
    assert not list((cache / "v1" / "tmp").iterdir())
    assert len(_unpacked(cache)) == 2  # both unpacked again for this venv
    assert_whole(tmp_path / "two", "after a kill while pruning")
    assert freeze(tmp_path / "two") == pins(lock)
