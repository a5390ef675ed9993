"""The inputs a :class:`~lockcheck.settings.CompileSettings` selects, and whether a stamp of
their files can stand for them."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from lockcheck.inputs import read_inputs
from lockcheck.inputs.builddeps import build_targets

if TYPE_CHECKING:
    from lockcheck.inputs.reqfile import Fetch
    from lockcheck.models import ParsedInputs
    from lockcheck.settings import CompileSettings

__all__ = ["inputs_are_static", "read_settings_inputs"]


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    """Run a block in *path*: input paths and ``# via`` labels are relative to it, as in pip."""
    previous = Path.cwd()
    if previous.resolve() == path.resolve():
        yield
        return
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def read_settings_inputs(
    settings: CompileSettings,
    cwd: Path,
    environ: Mapping[str, str] | None = None,
    index_env: Mapping[str, str] | None = None,
    *,
    build_hooks: bool = True,
    fetch: Fetch | None = None,
) -> ParsedInputs:
    """The inputs and ``--constraint`` files of *settings*, read relative to *cwd*
    (*build_hooks*: see :func:`lockcheck.inputs.pyproject.read_project_input`; *fetch*
    reads remote requirement files, see :mod:`lockcheck.index.remotefiles`)."""
    target = settings.target
    with _working_directory(cwd):
        return read_inputs(
            list(target.src_files),
            extras=target.extras,
            all_extras=target.all_extras,
            groups=target.groups,
            build_isolation=settings.network.with_pip_args().build_isolation,
            index_env=index_env,
            environ=environ,
            relative_to=cwd,
            constraints=list(target.constraint_files),
            build_targets=build_targets(target),
            only_build_deps=target.only_build_deps,
            build_hooks=build_hooks,
            fetch=fetch,
        )


def inputs_are_static(settings: CompileSettings, inputs: ParsedInputs, cwd: Path) -> bool:
    """Whether the inputs are plain files (so a stamp of their bytes stands for them).

    setup.py, setup.cfg, a pyproject.toml with dynamic dependencies and build dependencies
    are answered by a build backend, which may read any file of the project (and comes from
    the index): those runs are never stamped.  Nor are runs with a remote requirement
    file (``-c https://…``), whose content can change without any local file changing, or
    with a direct reference (a local tree or a URL) that no stamp can watch.
    """
    if inputs.remote or inputs.unchecked_remote:
        return False
    if any(r.link or (r.requirement and r.requirement.url) for r in inputs.requirements):
        return False
    target = settings.target
    if target.all_build_deps or target.build_deps_for:
        return False
    sources = (*target.src_files, *(Path(f) for f in inputs.files))
    return not any(_built(src if src.is_absolute() else cwd / src) for src in sources)


def _built(path: Path) -> bool:
    """Whether a build backend answers what *path* requires."""
    if path.name in ("setup.py", "setup.cfg"):
        return True
    if path.name != "pyproject.toml":
        return False
    if sys.version_info >= (3, 11):  # here: .in inputs need no TOML parser
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project")
    except (OSError, ValueError):
        return True
    if not isinstance(project, dict):
        return True
    dynamic = project.get("dynamic") or []
    return "dependencies" in dynamic or "optional-dependencies" in dynamic
