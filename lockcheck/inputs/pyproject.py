"""Project inputs: pyproject.toml (PEP 621, PEP 735), setup.cfg and setup.py.

Static ``[project]`` data is read directly (fast, as pip-compile does); when the
dependencies are ``dynamic`` or there is no ``[project]`` table, the metadata comes from a
PEP 517 ``prepare_metadata_for_build_wheel`` (:mod:`lockcheck.build`).  setup.cfg and
setup.py always go through the build.

Every requirement carries pip-compile's label ``<name> (<path as given>)`` (the name as the
metadata spells it, ``My_App`` stays ``My_App``), extras included: pip-compile writes the same
``# via`` for a dependency pulled through an extra.  Dependency groups get uv's label
``<name> (<path>:<group>)``.

Extras are selected here, not by the resolver: the requirements of the selected extras come
back with their own environment markers and without the ``extra == ...`` clause (pip-tools'
``drop_extras``).  A self-reference such as ``all = ["myapp[dev,test]"]`` is expanded in
place instead of being resolved as a package.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from lockcheck.errors import InputError, first_line
from lockcheck.inputs.builddeps import ask_backend, build_requirements, static_build_requires
from lockcheck.models import CoreMetadata, InputRequirement, ParsedInputs, parse_requirement
from lockcheck.paths import PROJECT_FILES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "PROJECT_FILES",
    "NeedsBuild",
    "read_project_input",
    "read_pyproject",
    "resolve_dependency_groups",
]

#: File names pip-compile treats as project metadata inputs.


@dataclass(frozen=True)
class NeedsBuild:
    """pyproject.toml cannot answer statically; a PEP 517 build must provide the metadata.

    ``groups`` holds the already-resolved dependency groups (they are always static).
    """

    path: Path
    reason: str
    groups: tuple[InputRequirement, ...] = ()


# --------------------------------------------------------------------------------------
# selection of base dependencies, extras and self-references
# --------------------------------------------------------------------------------------


@dataclass
class _ProjectDeps:
    name: str
    base: list[Requirement] = field(default_factory=list)
    extras: dict[NormalizedName, list[Requirement]] = field(default_factory=dict)
    # line of each requirement in the source file, keyed by id() of its Requirement
    lines: dict[int, int] = field(default_factory=dict)


def _and_markers(outer: Marker | None, inner: Marker | None) -> Marker | None:
    if outer is None:
        return inner
    if inner is None:
        return outer
    return Marker(f"({outer}) and ({inner})")


def _select(
    deps: _ProjectDeps,
    extras: Sequence[str],
    all_extras: bool,
    where: str,
) -> list[tuple[Requirement, int]]:
    """Base requirements plus those of the selected extras, self-references expanded,
    each with its line in the source file (0 when unknown)."""
    wanted = list(deps.extras) if all_extras else [canonicalize_name(e) for e in extras]
    unknown = [e for e in wanted if e not in deps.extras]
    if unknown:
        defined = ", ".join(sorted(deps.extras)) or "none"
        raise InputError(
            f"extra {unknown[0]!r} is not defined by {deps.name} (defined extras: {defined})",
            file=where,
        )
    own = canonicalize_name(deps.name)
    out: list[tuple[Requirement, int]] = []
    seen: set[str] = set()

    def add(reqs: Iterable[Requirement], marker: Marker | None, stack: tuple[str, ...]) -> None:
        for req in reqs:
            if canonicalize_name(req.name) == own and not req.url:
                combined = _and_markers(marker, req.marker)
                for extra in sorted(canonicalize_name(e) for e in req.extras):
                    if extra not in deps.extras:
                        raise InputError(
                            f"{req} refers to extra {extra!r} that {deps.name} does not define",
                            file=where,
                        )
                    if extra not in stack:
                        add(deps.extras[extra], combined, (*stack, extra))
                continue
            new = Requirement(str(req))
            new.marker = _and_markers(marker, req.marker)
            key = str(new)
            if key not in seen:
                seen.add(key)
                out.append((new, deps.lines.get(id(req), 0)))

    add(deps.base, None, ())
    for extra in wanted:
        add(deps.extras[extra], None, (extra,))
    return out


def _extras_of_marker(marker: Marker | None) -> tuple[frozenset[NormalizedName], Marker | None]:
    """Split a Requires-Dist marker into the extras it names and the rest (pip-tools'
    drop_extras), e.g. ``python_version < "3.11" and extra == "x"`` ->
    ``({"x"}, python_version < "3.11")``."""
    if marker is None:
        return frozenset(), None
    found: set[NormalizedName] = set()

    def walk(items: list[Any]) -> list[Any]:
        kept: list[Any] = []
        for item in items:
            if isinstance(item, list):
                sub = walk(item)
                if sub:
                    kept.append(sub)
            elif isinstance(item, tuple):
                lhs, op, rhs = item
                names = {type(lhs).__name__, type(rhs).__name__}
                var = lhs if type(lhs).__name__ == "Variable" else rhs
                if "Variable" in names and str(var.value) == "extra":
                    other = rhs if var is lhs else lhs
                    if str(op.value) == "==":
                        found.add(canonicalize_name(str(other.value)))
                    continue
                kept.append(item)
            else:
                kept.append(item)
        # drop dangling and doubled boolean operators left by removals
        cleaned: list[Any] = []
        for item in kept:
            if isinstance(item, str) and (not cleaned or isinstance(cleaned[-1], str)):
                if cleaned and item == "or":
                    cleaned[-1] = "or"
                continue
            cleaned.append(item)
        while cleaned and isinstance(cleaned[-1], str):
            cleaned.pop()
        return cleaned

    def fmt(items: list[Any], top: bool) -> str:
        parts = []
        for item in items:
            if isinstance(item, tuple):
                parts.append(" ".join(node.serialize() for node in item))
            elif isinstance(item, list):
                parts.append(fmt(item, False))
            else:
                parts.append(item)
        text = " ".join(parts)
        return text if top or len(items) == 1 else f"({text})"

    rest = walk(list(marker._markers))
    return frozenset(found), (Marker(fmt(rest, True)) if rest else None)


def _deps_from_metadata(name: str, requires_dist: Iterable[Requirement]) -> _ProjectDeps:
    deps = _ProjectDeps(name)
    for req in requires_dist:
        extras, rest = _extras_of_marker(req.marker)
        new = Requirement(str(req))
        new.marker = rest
        if not extras:
            deps.base.append(new)
        for extra in sorted(extras):
            deps.extras.setdefault(extra, []).append(new)
    return deps


# --------------------------------------------------------------------------------------
# pyproject.toml
# --------------------------------------------------------------------------------------


def _load_toml(path: Path, display: str) -> tuple[dict[str, Any], str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {display}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:  # TOML is UTF-8 by definition
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text: {exc.reason}", file=display, line=line) from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        raise InputError(
            f"invalid TOML: {exc}", file=display, line=int(match.group(1)) if match else None
        ) from exc


def _toml_shown(value: object) -> str:
    """A TOML value for an error message: short ones as written, others by their TOML type
    (a table of nested dates would otherwise fill the line with Python reprs)."""
    text = repr(value)
    if len(text) <= 40 and "datetime." not in text:
        return text
    kinds: tuple[tuple[type, str], ...] = (
        (dict, "a table"),
        (list, "an array"),
        (str, "a string"),
        (_dt.datetime, "a date-time"),
        (_dt.date, "a date"),
        (_dt.time, "a time"),
    )
    return next((kind for t, kind in kinds if isinstance(value, t)), "a number")


def _line_of(text: str, value: str) -> int:
    """Best-effort line number of a requirement string inside the TOML text (0 if unknown)."""
    for quoted in (f'"{value}"', f"'{value}'", value):
        index = text.find(quoted)
        if index >= 0:
            return text.count("\n", 0, index) + 1
    return 0


def _requirement(
    value: object, where: str, display: str, text: str, lines: dict[int, int] | None = None
) -> Requirement:
    if not isinstance(value, str):
        raise InputError(f"{where} must hold strings, found {_toml_shown(value)}", file=display)
    try:
        req = parse_requirement(value)
    except InvalidRequirement as exc:
        raise InputError(
            f"invalid requirement {value!r} in {where}: {first_line(exc)}",
            file=display,
            line=_line_of(text, value) or None,
        ) from exc
    if lines is not None:
        lines[id(req)] = _line_of(text, value)
    return req


def _string_list(value: object, where: str, display: str) -> list[object]:
    if not isinstance(value, list):
        raise InputError(f"{where} must be an array of strings", file=display)
    return value


def resolve_dependency_groups(
    data: Mapping[str, Any], groups: Sequence[str], *, display: str = "pyproject.toml"
) -> dict[NormalizedName, list[str]]:
    """PEP 735: the requirement strings of each requested group, ``include-group`` expanded
    (a cycle is an InputError).  Keys are normalised group names, in request order."""
    table = data.get("dependency-groups", {})
    if not isinstance(table, Mapping):
        raise InputError("[dependency-groups] must be a table", file=display)
    by_name: dict[NormalizedName, tuple[str, Any]] = {}
    for raw_name, value in table.items():
        normal = canonicalize_name(raw_name)
        if normal in by_name:
            raise InputError(
                f"dependency group names {by_name[normal][0]!r} and {raw_name!r} collide "
                "after normalisation",
                file=display,
            )
        by_name[normal] = (raw_name, value)

    def expand(normal: NormalizedName, stack: tuple[NormalizedName, ...]) -> list[str]:
        if normal in stack:
            cycle = " -> ".join(by_name[n][0] for n in (*stack, normal))
            raise InputError(f"dependency group include cycle: {cycle}", file=display)
        raw_name, value = by_name[normal]
        if not isinstance(value, list):
            raise InputError(f"dependency group {raw_name!r} must be an array", file=display)
        out: list[str] = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, Mapping) and set(item) == {"include-group"}:
                included = canonicalize_name(str(item["include-group"]))
                if included not in by_name:
                    raise InputError(
                        f"dependency group {raw_name!r} includes unknown group "
                        f"{item['include-group']!r}",
                        file=display,
                    )
                out.extend(expand(included, (*stack, normal)))
            else:
                raise InputError(
                    f"invalid item in dependency group {raw_name!r}: {_toml_shown(item)}",
                    file=display,
                )
        return out

    result: dict[NormalizedName, list[str]] = {}
    for group in groups:
        normal = canonicalize_name(group)
        if normal not in by_name:
            defined = ", ".join(sorted(v[0] for v in by_name.values())) or "none"
            raise InputError(
                f"dependency group {group!r} is not defined (defined groups: {defined})",
                file=display,
            )
        result[normal] = expand(normal, ())
    return result


def _display_path(path: Path, relative_to: Path | None) -> str:
    """The path as pip-compile writes it in labels: as given (posix), or relative to
    *relative_to* when the caller asks for that and the path was given relative."""
    if path.is_absolute() or relative_to is None:
        return path.as_posix()
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(relative_to))).as_posix()


def _group_requirements(
    data: Mapping[str, Any],
    groups: Sequence[str],
    deps: _ProjectDeps | None,
    path: Path,
    display: str,
    text: str,
) -> list[InputRequirement]:
    if not groups:
        return []
    name = deps.name if deps else None
    out: list[InputRequirement] = []
    for group, strings in resolve_dependency_groups(data, groups, display=display).items():
        label = f"{name} ({display}:{group})" if name else f"{display}:{group}"
        lines: dict[int, int] = {}
        where = f"dependency group {group!r}"
        reqs = [_requirement(s, where, display, text, lines) for s in strings]
        scratch = _ProjectDeps(name or "", reqs, deps.extras if deps else {}, lines)
        if deps is None:
            scratch.name = ""  # no project name: nothing is a self-reference
        for req, line in _select(scratch, (), False, display):
            out.append(
                InputRequirement(
                    requirement=req, source=label, file=path.absolute(), line=line, link=req.url
                )
            )
    return out


def read_pyproject(
    path: Path,
    *,
    extras: Sequence[str] = (),
    all_extras: bool = False,
    groups: Sequence[str] = (),
    relative_to: Path | None = None,
) -> ParsedInputs | NeedsBuild:
    """Static PEP 621 dependencies (plus selected extras and PEP 735 groups), or
    :class:`NeedsBuild` when only a build backend knows them."""
    path = Path(path)
    display = _display_path(path, relative_to)
    data, text = _load_toml(path, display)
    project = data.get("project")
    if project is not None and not isinstance(project, Mapping):
        raise InputError("[project] must be a table", file=display)

    static = _static_deps(project, extras, all_extras, display, text)
    if isinstance(static, str):
        group_reqs = _group_requirements(data, groups, None, path, display, text)
        return NeedsBuild(path=path, reason=static, groups=tuple(group_reqs))

    label = f"{static.name} ({display})"
    selected = _select(static, extras, all_extras, display)
    requirements = [
        InputRequirement(
            requirement=req, source=label, file=path.absolute(), line=line, link=req.url
        )
        for req, line in selected
    ]
    requirements += _group_requirements(data, groups, static, path, display, text)
    return ParsedInputs(requirements=tuple(requirements), files=(path.absolute(),))


def _static_deps(
    project: Mapping[str, Any] | None,
    extras: Sequence[str],
    all_extras: bool,
    display: str,
    text: str,
) -> _ProjectDeps | str:
    """The static dependency table, or the reason a build is needed."""
    if project is None:
        return "pyproject.toml has no [project] table"
    if "name" not in project:
        return "[project] has no name"
    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list):
        raise InputError("[project] dynamic must be an array of strings", file=display)
    if "dependencies" in dynamic:
        return "[project] dependencies are dynamic"
    if "optional-dependencies" in dynamic and (extras or all_extras):
        return "[project] optional-dependencies are dynamic"
    name = str(project["name"])
    deps = _ProjectDeps(name)
    for value in _string_list(project.get("dependencies", []), "[project] dependencies", display):
        deps.base.append(_requirement(value, "[project] dependencies", display, text, deps.lines))
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, Mapping):
        raise InputError("[project.optional-dependencies] must be a table", file=display)
    for extra, values in optional.items():
        where = f"[project.optional-dependencies] {extra}"
        values = _string_list(values, where, display)
        reqs = [_requirement(v, where, display, text, deps.lines) for v in values]
        deps.extras.setdefault(canonicalize_name(extra), []).extend(reqs)
    return deps


# --------------------------------------------------------------------------------------
# any project file: static when possible, else a PEP 517 build
# --------------------------------------------------------------------------------------


def read_project_input(
    path: Path,
    *,
    extras: Sequence[str] = (),
    all_extras: bool = False,
    groups: Sequence[str] = (),
    build_isolation: bool = True,
    index_env: Mapping[str, str] | None = None,
    relative_to: Path | None = None,
    build_targets: tuple[str, ...] = (),
    only_build_deps: bool = False,
    build_hooks: bool = True,
) -> ParsedInputs:
    """Requirements of a pyproject.toml, setup.cfg or setup.py input (pip-compile's
    "setup file" inputs); builds the project's metadata only when it must.

    With *build_targets* the build requirements are added (:mod:`lockcheck.inputs.builddeps`),
    and with *only_build_deps* they are all there is.  pip-compile then asks the backend for
    everything, the metadata too; with *build_hooks* False no backend is asked for them and
    only ``[build-system] requires`` is read (check's structural level).
    """
    path = Path(path)
    if path.name not in PROJECT_FILES:
        raise InputError(f"not a project file (expected one of {', '.join(PROJECT_FILES)})")
    display = _display_path(path, relative_to)
    if not path.is_file():
        raise InputError(f"cannot read {display}: No such file or directory")
    if groups and path.name != "pyproject.toml":
        raise InputError("dependency groups can only be read from pyproject.toml", file=display)
    if not build_targets:
        return _project_requirements(
            path, display, extras, all_extras, groups, build_isolation, index_env, relative_to
        )

    pyproject_path = path.parent / "pyproject.toml"
    data: dict[str, Any] = {}
    text = ""
    if pyproject_path.is_file():
        data, text = _load_toml(pyproject_path, _display_path(pyproject_path, relative_to))
    if build_hooks:
        metadata, requires = ask_backend(
            path.parent,
            build_targets,
            isolation=build_isolation,
            index_env=index_env,
            shown=display,
        )
        name = metadata.name
        runtime = _from_metadata(metadata, path, display, extras, all_extras, groups, data, text)
    else:
        requires = static_build_requires(data, display)
        runtime = _project_requirements(
            path, display, extras, all_extras, groups, build_isolation, index_env, relative_to
        )
        name = str((data.get("project") or {}).get("name") or path.parent.absolute().name)
    build = build_requirements(name, display, requires, path.absolute())
    kept = () if only_build_deps else runtime.requirements
    return ParsedInputs(requirements=(*kept, *build), files=runtime.files)


def _project_requirements(
    path: Path,
    display: str,
    extras: Sequence[str],
    all_extras: bool,
    groups: Sequence[str],
    build_isolation: bool,
    index_env: Mapping[str, str] | None,
    relative_to: Path | None,
) -> ParsedInputs:
    """The project's own requirements: static when pyproject.toml says them, else built."""
    data: dict[str, Any] = {}
    text = ""
    if path.name == "pyproject.toml":
        static = read_pyproject(
            path, extras=extras, all_extras=all_extras, groups=groups, relative_to=relative_to
        )
        if isinstance(static, ParsedInputs):
            return static
        data, text = _load_toml(path, display)

    from lockcheck.build import prepare_metadata  # here: a static project builds nothing

    metadata = prepare_metadata(
        path.parent,
        isolation=build_isolation,
        index_env=index_env,
    )
    return _from_metadata(metadata, path, display, extras, all_extras, groups, data, text)


def _from_metadata(
    metadata: CoreMetadata,
    path: Path,
    display: str,
    extras: Sequence[str],
    all_extras: bool,
    groups: Sequence[str],
    data: dict[str, Any],
    text: str,
) -> ParsedInputs:
    """The requirements of built core *metadata*, labelled ``<Name> (<input>)``."""
    deps = _deps_from_metadata(metadata.name, metadata.requires_dist)
    for extra in metadata.provides_extra:
        deps.extras.setdefault(extra, [])
    label = f"{metadata.name} ({display})"
    requirements = [
        InputRequirement(requirement=req, source=label, file=path.absolute(), line=0, link=req.url)
        for req, _line in _select(deps, extras, all_extras, display)
    ]
    group_reqs: tuple[InputRequirement, ...] = ()
    if groups:
        group_reqs = tuple(_group_requirements(data, groups, deps, path, display, text))
    return ParsedInputs(requirements=(*requirements, *group_reqs), files=(path.absolute(),))
