"""A file's core metadata, from the cheapest place that has it.

In order: the on-disk cache; the PEP 658 ``.metadata`` file; a few HTTP Range reads of a
wheel's tail (:mod:`lockcheck.index.lazywheel`); the whole wheel; finally a PEP 517 metadata
preparation of the sdist (:mod:`lockcheck.index.building`).  Whatever was read is checked
against the file's name and version and kept in the cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.parse
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName

from lockcheck.errors import (
    HashMismatch,
    MetadataError,
    redact_url,
)
from lockcheck.index.building import Builds
from lockcheck.index.cache import Cache, file_sha256
from lockcheck.index.downloads import NO_ENCODING, Downloads
from lockcheck.index.lazywheel import TAIL_BYTES, RangeFile, RangeNotSatisfied, parse_content_range
from lockcheck.index.metadata import check_identity, parse_metadata, read_wheel_metadata
from lockcheck.index.settings import IndexSettings
from lockcheck.index.urls import strip_fragment
from lockcheck.index.wheelzip import read_metadata_member
from lockcheck.models import CoreMetadata, DistFile

if TYPE_CHECKING:
    import httpx

    from lockcheck.index.http import HttpSession

__all__ = ["MetadataChain", "wheel_metadata"]

_log = logging.getLogger(__name__)


class MetadataChain:
    """Reads metadata for one run (no memo here: the finder keeps one per (name, version))."""

    def __init__(
        self,
        settings: IndexSettings,
        session: HttpSession,
        cache: Cache,
        downloads: Downloads,
        builds: Builds,
    ) -> None:
        self.settings = settings
        self._session = session
        self.cache = cache
        self._downloads = downloads
        self._builds = builds

    def load(self, file: DistFile) -> CoreMetadata:
        if file.url.lower().startswith("file:"):
            path = self._downloads.fetch(file)
            if file.is_wheel:
                meta = parse_metadata(wheel_metadata(path, file.name), str(path))
                check_identity(meta, file.name, file.version, str(path))
                return meta
            key = Cache.metadata_key(sha256=file.hashes.get("sha256") or file_sha256(path))
            return self._cached(key, file) or self._store(key, self._sdist_metadata(path), file)
        key = _metadata_key(file)
        if self._may_reuse(key):
            cached = self._cached(key, file)
            if cached is not None:
                return cached
        raw: bytes | None = None
        if not self.settings.offline:
            # Only an advertised ``.metadata`` file is asked for, as pip and uv do: a mirror
            # may serve it for some wheels and answer a slow 404 for the rest.
            if file.metadata_hashes is not None:
                raw = self._pep658_metadata(file)
            if raw is None and file.is_wheel:
                raw = self._range_metadata(file)
        if raw is None:
            path = self._downloads.fetch(file)
            if file.is_wheel:
                raw = wheel_metadata(path, file.name)
            else:
                raw = self._sdist_metadata(path)
        return self._store(key, raw, file)

    def answers_locally(self, file: DistFile) -> bool:
        """Whether :meth:`load` of *file* needs no request (a local file, or the cache)."""
        if file.url.lower().startswith("file:"):
            return True
        key = _metadata_key(file)
        return self._may_reuse(key) and self.cache.has_metadata(key)

    def _may_reuse(self, key: str) -> bool:
        """Metadata keyed by a hash never goes stale; keyed by URL it may (--refresh)."""
        return not (self.settings.refresh and key.startswith("url-"))

    def _cached(self, key: str, file: DistFile) -> CoreMetadata | None:
        raw = self.cache.load_metadata(key)
        if raw is None:
            return None
        try:
            meta = parse_metadata(raw, file.filename)
            check_identity(meta, file.name, file.version, file.filename)
        except MetadataError:
            self.cache.drop_metadata(key)
            return None
        return meta

    def _store(self, key: str, raw: bytes, file: DistFile) -> CoreMetadata:
        meta = parse_metadata(raw, redact_url(file.url))
        check_identity(meta, file.name, file.version, redact_url(file.url))
        self.cache.store_metadata(key, raw)
        return meta

    def _sdist_metadata(self, path: Path) -> bytes:
        _meta, raw = self._builds.prepare(path, str(path))
        return raw

    def _pep658_metadata(self, file: DistFile) -> bytes | None:
        parts = urllib.parse.urlsplit(strip_fragment(file.url)[0])
        url = urllib.parse.urlunsplit(parts._replace(path=parts.path + ".metadata"))
        response = self._session.get(url)
        if not 200 <= response.status_code < 300:
            return None
        data = response.content
        for algorithm, expected in (file.metadata_hashes or {}).items():
            if algorithm in hashlib.algorithms_available:
                got = hashlib.new(algorithm, data).hexdigest()
                if got != expected:
                    raise HashMismatch(
                        f"metadata file {url} does not match its advertised hash: expected "
                        f"{algorithm}:{expected}, got {algorithm}:{got}"
                    )
        return data

    def _range_metadata(self, file: DistFile) -> bytes | None:
        """METADATA through Range requests; None when the server does not do ranges."""

        def first(response: httpx.Response) -> Path | tuple[tuple[int, int, int], bytes] | None:
            """The tail's span and bytes; the saved wheel when ranges were ignored; None
            when the server answered neither."""
            if response.status_code == 206:
                span = parse_content_range(response.headers.get("content-range"))
                body = response.read()
                if span is None or len(body) != span[1] - span[0]:
                    return None
                return span, body
            if response.status_code == 200:  # ranges ignored: this is the whole wheel
                return self._downloads.save_download(response, file)
            return None

        headers = {"Range": f"bytes=-{TAIL_BYTES}", **NO_ENCODING}
        got = self._downloads.stream_saving(file.url, first, headers)
        if isinstance(got, Path):
            self._downloads.remember(file, got)
            return wheel_metadata(got, file.name)
        if got is None:
            return None
        (start, _end, total), body = got

        def fetch(begin: int, stop: int) -> bytes:
            response = self._session.get(
                file.url,
                headers={"Range": f"bytes={begin}-{stop - 1}", **NO_ENCODING},
            )
            span = parse_content_range(response.headers.get("content-range"))
            if response.status_code != 206 or span is None or span[0] != begin:
                raise RangeNotSatisfied(f"HTTP {response.status_code}")
            return response.content

        remote = RangeFile(total, fetch)
        remote.add(start, body)
        try:
            raw = read_metadata_member(remote, total)
            if raw is not None:
                return raw
            with zipfile.ZipFile(remote) as archive:
                return read_wheel_metadata(archive, file.name, redact_url(file.url))
        except (MetadataError, RangeNotSatisfied, zipfile.BadZipFile, OSError) as exc:
            _log.debug("range read of %s failed (%s); downloading it", redact_url(file.url), exc)
            return None


def _metadata_key(file: DistFile) -> str:
    """The cache key of a remote file's metadata: its sha256, else its URL."""
    return Cache.metadata_key(sha256=file.hashes.get("sha256"), url=file.url)


def wheel_metadata(path: Path, project: NormalizedName | None) -> bytes:
    try:
        with open(path, "rb") as fh:
            raw = read_metadata_member(fh, os.fstat(fh.fileno()).st_size)
        if raw is not None:
            return raw
        with zipfile.ZipFile(path) as archive:
            return read_wheel_metadata(archive, project, str(path))
    except (zipfile.BadZipFile, OSError) as exc:
        raise MetadataError(f"{path} is not a readable wheel: {exc}") from exc
