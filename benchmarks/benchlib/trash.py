"""What the harness is done with, set aside while it measures and deleted once it is over.

The machines this is measured on keep their root file system as ext4 without a journal.
There a new inode (each file or directory a measured tool creates) skips every inode of its
block group freed in the last 5 seconds, or in the last 5 minutes while the inode table block
is not written back yet, looking each one up in the buffer cache.  After the harness deleted
a venv or a cache, each ``mkdir`` of the next runs cost about 0.5 ms instead of 0.03-0.08 ms,
and the sync column's new-venv times rose with every repetition (lockcheck 0.64 -> 1.62 s,
uv 0.45 -> 1.05 s over five; in `perf`, 56% of a sync's CPU was that kernel scan): the
harness measured its own deletions.  A rename frees no inode, so a discarded directory waits
in the trash until the end, when it is deleted and the file system flushed (clean blocks
leave a 5-second window, which :func:`settle` waits out before measuring).
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from pathlib import Path

__all__ = ["SETTLE_SECONDS", "Trash", "settle"]

#: ext4's window for inodes freed with their inode table block already written back.
SETTLE_SECONDS = 5.5


def settle(seconds: float = SETTLE_SECONDS) -> None:
    """Flush the file system and wait until what was freed before counts as free."""
    os.sync()
    time.sleep(seconds)


class Trash:
    """A directory, on the work tree's file system, that discarded paths are moved into."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._numbers = itertools.count()

    def discard(self, path: Path) -> None:
        """Move *path* (a file or a directory tree) out of the way without deleting it;
        deleted at once where it cannot be moved (another file system)."""
        if not path.exists() and not path.is_symlink():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        while True:
            dest = self.root / f"{next(self._numbers)}-{path.name}"
            if not dest.exists():
                break
        try:
            os.rename(path, dest)
        except OSError:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def empty(self) -> bool:
        """Delete everything discarded (also a killed run's) and flush; whether there was any."""
        if not self.root.exists():
            return False
        shutil.rmtree(self.root, ignore_errors=True)
        os.sync()
        return True
