"""The on-disk cache: index pages, core metadata, downloaded files, git checkouts.

Layout under the cache root (``settings.cache_dir``, else ``$LOCKCHECK_CACHE_DIR``, else
``platformdirs.user_cache_dir("lockcheck")``, which follows ``$XDG_CACHE_HOME``)::

    v1/index-pages/<sha256(url)>.page       format tag, sizes, marshal (validators, parsed
                                            form), raw body; mtime = when fetched/confirmed
    v1/core-metadata/<key>.metadata         raw METADATA bytes; key sha256-<hex> | url-<hash>
    v1/files/ab/<sha256>/<filename>         downloaded archives, keyed by their own sha256
    v1/git/<hash>.git, v1/git/checkouts/..  mirrors and per-commit checkouts
    v1/tmp/                                 partial downloads (same filesystem: os.replace)

Pages and metadata are one flat directory each, one file per entry: creating a file or a
directory is most of what a cold run's cache costs (ext4 spends about half a millisecond
finding a free inode), so no entry gets a directory of its own (issue 17).  Lockcheck before
that kept them as ``v1/pages/ab/<key>.page`` + ``.parsed`` and ``v1/metadata/ab/``: those are
no longer read (an older lockcheck sharing the cache still reads and writes them, and never
looks in the new directories), so they only miss once; they may be deleted.

Released files never change, so metadata and files are kept forever.  Pages are fresh for
:data:`PAGE_MAX_AGE` seconds (10 minutes, PyPI's own ``max-age``) after their entry's mtime,
then revalidated with ``If-None-Match`` / ``If-Modified-Since``; a 304 sets the mtime again
and rewrites nothing.  A page entry holds the parsed form the finder made of its body, so a
warm run reads only the entry's head (:meth:`Cache.load_parsed`) and single spans of the
body (:meth:`Cache.read_body_span`); one file for both means they always describe one fetch.
Every write is atomic (temporary file in the same directory, then ``os.replace``); an entry
that cannot be read, is cut short or has another format is treated as missing.  The cache
never breaks a run: the first write that fails (full disk, read-only filesystem, no
permission) is reported once and ends caching for the run; downloads and git checkouts then
go to a temporary directory removed by :meth:`Cache.close`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import shutil
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from lockcheck.crashpoint import crash_point

__all__ = [
    "PAGE_MAX_AGE",
    "Cache",
    "CachedPage",
    "ParsedPage",
    "default_cache_dir",
    "file_sha256",
    "holds_no_metadata",
]

_log = logging.getLogger(__name__)

#: Seconds an index page is used without asking the server again.
PAGE_MAX_AGE = 600.0
_LAYOUT = "v1"
_PAGES = "index-pages"
_METADATA = "core-metadata"
#: First bytes of a page entry; another value (an older or newer lockcheck) is a miss.  A
#: change of the head's shape or of what the finder stores as parsed form needs a new one.
_PAGE_FORMAT = b"lockcheck-page-5\n"
#: After the format tag: the sizes of the marshalled head and of the raw body, the head's
#: CRC-32 (a damaged head is a miss, not a wrong answer).
_SIZES = struct.Struct("<QQI")
_PREFIX_SIZE = len(_PAGE_FORMAT) + _SIZES.size
#: A page entry is opened with one read of this size: most heads fit.
_FIRST_READ = 1 << 14
#: ``store_page`` without a parsed form.
_NOT_PARSED: Any = object()


def holds_no_metadata(root: Path) -> bool:
    """True when the cache under *root* holds no metadata yet: a cold run, which will read
    metadata from the index (one directory entry read, whatever the cache's size)."""
    try:
        with os.scandir(Path(root) / _LAYOUT / _METADATA) as entries:
            return next(entries, None) is None
    except OSError:
        return True


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$LOCKCHECK_CACHE_DIR``, else the platform's user cache dir for lockcheck."""
    from lockcheck.cachedir import default_cache_dir as shared

    return shared(environ)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class CachedPage:
    """An index page as last seen (status 200 with a body, or 404 = project not there)."""

    url: str
    final_url: str
    status: int
    content_type: str
    etag: str | None
    last_modified: str | None
    fetched_at: float
    body: bytes = b""


@dataclass
class ParsedPage:
    """A page's header (``page.body`` empty) and what the finder made of its body: any
    value :mod:`marshal` can write (tuples, dicts, strings, bytes, numbers, None).
    *place*: the entry's inode and where its body starts, for :meth:`Cache.read_body_span`."""

    page: CachedPage
    parsed: Any
    place: tuple[int, int] | None = None


class _PageFile(NamedTuple):
    page: CachedPage
    has_parsed: bool
    parsed: Any
    place: tuple[int, int]


def _read_exactly(fh: BinaryIO, size: int) -> bytes:
    """*size* bytes from *fh* (fewer only at its end)."""
    data = fh.read(size)
    while len(data) < size:
        more = fh.read(size - len(data))
        if not more:
            break
        data += more
    return data


class Cache:
    """Files under one root; safe to share between threads and processes."""

    def __init__(self, root: Path, *, entry_temps: Path | None = None, warn: bool = True) -> None:
        """*entry_temps*: where entries are written before they are renamed into place
        (default: beside them); a process that may be killed at any moment (the fetch
        helper) writes them in a directory of its own, which its parent removes.  *warn*:
        say once that the cache cannot be written (the helper does not: its run says it)."""
        self.root = Path(root)
        self.base = self.root / _LAYOUT
        self._lock = threading.Lock()
        self._writable = True
        self._scratch: Path | None = None
        self._entry_temps = entry_temps
        self._warn = warn

    def write_entries_in(self, directory: Path) -> None:
        """(In a forked copy of the run.) Unfinished entries go to *directory*, which the
        run removes: the copy may be killed at any moment."""
        self._lock = threading.Lock()  # another thread may have held it at the fork
        self._entry_temps = directory

    # -- plumbing --------------------------------------------------------------------------

    @property
    def writable(self) -> bool:
        """False once a write has failed: the rest of the run does without the cache."""
        return self._writable

    def give_up_writing(self, exc: OSError) -> None:
        """A write under the cache failed: say so once, and write nothing more this run."""
        from lockcheck.cachedir import warn_unwritable

        self._writable = False
        if self._warn:
            warn_unwritable(self.root, exc)

    def _write(self, path: Path, data: bytes, *more: bytes, mtime: float | None = None) -> bool:
        """Write *data* and *more* as *path*, atomically; *mtime*: the file's times."""
        if not self._writable:
            return False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._entry_temps or path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    self._crash_point()  # (tests) the temporary file made, empty
                    fh.write(data)
                    for chunk in more:  # big bodies are written, not copied into one bytes
                        self._crash_point()  # part of the entry written
                        fh.write(chunk)
                if mtime is not None:
                    os.utime(tmp, (mtime, mtime))
                self._crash_point()  # written, not in place yet
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            self.give_up_writing(exc)
            return False
        return True

    def _crash_point(self) -> None:
        """The test-only kill hook (``LOCKCHECK_TEST_CRASH_AT=cache-write:<n>``), counted
        under the lock: with several threads writing, the n-th point is still one point."""
        with self._lock:
            crash_point("cache-write")

    def _read(self, path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except OSError:
            return None

    def tmp_dir(self) -> Path:
        """Directory for partial downloads: in the cache (same filesystem as the files, so
        they are moved, not copied) while it can be written, else :meth:`scratch_dir`."""
        return self._subdir("tmp")

    def _subdir(self, name: str) -> Path:
        """``v1/<name>`` while the cache can be written, else ``<name>`` in the scratch dir."""
        if self._writable:
            path = self.base / name
            try:
                path.mkdir(parents=True, exist_ok=True)
                return path
            except OSError as exc:
                self.give_up_writing(exc)
        path = self.scratch_dir() / name
        path.mkdir(exist_ok=True)
        return path

    def scratch_dir(self) -> Path:
        """A private temporary directory for this run (made on first use, removed by
        :meth:`close`); an OSError here means no disk space is left for the run at all."""
        with self._lock:
            if self._scratch is None:
                self._scratch = Path(tempfile.mkdtemp(prefix="lockcheck-cache-"))
            return self._scratch

    def is_scratch(self, path: Path) -> bool:
        """Whether *path* is the scratch directory or lies in it."""
        scratch = self._scratch
        return scratch is not None and (Path(path) == scratch or scratch in Path(path).parents)

    def close(self) -> None:
        """Remove the scratch directory (the cache itself stays)."""
        with self._lock:
            scratch, self._scratch = self._scratch, None
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    # -- pages ---------------------------------------------------------------------------

    def _page_path(self, url: str) -> Path:
        return self.base / _PAGES / f"{_key(url)}.page"

    def _open_page(self, url: str, *, with_body: bool) -> _PageFile | None:
        """The entry of *url* as far as it was asked for (None: missing, unreadable, of
        another format or for another URL, or not as long as its prefix says)."""
        try:
            with open(self._page_path(url), "rb", buffering=0) as fh:
                stat = os.fstat(fh.fileno())
                # With the body: the prefix alone first, so the body is read into one bytes.
                first = _PREFIX_SIZE if with_body else _FIRST_READ
                head = _read_exactly(fh, min(stat.st_size, first))
                if not head.startswith(_PAGE_FORMAT):
                    raise ValueError("another format")
                head_size, body_size, crc = _SIZES.unpack_from(head, len(_PAGE_FORMAT))
                body_at = _PREFIX_SIZE + head_size
                if stat.st_size != body_at + body_size:
                    raise ValueError("not as long as its prefix says")
                if len(head) < body_at:
                    head += _read_exactly(fh, body_at - len(head))
                marshalled = memoryview(head)[_PREFIX_SIZE:body_at]
                if zlib.crc32(marshalled) != crc:
                    raise ValueError("head damaged")
                fields, has_parsed, parsed = marshal.loads(marshalled)
                page = CachedPage(**fields, fetched_at=stat.st_mtime)
                if page.url != url or page.status not in (200, 404):
                    raise ValueError("entry for another URL")
                if with_body:
                    page.body = _read_exactly(fh, body_size)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, EOFError, struct.error) as exc:
            _log.debug("ignoring page cache entry for %s: %s", url, exc)
            return None
        return _PageFile(page, has_parsed, parsed, (stat.st_ino, body_at))

    def load_page(self, url: str) -> CachedPage | None:
        """*url*'s page with its raw body (None: no usable entry)."""
        entry = self._open_page(url, with_body=True)
        return None if entry is None else entry.page

    def load_parsed(self, url: str) -> ParsedPage | None:
        """*url*'s page header (``body`` empty: it is not read) and the parsed form stored
        with it (None: no usable entry, or one stored without a parsed form)."""
        entry = self._open_page(url, with_body=False)
        if entry is None or not entry.has_parsed:
            return None
        return ParsedPage(entry.page, entry.parsed, entry.place)

    def store_page(self, page: CachedPage, parsed: Any = _NOT_PARSED) -> None:
        """Keep *page* (validators, raw body) and, when given, what the finder made of that
        body: one file, one atomic write; ``page.fetched_at`` becomes its mtime."""
        fields = asdict(page)
        del fields["body"], fields["fetched_at"]
        has_parsed = parsed is not _NOT_PARSED
        try:
            head = marshal.dumps((fields, has_parsed, parsed if has_parsed else None))
        except ValueError as exc:  # a value marshal cannot write: kept without it
            _log.debug("not keeping the parsed form of %s: %s", page.url, exc)
            head = marshal.dumps((fields, False, None))
        prefix = _PAGE_FORMAT + _SIZES.pack(len(head), len(page.body), zlib.crc32(head))
        self._write(self._page_path(page.url), prefix + head, page.body, mtime=page.fetched_at)

    def touch_page(self, url: str, fetched_at: float) -> None:
        """Record that the server confirmed *url*'s stored page (HTTP 304) at *fetched_at*:
        the entry's mtime, so nothing is rewritten (a run killed before it only leaves the
        entry stale: it is asked about again)."""
        if not self._writable:
            return
        try:
            os.utime(self._page_path(url), (fetched_at, fetched_at))
        except FileNotFoundError:
            pass  # removed meanwhile: the next run fetches it
        except OSError as exc:
            self.give_up_writing(exc)

    def read_body_span(
        self, url: str, place: tuple[int, int] | None, size: int, begin: int, end: int
    ) -> bytes | None:
        """Bytes [begin, end) of the raw body of *url*'s entry at *place* (its inode and
        where the body starts, from :meth:`load_parsed`), read without the rest (None: no
        entry, another one since, or its body is not *size* bytes long)."""
        if place is None or end > size:
            return None
        inode, body_at = place
        try:
            with open(self._page_path(url), "rb", buffering=0) as fh:
                stat = os.fstat(fh.fileno())
                if stat.st_ino != inode or stat.st_size != body_at + size:
                    return None
                fh.seek(body_at + begin)
                data = _read_exactly(fh, end - begin)
        except OSError:
            return None
        return data if len(data) == end - begin else None

    def page_age(self, url: str) -> float | None:
        """Seconds since *url*'s page was fetched or confirmed (None: no entry); one stat,
        for deciding whether reading the page will need the network."""
        try:
            return time.time() - self._page_path(url).stat().st_mtime
        except OSError:
            return None

    def drop_parsed(self, url: str) -> None:
        """Forget the parsed form of *url*'s entry, found not to match its body: the entry
        is kept without it (the body is read whole, and parsed again next run)."""
        page = self.load_page(url)
        if page is not None:
            self.store_page(page)

    # -- metadata --------------------------------------------------------------------------

    @staticmethod
    def metadata_key(*, sha256: str | None = None, url: str | None = None) -> str:
        if sha256:
            return f"sha256-{sha256.lower()}"
        if url:
            return f"url-{_key(url)}"
        raise ValueError("a metadata key needs a hash or a URL")

    def _metadata_path(self, key: str) -> Path:
        return self.base / _METADATA / f"{key}.metadata"

    def load_metadata(self, key: str) -> bytes | None:
        return self._read(self._metadata_path(key))

    def has_metadata(self, key: str) -> bool:
        return self._metadata_path(key).is_file()

    def holds_no_metadata(self) -> bool:
        """See :func:`holds_no_metadata`."""
        return holds_no_metadata(self.root)

    def store_metadata(self, key: str, data: bytes) -> None:
        self._write(self._metadata_path(key), data)

    def drop_metadata(self, key: str) -> None:
        with contextlib.suppress(OSError):
            self._metadata_path(key).unlink()

    # -- files -----------------------------------------------------------------------------

    def _file_dir(self, sha256: str) -> Path:
        return self.base / "files" / sha256[:2] / sha256

    def cached_file(self, sha256: str, filename: str) -> Path | None:
        """The cached archive with this digest, re-verified (a bad copy is deleted)."""
        path = self._file_dir(sha256.lower()) / filename
        if not path.is_file():
            return None
        try:
            if file_sha256(path) == sha256.lower():
                return path
            _log.warning("dropping corrupt cached file %s", path)
            path.unlink()
        except OSError:
            pass
        return None

    def store_file(self, tmp: Path, sha256: str, filename: str) -> Path:
        """Move a verified download into the cache; returns where it lives now."""
        if not self._writable:
            return tmp
        final = self._file_dir(sha256.lower()) / filename
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        except OSError as exc:
            self.give_up_writing(exc)
            return tmp
        return final

    # -- git -------------------------------------------------------------------------------

    def git_dir(self) -> Path:
        return self._subdir("git")
