"""The lock already on disk, whichever format it is in (requirements.txt or pylock.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lockcheck.lockfile.reader import ParsedLock

__all__ = ["is_pylock_output", "read_any_lock"]


def is_pylock_output(path: Path) -> bool:
    """PEP 751's file names (``pylock.toml``, ``pylock.<name>.toml``), without importing the
    pylock module for the common requirements.txt case."""
    name = path.name
    if not (name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))):
        return False
    from lockcheck.lockfile.pylock import is_pylock_path

    return is_pylock_path(path)


def read_any_lock(text: str, output: Path | None) -> ParsedLock:
    """The existing lock *text* of *output*, parsed by the reader of its format (a
    ParsedPylock is a ParsedLock)."""
    if output is not None and is_pylock_output(output):
        from lockcheck.lockfile.pylock import read_pylock

        return read_pylock(text, name=str(output), base_dir=output.parent)
    from lockcheck.lockfile.reader import read_lock

    return read_lock(text, name=str(output))
