"""What was asked: requirement files, pyproject.toml / setup.cfg / setup.py inputs.

``read_inputs`` is the entry point; the submodules hold the parsers
(:mod:`~lockcheck.inputs.reqfile`, :mod:`~lockcheck.inputs.pyproject`).  The pyproject names
are re-exported lazily (PEP 562): a plain requirements file never loads that machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

from lockcheck.inputs.dispatch import is_project_file, read_inputs
from lockcheck.inputs.reqfile import parse_requirement_file, parse_requirement_files

__all__ = [
    "NeedsBuild",
    "is_project_file",
    "parse_requirement_file",
    "parse_requirement_files",
    "read_inputs",
    "read_project_input",
    "read_pyproject",
]

_LAZY = {"NeedsBuild", "read_project_input", "read_pyproject"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("lockcheck.inputs.pyproject"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
