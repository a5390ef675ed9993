"""One lock for every platform and Python version.

The universe is a grid of concrete environments (CPython minor versions allowed by
``requires-python`` x operating systems), optionally narrowed by ``environments`` markers.
Each environment is resolved (taking the newest versions it can use, and the existing lock's
pins that apply to it), and the results are merged: a package present everywhere with one
version gets no marker; otherwise its marker describes exactly the environments that need it,
written as simply as the grid allows (``sys_platform == "win32"``, ``python_version <
"3.11"``); a package that must take different versions gets one pin per version with
disjoint markers.  A marker naming a value no environment of the grid has
(``sys_platform == "os1"``) adds environments for it (see :mod:`lockcheck.resolve.foreign`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NoReturn

from packaging.markers import Marker
from packaging.utils import NormalizedName
from packaging.version import Version

from lockcheck.errors import LockcheckError
from lockcheck.models import LockedPackage, Resolution
from lockcheck.resolve.candidates import InstallableMemo, VersionChoice, installable_files_of
from lockcheck.resolve.env_classes import (
    EnvironmentAnswers,
    Questions,
    RecordingEnvironment,
    RecordingIndex,
)
from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.resolve.foreign import GridGrowth, Trigger, selector
from lockcheck.resolve.grid import DEFAULT_PLATFORMS, SUPPORTED_MINORS, GridEnv, build_universe
from lockcheck.resolve.protocol import Index
from lockcheck.resolve.provider import Candidate
from lockcheck.resolve.resolver import ExistingPin, ResolveRequest, hashes_for, line_of, resolve
from lockcheck.resolve.shared_choices import RunShared, SharedChoices

if TYPE_CHECKING:
    from lockcheck.forking import ForkedCall

__all__ = [
    "DEFAULT_PLATFORMS",
    "SUPPORTED_MINORS",
    "GridEnv",
    "build_universe",
    "marker_across",
    "marker_for",
    "resolve_universal",
]

# ----------------------------------------------------------------------------------------
# markers from sets of environments
# ----------------------------------------------------------------------------------------


def _py_marker(minors: Sequence[int], all_minors: Sequence[int]) -> str | None:
    chosen = sorted(set(minors))
    if chosen == sorted(all_minors):
        return None
    lo, hi = min(all_minors), max(all_minors)
    runs: list[tuple[int, int]] = []
    for m in chosen:
        if runs and all_minors.index(m) == all_minors.index(runs[-1][1]) + 1:
            runs[-1] = (runs[-1][0], m)
        else:
            runs.append((m, m))
    parts = []
    for start, end in runs:
        if start == lo and end == hi:  # pragma: no cover - handled above
            continue
        if start == end and start not in (lo, hi):
            parts.append(f'python_version == "3.{start}"')
        elif start == lo:
            parts.append(f'python_version < "3.{_next(all_minors, end)}"')
        elif end == hi:
            parts.append(f'python_version >= "3.{start}"')
        else:
            parts.append(
                f'python_version >= "3.{start}" and python_version < "3.{_next(all_minors, end)}"'
            )
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({p})" if " and " in p else p for p in parts)


def _next(all_minors: Sequence[int], minor: int) -> int:
    return all_minors[all_minors.index(minor) + 1]


def _os_marker(systems: set[str], all_systems: set[str]) -> str | None:
    if systems == all_systems:
        return None
    if len(systems) == 1:
        return f'sys_platform == "{next(iter(systems))}"'
    missing = all_systems - systems
    if len(missing) == 1:
        return f'sys_platform != "{next(iter(missing))}"'
    return " or ".join(f'sys_platform == "{s}"' for s in sorted(systems))


def marker_for(chosen: Sequence[GridEnv], grid: Sequence[GridEnv]) -> Marker | None:
    """The simplest marker true on exactly *chosen* among *grid* (None: everywhere)."""
    keys = {g.key for g in chosen}
    if keys == {g.key for g in grid}:
        return None
    all_minors = sorted({g.minor for g in grid})
    all_systems = {g.platform.sys_platform for g in grid}
    by_system: dict[str, set[int]] = defaultdict(set)
    for g in chosen:
        by_system[g.platform.sys_platform].add(g.minor)
    # Group operating systems that need the same Python versions.
    groups: dict[tuple[int, ...], set[str]] = defaultdict(set)
    for system, system_minors in by_system.items():
        groups[tuple(sorted(system_minors))].add(system)
    parts = []
    for minors, systems in sorted(groups.items(), key=lambda kv: sorted(kv[1])):
        os_part = _os_marker(systems, all_systems)
        py_part = _py_marker(minors, all_minors)
        terms = [t for t in (os_part, py_part) if t]
        if len(terms) == 2:
            terms = [f"({t})" if " or " in t else t for t in terms]
        parts.append(" and ".join(terms))
    if len(parts) == 1:
        return Marker(parts[0])
    return Marker(" or ".join(f"({p})" if (" and " in p or " or " in p) else p for p in parts))


# ----------------------------------------------------------------------------------------
# resolution
# ----------------------------------------------------------------------------------------


def _pins_for(
    env: TargetEnvironment, existing: Sequence[LockedPackage]
) -> dict[NormalizedName, ExistingPin]:
    pins: dict[NormalizedName, ExistingPin] = {}
    for pkg in existing:
        if pkg.version is None or pkg.link:
            continue
        if pkg.marker is not None and not env.evaluate(pkg.marker):
            continue
        pins[pkg.name] = ExistingPin(pkg.name, pkg.version, tuple(pkg.hashes))
    return pins


def resolve_universal(
    template: ResolveRequest,
    index: Index,
    grid: Sequence[GridEnv],
    existing: Sequence[LockedPackage] = (),
    progress: Callable[[str], None] | None = None,
) -> Resolution:
    """Resolve every environment of *grid*, and of the environments added for marker values
    it lacks, and merge the results into one lock."""
    growth = GridGrowth(grid)
    results: list[tuple[GridEnv, Resolution]] = []
    classes: list[_EnvironmentClass] = []
    shared: dict[tuple, SharedChoices[VersionChoice]] = {}
    run = RunShared()
    todo = [*grid, *growth.add(_input_triggers(template))]
    # The first resolution waits on the network: its background walk fetches what the
    # others will read too (their Pythons' newest files, their platforms' dependencies).
    template = replace(template, prefetch_envs=tuple(g.env for g in todo))

    def here(g: GridEnv, position: int) -> tuple[GridEnv, Resolution]:
        if progress:
            total = len(grid) + len(growth.clones)
            progress(f"environment {len(results) + position + 1}/{total}: {g.describe()}")
        return g, _resolve_in_class(classes, shared, run, template, index, g, existing)

    def share(envs: Sequence[GridEnv]) -> ForkedCall | None:
        return _fork_share(index, template, envs, classes, shared, run, existing)

    def first_grows(first: Resolution) -> list[GridEnv]:
        # The environments the round's first resolution calls for are the next round's
        # first ones: resolved in this round instead, after the planned ones, so one forked
        # copy shares them too.  Past the bound, the error is the next round's, as before.
        saved = growth.saved()
        try:
            return growth.add(_triggers([first]))
        except LockcheckError:
            growth.restore(saved)
            return []

    def grow(done: Sequence[tuple[GridEnv, Resolution]]) -> list[GridEnv]:
        return growth.add(_triggers(resolution for _g, resolution in done))

    while todo:
        done = _resolve_round(todo, here, share, first_grows, grow)
        results.extend(done)
        todo = grow(done)
    growth.check_carried()
    return _merge(results, growth, template, index, run.installable)


#: Environments a round must have beyond its first before a forked copy takes a share of
#: them (below this the copy's start and the answer's reading cost about what they save).
SHARE_MIN = 4
#: Seconds the run waits for the forked copy's share, beyond twice its own share's time,
#: before resolving it itself (a share may hold a build the run's share did not).
SHARE_SLACK = 30.0


def _resolve_round(
    todo: Sequence[GridEnv],
    here: Callable[[GridEnv, int], tuple[GridEnv, Resolution]],
    share: Callable[[Sequence[GridEnv]], ForkedCall | None],
    first_grows: Callable[[Resolution], list[GridEnv]] = lambda _first: [],
    grow: Callable[[Sequence[tuple[GridEnv, Resolution]]], object] = lambda _done: None,
) -> list[tuple[GridEnv, Resolution]]:
    """One round of environments, resolved in order, as if one by one.

    The first fills the memos (and waits on the network); then every other one of the rest
    may be resolved in a forked copy of the run, on the other core, while the run resolves
    the others.  Each environment's resolution is its own (one shared with another
    environment equals it), so where it is made changes no pin; and a failure is reported
    for the first environment that fails, in order, as one by one.

    *first_grows* gives the environments the first resolution adds to the grid, resolved
    last in this round (one by one, they would start the next); should one of them fail,
    *grow* over the planned ones comes first, as it would between the two rounds (it raises
    when the grid would grow past its bound).
    """
    done = [here(todo[0], 0)]
    planned = len(todo)
    rest = [*todo[1:], *first_grows(done[0][1])]

    def fail(i: int, exc: Exception, before: Sequence[tuple[GridEnv, Resolution]]) -> NoReturn:
        """Raise *exc*, the failure of ``rest[i]``; *before*: the resolutions before it."""
        if i + 1 >= planned:
            grow(before[:planned])
        raise exc

    theirs = list(range(1, len(rest), 2)) if len(rest) >= SHARE_MIN else []
    forked: ForkedCall | None = None
    mine: dict[int, tuple[GridEnv, Resolution]] = {}
    failed: tuple[int, Exception] | None = None
    started = time.monotonic()
    try:
        forked = share([rest[i] for i in theirs]) if theirs else None
        if forked is None:
            theirs = []
        for i, g in enumerate(rest):
            if i in theirs:
                continue
            try:
                mine[i] = here(g, i + 1)
            except Exception as exc:
                if forked is None:  # every one before it is mine
                    fail(i, exc, [*done, *(mine[j] for j in range(i))])
                failed = (i, exc)  # raised in its turn, below
                break
        adopted: list[Resolution] = []
        if forked is not None:
            # The copy has about as much to do: long past the run's own time it is stuck.
            wait = 2 * (time.monotonic() - started) + SHARE_SLACK
            adopted = _adopted(forked.result(wait))
    finally:
        if forked is not None:
            forked.stop()
    copied = dict(zip(theirs, adopted, strict=False))  # the copy's, up to its first failure
    for i, g in enumerate(rest):
        if failed is not None and i == failed[0]:
            fail(*failed, done)
        if i in mine:
            done.append(mine[i])
        elif i in copied:
            done.append((g, copied[i]))
        else:
            try:
                done.append(here(g, i + 1))  # the copy could not: here, in its turn
            except Exception as exc:
                fail(i, exc, done)
    return done


def _fork_share(
    index: Index,
    template: ResolveRequest,
    envs: Sequence[GridEnv],
    classes: list[_EnvironmentClass],
    shared: dict[tuple, SharedChoices[VersionChoice]],
    run: RunShared,
    existing: Sequence[LockedPackage],
) -> ForkedCall | None:
    """*envs* resolved in order in a forked copy of the run, from the memos the run holds
    now (what they lack the copy fetches itself), up to the first that fails."""
    fork = getattr(index, "fork_call", None)
    if fork is None:
        return None

    def resolve_share() -> list[Resolution]:  # pragma: no cover (in the forked copy)
        out: list[Resolution] = []
        for g in envs:
            try:
                resolution = _resolve_in_class(classes, shared, run, template, index, g, existing)
            except Exception:
                break  # the run resolves this one again, and reports it
            out.append(_without_files(resolution))
        return out

    forked: ForkedCall | None = fork(resolve_share)
    return forked


def _without_files(resolution: Resolution) -> Resolution:
    """What the forked copy sends back: the merge lists each pin's files again from the
    index, so they are left out (most of the bytes)."""
    packages = {
        name: pkg
        if pkg.link is not None or pkg.version is None
        else replace(pkg, files=(), chosen_file=None)
        for name, pkg in resolution.packages.items()
    }
    return replace(resolution, packages=packages)


def _adopted(answer: object) -> list[Resolution]:
    if isinstance(answer, list) and all(isinstance(r, Resolution) for r in answer):
        return answer
    return []


def _triggers(resolutions: Iterable[Resolution]) -> list[Trigger]:
    """The requirements with markers that *resolutions* met, in order (see GridGrowth)."""
    return [
        Trigger(req, asked_by)
        for resolution in resolutions
        for asked_by, req in resolution.dependency_markers
    ]


def _input_triggers(template: ResolveRequest) -> list[Trigger]:
    return [
        Trigger(e.requirement, line_of(e), e.file, e.line or None)
        for e in template.requirements
        if e.requirement is not None and e.requirement.marker is not None and not e.constraint
    ]


@dataclass
class _EnvironmentClass:
    """Environments that resolve alike: the first one's pins, the questions its resolution
    asked, and its result."""

    pins: dict[NormalizedName, ExistingPin]
    questions: Questions
    resolution: Resolution


def _resolve_in_class(
    classes: list[_EnvironmentClass],
    shared: dict[tuple, SharedChoices[VersionChoice]],
    run: RunShared,
    template: ResolveRequest,
    index: Index,
    g: GridEnv,
    existing: Sequence[LockedPackage],
) -> Resolution:
    """*g*'s resolution: that of an environment already resolved when *g* keeps the same
    pins and answers every question that resolution asked alike, else a new one.

    Environments are taken in grid order and only a successful resolution is shared, so the
    first environment that cannot be resolved is the one that reports, as before.
    """
    pins = {} if template.upgrade_all else _pins_for(g.env, existing)
    answers = EnvironmentAnswers(g.env)
    for known in classes:
        if known.pins == pins and known.questions.same_answers(answers):
            return known.resolution
    questions = Questions()
    # Candidate lists depend on the Python version and wheel tags (which file is read).
    choices = shared.setdefault(
        (g.env.python_full_version, tuple(g.env.supported_tags)), SharedChoices(run)
    )
    choices.start(owner=questions)
    resolution = _resolve_one(
        template,
        RecordingIndex(index, questions),
        RecordingEnvironment.of(g.env, questions),
        pins,
        choices,
    )
    questions.same_python_only = choices.reused
    classes.append(_EnvironmentClass(pins, questions, resolution))
    return resolution


def _resolve_one(
    template: ResolveRequest,
    index: Index,
    env: TargetEnvironment,
    pins: dict[NormalizedName, ExistingPin],
    choices: SharedChoices[VersionChoice],
) -> Resolution:
    # Each environment takes the newest versions it can use (so a library that dropped an
    # old Python forks by python_version), keeping the existing lock's pins that apply to it.
    request = replace(
        template,
        env=env,
        existing_pins=pins,
        any_platform_wheel=True,
        shared_choices=choices,
        list_files=False,
        generate_hashes=False,
        progress=None,
    )
    return resolve(request, index)


def marker_across(present: Sequence[GridEnv], growth: GridGrowth) -> Marker | None:
    """The marker of a pin present on *present* among the default grid and the environments
    added to it (None: everywhere).

    On the default grid it is :func:`marker_for`'s.  An added environment where that marker
    already tells right changes nothing; for a marker value where it does not, the pin
    answers ``var != "value"`` there and carries ``var == "value"`` (narrowed to the Pythons
    and platforms it is needed on) instead.
    """
    base = growth.base
    in_base = [g for g in present if not g.override]
    base_marker = marker_for(in_base, base) if in_base else None
    keys = {g.key for g in present}
    by_override: dict[tuple, list[GridEnv]] = defaultdict(list)
    for g in growth.clones:
        by_override[g.override].append(g)
    excluded: list[str] = []
    carried: list[str] = []
    for override, clones in sorted(by_override.items()):
        told = [bool(in_base) and g.env.evaluate(base_marker) for g in clones]
        if told == [g.key in keys for g in clones]:
            continue
        excluded.extend(f'{var} != "{value}"' for var, value in override)
        needed = {k for g in clones if g.key in keys for k in growth.stands_for[g.key]}
        if needed:
            narrowed = marker_for([b for b in base if b.key in needed], base)
            clause = selector(override)
            carried.append(clause if narrowed is None else f"{clause} and {_grouped(narrowed)}")
    if not excluded:
        return base_marker
    parts = []
    if in_base:
        head = [_grouped(base_marker)] if base_marker is not None else []
        parts.append(" and ".join([*head, *excluded]))
    parts.extend(carried)
    if len(parts) == 1:
        return Marker(parts[0])
    return Marker(" or ".join(f"({p})" if " and " in p else p for p in parts))


def _grouped(marker: Marker) -> str:
    text = str(marker)
    return f"({text})" if " or " in text else text


def _merge(
    results: Sequence[tuple[GridEnv, Resolution]],
    growth: GridGrowth,
    template: ResolveRequest,
    index: Index,
    installable: InstallableMemo,
) -> Resolution:
    grid = growth.base
    where: dict[tuple[NormalizedName, Version | None, str | None], list[GridEnv]] = defaultdict(
        list
    )
    first: dict[tuple[NormalizedName, Version | None, str | None], LockedPackage] = {}
    via: dict[tuple[NormalizedName, Version | None, str | None], set[str]] = defaultdict(set)
    extras: dict[tuple[NormalizedName, Version | None, str | None], set[str]] = defaultdict(set)
    for g, resolution in results:
        for pkg in resolution.packages.values():
            key = (pkg.name, pkg.version, pkg.link)
            where[key].append(g)
            first.setdefault(key, pkg)
            via[key].update(pkg.via)
            extras[key].update(pkg.extras)
    versions_per_name: dict[NormalizedName, int] = defaultdict(int)
    for name, _version, _link in where:
        versions_per_name[name] += 1
    # Keyed by name, or by name@version for each pin of a package that takes several.
    packages: dict[NormalizedName, LockedPackage] = {}
    for key in sorted(where, key=lambda k: (k[0], k[1] or Version("0"), k[2] or "")):
        name, version, _link = key
        pkg = first[key]
        marker = marker_across(where[key], growth)
        files = pkg.files
        if pkg.link is None and version is not None:
            released = index.project_versions(name).get(version, ())
            of_version = list(released)
            formats = template.formats.allowed(name)
            usable = {
                f.filename
                for g in where[key]
                for f in installable_files_of(
                    released, g.env, formats, check_tags=False, memo=installable
                )
            }
            files = tuple(f for f in of_version if f.filename in usable)
        hashes: tuple[str, ...] = ()
        if template.generate_hashes and not pkg.editable:
            cand = Candidate(name, version or Version("0"), link=pkg.link, editable=pkg.editable)
            hashes = hashes_for(cand, files, template, index)
        merged = replace(
            pkg,
            marker=marker,
            via=tuple(sorted(via[key])),
            extras=frozenset(extras[key]),
            hashes=hashes,
            files=files,
            chosen_file=None,  # each environment's own: the files stand for them all
        )
        label = name if versions_per_name[name] == 1 else f"{name}@{version}"
        packages[NormalizedName(label)] = merged
    python = f"3.{min(g.minor for g in grid)}"
    return Resolution(packages=packages, python_version=python)
