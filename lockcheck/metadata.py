"""Core metadata (METADATA / PKG-INFO / PEP 658 files) into :class:`CoreMetadata`.

Only the five fields resolution needs are read, each leniently, as pip does for old releases
whose metadata is slightly off (a bad Requires-Dist line is skipped with a warning, not
fatal); only Name and Version are indispensable.  The header block is split by hand when it
is plain (UTF-8, LF or CRLF lines, one line per wanted field): a cold compile reads a hundred
METADATA files and the email parser behind ``packaging.metadata.parse_email`` cost several
times more, in import time too (70 ms: it pulls in ``email`` and ``packaging.licenses``).
Anything else goes through ``parse_email``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lockcheck.errors import MetadataError
from lockcheck.models import CoreMetadata
from lockcheck.reqlines import requirement_of

__all__ = ["parse_core_metadata"]

logger = logging.getLogger(__name__)

#: The warnings about metadata given in this run, each once (a metadata is parsed once per
#: run; a new PackageFinder starts the list again); a forked copy's new ones are given again
#: by the run (see :func:`warn_once`).
GIVEN: dict[str, None] = {}


def warn_once(message: str) -> None:
    """Give *message* as a warning, unless this process gave it already."""
    if message not in GIVEN:
        GIVEN[message] = None
        logger.warning("%s", message)


#: Header name (lower case) -> RawMetadata key, for the fields read here.
_WANTED = {
    "name": "name",
    "version": "version",
    "requires-dist": "requires_dist",
    "requires-python": "requires_python",
    "provides-extra": "provides_extra",
}
_MULTIPLE = frozenset({"requires_dist", "provides_extra"})
#: The blank line that ends the header block (a body may use CRLF after LF headers).
_HEAD_END = re.compile("\n\r?\n")
_HEAD_END_BYTES = re.compile(b"\n\r?\n")


def _plain_fields(text: bytes | str) -> dict[str, str | list[str]] | None:
    """The wanted fields of a plain header block (what ``parse_email`` would give for
    them), or None when the block needs the real email parser."""
    if isinstance(text, bytes):
        try:
            head = _HEAD_END_BYTES.split(text, 1)[0].decode("utf-8")
        except UnicodeDecodeError:
            return None
    else:
        head = _HEAD_END.split(text, 1)[0]
    if "\r" in head:
        # CRLF lines (tabulate's, among others) split as LF ones do; the blank line's
        # "\r\n\r\n" left one "\r" at the end.  Any other "\r" ends a line for the email
        # parser alone: it decides those.
        head = head.removesuffix("\r").replace("\r\n", "\n")
        if "\r" in head:
            return None
    if head.startswith(("From ", "\n")) or not head:
        return None  # an mbox line, or no header block at all: the email parser
    multiple: dict[str, list[str]] = {"requires_dist": [], "provides_extra": []}
    single: dict[str, str] = {}
    wanted_open = False
    for line in head.split("\n"):
        if not line:
            break  # the text ended right after the headers
        if line[0] in " \t":
            if wanted_open:
                return None  # a folded value of a field we read
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or not name.isascii() or not name.isprintable() or " " in name:
            return None
        key = _WANTED.get(name.lower())
        wanted_open = key is not None
        if key is None:
            continue
        value = value.lstrip(" \t")
        if key in _MULTIPLE:
            multiple[key].append(value)
        elif key in single:
            return None  # a single-use field given twice: parse_email's call
        else:
            single[key] = value
    return {**single, **multiple}


def _email_fields(text: bytes | str) -> dict[str, object]:
    from packaging.metadata import parse_email

    raw, _unparsed = parse_email(text)
    return dict(raw)


def parse_core_metadata(text: bytes | str, *, origin: str | None = None) -> CoreMetadata:
    """Parse the email-format core metadata *text*.

    ``origin`` (a filename or URL) only serves error and warning messages.
    Raises :class:`MetadataError` when Name or Version is missing or invalid.
    """
    where = origin or "<metadata>"
    plain = _plain_fields(text)
    raw: Mapping[str, object] = plain if plain is not None else _email_fields(text)
    name = raw.get("name")
    if not name or not isinstance(name, str):
        raise MetadataError(f"metadata of {where} has no Name field")
    version_text = raw.get("version")
    if not version_text or not isinstance(version_text, str):
        raise MetadataError(f"metadata of {name} ({where}) has no Version field")
    try:
        version = Version(version_text)
    except InvalidVersion as exc:
        raise MetadataError(
            f"metadata of {name} ({where}) has an invalid version {version_text!r}"
        ) from exc

    requires: list[Requirement] = []
    for line in _strings(raw.get("requires_dist")):
        try:
            requires.append(requirement_of(line))
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0] if str(exc) else exc
            warn_once(
                f"{name} {version} ({where}): ignoring invalid Requires-Dist {line!r}: {reason}"
            )

    requires_python: SpecifierSet | None = None
    rp_text = raw.get("requires_python")
    if rp_text and isinstance(rp_text, str):
        try:
            requires_python = SpecifierSet(rp_text)
        except InvalidSpecifier:
            warn_once(f"{name} {version} ({where}): ignoring invalid Requires-Python {rp_text!r}")

    extras = frozenset(canonicalize_name(e) for e in _strings(raw.get("provides_extra")) if e)
    return CoreMetadata(
        name=name,
        version=version,
        requires_dist=tuple(requires),
        requires_python=requires_python,
        provides_extra=extras,
    )


def _strings(value: object) -> list[str]:
    """A multiple-use field's values (absent: none)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
