"""A PEP 691 JSON page's file entries found in its raw text, without decoding the page.

A big page lists tens of thousands of files and the finder keeps a few hundred of them
(:mod:`lockcheck.index.sources`): decoding the whole page, or even visiting each entry in
Python more than once, was most of a cold run's parsing time.  Here each entry's file name
is read off the text, and the byte span of an entry is found only when it is kept.

Two layouts are read.  PyPI's (``json.dumps``' separators: ``{"filename": "``) is found by
plain byte searches.  Inside a JSON string every quote is escaped, so that start marks an
entry and nothing else; an entry's name ends at the next quote.  Any other spacing goes
through :data:`ENTRY_START`.  Either way, the page's count of ``"url"`` keys must equal the
entries found (every entry has a URL), and a name holding a backslash (an escape, which the
raw text cannot be trusted to spell) is not read here: the caller then decodes the page.
"""

from __future__ import annotations

import re
from collections.abc import Container

__all__ = ["ENTRY_START", "ScannedEntries", "scan_entries"]

#: The start of a PEP 691 file entry whose first key is a plain (unescaped) file name, as
#: PyPI, devpi, Artifactory and the test index write them.
ENTRY_START = re.compile(rb'\{\s*"filename"\s*:\s*"([^"\\]*)"')
#: That start as PyPI writes it.
_PLAIN_START = b'{"filename": "'
_PLAIN_NAME = re.compile(rb'\{"filename": "([^"]*)"')
#: Bytes an entry usually spans, at most (its file name, hashes, URL, upload time, ...).
_ENTRY_WINDOW = 2048


class ScannedEntries:
    """The entries of one page: every file name in page order, each entry's span on demand."""

    def __init__(
        self, body: bytes, raw_names: list[bytes], names: list[str], starts: list[int] | None
    ) -> None:
        """*starts*: each entry's offset, when the scan found them (None: PyPI's layout,
        where they are searched for as asked)."""
        self._body = body
        self._raw_names = raw_names
        self.names = names
        self._starts = starts

    def last_start(self) -> int:
        """The offset of the page's last entry."""
        if self._starts is not None:
            return self._starts[-1]
        return self._body.rfind(_PLAIN_START)

    def indexes_of(self, kept: Container[str]) -> list[int]:
        """The positions, in page order, of the entries named in *kept*: through a map of
        the names when few are kept (each entry is not visited in Python again)."""
        names = self.names
        if isinstance(kept, (dict, set, frozenset)) and len(kept) * 4 < len(names):
            position = dict(zip(names, range(len(names)), strict=True))
            if len(position) == len(names):  # (a name listed twice: both entries count)
                return sorted(position[name] for name in kept if name in position)
        return [i for i, name in enumerate(names) if name in kept]

    def spans(self, indexes: list[int]) -> list[tuple[int, int]] | None:
        """(begin, end) of each entry at *indexes* (ascending, none the last entry): from
        its ``{`` to the next entry's; None if one is not where the scan found it."""
        body, starts = self._body, self._starts
        if starts is not None:
            return [(starts[i], starts[i + 1]) for i in indexes]
        found: list[tuple[int, int]] = []
        after, end = -1, 0
        for i in indexes:
            if i == after:  # the entry after the one before: it starts where that one ends
                begin = end
            else:  # each entry's start is unique: its name follows it, quoted
                begin = body.find(_PLAIN_START + self._raw_names[i] + b'"', end)
            end = _next_start(body, begin + 1)
            if begin < 0 or end < 0:
                return None
            found.append((begin, end))
            after = i + 1
        return found


def _next_start(body: bytes, at: int) -> int:
    """The next PyPI-layout entry start from *at* (-1: none), looked for in a window the
    size of an entry first (a search over the rest of a big page costs more to set up)."""
    found = body.find(_PLAIN_START, at, at + _ENTRY_WINDOW)
    return found if found >= 0 else body.find(_PLAIN_START, at)


def scan_entries(body: bytes) -> ScannedEntries | None:
    """The page's entries, or None when they cannot all be read off its text."""
    urls = body.count(b'"url"')
    raw_names = _PLAIN_NAME.findall(body)
    joined = b"\n".join(raw_names)  # (a raw newline cannot be in a JSON string)
    starts: list[int] | None = None
    if len(raw_names) != urls or b"\\" in joined:
        matches = list(ENTRY_START.finditer(body))
        raw_names = [m.group(1) for m in matches]
        starts = [m.start() for m in matches]
        joined = b"\n".join(raw_names)
    if not raw_names or len(raw_names) != urls:
        return None
    try:
        names = joined.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    if len(names) != len(raw_names):
        return None  # a raw newline in a name: no JSON string holds one (the full parse says)
    return ScannedEntries(body, raw_names, names, starts)
