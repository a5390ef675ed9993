"""Yanked releases (PEP 592): one rule and one sentence for compile, check and sync.

A release counts as yanked when every file the index lists for it is yanked (PyPI yanks
whole releases); only an exact ``==`` pin may still choose it, and whoever ships it should
read why it was pulled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.version import Version

from lockcheck.models import DistFile

__all__ = ["YankedRelease", "yanked_release"]


@dataclass(frozen=True)
class YankedRelease:
    name: str
    version: Version
    reason: str | None

    def message(self) -> str:
        why = f": {self.reason}" if self.reason else " (no reason given)"
        return f"{self.name}=={self.version} is yanked{why}"


def yanked_release(name: str, version: Version, files: Iterable[DistFile]) -> YankedRelease | None:
    """The release *name*==*version* as yanked (with the index's reason), None when any
    of its *files* is not yanked or none is known."""
    files = tuple(files)
    if not any(f.yanked for f in files):
        return None  # the common case, without comparing a version per file
    same = [f for f in files if f.version == version]
    if not same or not all(f.yanked for f in same):
        return None
    reason = next((f.yanked_reason for f in same if f.yanked_reason), None)
    return YankedRelease(name, version, reason)
