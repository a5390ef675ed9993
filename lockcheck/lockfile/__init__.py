"""The lock files: requirements.txt (byte-compatible with pip-compile) and PEP 751 pylock.toml.

``settings`` holds what shapes the output, ``writer`` renders a Resolution, ``command``
formats and parses the header's command line, ``reader`` turns a lock back into data,
``pylock`` writes and reads ``pylock.toml``.  Names are re-exported lazily (PEP 562) so that
importing one submodule does not load the others: start-up time is a feature here.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "format_compile_command": "command",
    "parse_compile_command": "command",
    "ParsedPylock": "pylock",
    "PylockSettings": "pylock",
    "is_pylock_path": "pylock",
    "read_pylock": "pylock",
    "render_pylock": "pylock",
    "LockEntry": "reader",
    "LockHeader": "reader",
    "ParsedLock": "reader",
    "read_lock": "reader",
    "Header": "settings",
    "OutputSettings": "settings",
    "custom_compile_command_from_env": "settings",
    "render_requirements": "writer",
    "write_atomically": "writer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return __all__
