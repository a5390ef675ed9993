"""What the resolver needs from an index: the seam that keeps it free of HTTP.

``lockcheck.index.finder.PackageFinder`` implements it over httpx; tests may hand the
resolver an in-memory object with the same methods.  The hints (``prefetch_pages``,
``prefetch_graph``) and ``cutoff_note`` have do-nothing defaults here, which a class gets by
naming :class:`Index` as its base.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from packaging.utils import NormalizedName
from packaging.version import Version

from lockcheck.models import CoreMetadata, DistFile

__all__ = ["FilePicker", "Index", "NamesOf", "Wanted"]

#: Asked from the index's worker threads: which of a project's files (by version) the
#: resolver will most likely read (one per Python version of a universal lock that takes
#: another; none when it will read none).
FilePicker = Callable[[NormalizedName, Mapping[Version, Sequence[DistFile]]], "Sequence[DistFile]"]
#: A project to fetch ahead, with the extras asked of it.
Wanted = tuple[NormalizedName, frozenset[str]]
#: Asked from the index's worker threads: the dependencies worth fetching ahead of a file's
#: metadata, under the extras asked of it.
NamesOf = Callable[[CoreMetadata, frozenset[str]], Iterable[Wanted]]


class Index(Protocol):
    def project_files(self, name: NormalizedName) -> Sequence[DistFile]:
        """Every file of *name* on every configured source, first source first (to explain
        a failure: which versions exist at all).

        Returns ``[]`` when no source knows the project; raises ``IndexUnavailable``."""
        ...

    def project_versions(self, name: NormalizedName) -> Mapping[Version, Sequence[DistFile]]:
        """*name*'s files by version, for choosing candidates.

        Called once or twice per project per resolution (memoised by the implementation,
        which may build a version's files only when it is looked up)."""
        ...

    def metadata(self, file: DistFile) -> CoreMetadata:
        """Core metadata of *file*; at most one fetch per (name, version)."""
        ...

    def sha256(self, file: DistFile) -> str:
        """Hex sha256 of *file*: the index's own when given, else by hashing a download."""
        ...

    def direct_metadata(
        self, link: str, *, base_dir: Path, editable: bool = False
    ) -> tuple[CoreMetadata, DistFile | None]:
        """Metadata of a direct reference (path, archive URL or VCS URL)."""
        ...

    def prefetch_pages(self, names: Iterable[NormalizedName]) -> None:
        """Hint: these pages will be wanted soon (fetch them in the background)."""
        return None

    def prefetch_graph(
        self, wanted: Iterable[Wanted], pick: FilePicker, dependencies: NamesOf
    ) -> None:
        """Hint: walk the likely dependency graph from *wanted* in the background, taking the
        files *pick* names for each project and following *dependencies* of their metadata."""
        return None

    def cutoff_note(self, name: NormalizedName) -> str | None:
        """Why a release cut-off hides *name*'s files (None: no cut-off hides any)."""
        return None
