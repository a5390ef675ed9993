"""What was asked: requirement files, pyproject.toml / setup.cfg / setup.py inputs.

``read_inputs`` is the entry point; the submodules hold the parsers
(:mod:`~lockcheck.inputs.reqfile`, :mod:`~lockcheck.inputs.pyproject`).
"""

from __future__ import annotations

from lockcheck.inputs.dispatch import is_project_file, read_inputs
from lockcheck.inputs.pyproject import NeedsBuild, read_project_input, read_pyproject
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
