"""Distribution file names: which files are wheels or sdists of which project and version.

Wheels go through ``packaging.utils.parse_wheel_filename``.  Sdist names predate any
normalisation rule (``Foo_Bar-1.0.tar.gz``, ``foo-bar-1.0-dev.zip``), so, like pip, the
name/version split is found by looking for the dash whose prefix canonicalises to the project
being looked up; ``packaging.utils.parse_sdist_filename`` is used when no project is known.
Anything else (eggs, installers, unknown archives, invalid versions) is skipped silently, as
pip does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from packaging.tags import InvalidTag, Tag, parse_tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

__all__ = ["SDIST_EXTENSIONS", "ParsedFilename", "is_archive", "parse_filename"]

#: Source archive extensions pip accepts (longest first so ``.tar.gz`` wins over ``.gz``).
SDIST_EXTENSIONS = (
    ".tar.gz",
    ".tar.bz2",
    ".tar.xz",
    ".tar.lzma",
    ".tar.lz",
    ".tgz",
    ".tbz",
    ".txz",
    ".tlz",
    ".tar",
    ".zip",
)


@dataclass(frozen=True)
class ParsedFilename:
    name: NormalizedName
    version: Version
    is_wheel: bool
    tags: frozenset[Tag] = frozenset()


def _sdist_stem(filename: str) -> str | None:
    lowered = filename.lower()
    for ext in SDIST_EXTENSIONS:
        if lowered.endswith(ext):
            return filename[: -len(ext)]
    return None


def is_archive(filename: str) -> bool:
    """True for a wheel or an sdist archive name (the files an index lists that matter)."""
    return filename.lower().endswith(".whl") or _sdist_stem(filename) is not None


def _split_sdist(stem: str, project: NormalizedName) -> tuple[str, str] | None:
    """(name, version text) of an sdist's stem: split at the first ``-`` whose left side
    is *project*'s name (names and versions may both hold dashes)."""
    i = stem.find("-")
    while i != -1:
        if _canonical(stem[:i]) == project:
            return stem[:i], stem[i + 1 :]
        i = stem.find("-", i + 1)
    return None


@lru_cache(maxsize=4096)
def _canonical(name: str) -> NormalizedName:
    """A big page's sdists spell the project's name in one or two ways: each is
    normalised once."""
    return canonicalize_name(name)


@lru_cache(maxsize=65536)
def version_of(text: str) -> Version:
    """Parsed versions are shared: a project lists each version once per file."""
    return Version(text)


@lru_cache(maxsize=8192)
def _tags(text: str) -> frozenset[Tag]:
    return parse_tag(text)


def _fast_wheel(filename: str) -> tuple[NormalizedName, Version, frozenset[Tag]] | None:
    """The common wheel name (no build tag, already normalised), without regexes."""
    parts = filename[:-4].split("-")
    if len(parts) != 5:
        return None
    name = parts[0]
    if not name or name != name.lower() or "__" in name or not name.replace("_", "").isalnum():
        return None
    try:
        version = version_of(parts[1])
    except InvalidVersion:
        return None
    return NormalizedName(name.replace("_", "-")), version, _tags("-".join(parts[2:]))


def parse_filename(filename: str, project: NormalizedName | None = None) -> ParsedFilename | None:
    """Name, version and tags of a distribution file, or None when it is not one of
    *project*'s wheels or sdists (any project's when *project* is None)."""
    if filename.lower().endswith(".whl"):
        try:
            fast = _fast_wheel(filename) if filename.endswith(".whl") else None
        except InvalidTag:  # e.g. pydantic-0.18-py36+-none-any.whl: skipped, as pip does
            return None
        if fast is not None:
            name, version, tags = fast
        else:
            try:
                name, version, _build, tags = parse_wheel_filename(filename)
            except (InvalidWheelFilename, InvalidVersion, InvalidTag):
                return None
        if project is not None and name != project:
            return None
        return ParsedFilename(name, version, True, tags)
    stem = _sdist_stem(filename)
    if stem is None:
        return None
    if project is None:
        try:
            name, version = parse_sdist_filename(stem + ".tar.gz")
        except (InvalidSdistFilename, InvalidVersion):
            return None
        return ParsedFilename(name, version, False)
    split = _split_sdist(stem, project)
    if split is None or not split[1]:
        return None
    try:
        version = version_of(split[1])
    except InvalidVersion:
        return None
    return ParsedFilename(project, version, False)
