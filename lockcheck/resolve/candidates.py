"""Which files and versions of a project the target environment may use.

These are pip's selection rules (``LinkEvaluator`` and ``CandidateEvaluator``), because a lock
that pins a different version than pip-compile would is a diff for the team that switches:
format control, wheel tags, link-level ``requires-python``, the specifier's pre-release rule,
and yanked files (PEP 592: skipped, unless the specifier pins a version with ``==`` or
``===`` and every applicable file is yanked).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from lockcheck.models import DistFile
from lockcheck.resolve.environment import TargetEnvironment

__all__ = [
    "AdmittedVersions",
    "FormatControl",
    "InstallableMemo",
    "VersionChoice",
    "admitted_versions",
    "applicable_versions",
    "group_by_version",
    "installable_files",
    "installable_files_of",
    "iter_applicable_versions",
]


@dataclass(frozen=True)
class FormatControl:
    """pip's --only-binary / --no-binary sets (":all:", ":none:" or canonical names)."""

    only_binary: frozenset[str] = frozenset()
    no_binary: frozenset[str] = frozenset()

    def allowed(self, name: NormalizedName) -> frozenset[str]:
        """The formats ("binary", "source") allowed for *name*, as pip decides them."""
        formats = {"binary", "source"}
        if name in self.only_binary:
            formats.discard("source")
        elif name in self.no_binary:
            formats.discard("binary")
        elif ":all:" in self.only_binary:
            formats.discard("source")
        elif ":all:" in self.no_binary:
            formats.discard("binary")
        return frozenset(formats)


@dataclass(frozen=True)
class VersionChoice:
    """One version the resolver may pick, with the file pip would take for it."""

    version: Version
    best_file: DistFile
    yanked: bool


def _python_ok(file: DistFile, env: TargetEnvironment) -> bool:
    spec = file.requires_python
    if spec is None:
        return True
    try:
        return spec.contains(env.version, prereleases=True)
    except InvalidSpecifier:  # pragma: no cover - pip ignores invalid values
        return True


def installable_files(
    files: Iterable[DistFile],
    env: TargetEnvironment,
    formats: frozenset[str],
    *,
    check_tags: bool = True,
) -> list[DistFile]:
    """Files the target may install: right format, compatible tags, Requires-Python.

    ``check_tags=False`` gives what pip-compile hashes: every file of any platform.
    """
    supported = env.tag_priority
    # Thousands of files share a few tag sets and Requires-Python values: decide each once.
    tags_ok: dict[frozenset, bool] = {}
    # By the specifier's id (its hash is not cached; the files keep it alive meanwhile).
    python_ok: dict[int, bool] = {id(None): True}
    result = []
    for f in files:
        if f.is_wheel:
            if "binary" not in formats:
                continue
            if check_tags:
                ok = tags_ok.get(f.tags)
                if ok is None:
                    ok = tags_ok[f.tags] = any(t in supported for t in f.tags)
                if not ok:
                    continue
        elif "source" not in formats:
            continue
        fits = python_ok.get(id(f.requires_python))
        if fits is None:
            fits = python_ok[id(f.requires_python)] = _python_ok(f, env)
        if not fits:
            continue
        result.append(f)
    return result


def is_pinned(specifier: SpecifierSet) -> bool:
    """``==X`` (no wildcard) or ``===X``: the only specifiers that may select a yanked file."""
    return any(
        s.operator == "===" or (s.operator == "==" and not s.version.endswith(".*"))
        for s in specifier
    )


def _file_rank(f: DistFile, env: TargetEnvironment) -> tuple[int, int]:
    """Higher is better: not yanked, then wheel by best tag, then sdist.

    A wheel of another platform (seen only when tags are not checked, in universal locks)
    still ranks above the sdist: its metadata is read without a build.
    """
    if f.is_wheel:
        pri = -env.best_tag_rank(f.tags)
    else:
        pri = -len(env.tag_priority) - 2
    return (0 if f.yanked else 1, pri)


def applicable_versions(
    files: Sequence[DistFile],
    env: TargetEnvironment,
    specifier: SpecifierSet,
    formats: frozenset[str],
    *,
    allow_prereleases: bool,
    check_tags: bool = True,
) -> list[VersionChoice]:
    """Versions that satisfy *specifier*, most preferred first (newest first).

    ``check_tags=False`` (universal locks) accepts wheels of every platform, as uv does.
    """
    candidates = installable_files(files, env, formats, check_tags=check_tags)
    if not candidates:
        return []
    versions = set(
        specifier.filter(
            {f.version for f in candidates}, prereleases=True if allow_prereleases else None
        )
    )
    applicable = [f for f in candidates if f.version in versions]
    if not applicable:
        return []
    take_yanked = all(f.yanked for f in applicable) and is_pinned(specifier)
    best: dict[Version, DistFile] = {}
    for f in applicable:
        if f.yanked and not take_yanked:
            continue
        current = best.get(f.version)
        if current is None or _file_rank(f, env) > _file_rank(current, env):
            best[f.version] = f
    return [VersionChoice(v, best[v], best[v].yanked) for v in sorted(best, reverse=True)]


def group_by_version(files: Sequence[DistFile]) -> dict[Version, list[DistFile]]:
    """Files of each version (page order kept); computed once per project and reused."""
    groups: dict[Version, list[DistFile]] = {}
    for f in files:
        groups.setdefault(f.version, []).append(f)
    return groups


class AdmittedVersions(list[Version]):
    """:func:`admitted_versions`' answer; whether one is a pre-release is asked at each walk
    of a kept answer, so it is worked out once."""

    @cached_property
    def has_prerelease(self) -> bool:
        return any(v.is_prerelease for v in self)


def admitted_versions(
    groups: Mapping[Version, Sequence[DistFile]],
    specifier: SpecifierSet,
    *,
    allow_prereleases: bool,
) -> AdmittedVersions:
    """The project's versions *specifier* admits, newest first (no file looked at yet, so
    the same for every target environment)."""
    prereleases = True if allow_prereleases else None
    newest_first = getattr(groups, "newest_first", None)
    if newest_first is not None:  # already in order: the filter keeps it
        return AdmittedVersions(specifier.filter(newest_first(), prereleases=prereleases))
    return AdmittedVersions(sorted(specifier.filter(groups, prereleases=prereleases), reverse=True))


#: (id of a version's file list, formats, Python version) -> (the files of that list a
#: target of that Python may install when wheel tags are not checked, the list kept so its
#: id stays its own).  Universal locks ask it again for each platform of a Python.
InstallableMemo = dict[tuple[int, frozenset[str], str], tuple[list[DistFile], Sequence[DistFile]]]


def installable_files_of(
    files: Sequence[DistFile],
    env: TargetEnvironment,
    formats: frozenset[str],
    *,
    check_tags: bool,
    memo: InstallableMemo | None,
) -> list[DistFile]:
    """:func:`installable_files`, kept in *memo* when tags are not checked (the answer then
    depends only on the files, the formats and the Python version)."""
    if memo is None or check_tags:
        return installable_files(files, env, formats, check_tags=check_tags)
    key = (id(files), formats, env.python_full_version)
    known = memo.get(key)
    if known is None:
        known = memo[key] = (installable_files(files, env, formats, check_tags=False), files)
    return known[0]


def iter_applicable_versions(
    groups: Mapping[Version, Sequence[DistFile]],
    env: TargetEnvironment,
    specifier: SpecifierSet,
    formats: frozenset[str],
    *,
    allow_prereleases: bool,
    check_tags: bool = True,
    admitted: Sequence[Version] | None = None,
    installable: InstallableMemo | None = None,
) -> Iterator[VersionChoice]:
    """:func:`applicable_versions`, lazily: files are examined only for the versions the
    resolver actually reaches (usually the newest one or two), which is what makes a project
    with thousands of files cheap.  The result is the same, in the same order.

    *admitted*: :func:`admitted_versions` of these arguments, when the caller keeps it.
    *installable*: see :func:`installable_files_of`.
    """
    prereleases = True if allow_prereleases else None

    def eager() -> list[VersionChoice]:
        return applicable_versions(
            [f for fs in groups.values() for f in fs],
            env,
            specifier,
            formats,
            allow_prereleases=allow_prereleases,
            check_tags=check_tags,
        )

    wanted = (
        admitted_versions(groups, specifier, allow_prereleases=allow_prereleases)
        if admitted is None
        else admitted
    )
    if prereleases is None and (
        wanted.has_prerelease
        if isinstance(wanted, AdmittedVersions)
        else any(v.is_prerelease for v in wanted)
    ):
        # The "no final release fits, so pre-releases may" rule depends on which versions
        # have an installable file: take the exact (eager) path.
        yield from eager()
        return
    found = False
    yanked_only: list[tuple[Version, list[DistFile]]] = []
    # A listing that can leave the wheels of other platforms undecoded is asked to (the
    # tags are checked below all the same).
    narrowed = getattr(groups, "files_but_wheels_refused", None) if check_tags else None
    for version in wanted:
        files = groups[version] if narrowed is None else narrowed(version, env.wheel_name_check)
        usable = installable_files_of(files, env, formats, check_tags=check_tags, memo=installable)
        if not usable:
            continue
        fresh = [f for f in usable if not f.yanked]
        if fresh:
            found = True
            yield VersionChoice(version, max(fresh, key=lambda f: _file_rank(f, env)), False)
        else:
            yanked_only.append((version, usable))
    if not found and yanked_only and is_pinned(specifier):
        for version, usable in yanked_only:  # pip: yanked files only for an exact pin
            yield VersionChoice(version, max(usable, key=lambda f: _file_rank(f, env)), True)
    elif not found and not yanked_only and prereleases is None:
        # No final release is installable here: pip would then consider pre-releases.
        yield from eager()
