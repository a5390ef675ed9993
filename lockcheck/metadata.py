"""Core metadata (METADATA / PKG-INFO / PEP 658 files) into :class:`CoreMetadata`.

Strict validation first (``packaging.metadata``); when that fails, fall back to the raw
fields and parse each one leniently, as pip does for old releases whose metadata is slightly
off (a bad Requires-Dist line is skipped with a warning, not fatal).  Only Name and Version
are indispensable.
"""

from __future__ import annotations

import logging

from packaging.metadata import ExceptionGroup, InvalidMetadata, Metadata, parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lockcheck.errors import MetadataError
from lockcheck.models import CoreMetadata

__all__ = ["parse_core_metadata"]

logger = logging.getLogger(__name__)


def parse_core_metadata(text: bytes | str, *, origin: str | None = None) -> CoreMetadata:
    """Parse the email-format core metadata *text*.

    ``origin`` (a filename or URL) only serves error and warning messages.
    Raises :class:`MetadataError` when Name or Version is missing or invalid.
    """
    try:
        meta = Metadata.from_email(text, validate=True)
    except (InvalidMetadata, ExceptionGroup, ValueError) as exc:
        logger.debug("strict metadata validation failed for %s: %s", origin or "<metadata>", exc)
        return _lenient(text, origin)
    return CoreMetadata(
        name=meta.name,
        version=meta.version,
        requires_dist=tuple(meta.requires_dist or ()),
        requires_python=meta.requires_python,
        provides_extra=frozenset(canonicalize_name(e) for e in meta.provides_extra or ()),
    )


def _lenient(text: bytes | str, origin: str | None) -> CoreMetadata:
    where = origin or "<metadata>"
    raw, _unparsed = parse_email(text)
    name = raw.get("name")
    if not name:
        raise MetadataError(f"metadata of {where} has no Name field")
    version_text = raw.get("version")
    if not version_text:
        raise MetadataError(f"metadata of {name} ({where}) has no Version field")
    try:
        version = Version(version_text)
    except InvalidVersion as exc:
        raise MetadataError(
            f"metadata of {name} ({where}) has an invalid version {version_text!r}"
        ) from exc

    requires: list[Requirement] = []
    for line in raw.get("requires_dist", []):
        try:
            requires.append(Requirement(line))
        except InvalidRequirement as exc:
            logger.warning(
                "%s %s (%s): ignoring invalid Requires-Dist %r: %s",
                name,
                version,
                where,
                line,
                str(exc).splitlines()[0] if str(exc) else exc,
            )

    requires_python: SpecifierSet | None = None
    rp_text = raw.get("requires_python")
    if rp_text:
        try:
            requires_python = SpecifierSet(rp_text)
        except InvalidSpecifier:
            logger.warning(
                "%s %s (%s): ignoring invalid Requires-Python %r", name, version, where, rp_text
            )

    extras = frozenset(canonicalize_name(e) for e in raw.get("provides_extra", []) if e)
    return CoreMetadata(
        name=name,
        version=version,
        requires_dist=tuple(requires),
        requires_python=requires_python,
        provides_extra=extras,
    )
