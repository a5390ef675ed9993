"""Plain-words explanations of an impossible resolution.

resolvelib reports the requirements that could not be satisfied together, each with the
candidate that asked for it.  This module turns them into "who required what" sentences and
adds what the index actually offers, so the reader sees the conflict without a debugger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from lockcheck.errors import ResolutionFailed
from lockcheck.models import DistFile
from lockcheck.resolve.candidates import group_by_version, installable_files
from lockcheck.resolve.protocol import Index
from lockcheck.resolve.provider import (
    REQUIRES_PYTHON,
    ExplicitRequirement,
    LockProvider,
    PythonRequirement,
    SpecRequirement,
)

__all__ = ["explain_impossible"]


def _who(
    info: object, labels: Mapping[NormalizedName, set[str]], asked_at: Mapping[int, str]
) -> str:
    parent = getattr(info, "parent", None)
    if parent is not None:
        return repr(parent)
    req = info.requirement  # type: ignore[attr-defined]
    if id(req) in asked_at:
        return asked_at[id(req)]
    name = getattr(req, "name", None)
    sources = sorted(labels.get(name, ())) if name else []
    return " and ".join(sources) if sources else "the input"


def _wanted(name: NormalizedName, causes: list, provider: LockProvider) -> SpecifierSet:
    """What every requirement on *name* in the conflict (and its constraint) asks for."""
    spec = provider.constraints.get(name, SpecifierSet())
    for info in causes:
        req = info.requirement
        if isinstance(req, SpecRequirement) and req.name == name:
            spec &= req.specifier
    return spec


@dataclass(frozen=True)
class _Rejected:
    """A version the requirements allow that the target still cannot take, and why."""

    version: Version
    # Set when Requires-Python alone rules the version out (every one of its files).
    requires_python: SpecifierSet | None
    line: str


def _rejected(
    name: NormalizedName, files: Sequence[DistFile], wanted: SpecifierSet, provider: LockProvider
) -> tuple[list[Version], list[_Rejected]]:
    """The versions *wanted* allows (newest first) and why each unusable one was rejected:
    Requires-Python, no file the target can install, or yanked."""
    env = provider.options.env
    formats = provider.options.formats.allowed(name)
    check_tags = not provider.options.any_platform_wheel
    rejected = []
    groups = group_by_version(files)
    allowed = sorted(wanted.filter(groups, prereleases=True), reverse=True)
    for version in allowed:
        of_version = groups[version]
        usable = installable_files(of_version, env, formats, check_tags=check_tags)
        if usable and not all(f.yanked for f in usable):
            continue
        python = [
            f.requires_python
            for f in of_version
            if f.requires_python is not None
            and not f.requires_python.contains(env.version, prereleases=True)
        ]
        if not usable and python and len(python) == len(of_version):
            line = (
                f"{name} {version} requires Python{python[0]}, "
                f"but the target is Python {env.shown_version}"
            )
            rejected.append(_Rejected(version, python[0], line))
        elif not usable:
            line = (
                f"{name} {version} has no file the target can install "
                "(wheel tags, or --only-binary / --no-binary)"
            )
            rejected.append(_Rejected(version, None, line))
        else:
            reason = next((f.yanked_reason for f in usable if f.yanked_reason), None)
            why = f" ({reason})" if reason else ""
            line = f"{name} {version} is yanked{why}: only an exact == pin selects it"
            rejected.append(_Rejected(version, None, line))
    return allowed, rejected


def _python_only(
    name: NormalizedName, allowed: Sequence[Version], rejected: Sequence[_Rejected], shown: str
) -> str | None:
    """The headline when Requires-Python alone rejected every version the requirements allow."""
    if not allowed or len(rejected) != len(allowed):
        return None
    if any(r.requires_python is None for r in rejected):
        return None
    newest = rejected[0]
    if len(rejected) == 1:
        return (
            f"{name}=={newest.version} requires Python {newest.requires_python}, "
            f"but the target is Python {shown}"
        )
    return (
        f"no version of {name} that fits supports Python {shown}: the newest, "
        f"{newest.version}, requires Python {newest.requires_python}"
    )


def explain_impossible(
    exc: Exception,
    index: Index,
    provider: LockProvider,
    labels: Mapping[NormalizedName, set[str]],
    asked_at: Mapping[int, str] | None = None,
    constrained_at: Mapping[NormalizedName, Sequence[str]] | None = None,
) -> ResolutionFailed:
    """*asked_at* maps each root requirement (by id) to the input line that asked for it;
    *constrained_at* lists, per name, the constraint lines that narrowed it."""
    asked_at = asked_at or {}
    constrained_at = constrained_at or {}
    causes = list(getattr(exc, "causes", ()))
    lines: list[str] = []
    names: list[NormalizedName] = []
    python_conflict = False
    for info in causes:
        req = info.requirement
        if isinstance(req, PythonRequirement) or getattr(req, "identifier", "") == REQUIRES_PYTHON:
            python_conflict = True
            lines.append(
                f"{_who(info, labels, asked_at)} requires Python{req.specifier}, "
                f"but the target is Python {provider.options.env.shown_version}"
            )
            continue
        lines.append(f"{_who(info, labels, asked_at)} requires {req}")
        name = req.name if isinstance(req, (SpecRequirement, ExplicitRequirement)) else None
        if name and name not in names:
            names.append(name)
    python_only: str | None = None
    for name in names:
        constraint = provider.constraints.get(name)
        if constraint is not None and str(constraint):
            where = " and ".join(constrained_at.get(name, ()))
            by = f" by {where}" if where else ""
            lines.append(f"{name} is constrained to {constraint}{by}")
        try:
            files = index.project_files(name)
        except Exception:
            files = []
        versions = sorted({f.version for f in files})
        judge = getattr(index, "judge", None)  # the finder's release cut-off, if any
        cut = judge.explain(name) if judge is not None else None
        if not files:
            lines.append(cut or f"no package named {name!r} was found on the configured indexes")
        else:
            shown = ", ".join(str(v) for v in versions[-12:])
            more = f" (and {len(versions) - 12} older)" if len(versions) > 12 else ""
            lines.append(f"available versions of {name}: {shown}{more}")
            if cut:
                lines.append(cut)
            allowed, rejected = _rejected(name, files, _wanted(name, causes, provider), provider)
            newest = set(allowed[:5])
            lines += [r.line for r in rejected if r.version in newest]
            python_only = python_only or _python_only(
                name, allowed, rejected, provider.options.env.shown_version
            )
    if python_only:
        summary = python_only
    elif python_conflict and not names:
        summary = "the inputs need a different Python than the target"
    elif len(names) == 1 and not any(f"no package named {names[0]!r}" in ln for ln in lines):
        summary = f"conflicting requirements on {names[0]}"
    elif names and all(any(f"no package named {n!r}" in ln for ln in lines) for n in names):
        summary = "no package named " + ", ".join(repr(n) for n in names) + " on the index"
    else:
        summary = "conflicting requirements on " + ", ".join(names) if names else "no solution"
    return ResolutionFailed(f"cannot resolve: {summary}", causes=lines)
