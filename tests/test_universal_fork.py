"""A universal compile resolves every other environment of a round in a forked copy of itself
(on the other core): the same lock, the same failure, whatever happens to the copy."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.fixtures.builders import PackageSpec as P
from tests.fixtures.builders import build_packages
from tests.helpers import describe, run_lockcheck

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux")

PACKAGES = [
    P(
        "app",
        "1.0",
        deps=(
            "core",
            "winhelp; sys_platform == 'win32'",
            "older; python_version < '3.12'",
            "oddity; sys_platform == 'win32' and python_version == '3.11'",
            "held<2; python_version >= '3.13'",
        ),
    ),
    P("held", "1.0"),
    P("held", "2.0"),
    P("oddity", "1.0", deps=("this is no requirement",)),
    P("core", "1.0", requires_python=">=3.8"),
    P("core", "2.0", deps=("extra",), requires_python=">=3.13"),
    P("extra", "0.5"),
    P("winhelp", "3.0", deps=("shim",)),
    P("shim", "1.1"),
    P("older", "0.1"),
    P("picky", "1.0", requires_python="<3.12"),
    P("picky", "0.9", requires_python="<3.13"),
]


@pytest.fixture
def fork_index(make_index, tmp_path):
    return make_index(build_packages(PACKAGES, tmp_path / "house").directory)


def _compile(folder: Path, index_url: str, report: Path, **env: str):
    return run_lockcheck(
        "compile", "--universal", "-v", "-i", index_url, "-o", "-", "requirements.in",
        cwd=folder, env={"LOCKCHECK_TEST_FORK_REPORT": str(report), **env},
    )  # fmt: skip


def _error(stderr: str) -> list[str]:
    """The error's lines (-v adds the progress and the debug log before them)."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("lockcheck: error")]
    return lines[starts[0] :] if starts else lines


def _report(path: Path) -> list[str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [line.split()[0] if line.startswith("forked") else line for line in lines]


def test_the_copys_share_gives_the_lock_of_one_by_one(tmp_path, fork_index):
    (tmp_path / "requirements.in").write_text("app\n")
    alone = _compile(tmp_path, fork_index.url, tmp_path / "alone", LOCKCHECK_FORK="0")
    shared = _compile(tmp_path, fork_index.url, tmp_path / "shared")
    assert alone.returncode == 0 and shared.returncode == 0, describe(shared)
    assert _report(tmp_path / "alone") == []
    assert _report(tmp_path / "shared")[:2] == ["forked", "answered"], describe(shared)
    assert shared.stdout == alone.stdout
    assert 'winhelp==3.0 ; sys_platform == "win32"' in shared.stdout
    assert 'core==2.0 ; python_version >= "3.13"' in shared.stdout


def test_a_copy_killed_before_it_answers_leaves_its_share_to_the_run(tmp_path, fork_index):
    (tmp_path / "requirements.in").write_text("app\n")
    alone = _compile(tmp_path, fork_index.url, tmp_path / "alone", LOCKCHECK_FORK="0")
    killed = _compile(
        tmp_path, fork_index.url, tmp_path / "killed", LOCKCHECK_TEST_CRASH_AT="forked-call"
    )
    assert killed.returncode == 0, describe(killed)
    assert _report(tmp_path / "killed")[:2] == ["forked", "no answer"], describe(killed)
    assert killed.stdout == alone.stdout


@pytest.mark.parametrize(
    ("platform", "picky", "python"),
    [
        ("win32", "1.0", "3.12"),  # the first to fail is the run's
        ("win32", "0.9", "3.13"),  # the copy's, and the run's next one fails too
        ("darwin", "1.0", "3.12"),  # the copy's
    ],
)
def test_a_failure_is_reported_for_the_same_environment_as_one_by_one(
    tmp_path, fork_index, platform, picky, python
):
    # Unsatisfiable on one platform from one Python on: the first environment that fails
    # (in the copy's share, or in the run's) is the one named, as without the copy.
    requirement = f"picky=={picky}; sys_platform == '{platform}'"
    (tmp_path / "requirements.in").write_text(f"app\n{requirement}\n")
    alone = _compile(tmp_path, fork_index.url, tmp_path / "alone", LOCKCHECK_FORK="0")
    shared = _compile(tmp_path, fork_index.url, tmp_path / "shared")
    assert alone.returncode == 2, describe(alone)
    assert f"the target is Python {python}" in alone.stderr, describe(alone)
    assert _report(tmp_path / "shared")[:1] == ["forked"], describe(shared)
    assert (shared.returncode, _error(shared.stderr)) == (alone.returncode, _error(alone.stderr))


def test_a_killed_runs_copy_is_gone_within_a_second(tmp_path, fork_index):
    import time

    # The copy's share (Python 3.13 first) needs held 1.0, which the first environment's
    # background walk does not fetch ahead (it takes each project's newest release), and
    # the index is slow to give it: the copy would outlive the run but for the
    # parent-death signal.
    fork_index.slow("/files/held-1.0", 10)
    (tmp_path / "requirements.in").write_text("app\n")
    killed = _compile(tmp_path, fork_index.url, tmp_path / "rep", LOCKCHECK_TEST_CRASH_AT="forked")
    assert killed.returncode == -9, describe(killed)
    (line,) = (tmp_path / "rep").read_text().splitlines()
    pid = int(line.split()[1])
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split()[2] == "Z":  # gone, not yet reaped by init
                    return
        except FileNotFoundError:
            return
        time.sleep(0.02)
    raise AssertionError(f"the copy {pid} outlived the killed run")


def test_a_warning_the_copy_gave_is_given_once_by_the_run(tmp_path, fork_index):
    # Only Python 3.11 on Windows (in the copy's share) reads oddity's metadata, whose
    # Requires-Dist the run warns about: the warning is given as one by one gives it.
    (tmp_path / "requirements.in").write_text("app\n")
    alone = _compile(tmp_path, fork_index.url, tmp_path / "alone", LOCKCHECK_FORK="0")
    shared = _compile(tmp_path, fork_index.url, tmp_path / "shared")
    assert _report(tmp_path / "shared")[:2] == ["forked", "answered"], describe(shared)
    warning = "ignoring invalid Requires-Dist 'this is no requirement'"
    assert alone.stderr.count(warning) == 1, describe(alone)
    assert shared.stderr.count(warning) == 1, describe(shared)


_LATE_CLIENT = """
import sys, threading, time
from pathlib import Path

import lockcheck._entry
import lockcheck.index._httpx  # imported now: the client builds at once, its store loads on
from lockcheck.index.finder import PackageFinder
from lockcheck.index.settings import IndexSettings

lockcheck._entry.COMMAND = True  # the program, which may fork
big, cache = sys.argv[1:3]
finder = PackageFinder(
    IndexSettings(index_url="http://127.0.0.1:9/simple", cert=big, cache_dir=Path(cache))
)


running = threading.Event()


def late_client(_):
    running.set()
    time.sleep(0.2)  # after the fork's first look at the client
    finder._session.sender  # the client: its trust store loads in a thread of its own


finder._submit_all(late_client, [None], urgent=False)
# Running, not only queued: the fork sets queued tasks aside and forks at once (on a busy
# machine the pool's thread took longer to start than the fork to look, and it forked).
assert running.wait(30)
started = time.monotonic()
forked = finder.fork_call(lambda: "copy answered", settle=float(sys.argv[3]))
waited = time.monotonic() - started
print(forked.result(30) if forked is not None else "no fork")
print(f"{waited:.2f}", file=sys.stderr)
finder.close()
"""


def _fork_beside_a_late_trust_store(tmp_path: Path, settle: float, copies: int = 40):
    import os
    import ssl
    import subprocess

    from lockcheck.forking import REPORT_VAR

    system = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    if not system.is_file():
        pytest.skip("no system CA bundle to build a big one from")
    big = tmp_path / "big-bundle.pem"
    big.write_bytes(system.read_bytes() * copies)  # 40: about 9 MB, OpenSSL takes a while
    env = {**os.environ, "LOCKCHECK_FETCH_HELPER": "0", REPORT_VAR: str(tmp_path / "report")}
    done = subprocess.run(
        [sys.executable, "-c", _LATE_CLIENT, str(big), str(tmp_path / "cache"), str(settle)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    waited = float(done.stderr.strip().splitlines()[-1])
    return done.stdout.strip(), waited, _report(tmp_path / "report")


def test_a_trust_store_still_loading_does_not_keep_the_copy_from_forking(tmp_path):
    """A background task builds the HTTP client while the fork waits for the pool to be
    idle; the client's trust store (a big corporate bundle: OpenSSL takes a second) is
    still loading in its thread when the pool is.  The fork waits for that load instead of
    giving up the copy (a plain-HTTP index never waits for it otherwise)."""
    answer, _waited, _ = _fork_beside_a_late_trust_store(tmp_path, settle=30.0)
    assert answer == "copy answered"


def test_the_fork_waits_for_a_trust_store_no_longer_than_its_bound(tmp_path):
    """A bigger load (27 MB: seconds), with the fork's wait bounded below it: the pool is
    idle by then, the load is not, so no copy (the run resolves every environment itself),
    decided at the bound, not after the load."""
    answer, waited, report = _fork_beside_a_late_trust_store(tmp_path, settle=0.8, copies=120)
    assert answer == "no fork"
    assert report == ["no fork: 0 tasks running, other threads ['lockcheck-tls']"], report
    assert waited < 2.5, waited
