"""The requirements.txt lock: write it byte-compatible with pip-compile, read it back.

``settings`` holds what shapes the output, ``writer`` renders a Resolution, ``command``
formats and parses the header's command line, ``reader`` turns a lock back into data.
``pylock`` writes and reads the PEP 751 ``pylock.toml`` format.
"""

from __future__ import annotations

from lockcheck.lockfile.command import format_compile_command, parse_compile_command
from lockcheck.lockfile.pylock import (
    ParsedPylock,
    PylockSettings,
    is_pylock_path,
    read_pylock,
    render_pylock,
)
from lockcheck.lockfile.reader import LockEntry, LockHeader, ParsedLock, read_lock
from lockcheck.lockfile.settings import OutputSettings, custom_compile_command_from_env
from lockcheck.lockfile.writer import render_requirements, write_atomically

__all__ = [
    "LockEntry",
    "LockHeader",
    "OutputSettings",
    "ParsedLock",
    "ParsedPylock",
    "PylockSettings",
    "custom_compile_command_from_env",
    "format_compile_command",
    "is_pylock_path",
    "parse_compile_command",
    "read_lock",
    "read_pylock",
    "render_pylock",
    "render_requirements",
    "write_atomically",
]
