"""What the resolver needs from an index: the seam that keeps it free of HTTP.

``lockcheck.index.finder.PackageFinder`` implements it over httpx; tests may hand the
resolver an in-memory object with the same methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from packaging.utils import NormalizedName

from lockcheck.models import CoreMetadata, DistFile

__all__ = ["Index"]


class Index(Protocol):
    def project_files(self, name: NormalizedName) -> Sequence[DistFile]:
        """Every file of *name* on every configured source, first source first.

        Called once or twice per project per resolution (memoised by the implementation);
        returns ``[]`` when no source knows the project; raises ``IndexUnavailable``."""
        ...

    def metadata(self, file: DistFile) -> CoreMetadata:
        """Core metadata of *file*; at most one fetch per (name, version)."""
        ...

    def sha256(self, file: DistFile) -> str:
        """Hex sha256 of *file*: the index's own when given, else by hashing a download."""
        ...

    def prefetch_pages(self, names: Iterable[NormalizedName]) -> None:
        """Hint: these pages will be wanted soon (fetch them in the background)."""
        ...

    def prefetch_metadata(self, files: Iterable[DistFile]) -> None:
        """Hint: these files' metadata will be wanted soon."""
        ...

    def direct_metadata(
        self, link: str, *, base_dir: Path, editable: bool = False
    ) -> tuple[CoreMetadata, DistFile | None]:
        """Metadata of a direct reference (path, archive URL or VCS URL)."""
        ...
