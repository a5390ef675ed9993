"""A sync's download directory: removed by its own run, and when that run was killed, by the
next sync; never while its run lives (lockcheck/sync/staging.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lockcheck.sync.staging import ORPHAN_AGE_S, PREFIX, Staging, remove_abandoned
from tests.helpers import subprocess_env

_HOLD = (
    "import sys, time\n"
    "from lockcheck.sync.staging import Staging\n"
    "staging = Staging()\n"
    "(staging.path / 'alpha-1.0-py3-none-any.whl').write_bytes(b'x' * 1000)\n"
    "print(staging.path, flush=True)\n"
    "time.sleep(60)\n"
)


def _staging_of_another_process(tmp: Path) -> tuple[subprocess.Popen[str], Path]:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD],
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env({"TMPDIR": str(tmp)}),
    )
    assert process.stdout is not None
    return process, Path(process.stdout.readline().strip())


def test_a_live_syncs_directory_stays_and_a_killed_ones_goes(tmp_path: Path) -> None:
    process, staged = _staging_of_another_process(tmp_path)
    try:
        assert staged.parent == tmp_path and staged.name.startswith(PREFIX)
        remove_abandoned(tmp_path)
        assert (staged / "alpha-1.0-py3-none-any.whl").is_file()  # its run is alive
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    remove_abandoned(tmp_path)
    assert not staged.exists()


def test_a_runs_own_directory_is_removed_when_it_ends(tmp_path: Path) -> None:
    with Staging() as staging:
        assert staging.path.parent == Path(os.environ["TMPDIR"])
        (staging.path / "file").write_text("x")
        remove_abandoned()  # another sync's sweep meanwhile: this run is alive
        assert (staging.path / "file").exists()
    assert not staging.path.exists()


def test_a_directory_without_an_owner_is_removed_once_a_day_old(tmp_path: Path) -> None:
    # A run killed between making its directory and locking its owner file, or an older
    # lockcheck's: nothing tells whether it still runs, so only its age counts.
    fresh, old = tmp_path / f"{PREFIX}fresh", tmp_path / f"{PREFIX}old"
    unrelated = tmp_path / "lockcheck-cache-x"
    for folder in (fresh, old, unrelated):
        folder.mkdir()
    long_ago = time.time() - ORPHAN_AGE_S - 60
    os.utime(old, (long_ago, long_ago))
    os.utime(unrelated, (long_ago, long_ago))
    remove_abandoned(tmp_path)
    assert fresh.is_dir() and not old.exists() and unrelated.is_dir()
