"""Build dependencies of a project input, as pip-compile locks them: ``--all-build-deps``,
``--build-deps-for=wheel|sdist|editable`` (repeatable) and ``--only-build-deps``.

pip-compile 7 asks the backend, in the environment it prepares the metadata in, for
``[build-system] requires`` and for each target's ``get_requires_for_build_<target>``, and
locks them beside the project's own requirements (or alone, with ``--only-build-deps``).  Its
labels name the pyproject.toml beside the input, even for setup.py and setup.cfg:
``myapp (pyproject.toml::build-system.requires)`` and
``myapp (pyproject.toml::build-system.backend::wheel)``.

``check``'s structural level asks no backend (no build, no network): it reads ``[build-system]
requires`` from the file and leaves the hooks' answers to the full level, which compiles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from packaging.requirements import InvalidRequirement

from lockcheck.errors import InputError, first_line
from lockcheck.models import CoreMetadata, InputRequirement, parse_requirement

__all__ = [
    "ALL_BUILD_TARGETS",
    "NOT_A_PROJECT",
    "BuildRequires",
    "ask_backend",
    "build_requirements",
    "build_targets",
    "static_build_requires",
]

#: pip-tools' ``ALL_BUILD_TARGETS``: what ``--all-build-deps`` asks for.
ALL_BUILD_TARGETS = ("editable", "sdist", "wheel")
#: pypa build's requirements for a project without ``[build-system]`` (setuptools' legacy
#: backend), which pip-compile therefore locks for a bare setup.py.
_DEFAULT_REQUIRES = ("setuptools >= 40.8.0",)
NOT_A_PROJECT = (
    "--build-deps-for and --all-build-deps can be used only with the setup.py, setup.cfg "
    "and pyproject.toml specs"
)


@dataclass(frozen=True)
class BuildRequires:
    """``[build-system] requires`` and, per build target, what the backend's hook added."""

    system: tuple[str, ...]
    backend: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class BuildDepsOptions(Protocol):
    """The options that choose build targets (TargetOptions has them)."""

    @property
    def build_deps_for(self) -> Sequence[str]: ...
    @property
    def all_build_deps(self) -> bool: ...
    @property
    def only_build_deps(self) -> bool: ...
    @property
    def extras(self) -> Sequence[str]: ...
    @property
    def all_extras(self) -> bool: ...
    @property
    def groups(self) -> Sequence[str]: ...


def build_targets(settings: BuildDepsOptions) -> tuple[str, ...]:
    """The build targets *settings* ask for, by pip-compile's rules for combining the three
    options (a bad combination is an :class:`InputError`)."""
    asked = tuple(settings.build_deps_for)
    if settings.all_build_deps and asked:
        raise InputError("--build-deps-for has no effect when used with --all-build-deps")
    unknown = [t for t in asked if t not in ALL_BUILD_TARGETS]
    if unknown:
        raise InputError(
            f"--build-deps-for {unknown[0]!r} is not one of {', '.join(ALL_BUILD_TARGETS)}"
        )
    targets = ALL_BUILD_TARGETS if settings.all_build_deps else tuple(dict.fromkeys(asked))
    if settings.only_build_deps and not targets:
        raise InputError("--only-build-deps requires either --build-deps-for or --all-build-deps")
    if settings.only_build_deps and (settings.extras or settings.all_extras or settings.groups):
        raise InputError(
            "--only-build-deps cannot be used with any of --extra, --all-extras, --group"
        )
    return targets


def ask_backend(
    source_dir: Path,
    targets: tuple[str, ...],
    *,
    isolation: bool,
    index_env: Mapping[str, str] | None,
    shown: str,
) -> tuple[CoreMetadata, BuildRequires]:
    """The project's metadata and build requirements, from one build environment (the one
    pip-compile asks: ``[build-system] requires`` plus what a wheel build needs); errors
    name the input as *shown*."""
    from lockcheck.build import open_build  # here: only a build asks the backend

    with open_build(source_dir, isolation=isolation, index_env=index_env, shown=shown) as session:
        metadata = session.metadata()
        backend = {target: session.requires_for(target) for target in targets}
        return metadata, BuildRequires(session.system_requires, backend)


def static_build_requires(pyproject: Mapping[str, Any] | None, display: str) -> BuildRequires:
    """``[build-system] requires`` as written (build's default when there is no table),
    without a backend: what can be known offline."""
    table = (pyproject or {}).get("build-system")
    if table is None:
        return BuildRequires(_DEFAULT_REQUIRES)
    requires = table.get("requires") if isinstance(table, Mapping) else None
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise InputError("[build-system] requires must be an array of strings", file=display)
    return BuildRequires(tuple(requires))


def build_requirements(
    name: str, display: str, requires: BuildRequires, file: Path
) -> list[InputRequirement]:
    """*requires* as inputs labelled the way pip-compile annotates them; *display* is the
    project input as shown in labels (``pyproject.toml``, ``sub/setup.py``)."""
    where = (PurePosixPath(display).parent / "pyproject.toml").as_posix()
    labelled = [(text, f"{name} ({where}::build-system.requires)") for text in requires.system]
    for target, texts in requires.backend.items():
        labelled += [(text, f"{name} ({where}::build-system.backend::{target})") for text in texts]
    out: list[InputRequirement] = []
    for text, label in dict.fromkeys(labelled):
        try:
            req = parse_requirement(text)
        except InvalidRequirement as exc:
            raise InputError(
                f"invalid build requirement {text!r}: {first_line(exc)}", file=where
            ) from exc
        out.append(InputRequirement(requirement=req, source=label, file=file, line=0, link=req.url))
    return out
