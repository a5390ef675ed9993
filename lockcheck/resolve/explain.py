"""Plain-words explanations of an impossible resolution.

resolvelib reports only the last conflict: the requirements that could not be satisfied
together, each with the candidate that asked for it.  This module tells each of them as the
chain from the input line that led there (``-r requirements.in (line 1): a -> a 3.0.0
requires b==3.0.0``), accounts for every other version of the packages in the conflict (ruled
out by an input line, by other packages' requirements, by the target), and adds what the index
offers, so the reader sees the whole conflict without a debugger.  Every list is capped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from lockcheck.errors import ResolutionFailed
from lockcheck.models import DistFile
from lockcheck.resolve.candidates import group_by_version, installable_files
from lockcheck.resolve.chains import Chains, allows
from lockcheck.resolve.protocol import Index
from lockcheck.resolve.provider import (
    REQUIRES_PYTHON,
    AnyCandidate,
    AnyRequirement,
    Candidate,
    ExplicitRequirement,
    LockProvider,
    PythonRequirement,
    SpecRequirement,
)

if TYPE_CHECKING:
    from resolvelib.resolvers import ResolutionImpossible

    from lockcheck.resolve.provider import Information

__all__ = ["explain_impossible"]


def _wanted(
    name: NormalizedName, causes: Sequence[Information], provider: LockProvider
) -> SpecifierSet:
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


#: At most this many requirements of the conflict are told; the rest are counted.
MAX_CAUSES = 8
#: Per package in the conflict, at most this many "ruled out" lines, each naming at most
#: MAX_VERSIONS versions and MAX_FACTS requirements.
MAX_RULED_OUT = 5
MAX_VERSIONS = 8
MAX_FACTS = 4


def _versions(versions: Sequence[Version]) -> str:
    """``2.0.0, 2.1.0`` (oldest first), the newest :data:`MAX_VERSIONS` when there are more."""
    shown = sorted(versions)[-MAX_VERSIONS:]
    more = len(versions) - len(shown)
    return ", ".join(map(str, shown)) + (f" (and {more} older)" if more else "")


def _capped(items: Sequence[str], sep: str = "; ") -> str:
    """The first :data:`MAX_FACTS` of *items* joined, and how many were left out."""
    more = len(items) - MAX_FACTS
    return sep.join(items[:MAX_FACTS]) + (f"{sep}and {more} more" if more > 0 else "")


def _facts(entries: Sequence[tuple[Candidate, SpecRequirement]]) -> str:
    """``c 1.0.0 requires a<2.0.0; c 2.0.0, 3.0.0 require a>=3.0.0``, capped."""
    by_text: dict[str, list[Candidate]] = {}
    for parent, req in sorted(entries, key=lambda e: e[0].version):
        by_text.setdefault(f"{req}", []).append(parent)
    facts = []
    for text, parents in by_text.items():
        who = f"{parents[0].identifier} {_versions([p.version for p in parents])}"
        facts.append(f"{who} {'requires' if len(parents) == 1 else 'require'} {text}")
    return _capped(facts)


class _Explainer:
    """Reads the provider's record of one failed resolution to account for each version."""

    def __init__(
        self,
        index: Index,
        provider: LockProvider,
        chains: Chains,
        constrained_at: Mapping[NormalizedName, Sequence[str]],
    ) -> None:
        self.index = index
        self.provider = provider
        self.chains = chains
        self.constrained_at = constrained_at
        self._asking_cache: dict[NormalizedName, dict] = {}

    def files(self, name: NormalizedName) -> list[DistFile]:
        try:
            return list(self.index.project_files(name))
        except Exception:
            return []

    def _own_reasons(self, name: NormalizedName, version: Version) -> list[str]:
        """The input lines (requirement or constraint) that exclude *version* of *name*."""
        reasons = []
        for root in self.chains.roots:
            if (
                isinstance(root, SpecRequirement)
                and root.name == name
                and not allows(root, name, version)
            ):
                reasons.append(f"{self.chains.where(root)}: {root}")
        constraint = self.provider.constraints.get(name)
        if constraint is not None and not constraint.contains(version, prereleases=True):
            where = " and ".join(self.constrained_at.get(name, ())) or "a constraint"
            reasons.append(f"{where}: {name}{constraint}")
        return reasons

    def _asking(
        self, name: NormalizedName
    ) -> dict[NormalizedName, list[tuple[Candidate, SpecRequirement]]]:
        """Every requirement on *name* the resolver read, by the asking package (read once)."""
        if name not in self._asking_cache:
            asking: dict[NormalizedName, list[tuple[Candidate, SpecRequirement]]] = {}
            for other, entries in self.provider.asked_by.items():
                for parent, deps in entries.values():
                    for dep in deps:
                        if other != name and isinstance(dep, SpecRequirement) and dep.name == name:
                            asking.setdefault(other, []).append((parent, dep))
            self._asking_cache[name] = asking
        return self._asking_cache[name]

    def _excluders(self, name: NormalizedName, version: Version) -> str | None:
        """``by c (<chain to c>): c 1.0.0 requires a<2.0.0; ...``: the packages every read
        version of which asks for *name* without *version* (at most MAX_FACTS of them)."""
        excluders = [
            (other, pairs)
            for other, pairs in sorted(self._asking(name).items())
            if not any(allows(dep, name, version) for _parent, dep in pairs)
        ]
        if not excluders:
            return None
        return _capped(
            [
                f"by {other} ({self.chains.to_package(other) or 'in the graph'}): {_facts(pairs)}"
                for other, pairs in excluders
            ]
        )

    def _unmet(self, req: AnyRequirement) -> str | None:
        """Why the inputs leave no version for *req*: ``, which no version of z matches`` or
        ``, but -r requirements.in (line 3) requires z==1.0``; None if some version fits."""
        if not isinstance(req, SpecRequirement):
            return None
        versions = {f.version for f in self.files(req.name)}
        if not any(req.specifier.contains(v, prereleases=True) for v in versions):
            return f", which no version of {req.name} matches"
        wanted = _root_wanted(req.name, self.chains.roots, self.provider) & req.specifier
        if any(wanted.contains(v, prereleases=True) for v in versions):
            return None
        inputs = [
            self.chains.render(root, ())
            for root in self.chains.roots
            if isinstance(root, SpecRequirement) and root.name == req.name
        ]
        if req.name in self.provider.constraints:
            inputs += self.constrained_at.get(req.name, ["a constraint"])
        return ", but " + " and ".join(inputs) if inputs else None

    def _why_dropped(self, deps: Sequence[AnyRequirement]) -> str:
        """Why a version the resolver read and dropped cannot be used: one of its requirements
        the inputs leave no version for, directly or through every version of a dependency;
        else what it asked for."""
        for dep in deps:
            unmet = self._unmet(dep)
            if unmet:
                return f"because it requires {dep}{unmet}"
        for dep in deps:
            through = self._through(dep)
            if through:
                return f"because it requires {dep}, and {through}"
        return f"because what it requires ({_capped([str(d) for d in deps], ', ')}) conflicts"

    def _through(self, dep: AnyRequirement) -> str | None:
        """``d 1.0 requires z==2 and d 2.0 requires z>=2, but <input> requires z==1``: every
        version of *dep* the index has was read and asks for something the inputs leave no
        version for; else None."""
        if not isinstance(dep, SpecRequirement):
            return None
        matching = {f.version for f in self.files(dep.name) if allows(dep, dep.name, f.version)}
        read = {
            v: (cand, reqs)
            for (_i, v), (cand, reqs) in self.provider.asked_by.get(dep.name, {}).items()
            if v in matching
        }
        if not matching or set(read) != matching:
            return None
        by_reason: dict[str, list[str]] = {}
        for version in sorted(read):
            cand, reqs = read[version]
            fact = next(((r, u) for r in reqs if (u := self._unmet(r))), None)
            if fact is None:
                return None
            by_reason.setdefault(fact[1], []).append(
                f"{cand.identifier} {version} requires {fact[0]}"
            )
        return "; ".join(_capped(facts, " and ") + why for why, facts in by_reason.items())

    def ruled_out(
        self, name: NormalizedName, in_conflict: set[Version], target: Mapping[Version, str]
    ) -> list[str]:
        """Why each version of *name* the conflict does not show was not used, grouped by
        reason; *target* holds the target's reasons (Requires-Python, no file, yanked)."""
        groups: dict[str, list[Version]] = {}
        tried = self.provider.asked_by.get(name, {})
        versions = {f.version for f in self.files(name)} - in_conflict
        allow_pre = self.provider.options.allow_prereleases
        for version in sorted(versions, reverse=True):
            if version.is_prerelease and not allow_pre:
                continue
            if version in target:
                groups.setdefault(target[version], [])
                continue
            own = self._own_reasons(name, version)
            if own:
                groups.setdefault(f"by {' and '.join(own)}", []).append(version)
                continue
            excluded = self._excluders(name, version)
            if excluded:
                groups.setdefault(excluded, []).append(version)
                continue
            read = [deps for (_i, v), (_c, deps) in tried.items() if v == version]
            if read:
                groups.setdefault(self._why_dropped(read[0]), []).append(version)
        lines = []
        for reason, group in groups.items():
            if not group:  # the target's own sentence names the version
                lines.append(reason)
            elif len(group) == 1:
                lines.append(f"{name} {group[0]} is ruled out {reason}")
            else:
                lines.append(f"{name} {_versions(group)} are ruled out {reason}")
        more = len(lines) - MAX_RULED_OUT
        if more > 0:
            lines = [
                *lines[:MAX_RULED_OUT],
                f"and {more} more reasons for other versions of {name}",
            ]
        return lines


def explain_impossible(
    exc: ResolutionImpossible[AnyRequirement, AnyCandidate],
    index: Index,
    provider: LockProvider,
    labels: Mapping[NormalizedName, set[str]],
    asked_at: Mapping[int, str] | None = None,
    constrained_at: Mapping[NormalizedName, Sequence[str]] | None = None,
    roots: Sequence[SpecRequirement | ExplicitRequirement] = (),
) -> ResolutionFailed:
    """*roots* are the root requirements, *asked_at* maps each (by id) to the input line that
    asked for it; *constrained_at* lists, per name, the constraint lines that narrowed it."""
    asked_at = asked_at or {}
    constrained_at = constrained_at or {}
    chains = Chains(roots, asked_at, provider.asked_by)
    explainer = _Explainer(index, provider, chains, constrained_at)
    shown_python = provider.options.env.shown_version
    causes = list(exc.causes)
    conflict = _conflict(causes, explainer, labels, asked_at, shown_python)
    lines = conflict.lines
    if len(lines) > MAX_CAUSES:
        lines = [*lines[:MAX_CAUSES], f"and {len(lines) - MAX_CAUSES} more requirements"]
    for name, in_conflict in conflict.parents.items():
        files = explainer.files(name)
        wanted = _root_wanted(name, roots, provider)
        _allowed, rejected = _rejected(name, files, wanted, provider)
        target = {r.version: r.line for r in rejected}
        lines += explainer.ruled_out(name, in_conflict, target)
    python_only: str | None = None
    no_match: str | None = None
    for name in conflict.names:
        found = _package_facts(name, causes, explainer, constrained_at, shown_python)
        lines += found.lines
        python_only = python_only or found.python_only
        no_match = no_match or found.no_match
    summary = python_only or no_match or _summary(conflict, lines)
    return ResolutionFailed(f"cannot resolve: {summary}", causes=list(dict.fromkeys(lines)))


@dataclass
class _Conflict:
    """What resolvelib's causes say: one line per requirement in conflict, the packages
    they name, the versions of the packages that asked, and whether Python took part."""

    lines: list[str] = field(default_factory=list)
    names: list[NormalizedName] = field(default_factory=list)
    parents: dict[NormalizedName, set[Version]] = field(default_factory=dict)
    python: bool = False


def _conflict(
    causes: Sequence[Information],
    explainer: _Explainer,
    labels: Mapping[NormalizedName, set[str]],
    asked_at: Mapping[int, str],
    shown_python: str,
) -> _Conflict:
    found = _Conflict()
    # Versions of one package asking the same thing are one line ("a 1.0, 2.0 require b==1").
    grouped: dict[tuple[str, str], list[Information]] = {}
    for info in causes:
        asker = info.parent if isinstance(info.parent, Candidate) else None
        grouped.setdefault((asker.identifier if asker else "", str(info.requirement)), []).append(
            info
        )
        if asker is not None:
            found.parents.setdefault(asker.name, set()).add(asker.version)
    for infos in grouped.values():
        info = max(infos, key=lambda i: getattr(i.parent, "version", Version("0")))
        req, parent = info.requirement, info.parent
        last = None
        if isinstance(parent, Candidate) and len(infos) > 1:
            every = {f.version for f in explainer.files(parent.name)}
            asking = [i.parent.version for i in infos if i.parent is not None]
            who = (
                f"all {len(asking)} versions of {parent.identifier}"
                if every and every <= set(asking)
                else f"{parent.identifier} {_versions(asking)}"
            )
            last = f"{who} require {req}"
        told = explainer.chains.to_requirement(
            parent if isinstance(parent, Candidate) else None, req, last
        )
        if told is None:
            told = f"{_who(info, labels, asked_at)} requires {req}"
        if isinstance(req, PythonRequirement) or req.identifier == REQUIRES_PYTHON:
            found.python = True
            found.lines.append(f"{told}, but the target is Python {shown_python}")
            continue
        found.lines.append(told)
        if req.name not in found.names:
            found.names.append(req.name)
    return found


@dataclass
class _Facts:
    """What the index and the inputs say about one package in conflict."""

    lines: list[str]
    python_only: str | None = None
    no_match: str | None = None


def _package_facts(
    name: NormalizedName,
    causes: Sequence[Information],
    explainer: _Explainer,
    constrained_at: Mapping[NormalizedName, Sequence[str]],
    shown_python: str,
) -> _Facts:
    provider = explainer.provider
    found = _Facts([])
    constraint = provider.constraints.get(name)
    if constraint is not None and str(constraint):
        where = " and ".join(constrained_at.get(name, ()))
        by = f" by {where}" if where else ""
        found.lines.append(f"{name} is constrained to {constraint}{by}")
    files = explainer.files(name)
    versions = sorted({f.version for f in files})
    cut = explainer.index.cutoff_note(name)
    if not files:
        found.lines.append(cut or f"no package named {name!r} was found on the configured indexes")
        return found
    shown = ", ".join(str(v) for v in versions[-12:])
    more = f" (and {len(versions) - 12} older)" if len(versions) > 12 else ""
    found.lines.append(f"available versions of {name}: {shown}{more}")
    if cut:
        found.lines.append(cut)
    wanted = _wanted(name, causes, provider)
    allowed, rejected = _rejected(name, files, wanted, provider)
    if len(causes) == 1:
        found.no_match = _unusable(name, wanted, allowed, rejected)
    newest = set(allowed[:5])
    found.lines += [r.line for r in rejected if r.version in newest]
    found.python_only = _python_only(name, allowed, rejected, shown_python)
    return found


def _summary(conflict: _Conflict, lines: Sequence[str]) -> str:
    names = conflict.names
    missing = [n for n in names if any(f"no package named {n!r}" in ln for ln in lines)]
    if conflict.python and not names:
        return "the inputs need a different Python than the target"
    if len(names) == 1 and not missing:
        return f"conflicting requirements on {names[0]}"
    if names and len(missing) == len(names):
        return "no package named " + ", ".join(repr(n) for n in names) + " on the index"
    return "conflicting requirements on " + ", ".join(names) if names else "no solution"


def _unusable(
    name: NormalizedName,
    wanted: SpecifierSet,
    allowed: Sequence[Version],
    rejected: Sequence[_Rejected],
) -> str | None:
    """The headline when one requirement alone cannot be met: nothing conflicts."""
    if not allowed:
        return f"no version of {name} matches {name}{wanted}"
    if len(rejected) == len(allowed):
        matching = f" matching {wanted}" if str(wanted) else ""
        return f"no version of {name}{matching} can be used"
    return None


def _who(
    info: Information, labels: Mapping[NormalizedName, set[str]], asked_at: Mapping[int, str]
) -> str:
    """Who asked, when no chain was read: the parent, the input line, or the input files."""
    if info.parent is not None:
        return repr(info.parent)
    req = info.requirement
    if id(req) in asked_at:
        return asked_at[id(req)]
    name = getattr(req, "name", None)
    sources = sorted(labels.get(name, ())) if name else []
    return " and ".join(sources) if sources else "the input"


def _root_wanted(
    name: NormalizedName, roots: Sequence[object], provider: LockProvider
) -> SpecifierSet:
    """What the inputs themselves (requirements and constraints) allow of *name*."""
    spec = provider.constraints.get(name, SpecifierSet())
    for root in roots:
        if isinstance(root, SpecRequirement) and root.name == name:
            spec &= root.specifier
    return spec
