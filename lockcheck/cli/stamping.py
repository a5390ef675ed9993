"""What the commands' stamps watch (see :mod:`lockcheck.stamps` for the answering side)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from lockcheck import stamps

__all__ = ["index_answer_expiry", "remember_command_line", "steering_files", "write_argv_stamp"]

#: The command line :func:`lockcheck.cli.main` was given: the key the fast path will compute
#: for the same command (``sys.argv`` is the host's when ``main`` is called as a library).
_command_line: list[str] | None = None


def remember_command_line(argv: list[str]) -> None:
    global _command_line
    _command_line = list(argv)


def steering_files(cwd: Path) -> set[Path]:
    """Files that change what a command here does: lockcheck's config and pip's."""
    from lockcheck.config import CONFIG_FILES
    from lockcheck.index.pipconfig import config_files

    files = {cwd / name for name in CONFIG_FILES}
    files.update(config_files(os.environ))
    return files


def index_answer_expiry() -> float:
    """Until when an answer that asked the index (which pins are yanked) stays true."""
    from lockcheck.index.cache import PAGE_MAX_AGE

    return time.time() + PAGE_MAX_AGE


def write_argv_stamp(files: Iterable[Path], payload: dict[str, object]) -> None:
    """Let the next identical command line answer before click loads (see lockcheck._entry)."""
    argv = sys.argv[1:] if _command_line is None else _command_line
    stamps.write_stamp(stamps.argv_key(argv), files, payload)
