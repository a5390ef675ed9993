"""Shared vocabulary of the pipeline: what was asked, what exists, what was pinned.

Every stage (inputs, index, resolve, lockfile, check, sync) speaks in these frozen value
objects, so a stage can be tested alone by building them by hand.  PEP rules (names,
versions, specifiers, markers, tags) are always ``packaging``'s, never re-implemented.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

__all__ = [
    "CoreMetadata",
    "DistFile",
    "IndexOptions",
    "InputRequirement",
    "LockedPackage",
    "ParsedInputs",
    "ReleaseFiles",
    "Resolution",
    "parse_requirement",
]


# --------------------------------------------------------------------------------------
# inputs: what was asked
# --------------------------------------------------------------------------------------


def parse_requirement(text: str) -> Requirement:
    """``Requirement(text)``, plus the check packaging defers to the first comparison: every
    version in the specifier can be read.  ``==1`` followed by 5000 digits parses, then fails
    with a bare ValueError (Python's limit on int digits) deep inside the resolver; here it is
    an InvalidRequirement, which the input readers report with file and line."""
    req = Requirement(text)
    for spec in req.specifier:
        if spec.operator != "===":
            try:
                Version(spec.version.removesuffix(".*"))
            except ValueError as exc:
                raise InvalidRequirement(f"invalid version {spec.version!r}: {exc}") from exc
    return req


@dataclass(frozen=True)
class InputRequirement:
    """One requirement line from an input (requirements file, pyproject.toml, setup.cfg ...).

    ``requirement`` is a packaging Requirement; for an editable or a bare path/URL whose
    project name is only known after reading its metadata it is ``None`` and ``link`` holds
    the location.  ``source`` is the annotation label pip-compile writes in ``# via``:
    ``-r requirements.in``, ``-c constraints.txt`` or ``myapp (pyproject.toml)``.
    """

    requirement: Requirement | None
    source: str
    file: Path | str  # str: the URL of a remote requirement file
    line: int
    constraint: bool = False
    editable: bool = False
    # For editables, direct references and VCS URLs: the location exactly as the user wrote
    # it after ${VAR} expansion ("./pkg", "git+https://host/repo@v1#egg=name",
    # "file:///abs/path"). None for plain name requirements.
    link: str | None = None
    # --hash options given on the line (e.g. "sha256:abcd...").
    hashes: tuple[str, ...] = ()

    @property
    def name(self) -> NormalizedName | None:
        return canonicalize_name(self.requirement.name) if self.requirement else None


@dataclass(frozen=True)
class IndexOptions:
    """Index related options gathered from requirement files (and later merged with CLI,
    config and pip's own settings by the caller).  ``None``/empty means "not given"."""

    index_url: str | None = None
    no_index: bool = False
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    pre: bool = False
    # pip's FormatControl sets: ":all:", ":none:" or canonical names.
    only_binary: frozenset[str] = frozenset()
    no_binary: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ParsedInputs:
    """Everything read from a set of input files."""

    requirements: tuple[InputRequirement, ...] = ()
    constraints: tuple[InputRequirement, ...] = ()
    options: IndexOptions = field(default_factory=IndexOptions)
    # Every file that was read, including those reached through -r / -c (absolute paths).
    files: tuple[Path, ...] = ()
    # Remote requirement files read (URLs as fetched): their content can change at any time.
    remote: tuple[str, ...] = ()
    # Remote requirement files not read (offline, no cached copy), credentials redacted.
    unchecked_remote: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------
# index: what exists
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistFile:
    """One downloadable file of a project, as listed by an index page or a find-links source."""

    filename: str
    # Absolute URL (http(s):// or file://). May carry credentials: redact before showing.
    url: str
    name: NormalizedName
    version: Version
    is_wheel: bool
    # {"sha256": "<hex>", ...} from the index (URL fragment, PEP 691 "hashes").
    hashes: Mapping[str, str] = field(default_factory=dict)
    requires_python: SpecifierSet | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    # PEP 658/714: the index serves ``<url>.metadata``; hashes of that file if advertised.
    metadata_hashes: Mapping[str, str] | None = None
    size: int | None = None
    upload_time: str | None = None
    # Simple-API base URL of the index (or the find-links location) this file came from.
    index: str = ""
    # Wheel tags (empty for sdists).
    tags: frozenset[Tag] = frozenset()

    @property
    def has_metadata_file(self) -> bool:
        return self.metadata_hashes is not None


@dataclass(frozen=True)
class CoreMetadata:
    """The parts of a distribution's core metadata that resolution needs."""

    name: str  # spelled as in the metadata's Name field
    version: Version
    requires_dist: tuple[Requirement, ...] = ()
    requires_python: SpecifierSet | None = None
    provides_extra: frozenset[NormalizedName] = frozenset()


# --------------------------------------------------------------------------------------
# resolution: what was pinned
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockedPackage:
    """One entry of a lock: a pin, an editable or a direct reference, with its annotations."""

    name: NormalizedName
    # Name as it is written in the lock (pip-compile writes str(req).lower()).
    display_name: str
    version: Version | None
    # Editable location or direct reference URL, exactly as it should be written.
    link: str | None = None
    editable: bool = False
    # Extras requested at top level (written only with --no-strip-extras).
    extras: frozenset[str] = frozenset()
    # The environment marker of the top-level input line, when it had one.
    marker: Marker | None = None
    # "sha256:<hex>" strings, sorted; empty unless hashes were asked for.
    hashes: tuple[str, ...] = ()
    # Annotation sources: "-r requirements.in", "-c constraints.txt", "flask",
    # "myapp (pyproject.toml)". Renderers sort them.
    via: tuple[str, ...] = ()
    # In the unsafe section (setuptools, pip, distribute, --unsafe-package).
    unsafe: bool = False
    # Files of the pinned version (for hashes, pylock and sync); not rendered directly.
    files: Sequence[DistFile] = ()
    # The file the target installs (None: a direct reference, or a universal lock's pin).
    chosen_file: DistFile | None = None


class ReleaseFiles(Sequence[DistFile]):
    """A pinned release's files, listed when first read.

    A page lists a release's wheels for every platform; building all of them for every
    pin took a tenth of a cold compile, after the resolution, and a plain requirements.txt
    never reads them.  Hashes, pylock.toml, check and upgrade do, and get the same files.
    """

    def __init__(self, build: Callable[[], Iterable[DistFile]]) -> None:
        self._build: Callable[[], Iterable[DistFile]] | None = build
        self._files: tuple[DistFile, ...] = ()

    def _listed(self) -> tuple[DistFile, ...]:
        build = self._build
        if build is not None:
            self._files = tuple(build())
            self._build = None
        return self._files

    @overload
    def __getitem__(self, index: int) -> DistFile: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[DistFile]: ...
    def __getitem__(self, index: int | slice) -> DistFile | Sequence[DistFile]:
        return self._listed()[index]

    def __len__(self) -> int:
        return len(self._listed())

    def __iter__(self) -> Iterator[DistFile]:
        return iter(self._listed())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self._listed() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # (a tuple of DistFiles has none either)

    def __repr__(self) -> str:
        return f"ReleaseFiles({self._listed()!r})"

    def __reduce__(self) -> tuple[type, tuple[tuple[DistFile, ...]]]:
        return tuple, (self._listed(),)


@dataclass(frozen=True)
class Resolution:
    """The result of a compile: every locked package, keyed by canonical name."""

    packages: Mapping[NormalizedName, LockedPackage]
    # Target Python as "X.Y" (drives the header).
    python_version: str
    # Dependencies with a marker of the pinned packages, as ("name==version", requirement):
    # a universal lock reads them for marker values its grid of environments lacks.
    dependency_markers: tuple[tuple[str, Requirement], ...] = ()
