"""Read one wheel's ``*.dist-info/METADATA`` straight from its zip central directory.

:class:`zipfile.ZipFile` decodes every entry of the central directory into a ``ZipInfo``
before it can open one; a big wheel has thousands, and metadata is read from a hundred wheels
per cold compile.  Here the directory is searched as bytes for the one name wanted and only
that record is decoded.  Anything unusual (ZIP64, several candidate members, encryption, an
unknown compression method, a record that does not check out) returns None and the caller
falls back to :mod:`zipfile`, so this is a shortcut, never a second zip implementation to
trust.
"""

from __future__ import annotations

import re
import struct
import zlib
from typing import Protocol

from lockcheck.index.metadata import is_metadata_member


class Seekable(Protocol):
    """A local file or a :class:`~lockcheck.index.lazywheel.RangeFile`: all this reads."""

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def read(self, size: int = -1, /) -> bytes | None: ...


__all__ = ["read_metadata_member"]

_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_CENTRAL = b"PK\x01\x02"
_CENTRAL_SIZE = 46
_LOCAL = b"PK\x03\x04"
_LOCAL_SIZE = 30
_MAX_COMMENT = 0xFFFF
#: How far before the central directory the .dist-info files usually start (RECORD, written
#: after METADATA, runs to a few hundred KiB in big wheels).
_METADATA_MARGIN = 384 * 1024
#: ``<dir>.dist-info/METADATA`` as the whole member name (no slash before .dist-info).
_NAME_END = re.compile(rb"\.dist-info/METADATA")


def _read_at(fh: Seekable, offset: int, length: int) -> bytes:
    fh.seek(offset)
    return fh.read(length) or b""


def _end_record(fh: Seekable, size: int) -> tuple[int, int] | None:
    """(directory size, directory offset) from the end-of-directory record."""
    for span in (_EOCD_SIZE + 1024, _EOCD_SIZE + _MAX_COMMENT):
        start = max(0, size - span)
        tail = _read_at(fh, start, size - start)
        at = tail.rfind(_EOCD)
        if at >= 0:
            break
        if start == 0:
            return None
    else:
        return None
    record = tail[at : at + _EOCD_SIZE]
    if len(record) < _EOCD_SIZE:
        return None
    (_sig, disk, cd_disk, _here, entries, cd_size, cd_offset, _comment) = struct.unpack(
        "<4sHHHHIIH", record
    )
    if disk or cd_disk or entries == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset):
        return None  # multi-disk or ZIP64: leave it to zipfile
    if start + at < cd_offset + cd_size:
        return None
    return cd_size, cd_offset


def read_metadata_member(fh: Seekable, size: int) -> bytes | None:
    """The uncompressed METADATA of the wheel in *fh* (*size* bytes), or None when this
    shortcut cannot be sure (the caller then uses :mod:`zipfile`)."""
    end = _end_record(fh, size)
    if end is None:
        return None
    cd_size, cd_offset = end
    prefetch = getattr(fh, "prefetch", None)
    if prefetch is not None:  # a remote wheel: METADATA sits just before the directory
        prefetch(cd_offset, cd_offset + cd_size, margin=_METADATA_MARGIN)
    directory = _read_at(fh, cd_offset, cd_size)
    if len(directory) != cd_size:
        return None
    found: list[tuple[int, ...]] = []
    for match in _NAME_END.finditer(directory):
        record = directory.rfind(_CENTRAL, 0, match.start())
        if record < 0 or record + _CENTRAL_SIZE > match.start():
            return None
        flags, method, crc, compressed, uncompressed, name_len = struct.unpack_from(
            "<HH4xIIIH", directory, record + 8
        )
        (local_offset,) = struct.unpack_from("<I", directory, record + 42)
        if record + _CENTRAL_SIZE + name_len != match.end():
            continue  # ".dist-info/METADATA" inside a longer name
        name = directory[record + _CENTRAL_SIZE : match.end()].decode("utf-8", "replace")
        if not is_metadata_member(name):
            continue  # a nested file (or no directory name), not the wheel's own metadata
        found.append((flags, method, crc, compressed, uncompressed, local_offset))
    if len(found) != 1:
        return None
    flags, method, crc, compressed, uncompressed, local_offset = found[0]
    if flags & 0x1 or method not in (0, 8) or 0xFFFFFFFF in (compressed, uncompressed):
        return None  # encrypted, ZIP64, or a method zipfile should judge
    if prefetch is not None:  # the local header, its name and extra field, and the data
        prefetch(local_offset, local_offset + _LOCAL_SIZE + 1024 + compressed)
    header = _read_at(fh, local_offset, _LOCAL_SIZE)
    if len(header) != _LOCAL_SIZE or header[:4] != _LOCAL:
        return None
    local_name_len, local_extra_len = struct.unpack_from("<HH", header, 26)
    data = _read_at(fh, local_offset + _LOCAL_SIZE + local_name_len + local_extra_len, compressed)
    if len(data) != compressed:
        return None
    try:
        raw = zlib.decompress(data, -15) if method == 8 else data
    except zlib.error:
        return None
    if len(raw) != uncompressed or zlib.crc32(raw) != crc:
        return None
    return raw
