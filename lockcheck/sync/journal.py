"""The on-disk journal of a sync transaction: what a run that was killed had done.

A transaction (:mod:`lockcheck.sync.apply`) keeps a backup directory in the venv's root and,
in it, a journal: one line per step, written *before* the step happens, so the journal always
names at least everything that was changed.  A run that finds a backup directory with a
journal knows a sync died midway and undoes it from the journal before planning; committing
a transaction is deleting its journal, after which the backup directory is junk.

Lines are JSON arrays::

    ["move", original, saved]   original is moved into the backup, as saved
    ["mkdir", path]             a directory is created for a new file
    ["tree", path]              a directory is created whose whole content the transaction
                                writes: its files and subdirectories get no lines of their own
    ["create", path]            a new file is written
    ["rmdir", path]             an emptied directory is removed

The journal survives the process being killed (the kernel keeps what was written); it is not
synced to disk per step, so a power loss during a sync is not covered (pip's isn't either).
Stdlib only: the no-op stamp asks :func:`has_pending` on every run.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "BACKUP_PREFIX",
    "JOURNAL_NAME",
    "JournalWriter",
    "backup_dirs",
    "has_pending",
    "read_journal",
]

#: Prefix of the backup directories a transaction makes in the venv's root.
BACKUP_PREFIX = ".lockcheck-sync-backup-"
_encode_string = json.encoder.encode_basestring_ascii

#: The journal's file name inside a backup directory.
JOURNAL_NAME = "journal"


class JournalWriter:
    """Appends steps to a new journal file, each with one unbuffered write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_BINARY", 0)
        self._fd: int | None = os.open(path, flags, 0o600)

    def log(self, *fields: str) -> None:
        assert self._fd is not None, "journal already closed"
        os.write(self._fd, (json.dumps(fields) + "\n").encode("utf-8"))

    def log_many(self, steps: Sequence[Sequence[str]]) -> None:
        """Several steps with one write (all written before any of them happens)."""
        assert self._fd is not None, "journal already closed"
        # The bytes json.dumps(list(step)) writes, without its per-call set-up: a new venv
        # journals one line per file (19k for the data-science lock).
        text = "".join("[" + ", ".join(map(_encode_string, s)) + "]\n" for s in steps)
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(self._fd, data) :]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_journal(path: Path) -> list[list[str]]:
    """The steps of a journal; a torn last line (the process died writing it) is dropped,
    as its step never started."""
    steps: list[list[str]] = []
    with open(path, "rb") as fh:
        for raw in fh:
            try:
                step = json.loads(raw)
            except ValueError:
                break
            if isinstance(step, list) and step and all(isinstance(f, str) for f in step):
                steps.append(step)
    return steps


def backup_dirs(venv: Path) -> list[Path]:
    """Backup directories left in *venv* (by a running or killed transaction)."""
    found: list[Path] = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(venv):
            if entry.name.startswith(BACKUP_PREFIX) and entry.is_dir(follow_symlinks=False):
                found.append(Path(entry.path))
    return sorted(found)


def has_pending(venv: Path) -> bool:
    """Whether a transaction in *venv* was started and neither committed nor rolled back."""
    return any((d / JOURNAL_NAME).exists() for d in backup_dirs(venv))
