"""What was asked: requirement files, pyproject.toml / setup.cfg / setup.py inputs.

``read_inputs`` is the entry point; the submodules hold the parsers
(:mod:`~lockcheck.inputs.reqfile`, :mod:`~lockcheck.inputs.pyproject`) and the build
requirements a project's backend asks for (:mod:`~lockcheck.inputs.builddeps`).  The
package imports its submodules, never the other way round.
"""

from __future__ import annotations

from lockcheck.inputs.dispatch import is_project_file, read_inputs
from lockcheck.inputs.reqfile import parse_requirement_file, parse_requirement_files

__all__ = [
    "is_project_file",
    "parse_requirement_file",
    "parse_requirement_files",
    "read_inputs",
]
