"""resolvelib provider: a pure adapter between resolvelib and an :class:`Index`.

It follows pip's provider (identifiers ``name`` and ``name[extras]``, a Requires-Python
pseudo-package, pip's preference order and narrowing) so that, given the same index, it picks
the same versions pip-compile picks.  It never imports httpx.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, cast

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib.providers import AbstractProvider

from lockcheck.models import CoreMetadata, DistFile
from lockcheck.resolve.candidates import (
    FormatControl,
    VersionChoice,
    admitted_versions,
    iter_applicable_versions,
)
from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.resolve.protocol import Index, Wanted
from lockcheck.resolve.shared_choices import SharedChoices

if TYPE_CHECKING:
    from resolvelib.structs import Matches, RequirementInformation

__all__ = [
    "REQUIRES_PYTHON",
    "Candidate",
    "ExplicitRequirement",
    "LockProvider",
    "PythonRequirement",
    "SpecRequirement",
    "dependencies_in",
    "identifier_of",
]

REQUIRES_PYTHON = "<Python from Requires-Python>"
_CONFLICT_PRIORITY_THRESHOLD = 5


def identifier_of(name: NormalizedName, extras: frozenset[str]) -> str:
    """``name`` or ``name[a,b]``: one resolver identity per extras set, as pip does."""
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


def split_identifier(identifier: str) -> tuple[NormalizedName, frozenset[str]]:
    if "[" not in identifier:
        return NormalizedName(identifier), frozenset()
    name, _, rest = identifier.partition("[")
    return NormalizedName(name), frozenset(e for e in rest.rstrip("]").split(",") if e)


@dataclass(frozen=True, eq=False)
class Candidate:
    """A concrete (name, version, extras) choice; direct ones carry their link."""

    name: NormalizedName
    version: Version
    extras: frozenset[str] = frozenset()
    file: DistFile | None = None
    link: str | None = None
    editable: bool = False
    # Known up front for direct references (read when the link was resolved).
    preloaded: CoreMetadata | None = None

    @property
    def identifier(self) -> str:
        return identifier_of(self.name, self.extras)

    def __repr__(self) -> str:
        return self.label

    @cached_property
    def label(self) -> str:
        """``name[extras]==version``: who asked, in every requirement it makes."""
        return f"{self.identifier}=={self.version}"


@dataclass(frozen=True)
class PythonCandidate:
    version: Version
    identifier: str = REQUIRES_PYTHON


@dataclass(frozen=True)
class SpecRequirement:
    """``name[extras] specifier`` from an input or a dependency's metadata."""

    name: NormalizedName
    extras: frozenset[str]
    specifier: SpecifierSet
    # Who asked: None for a root input, else the parent candidate (for explanations).
    parent_label: str | None = None
    text: str = ""

    @property
    def identifier(self) -> str:
        return identifier_of(self.name, self.extras)

    def __str__(self) -> str:
        return self.text or f"{self.identifier}{self.specifier}"


@dataclass(frozen=True)
class ExplicitRequirement:
    """A requirement satisfied only by one given candidate (direct URL, editable, extras base)."""

    candidate: Candidate
    text: str = ""

    @property
    def identifier(self) -> str:
        return self.candidate.identifier

    @property
    def name(self) -> NormalizedName:
        return self.candidate.name

    def __str__(self) -> str:
        return self.text or f"{self.candidate.name} @ {self.candidate.link}"


@dataclass(frozen=True)
class PythonRequirement:
    specifier: SpecifierSet
    parent_label: str = ""
    identifier: str = REQUIRES_PYTHON

    def __str__(self) -> str:
        return f"Python{self.specifier}"


AnyRequirement = SpecRequirement | ExplicitRequirement | PythonRequirement
AnyCandidate = Candidate | PythonCandidate
if TYPE_CHECKING:
    #: What resolvelib says about a requirement: it and the candidate that asked for it.
    Information = RequirementInformation[AnyRequirement, AnyCandidate]
#: Metadata read for a candidate, by (name, version, link).
MetadataMemo = dict[tuple[NormalizedName, Version, "str | None"], CoreMetadata]


@dataclass
class ResolveOptions:
    env: TargetEnvironment
    formats: FormatControl = field(default_factory=FormatControl)
    allow_prereleases: bool = False
    # name -> order of first appearance among user-supplied root requirements.
    user_requested: Mapping[str, int] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)
    # Universal locks: wheels of any platform count (only Requires-Python and markers filter).
    any_platform_wheel: bool = False
    # Candidate lists shared with other resolutions for the same Python and platform (None:
    # this resolution's own).
    shared_choices: SharedChoices[VersionChoice] | None = None


def dependencies_in(
    envs: Sequence[TargetEnvironment], meta: CoreMetadata, extras: frozenset[str] = frozenset()
) -> list[Wanted]:
    """*meta*'s dependencies (not direct references) that apply in any of *envs* under
    *extras*, each with the extras it asks for."""
    asked = extras or None
    return [
        (canonicalize_name(r.name), frozenset(canonicalize_name(e) for e in r.extras))
        for r in meta.requires_dist
        if not r.url and (r.marker is None or any(env.evaluate(r.marker, asked) for env in envs))
    ]


class LockProvider(AbstractProvider[AnyRequirement, AnyCandidate, str]):
    """The resolver's only window on packages."""

    def __init__(
        self,
        index: Index,
        options: ResolveOptions,
        constraints: Mapping[NormalizedName, SpecifierSet],
        preferred: Mapping[NormalizedName, Version] | None = None,
        metadata: MetadataMemo | None = None,
    ) -> None:
        """*metadata*: the memo of metadata read, shared by the providers of one resolution
        (a second attempt need not ask the index again)."""
        self.index = index
        self.options = options
        self.constraints = dict(constraints)
        # Versions tried first (the existing lock's pins): a preference, never a constraint,
        # so a pin that cannot stay costs one rejected candidate, not a failed resolution.
        self.preferred = dict(preferred or {})
        self._conflict_counts: Counter[str] = Counter()
        self._conflict_promoted: set[str] = set()
        # Counts changes to _conflict_promoted: get_preference reads nothing else besides
        # the package's criterion, so the resolver may keep its answers per epoch.
        self.preference_epoch = 0
        self._candidates: dict[tuple[NormalizedName, Version, frozenset[str]], Candidate] = {}
        self._metadata: MetadataMemo = {} if metadata is None else metadata
        self._by_version: dict[NormalizedName, Mapping[Version, Sequence[DistFile]]] = {}
        self._shared = options.shared_choices or SharedChoices[VersionChoice]()
        # Requires-Python answers by the specifier's id (the specifier kept beside): every
        # pin adds one, and each new one had all of them checked again.
        self._fits: dict[int, tuple[bool, SpecifierSet]] = {}
        # Requirements on the target Python made here that it does not satisfy (the only
        # PythonRequirements are this provider's, see get_dependencies).
        self._python_misfits = 0
        # resolvelib re-checks every pin against every requirement on each round; the
        # answer for a (requirement, candidate) pair never changes.  Keyed by identity, the
        # value keeps both objects alive so the ids cannot be reused.
        self._satisfied: dict[tuple[int, int], tuple[bool, object, object]] = {}
        # Every dependency read, by the parent's name, for explaining a failure: resolvelib
        # reports only the last conflict, not the packages that narrowed it down.
        self.asked_by: dict[
            NormalizedName, dict[tuple[str, Version], tuple[Candidate, list[AnyRequirement]]]
        ] = {}

    # -- resolvelib interface ------------------------------------------------------------

    def identify(self, requirement_or_candidate: AnyRequirement | AnyCandidate) -> str:
        return requirement_or_candidate.identifier

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, AnyCandidate],
        candidates: Mapping[str, Iterator[AnyCandidate]],
        information: Mapping[str, Iterator[Information]],
        backtrack_causes: Sequence[Information],
    ) -> Iterable[str]:
        """pip's narrowing: Requires-Python first, then backtrack causes, then promoted."""
        backtrack_identifiers: set[str] = set()
        for info in backtrack_causes:
            names = [info.requirement.identifier]
            parent = info.parent
            if parent is not None:
                names.append(parent.identifier)
            for name in names:
                backtrack_identifiers.add(name)
                if name not in resolutions:
                    self._conflict_counts[name] += 1
                    if self._conflict_counts[name] >= _CONFLICT_PRIORITY_THRESHOLD:
                        if name not in self._conflict_promoted:
                            self.preference_epoch += 1
                        self._conflict_promoted.add(name)
        current, promoted = [], []
        ids = list(identifiers)
        for identifier in ids:
            if identifier == REQUIRES_PYTHON:
                return [identifier]
            if identifier in backtrack_identifiers:
                current.append(identifier)
            elif identifier in self._conflict_promoted:
                promoted.append(identifier)
        return current or promoted or ids

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, AnyCandidate],
        candidates: Mapping[str, Iterator[AnyCandidate]],
        information: Mapping[str, Iterator[Information]],
        backtrack_causes: Sequence[Information],
    ) -> tuple[object, ...]:
        """pip's order: promoted, direct, pinned, upper-bounded, user order, unfree, name."""
        direct = False
        operators: list[tuple[str, str]] = []
        for info in information[identifier]:
            req = info.requirement
            if isinstance(req, ExplicitRequirement):
                direct = True
            elif isinstance(req, SpecRequirement):
                operators.extend((s.operator, s.version) for s in req.specifier)
        pinned = any(op[:2] == "==" and "*" not in ver for op, ver in operators)
        upper = any(op in ("<", "<=", "~=") or (op == "==" and "*" in ver) for op, ver in operators)
        return (
            identifier not in self._conflict_promoted,
            not direct,
            not pinned,
            not upper,
            self.options.user_requested.get(identifier, math.inf),
            not operators,
            identifier,
        )

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[AnyRequirement]],
        incompatibilities: Mapping[str, Iterator[AnyCandidate]],
    ) -> Matches[AnyCandidate]:
        if identifier == REQUIRES_PYTHON:
            # The target Python is one fixed candidate; once backtracking has marked it
            # incompatible it must stay out, or resolvelib re-pins it forever (issue 13).
            if any(isinstance(c, PythonCandidate) for c in incompatibilities[identifier]):
                return []
            # Each Requires-Python was compared as its requirement was made: while none
            # failed, the criterion's hundred requirements need not be walked again.
            ok = not self._python_misfits or all(
                self._python_fits(r.specifier)
                for r in requirements[identifier]
                if isinstance(r, PythonRequirement)
            )
            return [PythonCandidate(self.options.env.version)] if ok else []
        reqs = list(requirements[identifier])
        name, extras = split_identifier(identifier)
        bad_versions = {c.version for c in incompatibilities[identifier]}
        explicit = [r.candidate for r in reqs if isinstance(r, ExplicitRequirement)]
        specifiers = [r.specifier for r in reqs if isinstance(r, SpecRequirement)]
        constraint = self.constraints.get(name)
        if constraint is not None:
            specifiers.append(constraint)
        specifier, text = self._shared.run.combined(specifiers)
        if explicit:
            chosen = explicit[0]
            if any(c.link != chosen.link or c.version != chosen.version for c in explicit[1:]):
                return []
            if chosen.version in bad_versions:
                return []
            if not specifier.contains(chosen.version, prereleases=True):
                return []
            if extras != chosen.extras:
                chosen = self._direct_with_extras(chosen, extras)
            return [chosen]
        first = self._preferred_choice(name, specifier, bad_versions)
        head = [first] if first is not None else []
        skip = bad_versions | {c.version for c in head}
        rest = (c for c in self._choices(name, specifier, text=text) if c.version not in skip)
        # A factory: resolvelib builds candidates only as it walks them (it asks for the
        # first, rarely more), so a project's thousands of files are mostly never examined.
        lazy = (
            self._candidate(name, c.version, extras, c.best_file)
            for c in itertools.chain(head, rest)
        )
        return lambda: lazy

    def _python_fits(self, specifier: SpecifierSet) -> bool:
        known = self._fits.get(id(specifier))
        if known is None:
            fits = specifier.contains(self.options.env.version, prereleases=True)
            known = self._fits[id(specifier)] = (fits, specifier)
        return known[0]

    def is_satisfied_by(self, requirement: AnyRequirement, candidate: AnyCandidate) -> bool:
        key = (id(requirement), id(candidate))
        known = self._satisfied.get(key)
        if known is not None:
            return known[0]
        result = self._satisfies(requirement, candidate)
        self._satisfied[key] = (result, requirement, candidate)
        return result

    @staticmethod
    def _satisfies(requirement: AnyRequirement, candidate: AnyCandidate) -> bool:
        if isinstance(requirement, PythonRequirement):
            return isinstance(candidate, PythonCandidate) and requirement.specifier.contains(
                candidate.version, prereleases=True
            )
        if not isinstance(candidate, Candidate):
            return False
        if isinstance(requirement, ExplicitRequirement):
            want = requirement.candidate
            return want.link == candidate.link and want.version == candidate.version
        return requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: AnyCandidate) -> list[AnyRequirement]:
        if isinstance(candidate, PythonCandidate):
            return []
        meta = self.metadata_of(candidate)
        deps: list[AnyRequirement] = []
        if candidate.extras:
            base = self._base_of(candidate)
            deps.append(ExplicitRequirement(base, text=f"{base.name}=={base.version}"))
            valid = candidate.extras & {canonicalize_name(e) for e in meta.provides_extra}
            if not meta.provides_extra:
                valid = candidate.extras
            deps.extend(self._requirements_for(candidate, meta, frozenset(valid)))
        else:
            if meta.requires_python is not None and str(meta.requires_python):
                deps.append(PythonRequirement(meta.requires_python, repr(candidate)))
                if not self._python_fits(meta.requires_python):
                    self._python_misfits += 1
            deps.extend(self._requirements_for(candidate, meta, frozenset()))
        own = [
            d for d in deps if not isinstance(d, ExplicitRequirement) or d.name != candidate.name
        ]
        self.asked_by.setdefault(candidate.name, {})[candidate.identifier, candidate.version] = (
            candidate,
            own,
        )
        self.index.prefetch_pages({d.name for d in deps if isinstance(d, SpecRequirement)})
        return deps

    # -- speculative prefetch (called from the index's worker threads) -------------------

    def likely_file(
        self, name: NormalizedName, groups: Mapping[Version, Sequence[DistFile]]
    ) -> DistFile | None:
        """The file the resolver will most likely read for *name*: the preferred version if
        it is allowed, else the newest allowed one."""
        specifier = self.constraints.get(name, SpecifierSet())
        best = self._preferred_choice(name, specifier, set(), groups)
        if best is None:
            best = next(self._choices(name, specifier, groups), None)
        return best.best_file if best else None

    # -- helpers ------------------------------------------------------------------------

    def _choices(
        self,
        name: NormalizedName,
        specifier: SpecifierSet,
        groups: Mapping[Version, Sequence[DistFile]] | None = None,
        *,
        text: str | None = None,
    ) -> Iterator[VersionChoice]:
        """The versions of *name* the target may use under *specifier* (*text*: its
        ``str()`` when known), best first.

        The resolver's own questions (*groups* None) are answered once per specifier; the
        prefetch threads' (with *groups*) are not kept.
        """

        allow_prereleases = self.options.allow_prereleases

        def compute(admitted: list[Version] | None = None) -> Iterator[VersionChoice]:
            return iter_applicable_versions(
                self._groups(name) if groups is None else groups,
                self.options.env,
                specifier,
                self.options.formats.allowed(name),
                allow_prereleases=allow_prereleases,
                check_tags=not self.options.any_platform_wheel,
                admitted=admitted,
                installable=None if groups is not None else self._shared.run.installable,
            )

        if groups is not None:
            return compute()
        if text is None:
            text = str(specifier)
        key = (name, text, allow_prereleases)

        def shared() -> Iterator[VersionChoice]:
            admitted = self._shared.run.admitted.get(key)
            if admitted is None:
                admitted = self._shared.run.admitted[key] = admitted_versions(
                    self._groups(name), specifier, allow_prereleases=allow_prereleases
                )
            return compute(admitted)

        return self._shared.get(name, text, shared)

    def _preferred_choice(
        self,
        name: NormalizedName,
        specifier: SpecifierSet,
        bad_versions: set[Version],
        groups: Mapping[Version, Sequence[DistFile]] | None = None,
    ) -> VersionChoice | None:
        """The preferred version of *name*, if *specifier* and the target allow it.

        It is chosen as pip-compile's ``==`` constraint would choose it: an ``==`` pin
        admits its own pre-release and its own yanked files.
        """
        version = self.preferred.get(name)
        if version is None or version in bad_versions:
            return None
        if not specifier.contains(version, prereleases=True):
            return None
        pinned = specifier & SpecifierSet(f"=={version}")
        return next((c for c in self._choices(name, pinned, groups) if c.version == version), None)

    def _groups(self, name: NormalizedName) -> Mapping[Version, Sequence[DistFile]]:
        groups = self._by_version.get(name)
        if groups is None:
            groups = self._by_version[name] = self.index.project_versions(name)
        return groups

    def metadata_of(self, candidate: Candidate) -> CoreMetadata:
        if candidate.preloaded is not None:
            return candidate.preloaded
        key = (candidate.name, candidate.version, candidate.link)
        meta = self._metadata.get(key)
        if meta is None:
            assert candidate.file is not None
            meta = self.index.metadata(candidate.file)
            self._metadata[key] = meta
        return meta

    def _requirements_for(
        self, candidate: Candidate, meta: CoreMetadata, extras: frozenset[str]
    ) -> list[AnyRequirement]:
        env = self.options.env
        label = repr(candidate)
        result: list[AnyRequirement] = []
        for req in meta.requires_dist:
            if req.marker is not None:
                if extras:
                    if not env.evaluate(req.marker, extras):
                        continue
                elif not env.evaluate(req.marker):
                    continue
            result.append(self.requirement_from(req, parent_label=label))
        return result

    def requirement_from(self, req: Requirement, *, parent_label: str | None) -> AnyRequirement:
        if req.url:
            name = canonicalize_name(req.name)
            extras = frozenset(canonicalize_name(e) for e in req.extras)
            meta, file = self.index.direct_metadata(req.url, base_dir=self.options.base_dir)
            cand = Candidate(name, meta.version, extras, file=file, link=req.url, preloaded=meta)
            return ExplicitRequirement(cand, text=str(req))
        # The metadata's Requirement objects are the same in every resolution of the run,
        # and so is what is made of one for one parent (a frozen value): made once.
        known = self._shared.run.requirements.get((id(req), parent_label))
        if known is not None:
            return cast(SpecRequirement, known[0])
        made = SpecRequirement(
            canonicalize_name(req.name),
            frozenset(canonicalize_name(e) for e in req.extras),
            req.specifier,
            parent_label,
            str(req).split(";")[0].strip(),
        )
        self._shared.run.requirements[id(req), parent_label] = (made, req)
        return made

    def _candidate(
        self, name: NormalizedName, version: Version, extras: frozenset[str], file: DistFile
    ) -> Candidate:
        key = (name, version, extras)
        cand = self._candidates.get(key)
        if cand is None:
            cand = Candidate(name, version, extras, file=file)
            self._candidates[key] = cand
        return cand

    def _base_of(self, candidate: Candidate) -> Candidate:
        if candidate.link is not None:
            return Candidate(
                candidate.name,
                candidate.version,
                frozenset(),
                file=candidate.file,
                link=candidate.link,
                editable=candidate.editable,
                preloaded=candidate.preloaded,
            )
        assert candidate.file is not None
        return self._candidate(candidate.name, candidate.version, frozenset(), candidate.file)

    def _direct_with_extras(self, candidate: Candidate, extras: frozenset[str]) -> Candidate:
        return Candidate(
            candidate.name,
            candidate.version,
            extras,
            file=candidate.file,
            link=candidate.link,
            editable=candidate.editable,
            preloaded=candidate.preloaded,
        )
