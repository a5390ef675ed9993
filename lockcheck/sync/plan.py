"""``plan(locked, installed, env)``: what must change for a venv to hold exactly the locks.

Pure: no I/O, no network.  The engine fills in the inputs (merged locks, installed
distributions, the target interpreter's environment) and executes the result; tests build
them by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from packaging.utils import NormalizedName

from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.sync.installed import InstalledDist
from lockcheck.sync.links import direct_url_matches
from lockcheck.sync.locks import MergedLocks, Wanted

__all__ = ["PROTECTED", "Action", "ActionKind", "SyncPlan", "plan"]

#: Never removed, though installed or changed when a lock pins them.  What an installed
#: protected package requires is kept too (lockcheck in the target venv keeps working).
PROTECTED: frozenset[str] = frozenset({"pip", "setuptools", "wheel", "lockcheck"})

ActionKind = Literal["install", "upgrade", "downgrade", "reinstall", "remove"]
_ORDER: tuple[ActionKind, ...] = ("install", "upgrade", "downgrade", "reinstall", "remove")
_DONE = {
    "install": "installed",
    "upgrade": "upgraded",
    "downgrade": "downgraded",
    "reinstall": "reinstalled",
    "remove": "removed",
}


@dataclass(frozen=True)
class Action:
    """One change: what is wanted (None for a removal) and what is there (None for an
    install)."""

    kind: ActionKind
    name: NormalizedName
    wanted: Wanted | None = None
    installed: InstalledDist | None = None

    @property
    def needs_file(self) -> bool:
        return self.wanted is not None

    def wanted_text(self) -> str:
        assert self.wanted is not None
        package = self.wanted.package
        target = self.wanted.link_target()
        if target is not None:
            return f"{package.display_name} ({target.show()})"
        return f"{package.display_name}=={package.version}"

    def describe(self) -> str:
        """One line of the plan: ``upgrade    idna 3.3 -> 3.4``."""
        label = f"{self.kind:<10} "
        if self.kind == "remove":
            assert self.installed is not None
            return label + self.installed.describe()
        if self.kind in ("upgrade", "downgrade") and self.installed is not None:
            assert self.wanted is not None
            package = self.wanted.package
            return f"{label}{package.display_name} {self.installed.version} -> {package.version}"
        if self.kind == "reinstall" and self.installed is not None:
            return f"{label}{self.wanted_text()}, was {self.installed.describe()}"
        return label + self.wanted_text()


@dataclass(frozen=True)
class SyncPlan:
    """Every change, by project name; plus what stays and why."""

    actions: tuple[Action, ...] = ()
    unchanged: tuple[NormalizedName, ...] = ()
    #: Locked entries whose marker does not hold for the target.
    skipped: tuple[Wanted, ...] = ()
    #: Installed, not locked, kept because they are protected.
    kept: tuple[InstalledDist, ...] = ()

    @property
    def changes(self) -> bool:
        return bool(self.actions)

    @property
    def installs(self) -> tuple[Action, ...]:
        """Actions that install a file (install, upgrade, downgrade, reinstall)."""
        return tuple(a for a in self.actions if a.needs_file)

    @property
    def removals(self) -> tuple[InstalledDist, ...]:
        """Installed distributions that go away (removed, or replaced by a new version)."""
        return tuple(a.installed for a in self.actions if a.installed is not None)

    def count(self, kind: ActionKind) -> int:
        return sum(1 for a in self.actions if a.kind == kind)

    def summary(self, *, dry_run: bool = False) -> str:
        """``3 installed, 1 upgraded, 2 removed`` / ``Everything up-to-date``."""
        if not self.actions:
            return "Everything up-to-date"
        if dry_run:
            parts = [f"{self.count(k)} to {k}" for k in _ORDER if self.count(k)]
            return "Would change: " + ", ".join(parts)
        return ", ".join(f"{self.count(k)} {_DONE[k]}" for k in _ORDER if self.count(k))

    def lines(self) -> list[str]:
        return [a.describe() for a in self.actions]


def _compare(wanted: Wanted, dist: InstalledDist) -> ActionKind | None:
    """None when *dist* already is what *wanted* asks for."""
    target = wanted.link_target()
    if target is not None:
        return None if direct_url_matches(target, dist.direct_url) else "reinstall"
    if dist.direct_url:  # installed from a URL or as editable; the lock wants the index
        return "reinstall"
    installed = dist.parsed_version
    version = wanted.package.version
    if installed is None or version is None:
        return "reinstall"
    if installed == version:
        return None
    return "upgrade" if installed < version else "downgrade"


def _with_requirements(
    names: Iterable[str], installed: Mapping[NormalizedName, InstalledDist], env: TargetEnvironment
) -> set[str]:
    """*names* and, for those installed, everything installed they require (transitively)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    keep = set(names)
    todo = [n for n in keep if n in installed]
    while todo:
        dist = installed[todo.pop()]  # type: ignore[index]
        for text in dist.requires:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if not env.evaluate(requirement.marker):
                continue
            name = canonicalize_name(requirement.name)
            if name in installed and name not in keep:
                keep.add(name)
                todo.append(name)
    return keep


def plan(
    locked: MergedLocks | Mapping[NormalizedName, Wanted] | Iterable[Wanted],
    installed: Mapping[NormalizedName, InstalledDist],
    env: TargetEnvironment,
    *,
    protected: Iterable[str] = PROTECTED,
) -> SyncPlan:
    """Compare the locked entries with the installed distributions on *env*.

    *locked* is the merged locks (or their entries).  Entries whose marker does not hold
    are skipped (and removed when installed, unless
    protected); a distribution that is not locked is removed unless protected.
    """
    if isinstance(locked, MergedLocks):
        items = [*locked.wanted.values(), *locked.skipped]
    elif isinstance(locked, Mapping):
        items = list(locked.values())
    else:
        items = list(locked)
    keep = _with_requirements(protected, installed, env)
    wanted: dict[NormalizedName, Wanted] = {}
    skipped: list[Wanted] = []
    for item in items:
        if env.evaluate(item.package.marker):
            wanted[item.name] = item
        else:
            skipped.append(item)
    actions: list[Action] = []
    unchanged: list[NormalizedName] = []
    for name, item in wanted.items():
        dist = installed.get(name)
        if dist is None:
            actions.append(Action("install", name, item))
            continue
        kind = _compare(item, dist)
        if kind is None and (dist.duplicates or dist.incomplete):
            kind = "reinstall"
        if kind is None:
            unchanged.append(name)
        else:
            actions.append(Action(kind, name, item, dist))
    kept: list[InstalledDist] = []
    for name, dist in installed.items():
        if name in wanted:
            continue
        if name in keep:
            kept.append(dist)
        else:
            actions.append(Action("remove", name, None, dist))
    actions.sort(key=lambda a: (a.name, _ORDER.index(a.kind)))
    return SyncPlan(
        actions=tuple(actions),
        unchanged=tuple(sorted(unchanged)),
        skipped=tuple(s for s in skipped if s.name not in wanted),
        kept=tuple(sorted(kept, key=lambda d: d.name)),
    )
