"""A project page's kept entries in the form the parsed-page cache stores.

A warm run reads a page's parsed form instead of its raw body (see
:mod:`lockcheck.index.cache`).  A resolution then looks at one or two versions of each
project, so the entries are stored grouped by version and read only when their version is
looked at: reading a page costs about one object per version, not one per file.  An entry
the page scan left as raw JSON text (:class:`PendingLink`) is stored as its place in the
raw body, which stays in the cache beside the parsed form: the parsed form stays small
(cheap to write on a cold run) and the text is read back, one span per version, on demand.
"""

from __future__ import annotations

import functools
import marshal
from array import array
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import Version

from lockcheck.index.filenames import version_of
from lockcheck.index.jsonscan import ENTRY_START
from lockcheck.index.pages import Link, PendingLink
from lockcheck.index.projectfiles import UnreadableEntries, filename_version

__all__ = ["PackedPage", "pack_page"]

#: Reads bytes [begin, end) of the page's stored raw body of the given size (None: not
#: there, or of another size).
SpanReader = Callable[[int, int, int], "bytes | None"]

_UNSET = object()


def _link_values(link: Link) -> tuple[object, ...]:
    """A Link as values :mod:`marshal` writes (its mappings as plain dicts); a pending
    entry is written as (filename, raw text)."""
    metadata = link.metadata_hashes
    return (
        *link[:2],
        dict(link.hashes),
        *link[3:6],
        None if metadata is None else dict(metadata),
        *link[7:],
    )


def pack_page(
    project: NormalizedName,
    count: int,
    links: Iterable[Link | PendingLink],
    spans: list[tuple[int, int]],
    body_size: int,
    *,
    versions: Iterable[Version],
    kept: Mapping[str, Version | None],
    dropped: bool,
) -> tuple[object, ...]:
    """Plain values for the cache: every version seen (*versions*, in the order given: newest
    first spares each later reader a sort), the kept entries grouped by version (*kept*: the
    version of a file name when already known), their page order.
    Entries that are no file of *project* are left out, as :class:`ProjectFiles` drops them;
    a pending entry is kept as (filename, begin, end): *spans* holds where each pending
    entry is in the raw body stored (*body_size* bytes), in order."""
    every: dict[Version, int] = {}
    for seen in versions:
        every.setdefault(seen, len(every))
    groups: dict[int, list[Any]] = {}
    order: list[int] = []
    last: object = None
    number = 0
    group: list[Any] = []
    pending = iter(spans)
    for link in links:
        # Every pending entry has a span, also those left out below.
        span = next(pending, None) if isinstance(link, PendingLink) else None
        found: Any = kept.get(link.filename, _UNSET)
        version = filename_version(link.filename, project) if found is _UNSET else found
        if version is None:
            continue
        if version is not last:  # a page lists a version's files together: hash once
            last = version
            number = every.setdefault(version, len(every))
            group = groups.setdefault(number, [])
        if isinstance(link, PendingLink):
            group.append((link.filename, link.raw) if span is None else (link.filename, *span))
        else:
            group.append(_link_values(link))
        order.append(number)
    return (
        project,
        count,
        [str(v) for v in every],  # equal versions: the first one seen names them
        dropped,
        {number: marshal.dumps(tuple(entries)) for number, entries in groups.items()},
        array("I", order).tobytes(),
        body_size,
    )


class PackedPage:
    """One page's kept entries as stored by :func:`pack_page`, decoded per version."""

    def __init__(
        self,
        packed: Any,
        page_url: str,
        project: str,
        count: int,
        read_span: SpanReader,
        on_unreadable: Callable[[], None] = lambda: None,
    ) -> None:
        """Raises ValueError / TypeError / IndexError for values of another shape;
        *on_unreadable* is called (to forget the entry) when a group cannot be read."""
        name, kept_count, texts, dropped, groups, order, self._body_size = packed
        if name != project or kept_count != count:
            raise ValueError("kept for another project or count")
        if not isinstance(groups, dict) or not isinstance(order, bytes):
            raise TypeError("not a packed page")
        self.page_url = page_url
        self._read_span = read_span
        self._on_unreadable = on_unreadable
        self.dropped = bool(dropped)
        #: Every version the page lists (its position in the list is its number), newest
        #: first when packed from a page read once (see pack_page).
        self.versions = [version_of(text) for text in texts]
        self._groups: dict[int, bytes] = groups
        self._order = array("I", order)
        if any(i >= len(self.versions) for i in groups) or (
            self._order and max(self._order) >= len(self.versions)
        ):
            raise IndexError("a version number out of range")

    def __bool__(self) -> bool:
        return bool(self._order)

    def groups(self) -> dict[Version, Callable[[], list[Link | PendingLink]]]:
        """Each kept version's entries, in page order, decoded when called; the versions in
        the order :attr:`versions` lists them (newest first, as packed)."""
        return {
            self.versions[i]: functools.partial(self._decode, self._groups[i])
            for i in sorted(self._groups)
        }

    def _decode(self, blob: bytes) -> list[Link | PendingLink]:
        """A group's entries; raises UnreadableEntries when the group does not decode or
        the raw body no longer holds its entries where it did (then the whole page is
        read again)."""
        page_url = self.page_url
        try:
            values = marshal.loads(blob)
            spans = [e for e in values if len(e) == 3]
            text = b""
            first = 0
            if spans:
                first = min(e[1] for e in spans)
                last = max(e[2] for e in spans)
                text = self._read_span(self._body_size, first, last) or b""
            entries: list[Link | PendingLink] = []
            for e in values:
                if len(e) == 3:
                    raw = text[e[1] - first : e[2] - first]
                    start = ENTRY_START.match(raw)
                    if start is None or start.group(1) != e[0].encode("utf-8"):
                        raise ValueError(f"the raw body no longer lists {e[0]} there")
                    entries.append(PendingLink(e[0], raw, page_url))
                elif len(e) == 2:
                    entries.append(PendingLink(e[0], e[1], page_url))
                else:
                    entries.append(Link(*e))
        except (ValueError, TypeError, EOFError, IndexError, AttributeError) as exc:
            self._on_unreadable()
            raise UnreadableEntries(f"cached parsed page {page_url}: {exc}") from exc
        return entries

    def order(self) -> list[tuple[Version, int]]:
        """(version, position among that version's entries) of each kept entry, in page
        order."""
        seen: dict[int, int] = {}
        result = []
        for i in self._order:
            position = seen.get(i, 0)
            seen[i] = position + 1
            result.append((self.versions[i], position))
        return result
