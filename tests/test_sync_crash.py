"""Sync survives being killed: whatever point a ``lockcheck sync`` dies at, the next plain
sync leaves the venv exactly as a clean sync of its lock would (issue 11, section 2).

Deterministic kill points come from the test-only ``LOCKCHECK_TEST_CRASH_AT`` hook
(lockcheck/crashpoint.py: SIGKILL at the n-th occurrence of an event); one test kills a
real run from outside at a moment it sees on disk.  To share venvs, each test moves one venv
back and forth between two locks.  After every crash the repairing sync must leave a venv
that is whole (every RECORD entry present with its hash, no file in site-packages that no
RECORD lists, no backup left) and, where a clean sync of the lock was made first, identical
to it file by file.  ``pip freeze --all`` (pip run by the venv's python) is compared with the
lock after each clean sync and at the end of each test: between those, a venv identical file
by file to one whose freeze matched has the same freeze, and pip costs a second a run.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lockcheck.crashpoint import ENV_VAR
from lockcheck.sync.journal import backup_dirs
from tests.fixtures.builders import DistFactory
from tests.fixtures.index_server import IndexServer
from tests.helpers import describe, run_lockcheck, subprocess_env
from tests.test_sync_engine import freeze, make_venv, pins, site_packages, snapshot, write_lock

KILLED = -signal.SIGKILL


def build_index(dist_factory: DistFactory, make_index, files: int) -> IndexServer:  # type: ignore[no-untyped-def]
    """alpha 1.0 (with a script) and 2.0, beta, delta, bigpkg 1.0 and 2.0 with *files*
    modules each (2.0 with its .dist-info first in the archive, so an install writes METADATA
    first), and zzz-broken, whose install fails after the others (an unknown .data scheme)."""
    dist_factory.wheel("alpha", "1.0", entry_points="[console_scripts]\nalpha-cli = alpha:x\n")
    dist_factory.wheel("alpha", "2.0")
    dist_factory.wheel("beta", "1.0")
    dist_factory.wheel("delta", "1.0")
    for version, first in (("1.0", False), ("2.0", True)):
        modules = {f"bigpkg/m{i:04d}.py": f"V = {version!r}\nN = {i}\n" for i in range(files)}
        dist_factory.wheel("bigpkg", version, files=modules, dist_info_first=first)
    dist_factory.wheel(
        "zzz-broken",
        "1.0",
        files={"zzz_broken/__init__.py": "", "zzz_broken-1.0.data/bogus/file.txt": "x"},
    )
    return make_index()


def two_locks(tmp_path: Path, server: IndexServer) -> tuple[Path, Path]:
    """Lock A and lock B: from one to the other every kind of change happens (upgrade,
    downgrade, install, removal, a big package replaced)."""
    a = write_lock(tmp_path / "a.txt", server, "alpha==1.0", "beta==1.0", "bigpkg==1.0")
    b = write_lock(tmp_path / "b.txt", server, "alpha==2.0", "bigpkg==2.0", "delta==1.0")
    return a, b


def sync(venv: Path, lock: Path, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {ENV_VAR: crash} if crash else None
    return run_lockcheck("sync", "--python", venv, lock, cwd=lock.parent, env=env, timeout=120)


def sync_ok(venv: Path, lock: Path, label: str = "") -> subprocess.CompletedProcess[str]:
    """A sync that must succeed."""
    result = sync(venv, lock)
    assert result.returncode == 0, f"{label}\n{describe(result)}"
    return result


def sync_killed(venv: Path, lock: Path, point: str, label: str = "") -> None:
    """A sync that must die at *point*."""
    result = sync(venv, lock, crash=point)
    assert result.returncode == KILLED, f"{label or point}\n{describe(result)}"


def assert_whole(venv: Path, label: str) -> None:
    """Every file each RECORD lists is there with its hash, every file in site-packages is
    listed by a RECORD, and nothing of a transaction is left over."""
    assert not backup_dirs(venv), f"{label}: a backup is left in {venv}"
    site = site_packages(venv)
    listed: set[Path] = set()
    for record in site.glob("*.dist-info/RECORD"):
        with open(record, newline="", encoding="utf-8") as fh:
            for path, digest, _size in csv.reader(fh):
                file = Path(os.path.normpath(site / path))
                listed.add(file)
                assert file.is_file(), f"{label}: {path} of {record.parent.name} is missing"
                if digest:
                    actual = hashlib.sha256(file.read_bytes()).digest()
                    encoded = base64.urlsafe_b64encode(actual).rstrip(b"=").decode()
                    assert digest == f"sha256={encoded}", f"{label}: {path} was changed"
    for root, dirs, files in os.walk(site):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        orphans = [name for name in files if Path(root, name) not in listed]
        assert not orphans, f"{label}: files no RECORD lists in {root}: {orphans[:5]}"


def staged_files_left() -> list[Path]:
    """The download directories of syncs in TMPDIR (the test's own)."""
    return list(Path(os.environ["TMPDIR"]).glob("lockcheck-sync-*"))


def assert_synced(venv: Path, reference: dict[str, str], label: str) -> None:
    """Whole, and file by file what a clean sync of the same lock gave."""
    assert_whole(venv, label)
    assert snapshot(venv) == reference, f"{label}: the venv differs from a clean sync"


def clean_references(venv: Path, *locks: Path) -> dict[Path, dict[str, str]]:
    """Sync *venv* to each lock in turn; what each clean sync left, by lock."""
    references: dict[Path, dict[str, str]] = {}
    for lock in locks:
        sync_ok(venv, lock)
        assert freeze(venv) == pins(lock)
        assert_whole(venv, f"clean sync of {lock.name}")
        references[lock] = snapshot(venv)
    return references


# --------------------------------------------------------------------------------------
# kill points of the transaction
# --------------------------------------------------------------------------------------

#: From lock B to lock A and back, alternately.  Counts of a B -> A run: 6 files stashed for
#: alpha 2.0, then ~60 for bigpkg 2.0; written: alpha 1.0 (8), beta (6), bigpkg 1.0 (60
#: modules, then METADATA as the 75th file, WHEEL, INSTALLER, REQUESTED, RECORD).  A -> B
#: installs bigpkg 2.0 METADATA first.
KILL_POINTS: tuple[tuple[str, str | None], ...] = (
    # (event, a .dist-info the kill leaves with METADATA but no RECORD)
    ("backup", None),  # B -> A: the backup directory made, no journal in it yet
    ("journal", None),  # A -> B: the journal exists, nothing moved yet
    ("stash:40", None),  # B -> A: in the middle of bigpkg 2.0's removal
    ("stash:3", None),  # A -> B: in the middle of alpha 1.0's removal
    ("write:40", None),  # B -> A: bigpkg 1.0 half written, no metadata yet
    ("write:1", None),  # A -> B: the first file written
    ("write:75", "bigpkg-1.0.dist-info"),  # B -> A: just after 1.0's METADATA (as reported)
    ("write:40", "bigpkg-2.0.dist-info"),  # A -> B: bigpkg 2.0 half written, METADATA first
    ("commit", None),  # B -> A: everything installed, the journal still there
    ("committed", None),  # A -> B: the journal gone, the backup not yet deleted
    ("stamp", None),  # B -> A: done, the no-op stamp not yet written
)


def test_a_sync_killed_at_any_point_is_repaired_by_the_next(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    server = build_index(dist_factory, make_index, files=60)
    a, b = two_locks(tmp_path, server)
    venv = make_venv(tmp_path / "venv")
    references = clean_references(venv, a, b)
    site = site_packages(venv)
    target = a
    for point, half_written in KILL_POINTS:
        label = f"killed at {point} syncing to {target.name}"
        sync_killed(venv, target, point, label)
        if half_written is not None:
            assert (site / half_written / "METADATA").exists(), label
            assert not (site / half_written / "RECORD").exists(), label
        # Every kill before the stamp leaves the run's downloads (removed before the stamp).
        assert bool(staged_files_left()) == (point != "stamp"), label
        sync_ok(venv, target, label)
        assert not staged_files_left(), f"{label}: the next sync left the killed one's files"
        assert_synced(venv, references[target], label)
        again = sync(venv, target)
        assert again.stdout.strip() == "Everything up-to-date", describe(again)
        target = b if target == a else a
    assert freeze(venv) == pins(a)


def test_a_killed_rollback_is_finished_by_the_next_sync(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    """A failing install is rolled back; killed during that rollback (or during the next
    run's rollback of a killed sync), the next run still restores the venv exactly."""
    server = build_index(dist_factory, make_index, files=60)
    a, b = two_locks(tmp_path, server)
    failing = write_lock(tmp_path / "c.txt", server, *sorted(pins(b)), "zzz-broken==1.0")
    venv = make_venv(tmp_path / "venv")
    references = clean_references(venv, b, a)
    # A -> C creates ~80 files (deleted first) and stashes ~80 (restored after).
    for point in ("rollback:1", "rollback:40", "rollback:120"):
        sync_killed(venv, failing, point)
        again = sync(venv, failing)
        assert again.returncode == 2, f"{point}\n{describe(again)}"
        assert "interrupted" in again.stderr, describe(again)
        assert "installing zzz_broken-1.0-py3-none-any.whl failed" in again.stderr
        assert "the environment was restored" in again.stderr
        assert_synced(venv, references[a], f"rolled back after a kill at {point}")
    assert freeze(venv) == pins(a)

    # Killed installing, then killed again while the next run rolls that back.
    for point in ("write:50", "rollback:30"):
        sync_killed(venv, b, point)
    sync_ok(venv, b)
    assert_synced(venv, references[b], "after two kills")
    assert freeze(venv) == pins(b)


def test_a_sync_killed_while_two_threads_link_a_big_wheel_is_repaired_by_the_next(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    """A wheel of 128 files or more is linked by two threads (lockcheck/sync/linkinstall.py):
    killed at the start, the middle and the end of that, the next sync restores the venv."""
    from lockcheck.sync.linkinstall import _THREADED_LINKS

    server = build_index(dist_factory, make_index, files=3 * _THREADED_LINKS)
    a, b = two_locks(tmp_path, server)
    venv = make_venv(tmp_path / "venv")
    references = clean_references(venv, a, b)
    target = a
    # B -> A: alpha 1.0 and beta (14 files), then bigpkg 1.0's 384 modules and metadata.
    for point in ("write:16", "write:200", "write:390", "write:100"):
        label = f"killed at {point} syncing to {target.name}"
        sync_killed(venv, target, point, label)
        sync_ok(venv, target, label)
        assert_synced(venv, references[target], label)
        target = b if target == a else a
    assert freeze(venv) == pins(b)  # the last sync, to B


def _tree(venv: Path) -> set[str]:
    """Every directory and file of *venv* (sync's own lock and stamp aside), relative."""
    return {
        str(p.relative_to(venv))
        for p in venv.rglob("*")
        if not p.name.startswith(".lockcheck-sync") and "__pycache__" not in p.parts
    }


def test_a_sync_that_only_adds_journals_whole_directories_and_rolls_them_back(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    """Into a venv that loses nothing, each directory an install makes is journaled once (a
    "tree"), not file by file; killed while writing, killed while rolling back, or failing,
    the venv ends exactly as it was, and the next sync installs."""
    from lockcheck.sync.journal import JOURNAL_NAME, read_journal

    server = build_index(dist_factory, make_index, files=60)
    a, b = two_locks(tmp_path, server)
    failing = write_lock(tmp_path / "c.txt", server, *sorted(pins(b)), "zzz-broken==1.0")
    venv = make_venv(tmp_path / "venv")
    site = site_packages(venv)
    empty = _tree(venv)

    sync_killed(venv, a, "write:40")  # alpha and beta written, bigpkg half
    [backup] = backup_dirs(venv)
    steps = read_journal(backup / JOURNAL_NAME)
    trees = {os.path.relpath(step[1], site) for step in steps if step[0] == "tree"}
    assert {"bigpkg", "bigpkg-1.0.dist-info", "alpha-1.0.dist-info"} <= trees, steps
    created = [step[1] for step in steps if step[0] == "create"]
    assert all(Path(p).parent == venv / "bin" for p in created), created  # the script only
    assert not [s for s in steps if s[0] in ("move", "mkdir", "rmdir")], steps

    # The next run rolls the killed one back (its trees deleted whole), then fails on
    # zzz-broken and rolls itself back; killed during either rollback, the next repairs.
    for crash in ("rollback:1", "rollback:3", None):
        result = sync(venv, failing, crash=crash)
        if crash is not None:
            assert result.returncode == KILLED, f"{crash}\n{describe(result)}"
            continue
        assert result.returncode == 2, describe(result)
        assert "installing zzz_broken-1.0-py3-none-any.whl failed" in result.stderr
        assert "the environment was restored" in result.stderr, describe(result)
    assert not backup_dirs(venv)
    assert _tree(venv) == empty  # not a file nor an empty directory left

    sync_ok(venv, a)
    assert_whole(venv, "installed after the rollbacks")
    assert freeze(venv) == pins(a)


def test_a_venv_whose_creation_was_killed_is_made_again_and_dry_run_sees_a_leftover(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    server = build_index(dist_factory, make_index, files=10)
    a, b = two_locks(tmp_path, server)
    venv = tmp_path / "new-venv"
    sync_killed(venv, a, "venv")
    dry = run_lockcheck("sync", "--python", venv, "--dry-run", a, cwd=tmp_path)
    assert dry.returncode == 1 and "install    bigpkg==1.0" in dry.stdout, describe(dry)
    sync_ok(venv, a)
    assert_whole(venv, "created again")
    assert freeze(venv) == pins(a)

    sync_killed(venv, b, "write:5")
    dry = run_lockcheck("sync", "--python", venv, "--dry-run", b, cwd=tmp_path)
    assert dry.returncode == 1, describe(dry)
    assert "Would roll back an interrupted sync" in dry.stdout
    sync_ok(venv, b)
    assert_whole(venv, "after the dry run")
    assert freeze(venv) == pins(b)


# --------------------------------------------------------------------------------------
# what another tool (or an older lockcheck) left half done
# --------------------------------------------------------------------------------------


def test_incomplete_installs_are_reinstalled(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    server = build_index(dist_factory, make_index, files=40)
    a, _b = two_locks(tmp_path, server)
    venv = make_venv(tmp_path / "venv")
    reference = clean_references(venv, a)[a]
    site = site_packages(venv)
    (site / "alpha-1.0.dist-info" / "RECORD").unlink()
    (site / "beta-1.0.dist-info" / "INSTALLER").unlink()
    # An install that died midway: half the modules and RECORD missing.
    for module in sorted((site / "bigpkg").iterdir())[::2]:
        module.unlink()
    (site / "bigpkg-1.0.dist-info" / "RECORD").unlink()

    dry = run_lockcheck("sync", "--python", venv, "--dry-run", a, cwd=tmp_path)
    assert dry.returncode == 1, describe(dry)
    assert "reinstall  alpha==1.0, was alpha==1.0 (incomplete: no RECORD)" in dry.stdout
    assert "reinstall  beta==1.0, was beta==1.0 (incomplete: no INSTALLER)" in dry.stdout
    result = sync_ok(venv, a)
    assert "3 reinstalled" in result.stdout, describe(result)
    assert_synced(venv, reference, "reinstalled")
    assert freeze(venv) == pins(a)

    # One that is no longer locked goes (its metadata at least: RECORD lists no more).
    (site / "beta-1.0.dist-info" / "RECORD").unlink()
    fewer = write_lock(tmp_path / "fewer.txt", server, "alpha==1.0", "bigpkg==1.0")
    sync_ok(venv, fewer)
    assert freeze(venv) == pins(fewer)


# --------------------------------------------------------------------------------------
# a real kill from outside
# --------------------------------------------------------------------------------------


def _kill_when(venv: Path, lock: Path, ready) -> int:  # type: ignore[no-untyped-def]
    """Start a sync of *venv* to *lock*, SIGKILL it as soon as ``ready()`` holds; its exit
    code (KILLED, unless it finished first)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lockcheck", "sync", "--python", str(venv), str(lock)],
        cwd=lock.parent,
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if ready():
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.0005)
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sync_killed_from_outside_during_a_big_install(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    """The reported cases: a 1500-file wheel killed once its METADATA is on disk (written
    first), and one killed after a random number of its modules."""
    server = build_index(dist_factory, make_index, files=1500)
    a, b = two_locks(tmp_path, server)
    venv = make_venv(tmp_path / "venv")
    clean_references(venv, a)
    site = site_packages(venv)
    count = random.Random(os.getpid()).randint(100, 1400)

    def modules_of_1_0() -> bool:
        if (site / "bigpkg-2.0.dist-info").exists():
            return False  # still removing 2.0
        try:
            with os.scandir(site / "bigpkg") as entries:
                return sum(1 for _ in entries) >= count
        except FileNotFoundError:
            return False

    rounds = (
        (b, lambda: (site / "bigpkg-2.0.dist-info" / "METADATA").exists(), "2.0's METADATA"),
        (a, modules_of_1_0, f"{count} modules of 1.0"),
    )
    for target, ready, label in rounds:
        code = _kill_when(venv, target, ready)
        repaired = sync_ok(venv, target, label)
        assert_whole(venv, f"killed at {label} (exit code {code})")
        assert freeze(venv) == pins(target), label
        if code == KILLED:
            assert "interrupted" in repaired.stderr, describe(repaired)


# --------------------------------------------------------------------------------------
# the venv lock
# --------------------------------------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="fcntl locks")
def test_the_venv_lock_of_a_killed_sync_does_not_block_and_a_live_one_is_waited_for_boundedly(
    tmp_path: Path,
) -> None:
    from lockcheck.errors import InstallFailed
    from lockcheck.sync.apply import venv_lock

    venv = make_venv(tmp_path / "venv")
    holder = (
        "import sys, time\nfrom pathlib import Path\nfrom lockcheck.sync.apply import venv_lock\n"
        "with venv_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder, str(venv)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        start = time.monotonic()
        busy = rf"another sync of .* \(pid {proc.pid}\)"
        with pytest.raises(InstallFailed, match=busy), venv_lock(venv, timeout=0.3):
            pass
        assert time.monotonic() - start < 5
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        start = time.monotonic()
        with venv_lock(venv, timeout=5):
            pass
        assert time.monotonic() - start < 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
