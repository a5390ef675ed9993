"""Turn inputs into a :class:`~lockcheck.models.Resolution`.

An unchanged input keeps every pin of the existing output file and a changed one moves only
what it must.  The pins are first held as constraints, as pip-compile holds them, which gives
pip-compile's lock; when the inputs make that impossible, one more resolution takes them as
preferences only (each the first candidate tried for its package), so a pin that cannot stay
is one rejected candidate.  That is all: no loop that drops pins and starts again, and each
resolution is one resolvelib run of at most :data:`MAX_ROUNDS` rounds; running out of them is
a clean error that names the packages it kept backtracking on.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import BaseReporter  # the provider imports resolvelib anyway
from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

from lockcheck.errors import InputError, LockcheckError, ResolutionFailed
from lockcheck.inputs.reqfile import split_link_extras
from lockcheck.models import DistFile, InputRequirement, LockedPackage, ReleaseFiles, Resolution
from lockcheck.references import DirectReference
from lockcheck.resolve.candidates import FormatControl, VersionChoice, installable_files
from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.resolve.markers import extras_named, without_extra_markers
from lockcheck.resolve.pin_checks import MemoResolver
from lockcheck.resolve.protocol import Index, Wanted
from lockcheck.resolve.provider import (
    REQUIRES_PYTHON,
    AnyCandidate,
    AnyRequirement,
    Candidate,
    ExplicitRequirement,
    LockProvider,
    MetadataMemo,
    ResolveOptions,
    SpecRequirement,
    dependencies_in,
    split_identifier,
)
from lockcheck.resolve.shared_choices import SharedChoices

if TYPE_CHECKING:
    from resolvelib.resolvers import Criterion, Result

    from lockcheck.resolve.provider import Information

    _Result = Result[AnyRequirement, AnyCandidate, str]

__all__ = [
    "DEFAULT_UNSAFE",
    "ExistingPin",
    "ResolveRequest",
    "hashes_for",
    "line_of",
    "parse_upgrade_package",
    "resolve",
]

DEFAULT_UNSAFE = frozenset(NormalizedName(n) for n in ("setuptools", "distribute", "pip"))
#: resolvelib rounds (one pin or one backjump each) before giving up.  A lock of a few hundred
#: packages takes as many rounds plus its backtracking; a resolution still going after this
#: many is lost in backtracking, and failing fast with the packages it was trying beats the
#: minutes pip's 200,000 would take.
MAX_ROUNDS = 5_000


@dataclass(frozen=True)
class ExistingPin:
    """A pin read from the current output file, kept unless the inputs forbid it."""

    name: NormalizedName
    version: Version
    hashes: tuple[str, ...] = ()


@dataclass
class ResolveRequest:
    requirements: Sequence[InputRequirement]
    constraints: Sequence[InputRequirement] = ()
    env: TargetEnvironment = field(default_factory=TargetEnvironment.current)
    # Extras selected for project inputs (pyproject `--extra`), for `extra == "x"` markers.
    extras: frozenset[str] = frozenset()
    existing_pins: Mapping[NormalizedName, ExistingPin] = field(default_factory=dict)
    # --upgrade-package NAME[SPEC]: name -> extra specifier (may be empty).
    upgrade_packages: Mapping[NormalizedName, SpecifierSet] = field(default_factory=dict)
    upgrade_all: bool = False
    # False: existing pins are preferences only from the start, so an upgraded package
    # takes its newest version and moves what it forces (pip-compile holds them first).
    hold_pins: bool = True
    formats: FormatControl = field(default_factory=FormatControl)
    allow_prereleases: bool = False
    generate_hashes: bool = False
    allow_unsafe: bool = False
    unsafe_packages: frozenset[NormalizedName] = DEFAULT_UNSAFE
    # Where relative paths of direct references are resolved (pip: the working directory).
    base_dir: Path = field(default_factory=Path.cwd)
    # How a relative local link is written in the lock (relative to the output's folder).
    output_dir: Path | None = None
    # Called with a short line each time a package is pinned (progress display).
    progress: Callable[[str], None] | None = None
    # pip-compile's --max-rounds: raises the bound above MAX_ROUNDS, never lowers it.
    max_rounds: int = 0
    # Universal locks: accept wheels of every platform (see ResolveOptions).
    any_platform_wheel: bool = False
    # Universal locks: candidate lists shared by the resolutions of one Python and platform.
    shared_choices: SharedChoices[VersionChoice] | None = None
    # False: leave the index's files out of the pins (a universal lock's merge lists each
    # pin's files for all the environments that take it).
    list_files: bool = True
    # Universal locks: the grid's environments, whose likely files and dependencies the
    # background walk fetches too while the first resolution waits on the network (the
    # later ones then find them fetched).
    prefetch_envs: Sequence[TargetEnvironment] = ()


def _applies(entry: InputRequirement, request: ResolveRequest) -> bool:
    req = entry.requirement
    if req is None or req.marker is None:
        return True
    return request.env.evaluate(req.marker, request.extras or None)


def resolve(request: ResolveRequest, index: Index) -> Resolution:
    """Resolve *request* against *index*; raises ResolutionFailed with a readable chain."""
    options = ResolveOptions(
        env=request.env,
        formats=request.formats,
        allow_prereleases=request.allow_prereleases,
        base_dir=request.base_dir,
        any_platform_wheel=request.any_platform_wheel,
        shared_choices=request.shared_choices,
    )
    memo: MetadataMemo = {}
    inputs = _read_inputs(request, LockProvider(index, options, {}, metadata=memo))
    options.user_requested = inputs.user_order()
    preferred = _preferred_versions(request)
    _start_prefetch(index, options, inputs, preferred, request)

    # First the lock's pins are held, as pip-compile holds them (constraints): the same lock
    # as pip-compile, and nothing moves that need not.  If the inputs make that impossible,
    # one more run takes them as preferences only.  Never more than these two runs.
    held = _held_pins(request, inputs.roots, preferred) if request.hold_pins else {}
    attempts = [inputs.constraints]
    if held:
        attempts.insert(0, _merged(inputs.constraints.items(), held.items()))
    bound = max(MAX_ROUNDS, request.max_rounds)
    for attempt, constraints in enumerate(attempts, start=1):
        provider = LockProvider(index, options, constraints, preferred, metadata=memo)
        result = _run(provider, inputs, request, bound, last=attempt == len(attempts))
        if result is not None:
            return _to_resolution(result, request, index, provider, inputs)
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover


@dataclass
class _Inputs:
    """The request's inputs that apply to the target, read once: root requirements and
    merged constraints, and where each package was asked for (annotations, explanations)."""

    roots: list[SpecRequirement | ExplicitRequirement] = field(default_factory=list)
    constraints: dict[NormalizedName, SpecifierSet] = field(default_factory=dict)
    labels: dict[NormalizedName, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: The input line of each root requirement, by the requirement's id.
    asked_at: dict[int, str] = field(default_factory=dict)
    constrained_at: dict[NormalizedName, list[str]] = field(
        default_factory=lambda: defaultdict(list)
    )
    markers: dict[NormalizedName, Marker] = field(default_factory=dict)

    def note(self, name: NormalizedName, entry: InputRequirement) -> None:
        """Record that *entry* asked for *name* (its source, and its marker if any)."""
        self.labels[name].add(entry.source)
        marker = without_extra_markers(entry.requirement.marker if entry.requirement else None)
        if marker is not None:
            self.markers[name] = marker

    def user_order(self) -> dict[str, int]:
        """Identifier -> position of its first root requirement (pip's preference)."""
        order: dict[str, int] = {}
        for i, r in enumerate(self.roots):
            order.setdefault(r.identifier, i)
        return order


def _read_inputs(request: ResolveRequest, bootstrap: LockProvider) -> _Inputs:
    inputs = _Inputs()
    for entry in request.requirements:
        if entry.constraint or not _applies(entry, request):
            continue
        root = _root_requirement(entry, bootstrap, request)
        inputs.roots.append(root)
        inputs.asked_at[id(root)] = line_of(entry)
        inputs.note(root.name, entry)
    entries = [e for e in request.constraints if _applies(e, request)]
    entries += [e for e in request.requirements if e.constraint and _applies(e, request)]
    specs: list[tuple[NormalizedName, SpecifierSet]] = []
    for entry in entries:
        if entry.requirement is None or entry.requirement.url or entry.link:
            raise InputError(
                "links are not allowed as constraints", file=entry.file, line=entry.line
            )
        name = canonicalize_name(entry.requirement.name)
        specs.append((name, entry.requirement.specifier))
        inputs.constrained_at[name].append(line_of(entry))
        inputs.note(name, entry)
    inputs.constraints = _merged(specs, request.upgrade_packages.items())
    return inputs


def _start_prefetch(
    index: Index,
    options: ResolveOptions,
    inputs: _Inputs,
    preferred: Mapping[NormalizedName, Version],
    request: ResolveRequest,
) -> None:
    """Let the index fetch the likely graph in parallel while the resolver works: for this
    target, and for the request's ``prefetch_envs`` too (a universal lock's others)."""
    others = request.prefetch_envs
    wanted = [(r.name, r.extras) for r in inputs.roots if isinstance(r, SpecRequirement)]
    wanted += _roots_elsewhere(request)
    index.prefetch_pages(name for name, _extras in wanted)
    guides = [LockProvider(index, options, inputs.constraints, preferred)]
    pythons = {options.env.python_full_version}
    for env in others:  # a file per Python version (Requires-Python picks it), not platform
        if env.python_full_version not in pythons:
            pythons.add(env.python_full_version)
            alike = replace(options, env=env, shared_choices=None)
            guides.append(LockProvider(index, alike, inputs.constraints, preferred))
    envs = (options.env, *others)
    index.prefetch_graph(wanted, partial(_likely_files, guides), partial(dependencies_in, envs))


def _roots_elsewhere(request: ResolveRequest) -> list[Wanted]:
    """Inputs whose markers exclude this target but hold in another of ``prefetch_envs``."""
    extras = request.extras or None
    return [
        (canonicalize_name(req.name), frozenset(canonicalize_name(e) for e in req.extras))
        for entry in request.requirements
        if (req := entry.requirement) is not None
        and req.marker is not None
        and not req.url
        and not entry.constraint
        and not _applies(entry, request)
        and any(env.evaluate(req.marker, extras) for env in request.prefetch_envs)
    ]


def _likely_files(
    guides: Sequence[LockProvider],
    name: NormalizedName,
    groups: Mapping[Version, Sequence[DistFile]],
) -> list[DistFile]:
    """The file each guide's target will most likely read, each version once (metadata is
    read per version)."""
    files: list[DistFile] = []
    for guide in guides:
        file = guide.likely_file(name, groups)
        if file is not None and all(f.version != file.version for f in files):
            files.append(file)
    return files


def _run(
    provider: LockProvider, inputs: _Inputs, request: ResolveRequest, bound: int, *, last: bool
) -> Result | None:
    """One resolvelib run; None when it failed and another attempt follows, else the
    failure as a readable error."""
    reporter = _Reporter(request.progress)
    try:
        return MemoResolver(provider, reporter).resolve(inputs.roots, max_rounds=bound)
    except ResolutionImpossible as exc:
        if not last:
            return None
        from lockcheck.resolve.explain import explain_impossible  # here: only a failure needs it

        raise explain_impossible(
            exc,
            provider.index,
            provider,
            inputs.labels,
            inputs.asked_at,
            inputs.constrained_at,
            inputs.roots,
        ) from None
    except ResolutionTooDeep:
        if not last:
            return None
        raise _gave_up(reporter, bound) from None


def line_of(entry: InputRequirement) -> str:
    """``-r requirements.in (line 3)``: the input line that asked, in pip's words."""
    return f"{entry.source} (line {entry.line})" if entry.line else entry.source


def _held_pins(
    request: ResolveRequest,
    root_reqs: Sequence[SpecRequirement | ExplicitRequirement],
    preferred: Mapping[NormalizedName, Version],
) -> dict[NormalizedName, SpecifierSet]:
    """The preferred pins the inputs' own specifiers allow, as ``==`` constraints."""
    primary: dict[NormalizedName, SpecifierSet] = {}
    for r in root_reqs:
        if isinstance(r, SpecRequirement):
            primary[r.name] = primary.get(r.name, SpecifierSet()) & r.specifier
    return {
        name: SpecifierSet(f"=={version}")
        for name, version in preferred.items()
        if name not in primary or primary[name].contains(version, prereleases=True)
    }


def _merged(
    *parts: Iterable[tuple[NormalizedName, SpecifierSet]],
) -> dict[NormalizedName, SpecifierSet]:
    """The specifiers of *parts*, joined per name."""
    merged: dict[NormalizedName, SpecifierSet] = {}
    for part in parts:
        for name, spec in part:
            merged[name] = merged.get(name, SpecifierSet()) & spec
    return merged


def _preferred_versions(request: ResolveRequest) -> dict[NormalizedName, Version]:
    """The existing lock's pins, tried first (none with --upgrade, and none for the
    packages --upgrade-package names)."""
    if request.upgrade_all:
        return {}
    return {
        name: pin.version
        for name, pin in request.existing_pins.items()
        if name not in request.upgrade_packages
    }


def _gave_up(reporter: _Reporter, bound: int) -> ResolutionFailed:
    """The error for a resolution that ran out of rounds, naming where it kept backtracking."""
    busiest = sorted(reporter.conflicts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    names = ", ".join(name for name, _count in busiest) or "no package in particular"
    causes = [
        f"{name}: in {count} conflicts, {reporter.rejected[name]} candidate versions rejected"
        for name, count in busiest
    ]
    causes.append("tighten the requirements on these packages in the inputs")
    return ResolutionFailed(
        f"cannot resolve: gave up after {bound} rounds of backtracking on {names}",
        causes=causes,
    )


class _Reporter(BaseReporter[AnyRequirement, AnyCandidate, str]):
    """Forwards pins to *progress* (no printing here) and counts, per package, the conflicts
    it took part in and its rejected candidates, to name them if the resolution gives up."""

    def __init__(self, progress: Callable[[str], None] | None) -> None:
        super().__init__()
        self.progress = progress
        self.pinned = 0
        self.conflicts: Counter[NormalizedName] = Counter()
        self.rejected: Counter[NormalizedName] = Counter()

    def resolving_conflicts(self, causes: Collection[Information]) -> None:
        names: set[NormalizedName] = set()
        for info in causes:
            for side in (info.requirement, info.parent):
                if isinstance(side, (SpecRequirement, ExplicitRequirement, Candidate)):
                    names.add(side.name)
        self.conflicts.update(names)

    def pinning(self, candidate: AnyCandidate) -> None:
        if self.progress is not None and isinstance(candidate, Candidate):
            self.pinned += 1
            self.progress(f"{self.pinned} pinned, last {candidate!r}")

    def rejecting_candidate(
        self, criterion: Criterion[AnyRequirement, AnyCandidate], candidate: AnyCandidate
    ) -> None:
        if isinstance(candidate, Candidate):
            self.rejected[candidate.name] += 1
            if self.progress is not None:
                self.progress(f"backtracking: {candidate!r} does not fit")


def _root_requirement(
    entry: InputRequirement,
    provider: LockProvider,
    request: ResolveRequest,
) -> SpecRequirement | ExplicitRequirement:
    req = entry.requirement
    link = entry.link or (req.url if req is not None else None)
    if link is None:
        assert req is not None
        out = provider.requirement_from(req, parent_label=None)
        assert isinstance(out, SpecRequirement)
        return out
    link_extras: frozenset[str] = frozenset()
    if entry.link:
        link, raw_extras = split_link_extras(entry.link)
        link_extras = frozenset(canonicalize_name(e) for e in raw_extras)
    try:
        meta, file = provider.index.direct_metadata(
            link, base_dir=request.base_dir, editable=entry.editable
        )
    except LockcheckError as exc:
        if exc.file is None:  # say which input line pointed there
            exc.file, exc.line = str(entry.file), entry.line or None
        raise
    name = canonicalize_name(meta.name)
    if req is not None and canonicalize_name(req.name) != name:
        raise InputError(
            f"{link} is project {meta.name!r}, not {req.name!r}", file=entry.file, line=entry.line
        )
    extras = link_extras | frozenset(canonicalize_name(e) for e in (req.extras if req else ()))
    cand = Candidate(
        name,
        meta.version,
        extras,
        file=file,
        link=link,
        editable=entry.editable,
        preloaded=meta,
    )
    return ExplicitRequirement(cand, text=f"{name} @ {link}")


def _to_resolution(
    result: _Result,
    request: ResolveRequest,
    index: Index,
    provider: LockProvider,
    inputs: _Inputs,
) -> Resolution:
    by_name, extras, parents = _pinned(result)
    packages: dict[NormalizedName, LockedPackage] = {}
    for name, cand in sorted(by_name.items()):
        files: Sequence[DistFile] = ()
        hashes: tuple[str, ...] = ()
        if cand.link is None and request.list_files:
            files = ReleaseFiles(partial(_release_files, index, name, cand, request))
        elif cand.file is not None:
            files = (cand.file,)
        if request.generate_hashes and not cand.editable:
            hashes = hashes_for(cand, files, request, index)
        packages[name] = LockedPackage(
            name=name,
            display_name=name,
            version=cand.version,
            link=None if cand.link is None else _link_for_output(cand.link, request),
            editable=cand.editable,
            extras=frozenset(extras[name]),
            marker=inputs.markers.get(name),
            hashes=hashes,
            via=tuple(sorted(inputs.labels.get(name, set()) | parents[name])),
            unsafe=name in request.unsafe_packages,
            files=files,
            chosen_file=cand.file if cand.link is None else None,
        )
    return Resolution(
        packages=packages,
        python_version=request.env.python_version,
        dependency_markers=_dependency_markers(result.mapping, provider),
    )


def _release_files(
    index: Index, name: NormalizedName, cand: Candidate, request: ResolveRequest
) -> list[DistFile]:
    """Every file of *cand*'s release that the target's Python and formats may install, on
    any platform (what pip-compile hashes)."""
    every = list(index.project_versions(name).get(cand.version, ()))
    return installable_files(every, request.env, request.formats.allowed(name), check_tags=False)


def _pinned(
    result: _Result,
) -> tuple[
    dict[NormalizedName, Candidate], dict[NormalizedName, set[str]], dict[NormalizedName, set[str]]
]:
    """Per package of *result*: its pinned candidate, the extras pinned for it, and the
    packages it was pinned for."""
    mapping = result.mapping
    by_name: dict[NormalizedName, Candidate] = {}
    extras: dict[NormalizedName, set[str]] = defaultdict(set)
    parents: dict[NormalizedName, set[str]] = defaultdict(set)
    for identifier, cand in mapping.items():
        if identifier == REQUIRES_PYTHON or not isinstance(cand, Candidate):
            continue
        name, ids_extras = split_identifier(identifier)
        if not ids_extras:
            by_name[name] = cand
        elif _spelled_otherwise(result, identifier, name):
            # pip-compile lists the project among its own sources when a dependency asked
            # for its extra under another spelling (msal: "PyJWT[crypto]" -> "# via pyjwt").
            parents[name].add(name)
        extras[name] |= ids_extras
        for parent in result.graph.iter_parents(identifier):
            if parent is None or parent not in mapping:
                # resolvelib's graph keeps parents whose pin was dropped by backtracking (their
                # requirement stays in the criterion); the lock names only pinned parents
                continue
            pname, _ = split_identifier(parent)
            if pname != name:
                parents[name].add(pname)
    return by_name, extras, parents


def _dependency_markers(
    mapping: Mapping[str, object], provider: LockProvider
) -> tuple[tuple[str, Requirement], ...]:
    """Each pinned candidate's dependencies that carry a marker, those of an extra only
    where the extra was asked for (a universal lock looks in them for values it lacks)."""
    found: list[tuple[str, Requirement]] = []
    for identifier, cand in mapping.items():
        if identifier == REQUIRES_PYTHON or not isinstance(cand, Candidate):
            continue
        for req in provider.metadata_of(cand).requires_dist:
            if req.marker is None:
                continue
            named = extras_named(req.marker)
            if (named & cand.extras) if cand.extras else not named:
                found.append((f"{cand.name}=={cand.version}", req))
    return tuple(found)


def _spelled_otherwise(result: _Result, identifier: str, name: NormalizedName) -> bool:
    criterion = result.criteria.get(identifier)
    for info in criterion.information if criterion is not None else ():
        req = info.requirement
        if isinstance(req, SpecRequirement) and info.parent is not None and req.text:
            text = req.text
            written = text.split("[", 1)[0].strip()
            if written != name:
                return True
    return False


def hashes_for(
    cand: Candidate, files: Iterable, request: ResolveRequest, index: Index
) -> tuple[str, ...]:
    """sha256 of the release's files: the index's digest, else the file's own bytes.

    An existing pin's hashes are kept, as pip-compile's ``--reuse-hashes`` keeps them, so a
    file uploaded to the release later does not churn the lock; but only when every one of
    them is a file of the release.  One that is not (a hand edit, a tampered lock) would let
    pip install a file nobody published under that version: then the whole set is written
    anew from the index.
    """
    if cand.link is not None and not DirectReference.parse(cand.link).hashable:
        return ()
    released = {f"sha256:{f.hashes.get('sha256') or index.sha256(f)}" for f in files}
    pin = request.existing_pins.get(cand.name)
    if pin is not None and pin.version == cand.version and cand.link is None and pin.hashes:
        kept = set(pin.hashes)
        if kept <= released:
            return tuple(sorted(kept))
    return tuple(sorted(released))


def _link_for_output(link: str, request: ResolveRequest) -> str:
    """Relative local paths are rewritten relative to the output file's folder."""
    if DirectReference.parse(link).is_url or request.output_dir is None:
        return link
    target = (request.base_dir / link).resolve()
    rel = os.path.relpath(target, request.output_dir.resolve())
    rel = rel.replace(os.sep, "/")
    if rel == ".":
        return "."
    return rel if rel.startswith("..") else f"./{rel}"


def parse_upgrade_package(value: str) -> tuple[NormalizedName, SpecifierSet]:
    """``NAME`` or ``NAME<spec>`` from --upgrade-package."""
    try:
        req = Requirement(value)
    except Exception as exc:
        raise InputError(f"invalid --upgrade-package value {value!r}: {exc}") from exc
    return canonicalize_name(req.name), req.specifier
