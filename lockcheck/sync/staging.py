"""Where a sync's downloads wait for the install, and what becomes of a killed sync's.

A sync downloads into a directory of its own in the system's temporary directory and removes
it when it ends, whatever the outcome.  A sync killed with SIGKILL (or by a crash, or a
machine losing power) cannot: its directory, up to the size of every wheel it was
installing, stayed in ``/tmp`` for good.

So each directory holds an owner file its sync keeps locked (``flock``) while it runs; the
kernel lets go of the lock when the process dies, however it dies.  The next sync that
changes a venv removes every such directory whose owner file it can lock: only those of runs
that are gone (a live run's is locked; another user's it cannot open).  A lock, unlike a
pid, is not fooled by a reused pid or by containers sharing ``/tmp`` with pid namespaces of
their own.  The owner file is locked under another name and then renamed, so an owner file
is never seen unlocked while its run lives.  A directory without one (a run killed before
it, or an older lockcheck's) is removed once it is :data:`ORPHAN_AGE_S` old.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["PREFIX", "Staging", "remove_abandoned"]

PREFIX = "lockcheck-sync-"
_OWNER = ".owner"
#: Seconds after which a directory without an owner file is taken for abandoned.
ORPHAN_AGE_S = 86400.0


class Staging:
    """A new staging directory, locked by this process until :meth:`remove`."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX))
        self._fd: int | None = None
        unlocked = self.path / f"{_OWNER}-new"
        try:
            fd = os.open(unlocked, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            return  # no owner file: removed only once a day old, as an older lockcheck's
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(unlocked, self.path / _OWNER)
        except OSError:  # a filesystem without locks: no owner file, as above
            os.close(fd)
            return
        self._fd = fd

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()


def remove_abandoned(tmp: Path | None = None) -> None:
    """Remove the staging directories in *tmp* (the system's temporary directory) whose
    syncs are gone."""
    folder = Path(tempfile.gettempdir()) if tmp is None else tmp
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(PREFIX)]
    except OSError:
        return
    now = time.time()
    for entry in entries:
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False) and _abandoned(Path(entry.path), now):
                shutil.rmtree(entry.path, ignore_errors=True)


def _abandoned(directory: Path, now: float) -> bool:
    """Whether *directory*'s sync is gone (OSError: it cannot be told, e.g. another user's)."""
    owner = directory / _OWNER
    try:
        fd = os.open(owner, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:
        return now - directory.stat().st_mtime > ORPHAN_AGE_S
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its sync is running
        return True
    finally:
        os.close(fd)
