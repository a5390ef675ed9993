"""Read every input of a lock (requirement files and project files) into one ParsedInputs.

pip-compile accepts several source files; requirement files share one option state (pip's
finder), project files add their metadata's requirements.  Order is kept, ``files`` is
de-duplicated.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from lockcheck.errors import InputError
from lockcheck.inputs.builddeps import NOT_A_PROJECT
from lockcheck.inputs.reqfile import STDIN, Fetch, RequirementFileParser
from lockcheck.models import InputRequirement, ParsedInputs
from lockcheck.paths import PROJECT_FILES

__all__ = ["is_project_file", "read_inputs"]


def is_project_file(path: Path | str) -> bool:
    """True for pyproject.toml, setup.cfg and setup.py (pip-compile's "setup files")."""
    return os.fspath(path) != STDIN and Path(path).name in PROJECT_FILES


def read_inputs(
    paths: Sequence[Path | str],
    *,
    extras: Sequence[str] = (),
    all_extras: bool = False,
    groups: Sequence[str] = (),
    build_isolation: bool = True,
    index_env: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    relative_to: Path | None = None,
    constraints: Sequence[Path | str] = (),
    build_targets: tuple[str, ...] = (),
    only_build_deps: bool = False,
    build_hooks: bool = True,
    fetch: Fetch | None = None,
) -> ParsedInputs:
    """Merge *paths* in order (``"-"`` is standard input), then the *constraints* files
    (pip-compile's ``--constraint``).

    Extras and dependency groups apply to the project files; asking for them without one is
    an InputError, as in pip-compile ("--extra has effect only with setup.py and PEP-517
    input formats").  Build requirements (*build_targets*, see
    :mod:`lockcheck.inputs.builddeps`) are only asked of project files, so any other input
    is an InputError then.  *fetch* reads remote ``-r``/``-c`` files (none given: they are
    an InputError).
    """
    if (extras or groups) and not any(is_project_file(p) for p in paths):
        what = "--extra" if extras else "--group"
        raise InputError(
            f"{what} has effect only with pyproject.toml, setup.cfg and setup.py inputs"
        )
    if build_targets:
        for path in paths:
            if not is_project_file(path):
                raise InputError(NOT_A_PROJECT, file=Path(path).as_posix())
    by_file = _groups_by_file(paths, groups)
    parser = RequirementFileParser(environ=environ, relative_to=relative_to, fetch=fetch)
    requirements: list[InputRequirement] = []
    files: list[Path] = []
    for path in paths:
        if is_project_file(path):
            from lockcheck.inputs.pyproject import read_project_input  # .in files: no TOML

            project = read_project_input(
                Path(path),
                extras=extras,
                all_extras=all_extras,
                groups=by_file[_same_file(path)],
                build_isolation=build_isolation,
                index_env=index_env,
                relative_to=relative_to,
                build_targets=build_targets,
                only_build_deps=only_build_deps,
                build_hooks=build_hooks,
            )
            requirements.extend(project.requirements)
            files.extend(project.files)
        else:
            before = len(parser.result().requirements)
            parser.parse(path)
            parsed = parser.result()
            requirements.extend(parsed.requirements[before:])
            files.extend(parsed.files)
    for path in constraints:
        parser.parse(path, constraint=True)
    parsed = parser.result()
    files.extend(parsed.files)
    unique_files = tuple(dict.fromkeys(files))
    return ParsedInputs(
        requirements=tuple(requirements),
        constraints=parsed.constraints,
        options=parsed.options,
        files=unique_files,
        remote=parsed.remote,
        unchecked_remote=parsed.unchecked_remote,
    )


def _same_file(path: Path | str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _groups_by_file(paths: Sequence[Path | str], groups: Sequence[str]) -> dict[str, list[str]]:
    """The dependency groups to read from each project file: a plain name from every one,
    uv's ``pyproject.toml:dev`` only from the file it names, which must be an input."""
    projects = [_same_file(p) for p in paths if is_project_file(p)]
    out: dict[str, list[str]] = {project: [] for project in projects}
    for group in groups:
        where, qualified, name = group.rpartition(":")
        if not qualified or not where.endswith(".toml"):
            for project in projects:
                out[project].append(group)
            continue
        if _same_file(where) not in out:
            raise InputError(
                f"--group {group}: {where} is not among the inputs",
                hint=f"add {where} to the inputs, or name the group alone",
            )
        out[_same_file(where)].append(name)
    return out
