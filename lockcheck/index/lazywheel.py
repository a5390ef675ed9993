"""A remote wheel seen through HTTP Range requests, enough for ``zipfile`` to read METADATA.

A wheel's central directory sits at its end and ``.dist-info`` files are written last, so the
first request (the last :data:`TAIL_BYTES` bytes) usually holds everything ``zipfile`` needs;
otherwise the missing spans are fetched on demand, at least :data:`MIN_FETCH` bytes at a time.
Fetched spans are kept sparse and merged, never the whole file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["MIN_FETCH", "TAIL_BYTES", "RangeFile", "RangeNotSatisfied", "parse_content_range"]

#: Size of the initial suffix request (``Range: bytes=-TAIL_BYTES``).
TAIL_BYTES = 64 * 1024
#: Smallest span fetched for a later miss.
MIN_FETCH = 16 * 1024

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+)\s*$", re.IGNORECASE)


class RangeNotSatisfied(Exception):
    """The server stopped honouring ranges (answered 200, or a wrong span)."""


def parse_content_range(value: str | None) -> tuple[int, int, int] | None:
    """``bytes 10-19/100`` -> (10, 20, 100) with an exclusive end; None when unusable."""
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None
    start, last, total = (int(g) for g in match.groups())
    if last < start or last >= total:
        return None
    return start, last + 1, total


class RangeFile(io.RawIOBase):
    """Read-only, seekable view of *size* remote bytes; ``fetch(start, end)`` returns
    exactly ``bytes[start:end]``."""

    def __init__(self, size: int, fetch: Callable[[int, int], bytes]) -> None:
        super().__init__()
        self._size = size
        self._fetch = fetch
        self._pos = 0
        self._spans: list[tuple[int, bytes]] = []

    def add(self, start: int, data: bytes) -> None:
        """Record bytes already known (e.g. the initial tail response)."""
        spans = sorted([*self._spans, (start, data)], key=lambda span: span[0])
        merged: list[tuple[int, bytes]] = []
        for begin, chunk in spans:
            if merged:
                last_begin, last_chunk = merged[-1]
                last_end = last_begin + len(last_chunk)
                if begin <= last_end:
                    tail = chunk[last_end - begin :]
                    merged[-1] = (last_begin, last_chunk + tail)
                    continue
            merged.append((begin, chunk))
        self._spans = merged

    def prefetch(self, start: int, end: int, *, margin: int = 0) -> None:
        """Unless ``[start, end)`` is already held, fetch it together with *margin* bytes
        before it, in one request (a zip reader that needs the central directory will next
        want the ``.dist-info`` files written just before it: one round trip, not two)."""
        end = min(self._size, end)
        if self._covering(start, end) is not None:
            return
        begin = max(0, start - margin)
        for span_begin, chunk in self._spans:  # leave out what is held at either end
            span_end = span_begin + len(chunk)
            if span_begin <= begin < span_end:
                begin = span_end
            if begin < span_begin < end:
                end = span_begin
        if begin >= end:
            return
        chunk = self._fetch(begin, end)
        if len(chunk) != end - begin:
            raise RangeNotSatisfied(f"asked for {end - begin} bytes, got {len(chunk)}")
        self.add(begin, chunk)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError("negative seek position")
        self._pos = pos
        return pos

    def _covering(self, start: int, end: int) -> bytes | None:
        for begin, chunk in self._spans:
            if begin <= start and end <= begin + len(chunk):
                return chunk[start - begin : end - begin]
        return None

    def read(self, size: int | None = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        if self._pos >= end:
            return b""
        data = self._covering(self._pos, end)
        if data is None:
            fetch_end = min(self._size, max(end, self._pos + MIN_FETCH))
            chunk = self._fetch(self._pos, fetch_end)
            if len(chunk) != fetch_end - self._pos:
                raise RangeNotSatisfied(
                    f"asked for {fetch_end - self._pos} bytes, got {len(chunk)}"
                )
            self.add(self._pos, chunk)
            data = chunk[: end - self._pos]
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)
