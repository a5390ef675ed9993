"""The on-disk cache: index pages, core metadata, downloaded files, git checkouts.

Layout under the cache root (``settings.cache_dir``, else ``$LOCKCHECK_CACHE_DIR``, else
``platformdirs.user_cache_dir("lockcheck")``, which follows ``$XDG_CACHE_HOME``)::

    v1/pages/ab/<sha256(url)>.page          one line of JSON (validators, status) + raw body
    v1/pages/ab/<sha256(url)>.parsed        marshal: the same header + the page's parsed form
    v1/metadata/ab/<key>.metadata           raw METADATA bytes; key sha256-<hex> | url-<hash>
    v1/files/ab/<sha256>/<filename>         downloaded archives, keyed by their own sha256
    v1/git/<hash>.git, v1/git/checkouts/..  mirrors and per-commit checkouts
    v1/tmp/                                 partial downloads (same filesystem: os.replace)

Released files never change, so metadata and files are kept forever.  Pages are fresh for
:data:`PAGE_MAX_AGE` seconds (10 minutes, PyPI's own ``max-age``), then revalidated with
``If-None-Match`` / ``If-Modified-Since``.  A page's ``.parsed`` entry lets a warm run skip
reading and scanning the raw body; it is removed before a new body is written and written
after it, so a present entry always describes the body beside it (a run killed between the
two leaves the raw body alone, which is read the slow way).  Every write is atomic
(temporary file in the same directory, then ``os.replace``); an entry that cannot be read
or parsed is treated as missing.  The cache never breaks a run: the first write that fails
(full disk, read-only filesystem, no permission) is reported once and ends caching for the
run; downloads and git checkouts then go to a temporary directory removed by
:meth:`Cache.close`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import marshal
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "PAGE_MAX_AGE",
    "Cache",
    "CachedPage",
    "ParsedPage",
    "default_cache_dir",
    "file_sha256",
]

_log = logging.getLogger(__name__)

#: Seconds an index page is used without asking the server again.
PAGE_MAX_AGE = 600.0
_LAYOUT = "v1"
#: First item of a ``.parsed`` entry; another value (an older or newer lockcheck) is a miss.
_PARSED_FORMAT = "lockcheck-parsed-page-4"


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

    def header(self) -> bytes:
        fields = asdict(self)
        del fields["body"]
        return json.dumps(fields, sort_keys=True).encode("utf-8")


@dataclass
class ParsedPage:
    """A page's header (``page.body`` empty) and what the finder made of its body: any
    value :mod:`marshal` can write (tuples, dicts, strings, bytes, numbers, None)."""

    page: CachedPage
    parsed: Any


class Cache:
    """Files under one root; safe to share between threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.base = self.root / _LAYOUT
        self._lock = threading.Lock()
        self._writable = True
        self._scratch: Path | None = None

    # -- plumbing --------------------------------------------------------------------------

    @property
    def writable(self) -> bool:
        """False once a write has failed: the rest of the run does without the cache."""
        return self._writable

    def give_up_writing(self, exc: OSError) -> None:
        """A write under the cache failed: say so once, and write nothing more this run."""
        from lockcheck.cachedir import warn_unwritable

        self._writable = False
        warn_unwritable(self.root, exc)

    def _write(self, path: Path, data: bytes, *more: bytes) -> bool:
        if not self._writable:
            return False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    for chunk in more:  # big bodies are written, not copied into one bytes
                        fh.write(chunk)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            self.give_up_writing(exc)
            return False
        return True

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

    # -- pages -----------------------------------------------------------------------------

    def _page_path(self, url: str) -> Path:
        key = _key(url)
        return self.base / "pages" / key[:2] / f"{key}.page"

    def load_page(self, url: str) -> CachedPage | None:
        raw = self._read(self._page_path(url))
        if raw is None:
            return None
        header, sep, body = raw.partition(b"\n")
        try:
            if not sep:
                raise ValueError("no header line")
            fields = json.loads(header)
            page = CachedPage(body=body, **fields)
            if page.url != url or page.status not in (200, 404):
                raise ValueError("entry for another URL")
        except (ValueError, TypeError) as exc:
            _log.debug("ignoring corrupt page cache entry for %s: %s", url, exc)
            return None
        return page

    def store_page(self, page: CachedPage) -> None:
        path = self._page_path(page.url)
        self._drop(path.with_suffix(".parsed"))  # first: it describes the body replaced now
        self._write(path, page.header() + b"\n", page.body)

    def read_body_span(self, url: str, size: int, begin: int, end: int) -> bytes | None:
        """Bytes [begin, end) of the raw body stored for *url*, read without the rest (None:
        no entry, or its body is not *size* bytes long)."""
        try:
            with open(self._page_path(url), "rb") as fh:
                header = fh.readline()
                if os.fstat(fh.fileno()).st_size != len(header) + size or end > size:
                    return None
                fh.seek(len(header) + begin)
                data = fh.read(end - begin)
        except OSError:
            return None
        return data if len(data) == end - begin else None

    def load_parsed(self, url: str) -> ParsedPage | None:
        """The parsed form of *url*'s page stored by :meth:`store_parsed` (None: missing,
        unreadable, written by another format or for another URL)."""
        raw = self._read(self._page_path(url).with_suffix(".parsed"))
        if raw is None:
            return None
        try:
            kind, fields, parsed = marshal.loads(raw)
            if kind != _PARSED_FORMAT:
                raise ValueError(f"format {kind!r}")
            page = CachedPage(**fields)
            if page.url != url or page.status not in (200, 404) or page.body:
                raise ValueError("entry for another URL")
        except (ValueError, TypeError, EOFError) as exc:
            _log.debug("ignoring parsed page cache entry for %s: %s", url, exc)
            return None
        return ParsedPage(page, parsed)

    def store_parsed(self, entry: ParsedPage) -> None:
        """Keep the parsed form of the page whose raw body is stored now (never call it
        for a body that was not stored: the pair must describe one fetch)."""
        fields = asdict(entry.page)
        fields["body"] = b""
        try:
            data = marshal.dumps((_PARSED_FORMAT, fields, entry.parsed))
        except ValueError as exc:  # a value marshal cannot write: no entry, the slow way
            _log.debug("not keeping the parsed form of %s: %s", entry.page.url, exc)
            return
        self._write(self._page_path(entry.page.url).with_suffix(".parsed"), data)

    def parsed_age(self, url: str) -> float | None:
        """Seconds since *url*'s parsed entry was written (None: there is none); one stat,
        for deciding whether reading the page will need the network."""
        try:
            return time.time() - self._page_path(url).with_suffix(".parsed").stat().st_mtime
        except OSError:
            return None

    def drop_parsed(self, url: str) -> None:
        """Forget a parsed entry found damaged (the raw body is read next time)."""
        self._drop(self._page_path(url).with_suffix(".parsed"))

    def _drop(self, path: Path) -> None:
        if not self._writable:
            return
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.give_up_writing(exc)

    # -- metadata --------------------------------------------------------------------------

    @staticmethod
    def metadata_key(*, sha256: str | None = None, url: str | None = None) -> str:
        if sha256:
            return f"sha256-{sha256.lower()}"
        if url:
            return f"url-{_key(url)}"
        raise ValueError("a metadata key needs a hash or a URL")

    def _metadata_path(self, key: str) -> Path:
        digest = key.rpartition("-")[2]
        return self.base / "metadata" / digest[:2] / f"{key}.metadata"

    def load_metadata(self, key: str) -> bytes | None:
        return self._read(self._metadata_path(key))

    def has_metadata(self, key: str) -> bool:
        return self._metadata_path(key).is_file()

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
