"""Faults a user meets: a read-only project, a full or read-only cache, Ctrl-C while the index
hangs, a file download that fails.  Each ends with one clean line (or one warning and a
successful run), promptly, and leaves the lock and the venv as they were.

Read-only and full filesystems are real: the CLI runs in its own mount namespace
(``unshare``) where a directory is bind-mounted read-only or a tiny tmpfs is filled up, so
the kernel answers EROFS / ENOSPC even to root.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
import venv as stdlib_venv
from pathlib import Path

import pytest

from tests.fixtures.builders import DistFactory
from tests.fixtures.index_server import IndexServer
from tests.helpers import describe, run_lockcheck, subprocess_env

#: How long after SIGINT the process must be gone (1 s wanted; slack for a loaded 2-core CI).
_INTERRUPT_BOUND = 2.0


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _unshare_argv() -> list[str]:
    argv = ["unshare", "--mount"]
    if os.geteuid() != 0:
        argv.append("--map-root-user")  # a user namespace lets a normal user mount
    return argv


def _mount_namespace_works() -> bool:
    try:
        probe = subprocess.run(
            [*_unshare_argv(), "sh", "-c", 'd=$(mktemp -d) && mount -t tmpfs tmpfs "$d"'],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _mount_namespace_works(),
    reason="needs unshare --mount (a private mount namespace)",
)


def read_only(path: Path) -> str:
    """Shell lines making *path* a read-only bind mount of itself."""
    return f"mount --bind '{path}' '{path}' && mount -o remount,bind,ro '{path}'"


def full_disk(path: Path) -> str:
    """Shell lines putting a tiny tmpfs on *path* and filling it up."""
    return (
        f"mount -t tmpfs -o size=256k tmpfs '{path}' && "
        f"(dd if=/dev/zero of='{path}/.fill' bs=4k 2>/dev/null || true)"
    )


def run_with_mounts(
    setup: list[str], *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m lockcheck *args`` in a mount namespace prepared by *setup*."""
    script = " && ".join([*setup, 'exec "$@"'])
    argv = [*_unshare_argv(), "sh", "-c", script, "sh", sys.executable, "-m", "lockcheck"]
    return subprocess.run(
        [*argv, *map(str, args)],
        cwd=cwd,
        env=subprocess_env(env),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "warning" in line.lower()]


def make_venv(path: Path) -> Path:
    stdlib_venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(path)
    return path


def snapshot(root: Path) -> dict[str, str]:
    """Every file under *root* with its content digest (sync's own stamp left out)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and ".lockcheck-sync" not in path.name:
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def dist_infos(venv: Path) -> list[str]:
    return sorted(p.name for p in venv.glob("lib/python*/site-packages/*.dist-info"))


@pytest.fixture
def index(dist_factory: DistFactory, make_index) -> IndexServer:
    """alpha 1.0 (needs beta) and beta 1.0, a wheel big enough to fill a small disk; no PEP
    658 files, so compile reads metadata from the wheels themselves."""
    dist_factory.wheel("alpha", "1.0", requires_dist=["beta"])
    blob = os.urandom(400_000).hex()  # does not compress: the wheel stays big
    dist_factory.wheel("beta", "1.0", files={"beta/__init__.py": "", "beta/blob.txt": blob})
    return make_index(pep658=False)


def lock_text(server: IndexServer, url: str | None = None) -> str:
    return f"--index-url {url or server.url}\n\nalpha==1.0\nbeta==1.0\n"


def project(tmp_path: Path, server: IndexServer) -> Path:
    """A project whose lock is stale (its input gained beta): compile must rewrite it."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.in").write_text("alpha\nbeta\n", encoding="utf-8")
    (root / "requirements.txt").write_text(
        f"--index-url {server.url}\n\nalpha==1.0\n", encoding="utf-8"
    )
    return root


# --------------------------------------------------------------------------------------
# read-only project, full or read-only cache
# --------------------------------------------------------------------------------------


@needs_mounts
def test_read_only_project_keeps_the_lock_and_says_why_in_one_line(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path, index)
    before = (root / "requirements.txt").read_bytes()
    result = run_with_mounts([read_only(root)], "compile", "-i", index.url, cwd=root)
    assert result.returncode == 2, describe(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, describe(result)
    assert "internal error" not in result.stderr and "Errno" not in result.stderr
    assert "requirements.txt" in lines[0] and "Read-only file system" in lines[0]
    assert (root / "requirements.txt").read_bytes() == before
    assert sorted(p.name for p in root.iterdir()) == ["requirements.in", "requirements.txt"]


@needs_mounts
@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_an_unwritable_cache_never_breaks_compile(
    tmp_path: Path, index: IndexServer, fault: str
) -> None:
    root = project(tmp_path, index)
    cache = tmp_path / "cache"
    cache.mkdir()
    setup = full_disk(cache) if fault == "full" else read_only(cache)
    env = {"LOCKCHECK_CACHE_DIR": str(cache)}
    result = run_with_mounts([setup], "compile", "-i", index.url, cwd=root, env=env)
    assert result.returncode == 0, describe(result)
    warnings = warnings_of(result.stderr)
    assert len(warnings) == 1, describe(result)
    reason = "No space left on device" if fault == "full" else "Read-only file system"
    said = f"cannot write to the cache {cache} ({reason}); this run goes on without it"
    assert warnings[0] == f"lockcheck: warning: {said}", describe(result)
    assert "internal error" not in result.stderr
    assert "beta==1.0" in (root / "requirements.txt").read_text()


@needs_mounts
@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_an_unwritable_cache_never_breaks_sync(
    tmp_path: Path, index: IndexServer, fault: str
) -> None:
    venv = make_venv(tmp_path / "venv")
    (tmp_path / "requirements.txt").write_text(lock_text(index), encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    setup = full_disk(cache) if fault == "full" else read_only(cache)
    env = {"LOCKCHECK_CACHE_DIR": str(cache)}
    result = run_with_mounts([setup], "sync", "--python", venv, cwd=tmp_path, env=env)
    assert result.returncode == 0, describe(result)
    warnings = warnings_of(result.stderr)
    assert len(warnings) == 1, describe(result)
    assert warnings[0].startswith(f"lockcheck: warning: cannot write to the cache {cache} ("), (
        describe(result)
    )
    assert "internal error" not in result.stderr
    assert dist_infos(venv) == ["alpha-1.0.dist-info", "beta-1.0.dist-info"]
    assert index.count("/files/beta-1.0-py3-none-any.whl") <= 2  # one retry at most


def git(*args: str, cwd: Path) -> None:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(
        ["git", *args], cwd=cwd, env=subprocess_env(env), check=True, capture_output=True
    )


@needs_mounts
def test_a_git_reference_is_checked_out_elsewhere_when_the_cache_is_read_only(
    tmp_path: Path, dist_factory: DistFactory
) -> None:
    repo = dist_factory.project("sub", "1.0")
    git("init", "--quiet", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "--quiet", "-m", "v1", cwd=repo)
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.in").write_text(f"sub @ git+{repo.as_uri()}\n", encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {"LOCKCHECK_CACHE_DIR": str(cache)}
    result = run_with_mounts([read_only(cache)], "compile", "--no-index", cwd=root, env=env)
    assert result.returncode == 0, describe(result)
    assert len(warnings_of(result.stderr)) == 1, describe(result)
    assert f"sub @ git+{repo.as_uri()}" in (root / "requirements.txt").read_text()


# --------------------------------------------------------------------------------------
# Ctrl-C while the index hangs
# --------------------------------------------------------------------------------------


#: ``python -m lockcheck ARGS`` started with the stop signals' default dispositions: a suite
#: run under ``nohup`` has SIGHUP ignored, which lockcheck would rightly keep (the same
#: process after ``exec``, so a signal sent to it reaches lockcheck).
_WITH_DEFAULT_SIGNALS = (
    "import os, signal, sys\n"
    "for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
    "    signal.signal(s, signal.SIG_DFL)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'lockcheck', *sys.argv[1:]])\n"
)


def interrupt_when_asked(
    server: IndexServer,
    prefix: str,
    *args: str | Path,
    cwd: Path,
    signum: signal.Signals = signal.SIGINT,
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run lockcheck, send it *signum* (Ctrl-C's SIGINT) once the (hanging) server got a
    request for *prefix*; the result and how long the process took to end after the
    signal."""
    server.slow(prefix, 60)
    process = subprocess.Popen(
        [sys.executable, "-c", _WITH_DEFAULT_SIGNALS, *map(str, args)],
        cwd=cwd,
        env=subprocess_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not server.count(prefix) and time.monotonic() < deadline:
            if process.poll() is not None:
                break
            time.sleep(0.02)
        assert server.count(prefix), "the request never reached the server"
        time.sleep(0.3)  # well inside the read
        process.send_signal(signum)
        sent = time.monotonic()
        try:
            stdout, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        server.clear_faults()
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return result, took


def test_ctrl_c_stops_compile_at_once_while_the_index_hangs(
    tmp_path: Path, index: IndexServer
) -> None:
    root = project(tmp_path, index)
    before = (root / "requirements.txt").read_bytes()
    result, took = interrupt_when_asked(
        index, "/simple/beta/", "compile", "-i", index.url, cwd=root
    )
    assert took < _INTERRUPT_BOUND, f"exit {took:.1f} s after SIGINT\n{describe(result)}"
    assert result.returncode == 130, describe(result)
    assert "interrupted" in result.stderr and "Traceback" not in result.stderr, describe(result)
    assert (root / "requirements.txt").read_bytes() == before
    assert sorted(p.name for p in root.iterdir()) == ["requirements.in", "requirements.txt"]


def test_ctrl_c_stops_sync_at_once_while_a_download_hangs(
    tmp_path: Path, index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv")
    (tmp_path / "requirements.txt").write_text(lock_text(index), encoding="utf-8")
    before = snapshot(venv)
    result, took = interrupt_when_asked(
        index, "/files/beta-", "sync", "--python", venv, cwd=tmp_path
    )
    assert took < _INTERRUPT_BOUND, f"exit {took:.1f} s after SIGINT\n{describe(result)}"
    assert result.returncode == 130, describe(result)
    assert "interrupted" in result.stderr and "Traceback" not in result.stderr, describe(result)
    assert snapshot(venv) == before


# --------------------------------------------------------------------------------------
# a failed file download names the file
# --------------------------------------------------------------------------------------

_FAULTS = ["404", "503", "truncated"]


def inject(server: IndexServer, fault: str, path: str) -> None:
    if fault == "truncated":
        server.truncate(path)
    else:
        server.fail_next(path, int(fault), times=1000)


@pytest.mark.parametrize("fault", _FAULTS)
def test_a_failed_download_during_sync_names_the_file(
    tmp_path: Path, dist_factory: DistFactory, make_index, fault: str
) -> None:
    dist_factory.wheel("alpha", "1.0")
    dist_factory.wheel("beta", "1.0")
    server = make_index(auth=("user", "sekrit"))
    venv = make_venv(tmp_path / "venv")
    lock = tmp_path / "requirements.txt"
    lock.write_text(lock_text(server, server.url_with_auth), encoding="utf-8")
    before = snapshot(venv)
    inject(server, fault, "/files/beta-1.0-py3-none-any.whl")
    result = run_lockcheck("sync", "--python", venv, cwd=tmp_path, env={"PIP_RETRIES": "1"})
    assert result.returncode == 2, describe(result)
    first = result.stderr.splitlines()[0]
    assert f"{server.base_url}/files/beta-1.0-py3-none-any.whl" in first, describe(result)
    assert "does not match its hash" not in first, describe(result)
    assert "sekrit" not in result.stderr + result.stdout
    assert snapshot(venv) == before


def test_a_failed_download_of_a_direct_url_masks_its_credentials(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    dist_factory.wheel("beta", "1.0")
    server = make_index(auth=("user", "sekrit"))
    venv = make_venv(tmp_path / "venv")
    base = server.base_url.replace("http://", "http://user:sekrit@")
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"beta @ {base}/files/beta-1.0-py3-none-any.whl\n", encoding="utf-8")
    server.truncate("/files/")
    result = run_lockcheck("sync", "--python", venv, cwd=tmp_path, env={"PIP_RETRIES": "1"})
    assert result.returncode == 2, describe(result)
    masked = server.base_url.replace("http://", "http://****@")
    assert f"{masked}/files/beta-1.0-py3-none-any.whl" in result.stderr, describe(result)
    assert "sekrit" not in result.stderr + result.stdout


@pytest.mark.parametrize("fault", _FAULTS)
def test_a_failed_metadata_read_during_compile_names_the_file(
    tmp_path: Path, index: IndexServer, fault: str
) -> None:
    root = project(tmp_path, index)
    before = (root / "requirements.txt").read_bytes()
    inject(index, fault, "/files/beta-1.0-py3-none-any.whl")
    result = run_lockcheck("compile", "-i", index.url, cwd=root, env={"PIP_RETRIES": "1"})
    assert result.returncode == 2, describe(result)
    first = result.stderr.splitlines()[0]
    assert f"{index.base_url}/files/beta-1.0-py3-none-any.whl" in first, describe(result)
    assert "does not match its hash" not in first, describe(result)
    assert (root / "requirements.txt").read_bytes() == before


def test_a_download_with_no_disk_space_anywhere_is_one_clean_error(
    tmp_path: Path, dist_factory: DistFactory, make_index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache's disk fails, then the scratch directory's too (only a seam can make the
    system temp dir fail: tempfile skips an unwritable $TMPDIR)."""
    import errno
    import tempfile

    from lockcheck.errors import LockcheckError
    from lockcheck.index.finder import PackageFinder
    from lockcheck.index.settings import IndexSettings

    dist_factory.wheel("beta", "1.0")
    server = make_index()
    settings = IndexSettings(index_url=server.url, cache_dir=tmp_path / "cache", retries=0)
    with PackageFinder(settings) as finder:
        (file,) = finder.project_files("beta")

        def full(*args: object, **kwargs: object) -> tuple[int, str]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(tempfile, "mkstemp", full)
        with pytest.raises(LockcheckError) as info:
            finder.download(file, tmp_path / "out")
    message = str(info.value)
    assert message.startswith(f"cannot save {server.file_url(file.filename)} in ")
    assert message.endswith(": No space left on device")
    assert server.count(f"/files/{file.filename}") == 2  # once into the cache, once elsewhere


# --------------------------------------------------------------------------------------
# a build backend that hangs
# --------------------------------------------------------------------------------------

#: A backend whose metadata hook starts a process of its own (holding the output pipe, as a
#: compiler would), records both pids, then hangs.
HANGING_BACKEND = """\
import os, subprocess, sys, time

def get_requires_for_build_wheel(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    with open(os.environ["HANG_PIDS"], "a") as fh:
        fh.write(f"{os.getpid()} {child.pid}\\n")
    time.sleep(3600)

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    time.sleep(3600)
"""


def hanging_project(tmp_path: Path) -> tuple[Path, Path]:
    """(project whose input is a source tree with HANGING_BACKEND, where its pids go)."""
    tree = tmp_path / "hangs"
    (tree / "_be").mkdir(parents=True)
    (tree / "_be" / "hangbackend.py").write_text(HANGING_BACKEND, encoding="utf-8")
    (tree / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "hangbackend"\nbackend-path = ["_be"]\n',
        encoding="utf-8",
    )
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.in").write_text(f"hangs @ {tree.as_uri()}\n", encoding="utf-8")
    return root, tmp_path / "pids"


def build_pids(record: Path, wait: float = 0.0) -> list[int]:
    deadline = time.monotonic() + wait
    while True:
        text = record.read_text() if record.exists() else ""
        if text.endswith("\n") or time.monotonic() >= deadline:
            return [int(p) for p in text.split()]
        time.sleep(0.05)


def gone(pids: list[int], within: float) -> bool:
    """Whether every one of *pids* has ended (reaped, or a zombie of a parent now gone)."""
    deadline = time.monotonic() + within
    while True:
        alive = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    if fh.read().split(") ", 1)[1][0] != "Z":
                        alive.append(pid)
            except (FileNotFoundError, ProcessLookupError):
                pass
        if not alive or time.monotonic() >= deadline:
            return not alive
        time.sleep(0.05)


def start_compile(root: Path, record: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """``lockcheck compile`` of *root* in a process group of its own, as a shell starts a
    command (so that a test can end every process of it, whatever lockcheck left)."""
    return subprocess.Popen(
        [sys.executable, "-m", "lockcheck", "compile", "--no-build-isolation",
         "--cache-dir", str(root.parent / "cache")],
        cwd=root,
        env={**subprocess_env(), "HANG_PIDS": str(record), **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip


def finish(process: subprocess.Popen[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Its result, once it ends within *timeout* s (else its group is killed: the test
    fails instead of waiting for the processes it left holding its output)."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        raise AssertionError(f"still running after {timeout} s:\n{stderr}") from None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_build_that_hangs_ends_at_its_bound_with_one_clean_error(tmp_path: Path) -> None:
    root, record = hanging_project(tmp_path)
    result = finish(start_compile(root, record, {"LOCKCHECK_BUILD_TIMEOUT": "2"}), 30)
    assert result.returncode == 2, describe(result)
    assert "did not finish within 2 s" in result.stderr, describe(result)
    assert "LOCKCHECK_BUILD_TIMEOUT" in result.stderr, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    pids = build_pids(record)
    assert len(pids) == 2, record.read_text() if record.exists() else "no build ran"
    assert gone(pids, 2.0), f"left running: {pids}"
    assert not (root / "requirements.txt").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c-to-the-group", "sigterm-to-lockcheck-alone"],
)
def test_a_stop_during_a_build_ends_the_build_too(
    tmp_path: Path, signum: signal.Signals, to_group: bool
) -> None:
    """A build's processes are in a group of their own (so that its bound can end them
    all): the terminal's Ctrl-C reaches lockcheck alone, as SIGTERM from ``timeout`` or
    ``kill`` does, and lockcheck ends them as it exits."""
    root, record = hanging_project(tmp_path)
    process = start_compile(root, record, {})
    try:
        pids = build_pids(record, wait=60)
        assert len(pids) == 2, "the build never started"
        if to_group:
            os.killpg(process.pid, signum)  # what the terminal does on Ctrl-C
        else:
            process.send_signal(signum)
        sent = time.monotonic()
        process.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        result = finish(process, 30)
    assert took < _INTERRUPT_BOUND, f"exit {took:.1f} s after {signum.name}\n{describe(result)}"
    assert result.returncode == 128 + signum, describe(result)
    assert gone(pids, 1.0), f"left running: {pids}"
    assert not (root / "requirements.txt").exists()


# --------------------------------------------------------------------------------------
# SIGTERM and SIGHUP: unwound as Ctrl-C is
# --------------------------------------------------------------------------------------


def lockcheck_temporaries() -> list[str]:
    """What lockcheck left in this test's temporary directory (``TMPDIR``)."""
    return sorted(p.name for p in Path(os.environ["TMPDIR"]).glob("lockcheck-*"))


def test_sigterm_stops_compile_at_once_and_writes_nothing(
    tmp_path: Path, index: IndexServer
) -> None:
    """A cancelled CI job, ``timeout(1)`` or an editor cancelling a hook sends SIGTERM: the
    run ends within the bound, as on Ctrl-C, with 128 + 15 and one line saying so."""
    root = project(tmp_path, index)
    before = (root / "requirements.txt").read_bytes()
    result, took = interrupt_when_asked(
        index, "/simple/beta/", "compile", "-i", index.url, cwd=root, signum=signal.SIGTERM
    )
    assert took < _INTERRUPT_BOUND, f"exit {took:.1f} s after SIGTERM\n{describe(result)}"
    assert result.returncode == 143, describe(result)
    assert result.stderr.strip().splitlines()[-1] == (
        "lockcheck: terminated (SIGTERM); nothing was written"
    ), describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    assert (root / "requirements.txt").read_bytes() == before
    assert sorted(p.name for p in root.iterdir()) == ["requirements.in", "requirements.txt"]
    assert lockcheck_temporaries() == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_sync_stopped_by_a_signal_leaves_the_venv_and_no_download_behind(
    tmp_path: Path, index: IndexServer, signum: signal.Signals
) -> None:
    """Stopped while a download hangs, the sync leaves the venv as it was and removes the
    wheels it had fetched; the default action of these signals would leave them in the
    temporary directory."""
    venv = make_venv(tmp_path / "venv")
    (tmp_path / "requirements.txt").write_text(lock_text(index), encoding="utf-8")
    before = snapshot(venv)
    result, took = interrupt_when_asked(
        index, "/files/beta-", "sync", "--python", venv, cwd=tmp_path, signum=signum
    )
    assert took < _INTERRUPT_BOUND, f"exit {took:.1f} s after {signum.name}\n{describe(result)}"
    assert result.returncode == 128 + signum, describe(result)
    assert f"lockcheck: terminated ({signum.name})" in result.stderr, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    assert snapshot(venv) == before
    assert lockcheck_temporaries() == []


def test_a_signal_the_run_starts_with_ignored_stays_ignored(tmp_path: Path) -> None:
    """``nohup`` starts a command with SIGHUP ignored: lockcheck keeps it so, and handles
    SIGTERM."""
    code = (
        "import signal\nsignal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "from lockcheck import termination\ntermination.install()\n"
        "print(signal.getsignal(signal.SIGHUP) is signal.SIG_IGN,"
        " callable(signal.getsignal(signal.SIGTERM)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["True", "True"], describe(result)


# --------------------------------------------------------------------------------------
# a git server that stops answering
# --------------------------------------------------------------------------------------


def test_a_git_server_that_never_answers_is_one_clean_error_at_the_bound(tmp_path: Path) -> None:
    """git's own HTTP client waits for ever on a server that accepted the connection and
    says nothing; the clone ends at its bound, with the command named."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []

    def hold() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(listener.accept()[0])  # read nothing, answer nothing

    threading.Thread(target=hold, daemon=True).start()
    port = listener.getsockname()[1]
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.in").write_text(
        f"sub @ git+http://127.0.0.1:{port}/sub.git\n", encoding="utf-8"
    )
    try:
        started = time.monotonic()
        result = run_lockcheck(
            "compile", "--cache-dir", tmp_path / "cache", cwd=root,
            env={"LOCKCHECK_GIT_TIMEOUT": "2"}, timeout=60,
        )  # fmt: skip
        took = time.monotonic() - started
    finally:
        listener.close()
        for connection in held:
            connection.close()
    assert result.returncode == 2, describe(result)
    assert "git clone did not finish within 2 s" in result.stderr, describe(result)
    assert "LOCKCHECK_GIT_TIMEOUT" in result.stderr, describe(result)
    assert len(result.stderr.strip().splitlines()) == 1, describe(result)
    assert took < 30, describe(result)
    assert not (root / "requirements.txt").exists()
    assert not list((tmp_path / "cache").glob("**/.clone-*")), "a half clone was left"
