"""Turn inputs into a :class:`~lockcheck.models.Resolution`.

Existing pins of the output file are handed to the resolver as constraints, and a pin that
makes the inputs impossible is dropped and the resolution retried: this is what pip-compile's
backtracking resolver does, so an unchanged input keeps every pin and a changed one moves only
what it must.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from lockcheck.errors import InputError, LockcheckError, ResolutionFailed
from lockcheck.models import InputRequirement, LockedPackage, Resolution
from lockcheck.resolve.candidates import FormatControl, installable_files
from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.resolve.markers import without_extra_markers
from lockcheck.resolve.protocol import Index
from lockcheck.resolve.provider import (
    REQUIRES_PYTHON,
    Candidate,
    ExplicitRequirement,
    LockProvider,
    ResolveOptions,
    SpecRequirement,
    split_identifier,
    versions_of,
)

__all__ = ["DEFAULT_UNSAFE", "ExistingPin", "ResolveRequest", "resolve"]

DEFAULT_UNSAFE = frozenset({"setuptools", "distribute", "pip"})
_MAX_ROUNDS = 10


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
    formats: FormatControl = field(default_factory=FormatControl)
    allow_prereleases: bool = False
    generate_hashes: bool = False
    reuse_hashes: bool = True
    allow_unsafe: bool = False
    unsafe_packages: frozenset[NormalizedName] = DEFAULT_UNSAFE  # type: ignore[assignment]
    # Where relative paths of direct references are resolved (pip: the working directory).
    base_dir: Path = field(default_factory=Path.cwd)
    # How a relative local link is written in the lock (relative to the output's folder).
    output_dir: Path | None = None
    # Called with a short line each time a package is pinned (progress display).
    progress: Callable[[str], None] | None = None
    # Universal locks: accept wheels of every platform (see ResolveOptions).
    any_platform_wheel: bool = False


def _applies(entry: InputRequirement, request: ResolveRequest) -> bool:
    req = entry.requirement
    if req is None or req.marker is None:
        return True
    return request.env.evaluate(req.marker, request.extras or None)


def resolve(request: ResolveRequest, index: Index) -> Resolution:
    """Resolve *request* against *index*; raises ResolutionFailed with a readable chain."""
    from resolvelib import Resolver
    from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

    env = request.env
    roots = [e for e in request.requirements if not e.constraint and _applies(e, request)]
    constraint_entries = [e for e in request.constraints if _applies(e, request)]
    constraint_entries += [e for e in request.requirements if e.constraint and _applies(e, request)]

    labels: dict[NormalizedName, set[str]] = defaultdict(set)
    markers: dict[NormalizedName, Marker] = {}
    options = ResolveOptions(
        env=env,
        formats=request.formats,
        allow_prereleases=request.allow_prereleases,
        base_dir=request.base_dir,
        any_platform_wheel=request.any_platform_wheel,
    )
    provider_constraints: dict[NormalizedName, SpecifierSet] = {}
    bootstrap = LockProvider(index, options, {})

    root_reqs: list[SpecRequirement | ExplicitRequirement] = []
    for entry in roots:
        req_obj = _root_requirement(entry, bootstrap, request)
        root_reqs.append(req_obj)
        name = req_obj.name
        labels[name].add(entry.source)
        marker = without_extra_markers(entry.requirement.marker if entry.requirement else None)
        if marker is not None:
            markers[name] = marker
    for entry in constraint_entries:
        if entry.requirement is None or entry.requirement.url or entry.link:
            raise InputError(
                "links are not allowed as constraints", file=entry.file, line=entry.line
            )
        name = canonicalize_name(entry.requirement.name)
        provider_constraints[name] = provider_constraints.get(name, SpecifierSet()) & (
            entry.requirement.specifier
        )
        labels[name].add(entry.source)
        marker = without_extra_markers(entry.requirement.marker)
        if marker is not None:
            markers[name] = marker
    for name, spec in request.upgrade_packages.items():
        provider_constraints[name] = provider_constraints.get(name, SpecifierSet()) & spec

    user_requested: dict[str, int] = {}
    for i, r in enumerate(root_reqs):
        user_requested.setdefault(r.identifier, i)
    options.user_requested = user_requested

    primary_specs: dict[NormalizedName, SpecifierSet] = {}
    for r in root_reqs:
        if isinstance(r, SpecRequirement):
            primary_specs[r.name] = primary_specs.get(r.name, SpecifierSet()) & r.specifier
    pins: dict[NormalizedName, SpecifierSet] = {}
    if not request.upgrade_all:
        for name, pin in request.existing_pins.items():
            if name in request.upgrade_packages:
                continue
            primary = primary_specs.get(name)
            if primary is not None and not primary.contains(pin.version, prereleases=True):
                continue
            pins[name] = SpecifierSet(f"=={pin.version}")

    index.prefetch_pages(r.name for r in root_reqs if isinstance(r, SpecRequirement))
    walk = getattr(index, "prefetch_graph", None)
    if walk is not None:  # fetch the likely graph in parallel while the resolver works
        guide = LockProvider(index, options, {**provider_constraints, **pins})
        walk(
            [r.name for r in root_reqs if isinstance(r, SpecRequirement)],
            guide.likely_file,
            guide.likely_dependencies,
        )

    result = None
    for _round in range(_MAX_ROUNDS):
        merged = dict(provider_constraints)
        for name, spec in pins.items():
            merged[name] = merged.get(name, SpecifierSet()) & spec
        provider = LockProvider(index, options, merged)
        provider._metadata = bootstrap._metadata
        resolver = Resolver(provider, _reporter(request.progress))
        try:
            result = resolver.resolve(root_reqs, max_rounds=200_000)
            break
        except ResolutionImpossible as exc:
            cause_names = {getattr(c.requirement, "name", REQUIRES_PYTHON) for c in exc.causes}
            if cause_names and all(n in pins for n in cause_names):
                for n in cause_names:
                    del pins[n]
                continue
            from lockcheck.resolve.explain import explain_impossible  # only on failure

            raise explain_impossible(exc, index, provider, labels) from None
        except ResolutionTooDeep as exc:
            raise ResolutionFailed(
                "resolution gave up after too many backtracking steps; "
                "add tighter specifiers to the inputs"
            ) from exc
    if result is None:  # pragma: no cover - pins shrink every round
        raise ResolutionFailed("resolution did not settle")

    return _to_resolution(result, request, index, provider, labels, markers)


def _reporter(progress: Callable[[str], None] | None) -> object:
    """A resolvelib reporter that forwards pins to *progress* (no printing here)."""
    from resolvelib import BaseReporter

    class ProgressReporter(BaseReporter):  # type: ignore[misc]
        def __init__(self) -> None:
            self.pinned = 0

        def pinning(self, candidate: object) -> None:
            if progress is not None and isinstance(candidate, Candidate):
                self.pinned += 1
                progress(f"{self.pinned} pinned, last {candidate!r}")

        def rejecting_candidate(self, criterion: object, candidate: object) -> None:
            if progress is not None and isinstance(candidate, Candidate):
                progress(f"backtracking: {candidate!r} does not fit")

    return ProgressReporter()


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
        from lockcheck.inputs.reqfile import split_link_extras

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
    result: object,
    request: ResolveRequest,
    index: Index,
    provider: LockProvider,
    labels: Mapping[NormalizedName, set[str]],
    markers: Mapping[NormalizedName, Marker],
) -> Resolution:
    mapping: Mapping[str, object] = result.mapping  # type: ignore[attr-defined]
    graph = result.graph  # type: ignore[attr-defined]
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
        for parent in graph.iter_parents(identifier):
            if parent is None or parent not in mapping:
                # resolvelib's graph keeps parents whose pin was dropped by backtracking (their
                # requirement stays in the criterion); the lock names only pinned parents
                continue
            pname, _ = split_identifier(parent)
            if pname != name:
                parents[name].add(pname)
    packages: dict[NormalizedName, LockedPackage] = {}
    for name, cand in sorted(by_name.items()):
        files: tuple = ()
        hashes: tuple[str, ...] = ()
        if cand.link is None:
            all_files = list(versions_of(index, name).get(cand.version, ()))
            files = tuple(
                installable_files(
                    all_files, request.env, request.formats.allowed(name), check_tags=False
                )
            )
        elif cand.file is not None:
            files = (cand.file,)
        if request.generate_hashes and not cand.editable:
            hashes = _hashes_for(cand, files, request, index)
        link = cand.link
        if link is not None:
            link = _link_for_output(link, request)
        packages[name] = LockedPackage(
            name=name,
            display_name=name,
            version=cand.version,
            link=link,
            editable=cand.editable,
            extras=frozenset(extras[name]),
            marker=markers.get(name),
            hashes=hashes,
            via=tuple(sorted(labels.get(name, set()) | parents[name])),
            unsafe=name in request.unsafe_packages,
            files=files,
        )
    return Resolution(packages=packages, python_version=request.env.python_version)


def _spelled_otherwise(result: object, identifier: str, name: NormalizedName) -> bool:
    criterion = getattr(result, "criteria", {}).get(identifier)
    for info in getattr(criterion, "information", ()):
        req = info.requirement
        text = getattr(req, "text", "")
        if isinstance(req, SpecRequirement) and info.parent is not None and text:
            written = text.split("[", 1)[0].strip()
            if written != name:
                return True
    return False


def _hashes_for(
    cand: Candidate, files: Iterable, request: ResolveRequest, index: Index
) -> tuple[str, ...]:
    pin = request.existing_pins.get(cand.name)
    if (
        request.reuse_hashes
        and pin is not None
        and pin.version == cand.version
        and pin.hashes
        and cand.link is None
    ):
        return tuple(sorted(pin.hashes))
    if cand.link is not None and _is_local_dir_or_vcs(cand.link):
        return ()
    out: set[str] = set()
    for f in files:
        digest = f.hashes.get("sha256") or index.sha256(f)
        out.add(f"sha256:{digest}")
    return tuple(sorted(out))


def _is_local_dir_or_vcs(link: str) -> bool:
    if "+" in link.split("://", 1)[0]:
        return True
    if link.startswith("file:"):
        from urllib.parse import unquote, urlsplit

        return Path(unquote(urlsplit(link).path)).is_dir()
    if "://" in link:
        return False
    return bool(not link.endswith((".whl", ".tar.gz", ".zip")))


def _link_for_output(link: str, request: ResolveRequest) -> str:
    """Relative local paths are rewritten relative to the output file's folder."""
    if "://" in link or link.startswith("file:") or request.output_dir is None:
        return link
    import os

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
