"""File-name conventions shared by compile, config, sync and the input readers.

Kept dependency-free (lockcheck.errors only): the no-op paths read the config without
loading the compile machinery.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lockcheck.errors import InputError

__all__ = ["PROJECT_FILES", "default_output_for", "discover_inputs"]

#: Inputs that describe a project (read through PEP 621 or a PEP 517 build).
PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")


def default_output_for(src_files: Sequence[Path], cwd: Path) -> Path:
    """pip-compile's rule: ``x.in`` -> ``x.txt`` beside it; a project file -> requirements.txt."""
    if not src_files or str(src_files[0]) == "-":
        return cwd / "requirements.txt"
    first = Path(src_files[0])
    if first.name in PROJECT_FILES:
        return first.parent / "requirements.txt"
    if first.suffix == ".in":
        return first.with_suffix(".txt")
    return first.parent / (first.name + ".txt")


def discover_inputs(cwd: Path) -> tuple[Path, ...]:
    """pip-compile's default input: the first of requirements.in, setup.py, pyproject.toml
    and setup.cfg found in *cwd*."""
    for name in ("requirements.in", "setup.py", "pyproject.toml", "setup.cfg"):
        if (cwd / name).exists():
            return (Path(name),)
    raise InputError(
        "no input given and none of requirements.in, setup.py, pyproject.toml, setup.cfg "
        "exists here"
    )
