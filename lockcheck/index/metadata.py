"""Wheel metadata plumbing: find and read ``*.dist-info/METADATA``, check it is the right one.

Parsing itself is :func:`lockcheck.metadata.parse_core_metadata` (lenient like pip: a bad
Requires-Dist line is skipped with a warning; only Name and Version are indispensable).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterable

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from lockcheck.errors import MetadataError
from lockcheck.metadata import parse_core_metadata
from lockcheck.models import CoreMetadata

__all__ = [
    "check_identity",
    "find_metadata_member",
    "is_metadata_member",
    "parse_metadata",
    "read_wheel_metadata",
]

_MEMBER = re.compile(r"^(?P<dir>[^/]+)\.dist-info/METADATA$")


def parse_metadata(data: bytes | str, source: str) -> CoreMetadata:
    """Parse METADATA text (lenient, shared with the rest of lockcheck); *source* names the
    file or URL in messages.  Raises MetadataError without a usable Name and Version."""
    try:
        return parse_core_metadata(data, origin=source)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MetadataError(f"unreadable metadata in {source}: {exc}") from exc


def check_identity(meta: CoreMetadata, name: NormalizedName, version: Version, source: str) -> None:
    """Refuse metadata that describes another distribution than the file claims to be."""
    if canonicalize_name(meta.name) != name or meta.version != version:
        raise MetadataError(
            f"metadata of {source} is for {meta.name} {meta.version}, expected {name} {version}"
        )


def is_metadata_member(name: str) -> bool:
    """Whether a zip member name is a wheel's own ``<dir>.dist-info/METADATA``."""
    return _MEMBER.match(name) is not None


def find_metadata_member(names: Iterable[str], project: NormalizedName | None, source: str) -> str:
    """The ``<dir>.dist-info/METADATA`` member of a wheel (the project's when several)."""
    candidates = [n for n in names if is_metadata_member(n)]
    if project is not None and len(candidates) > 1:
        matching = [
            n
            for n in candidates
            if canonicalize_name(n.split(".dist-info/", 1)[0].rpartition("-")[0]) == project
        ]
        candidates = matching or candidates
    if len(candidates) != 1:
        found = "no" if not candidates else "several"
        raise MetadataError(f"{source} has {found} .dist-info/METADATA file(s)")
    return candidates[0]


def read_wheel_metadata(
    archive: zipfile.ZipFile, project: NormalizedName | None, source: str
) -> bytes:
    """Raw METADATA bytes of a wheel opened as a zip (local or over HTTP ranges)."""
    try:
        member = find_metadata_member(archive.namelist(), project, source)
        return archive.read(member)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, EOFError, zlib.error) as exc:
        raise MetadataError(f"cannot read the metadata of {source}: {exc}") from exc
