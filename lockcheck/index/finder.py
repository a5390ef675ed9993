"""PackageFinder: what exists on the configured indexes and find-links, and its metadata.

The resolver's only door to the network.  It asks for a project's files
(:meth:`PackageFinder.project_files`) and a file's core metadata
(:meth:`PackageFinder.metadata`); both are memoised for the run (each page and each
(name, version) metadata is fetched once, whichever thread asks first) and backed by the
on-disk cache.  ``prefetch_*`` start the same work in a bounded thread pool so that by the
time the single-threaded resolver asks, the answer is usually in memory.

Metadata comes from the cheapest place that has it: the cache; the PEP 658 ``.metadata``
file; a few HTTP Range reads of a wheel's tail; the whole wheel; finally a PEP 517 metadata
preparation of the sdist (:mod:`lockcheck.index.building`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from lockcheck.errors import (
    HashMismatch,
    IndexUnavailable,
    IndexUnreachable,
    LockcheckError,
    MetadataError,
    redact_url,
)
from lockcheck.index import building
from lockcheck.index.cache import PAGE_MAX_AGE, Cache, CachedPage, default_cache_dir, file_sha256
from lockcheck.index.filenames import is_archive, parse_filename
from lockcheck.index.metadata import check_identity, parse_metadata, read_wheel_metadata
from lockcheck.index.once import OnceMap
from lockcheck.index.pages import Link, PendingLink, filename_of, link_from_url, parse_page
from lockcheck.index.projectfiles import ProjectFiles
from lockcheck.index.settings import IndexSettings
from lockcheck.index.urls import (
    is_remote,
    location_to_url,
    split_credentials,
    strip_fragment,
    url_to_path,
)
from lockcheck.index.wheelzip import read_metadata_member
from lockcheck.models import CoreMetadata, DistFile

if TYPE_CHECKING:
    import httpx

    from lockcheck.cutoff import CutOff, UploadJudge
    from lockcheck.index.http import HttpSession
    from lockcheck.index.vcs import GitCheckouts

__all__ = ["ACCEPT", "PackageFinder"]

#: How many of a project's newest versions are kept from its page on the first read.
NEWEST_VERSIONS = 24


class _NewestVersions:
    """Page filter: keep the files of the newest versions, remember every version seen.

    Big pages list tens of thousands of files: wheels are bucketed by the version text of
    their name (one split each) and each distinct text is parsed once.
    """

    def __init__(self, project: NormalizedName, count: int = NEWEST_VERSIONS) -> None:
        self.project = project
        self.count = count
        self.versions: set[Version] = set()
        #: Version of each kept file, so ProjectFiles need not work it out again.
        self.kept: dict[str, Version | None] = {}
        self.dropped = False

    def __call__(self, filenames: list[str]) -> dict[str, Version | None]:
        from lockcheck.index.filenames import version_of
        from lockcheck.index.projectfiles import filename_version, wheel_version_text

        by_text: dict[str, list[str]] = {}
        by_version: dict[Version | None, list[str]] = {}
        for filename in filenames:
            text = wheel_version_text(filename)
            if text is not None:
                by_text.setdefault(text, []).append(filename)
            else:
                version = filename_version(filename, self.project)
                by_version.setdefault(version, []).append(filename)
        for text, names in by_text.items():
            try:
                version: Version | None = version_of(text)
            except InvalidVersion:
                version = None
            by_version.setdefault(version, []).extend(names)
        found = [v for v in by_version if v is not None]
        self.versions.update(found)
        newest = sorted(found, reverse=True)[: self.count]
        self.dropped = self.dropped or len(newest) < len(found)
        kept = self.kept
        for version in (None, *newest):
            for filename in by_version.get(version, ()):
                kept[filename] = version
        return kept


_log = logging.getLogger(__name__)

T = TypeVar("T")


class _CacheWriteFailed(Exception):
    """The cache's disk failed while a download was saved into it (the cache is given up
    for the run: the download is made again elsewhere)."""


#: Content negotiation of the simple API: PEP 691 JSON first, HTML as fallback.
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
_NO_ENCODING = {"Accept-Encoding": "identity"}
#: Concurrent PEP 517 metadata builds.
_BUILD_SLOTS = 2
_HTML_SUFFIXES = (".html", ".htm")


@dataclass(frozen=True)
class _Source:
    kind: str  # "index" | "find-links"
    url: str  # as configured, as a URL (may hold credentials)
    label: str  # url without credentials: DistFile.index


def _file_key(file: DistFile) -> tuple[str, tuple[tuple[str, str], ...]]:
    return file.url, tuple(sorted(file.hashes.items()))


def _is_local_host(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class PackageFinder:
    """Index and find-links access for one run (thread-safe, memoised, cached on disk)."""

    def __init__(
        self,
        settings: IndexSettings,
        *,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        max_workers: int = 8,
        cutoff: CutOff | None = None,
    ) -> None:
        from lockcheck.index.http import HttpSession

        self.settings = settings
        self._environ = os.environ if environ is None else environ
        self.cache = Cache(settings.cache_dir or default_cache_dir(self._environ))
        self._session: HttpSession = HttpSession(
            settings, environ=self._environ, transport=transport
        )
        self._sources = self._make_sources()
        #: Judges files by upload time when a cut-off is set (None: every file counts).
        self.judge: UploadJudge | None = None
        if cutoff is not None and cutoff.active:
            from lockcheck.cutoff import UploadJudge

            shown = {s.label: redact_url(s.url) for s in self._sources}
            self.judge = UploadJudge(cutoff, lambda label: shown.get(label, label))
        self._max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._git: GitCheckouts | None = None
        self._build_slots = threading.BoundedSemaphore(_BUILD_SLOTS)
        self._projects: OnceMap[NormalizedName, ProjectFiles] = OnceMap()
        self._pages: OnceMap[str, tuple[Link, ...] | None] = OnceMap()
        self._listings: OnceMap[str, tuple[Link, ...]] = OnceMap()
        self._metadata: OnceMap[tuple[NormalizedName, Version], CoreMetadata] = OnceMap()
        self._by_url: OnceMap[str, CoreMetadata] = OnceMap()
        self._files: OnceMap[tuple[str, tuple[tuple[str, str], ...]], Path] = OnceMap()
        self._digests: OnceMap[str, str] = OnceMap()
        self._walked: set[NormalizedName] = set()
        #: Indexes that do not serve unadvertised ``<wheel>.metadata`` (Range reads there).
        self._no_metadata_files: set[str] = set()
        self._parse_slots = threading.Semaphore(2)
        self._direct: OnceMap[tuple[str, str, bool], tuple[CoreMetadata, DistFile | None]] = (
            OnceMap()
        )

    # ------------------------------------------------------------------------------------
    # public protocol
    # ------------------------------------------------------------------------------------

    def project_files(self, name: NormalizedName | str) -> list[DistFile]:
        """All files of the project from every index and find-links location, de-duplicated
        by filename (first source wins: index-url, extra-index-urls, find-links); [] when no
        source knows it.  Raises IndexUnavailable when a source cannot answer."""
        return list(self._project(name))

    def project_versions(self, name: NormalizedName | str) -> Mapping[Version, Sequence[DistFile]]:
        """The project's files by version, built only for the versions that are looked at
        (what the resolver uses: most of a big project's files are never built)."""
        return self._project(name).by_version()

    def _project(self, name: NormalizedName | str) -> ProjectFiles:
        key = canonicalize_name(name)
        return self._projects.get(key, lambda: self._collect(key))

    def metadata(self, file: DistFile) -> CoreMetadata:
        """Core metadata of *file*, fetched at most once per (name, version) in this run."""
        key = (file.name, file.version)
        return self._metadata.get(
            key,
            lambda: self._by_url.get(file.url, lambda: self._load_metadata(file)),
            forget_errors=True,
        )

    def prefetch_pages(self, names: Iterable[NormalizedName | str]) -> None:
        """Start fetching these projects' pages in the background."""
        for name in names:
            key = canonicalize_name(name)
            if key not in self._projects:
                self._submit(self._project, key)

    def prefetch_metadata(self, files: Iterable[DistFile]) -> None:
        """Start fetching these files' metadata in the background (one per version)."""
        seen: set[tuple[NormalizedName, Version]] = set()
        for file in files:
            key = (file.name, file.version)
            if key not in seen and key not in self._metadata:
                seen.add(key)
                self._submit(self.metadata, file)

    def prefetch_graph(
        self,
        names: Iterable[NormalizedName | str],
        pick: Callable[[NormalizedName, Sequence[DistFile]], DistFile | None],
        dependencies: Callable[[CoreMetadata], Iterable[NormalizedName]],
    ) -> None:
        """Walk the likely dependency graph ahead of the resolver, in the background.

        For each project: fetch its page, ask *pick* which file the resolver will most likely
        take, fetch that file's metadata, then do the same for *dependencies* of it.  Every
        project is visited once per run; the callbacks must be thread-safe and cheap.
        """
        for name in names:
            self._walk(canonicalize_name(name), pick, dependencies)

    def _walk(
        self,
        name: NormalizedName,
        pick: Callable[[NormalizedName, Sequence[DistFile]], DistFile | None],
        dependencies: Callable[[CoreMetadata], Iterable[NormalizedName]],
    ) -> None:
        with self._pool_lock:
            if name in self._walked:
                return
            self._walked.add(name)

        def step(project: NormalizedName) -> None:
            file = pick(project, self._project(project))
            if file is None:
                return
            for dep in dependencies(self.metadata(file)):
                self._walk(canonicalize_name(dep), pick, dependencies)

        self._submit(step, name)

    def download(self, file: DistFile, dest_dir: Path) -> Path:
        """Copy *file* (downloaded, or from the cache) into *dest_dir*, verified against its
        hashes; returns the new path."""
        source = self._fetch_file(file)
        dest_dir = Path(dest_dir)
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / file.filename
        if not (dest.exists() and os.path.samefile(source, dest)):
            tmp = dest.with_name(f".{dest.name}.part")
            shutil.copyfile(source, tmp)
            os.replace(tmp, dest)
        return dest

    def sha256(self, file: DistFile) -> str:
        """Hex sha256 of *file*: from the index when given, else by hashing the file."""
        if file.hashes.get("sha256"):
            return file.hashes["sha256"]
        return self._digests.get(file.url, lambda: file_sha256(self._fetch_file(file)))

    def direct_metadata(
        self, link: str, *, base_dir: Path, editable: bool = False
    ) -> tuple[CoreMetadata, DistFile | None]:
        """Metadata of a direct reference: a local directory, a local or remote wheel/sdist
        (path, file:// or http(s):// URL), or ``git+<url>[@ref][#subdirectory=...]``.  The
        DistFile (with its sha256) is returned for archives, None for trees and VCS."""
        key = (link.strip(), str(base_dir), editable)
        return self._direct.get(key, lambda: self._load_direct(key[0], Path(base_dir), editable))

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self._session.close()
        self.cache.close()

    def __enter__(self) -> PackageFinder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------
    # sources and pages
    # ------------------------------------------------------------------------------------

    def _make_sources(self) -> list[_Source]:
        sources = []
        for url in self.settings.index_urls:
            full = location_to_url(url)
            sources.append(_Source("index", full, split_credentials(full)[0]))
        for location in self.settings.find_links:
            full = location_to_url(location)
            sources.append(_Source("find-links", full, split_credentials(full)[0]))
        return sources

    def _collect(self, name: NormalizedName, *, complete: bool = False) -> ProjectFiles:
        """The project's files.  Unless *complete*, big index pages keep only their newest
        versions' entries (every version stays known): the rest is read again, once, if
        the resolver ever asks for an older version."""
        keep = None if complete else _NewestVersions(name)
        seen: set[str] = set()
        entries: list[tuple[Link | PendingLink, str]] = []
        for source in self._sources:
            for link in self._source_links(source, name, keep):
                if link.filename not in seen:
                    seen.add(link.filename)
                    entries.append((link, source.label))
        admit = self.judge.admits if self.judge is not None else None
        if keep is None or not keep.dropped:
            return ProjectFiles(name, entries, versions=keep.kept if keep else None, admit=admit)
        return ProjectFiles(
            name,
            entries,
            admit=admit,
            versions=keep.kept,
            known_versions=keep.versions,
            complete=lambda: self._collect(name, complete=True),
        )

    def _source_links(
        self, source: _Source, name: NormalizedName, keep: _NewestVersions | None = None
    ) -> tuple[Link | PendingLink, ...]:
        if source.kind == "index":
            # One page per project, read under the project's own OnceMap entry: its links
            # need not be kept after they become DistFiles (memory).
            page = f"{source.url.rstrip('/')}/{urllib.parse.quote(name)}/"
            return self._page(page, source.url, keep=keep) or ()
        return self._listings.get(source.url, lambda: self._find_links(source))

    def _check_secure(self, url: str, label: str) -> None:
        if url.lower().startswith("http://") and not (
            _is_local_host(url) or self._session.is_trusted(url)
        ):
            host = urllib.parse.urlsplit(url).hostname
            raise IndexUnavailable(
                f"refusing insecure source {label}: plain http is only allowed for trusted hosts",
                url=url,
                hint=f"use https, or --trusted-host {host}",
            )

    def _page(
        self, url: str, label: str, *, required: bool = False, keep: object = None
    ) -> tuple[Link | PendingLink, ...] | None:
        """Links of one simple page (None: the page does not exist, i.e. HTTP 404); with
        *keep*, JSON entries may be PendingLinks."""
        if url.lower().startswith("file:"):
            path = url_to_path(url)
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                if required:
                    raise IndexUnavailable(f"find-links page {path} does not exist", url=url)
                return None
            kind = "application/vnd.pypi.simple.v1+json" if path.suffix == ".json" else "text/html"
            return tuple(parse_page(path.read_bytes(), kind, path.as_uri()))
        self._check_secure(url, label)
        clean = split_credentials(url)[0]
        cached = self.cache.load_page(clean)
        page: CachedPage | None = None
        if cached is not None:
            age = time.time() - cached.fetched_at
            if self.settings.offline or (not self.settings.refresh and 0 <= age < PAGE_MAX_AGE):
                page = cached
        if page is None:
            if self.settings.offline:
                raise IndexUnavailable(
                    f"offline mode: no cached copy of {clean} (from {label})",
                    url=clean,
                    hint="run once without --offline to fill the cache",
                )
            page = self._fetch_page(url, label, cached)
        if page.status == 404:
            if required:
                raise IndexUnavailable(
                    f"find-links page {clean} was not found (HTTP 404)", url=clean
                )
            return None
        try:
            # Parsing is CPU work under the GIL: running many at once gains nothing and
            # multiplies the memory peak (each big page is a large tree while parsed).
            with self._parse_slots:
                return tuple(parse_page(page.body, page.content_type, page.final_url, keep))
        except IndexUnavailable:
            if page is cached and not self.settings.offline:
                page = self._fetch_page(url, label, None)
                return tuple(parse_page(page.body, page.content_type, page.final_url))
            raise

    def _fetch_page(self, url: str, label: str, cached: CachedPage | None) -> CachedPage:
        headers = {"Accept": ACCEPT}
        if cached is not None and cached.status == 200:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        response = self._session.get(url, headers=headers, label=label)
        clean = split_credentials(url)[0]
        now = time.time()
        status = response.status_code
        if status == 304 and cached is not None and cached.status == 200:
            cached.fetched_at = now
            page = cached
        elif status in (404, 410):
            page = CachedPage(clean, clean, 404, "", None, None, now)
        elif 200 <= status < 300:
            page = CachedPage(
                url=clean,
                final_url=str(response.url),
                status=200,
                content_type=response.headers.get("content-type", ""),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                fetched_at=now,
                body=response.content,
            )
        else:
            raise IndexUnavailable(f"{label} answered HTTP {status} for {clean}", url=clean)
        self.cache.store_page(page)
        return page

    def _find_links(self, source: _Source) -> tuple[Link, ...]:
        url = source.url
        if is_remote(url):
            if is_archive(filename_of(strip_fragment(url)[0])):
                return (link_from_url(url),)
            return self._pages.get(url, lambda: self._page(url, url, required=True)) or ()
        path = url_to_path(url)
        if path.is_dir():
            links: list[Link] = []
            for entry in sorted(os.scandir(path), key=lambda e: e.name):
                if not entry.is_file():
                    continue
                entry_url = Path(entry.path).as_uri()
                if entry.name.lower().endswith(_HTML_SUFFIXES):
                    links += self._page(entry_url, entry_url) or ()
                elif is_archive(entry.name):
                    links.append(Link(url=entry_url, filename=entry.name))
            return tuple(links)
        if path.is_file():
            if path.name.lower().endswith(_HTML_SUFFIXES):
                return self._page(url, url) or ()
            return (Link(url=path.as_uri(), filename=path.name),)
        _log.warning("find-links location %s does not exist; ignoring it", redact_url(url))
        return ()

    # ------------------------------------------------------------------------------------
    # files
    # ------------------------------------------------------------------------------------

    def _submit(self, fn: object, arg: object) -> None:
        def run() -> None:
            try:
                fn(arg)  # type: ignore[operator]
            except Exception as exc:  # kept in the memo; the resolver sees it when it asks
                _log.debug("prefetch failed: %s", redact_url(str(exc)))

        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._max_workers, thread_name_prefix="lockcheck-index"
                )
            self._pool.submit(run)

    @staticmethod
    def _verify(file: DistFile, digests: Mapping[str, str], source: str) -> None:
        for algorithm, expected in file.hashes.items():
            got = digests.get(algorithm)
            if got is not None and got != expected.lower():
                raise HashMismatch(
                    f"{file.filename} from {source} does not match its hash: expected "
                    f"{algorithm}:{expected}, got {algorithm}:{got}"
                )

    def _hashers(self, file: DistFile) -> dict[str, hashlib._Hash]:
        names = {"sha256", *(a for a in file.hashes if a in hashlib.algorithms_available)}
        return {name: hashlib.new(name) for name in names}

    def _save_download(self, response: httpx.Response, file: DistFile) -> Path:
        """Stream a 200 response into the cache, verifying length and hashes."""
        if response.status_code >= 300:  # 404 and friends: no file to save
            phrase = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
            url = redact_url(file.url)
            raise IndexUnavailable(f"cannot download {url}: {phrase}", url=url)
        hashers = self._hashers(file)
        directory = None
        try:
            directory = self.cache.tmp_dir()
            fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".download-")
        except OSError as exc:
            raise self._disk_failed(file, directory, exc) from exc
        tmp = Path(tmp_name)
        try:
            size = 0
            try:
                with os.fdopen(fd, "wb") as out:
                    # Raw bytes (no Content-Encoding decoding): the hash is of the file as
                    # served.  A response already read (httpx.MockTransport) only has its
                    # content.  Network errors arrive as httpx errors: an OSError is the disk.
                    chunks = [response.content] if response.is_stream_consumed else None
                    for chunk in chunks or response.iter_raw():
                        out.write(chunk)
                        size += len(chunk)
                        for hasher in hashers.values():
                            hasher.update(chunk)
            except OSError as exc:
                raise self._disk_failed(file, directory, exc) from exc
            expected = response.headers.get("content-length")
            if expected is not None and expected.isdigit() and int(expected) != size:
                from lockcheck.index._httpx import httpx

                raise httpx.RemoteProtocolError(
                    f"incomplete body ({size} of {expected} bytes)", request=response.request
                )
            digests = {name: h.hexdigest() for name, h in hashers.items()}
            self._verify(file, digests, redact_url(file.url))
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
        return self.cache.store_file(tmp, digests["sha256"], file.filename)

    def _disk_failed(self, file: DistFile, directory: Path | None, exc: OSError) -> Exception:
        """What to raise when saving a download failed on disk: in the cache, a signal to
        download again into the scratch directory; in the scratch directory (or while making
        it: *directory* None), a clean error."""
        if directory is not None and not self.cache.is_scratch(directory):
            self.cache.give_up_writing(exc)
            return _CacheWriteFailed()
        directory = directory or Path(tempfile.gettempdir())
        return LockcheckError(
            f"cannot save {redact_url(file.url)} in {directory}: {exc.strerror or exc}"
        )

    def _stream_saving(
        self, url: str, handle: Callable[[httpx.Response], T], headers: Mapping[str, str]
    ) -> T:
        """``session.stream`` with a handler that may save the body: when the cache's disk
        fails on the way, the download starts once more, into the scratch directory."""
        try:
            return self._session.stream(url, handle, headers=headers)
        except _CacheWriteFailed:
            return self._session.stream(url, handle, headers=headers)

    def _fetch_file(self, file: DistFile) -> Path:
        # Keyed by URL *and* expected hashes: the same URL asked with other hashes is
        # verified again, never served from the memo unchecked.
        return self._files.get(_file_key(file), lambda: self._fetch_file_once(file))

    def _fetch_file_once(self, file: DistFile) -> Path:
        if file.url.lower().startswith("file:"):
            path = url_to_path(file.url)
            if not path.is_file():
                raise IndexUnavailable(f"{path} does not exist", url=file.url)
            if file.hashes:
                hashers = self._hashers(file)
                with open(path, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        for hasher in hashers.values():
                            hasher.update(block)
                self._verify(file, {n: h.hexdigest() for n, h in hashers.items()}, str(path))
            return path
        sha = file.hashes.get("sha256")
        if sha:
            cached = self.cache.cached_file(sha, file.filename)
            if cached is not None:
                return cached
        return self._stream_saving(
            file.url, lambda response: self._save_download(response, file), _NO_ENCODING
        )

    # ------------------------------------------------------------------------------------
    # metadata
    # ------------------------------------------------------------------------------------

    def _cached_metadata(self, key: str, file: DistFile) -> CoreMetadata | None:
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

    def _load_metadata(self, file: DistFile) -> CoreMetadata:
        if file.url.lower().startswith("file:"):
            path = self._fetch_file(file)
            if file.is_wheel:
                raw = self._wheel_metadata(path, file.name)
                meta = parse_metadata(raw, str(path))
                check_identity(meta, file.name, file.version, str(path))
                return meta
            key = Cache.metadata_key(sha256=file.hashes.get("sha256") or file_sha256(path))
            return self._cached_metadata(key, file) or self._store(
                key, self._sdist_metadata(path), file
            )
        key = Cache.metadata_key(sha256=file.hashes.get("sha256"), url=file.url)
        # Metadata keyed by a hash never goes stale; keyed by URL it may (--refresh).
        if not (self.settings.refresh and key.startswith("url-")):
            cached = self._cached_metadata(key, file)
            if cached is not None:
                return cached
        raw: bytes | None = None
        if not self.settings.offline:
            if file.metadata_hashes is not None:
                raw = self._pep658_metadata(file)
            elif file.is_wheel and file.index not in self._no_metadata_files:
                meta = self._unadvertised_metadata(file, key)
                if meta is not None:
                    return meta
            if raw is None and file.is_wheel:
                raw = self._range_metadata(file)
        if raw is None:
            path = self._fetch_file(file)
            if file.is_wheel:
                raw = self._wheel_metadata(path, file.name)
            else:
                raw = self._sdist_metadata(path)
        return self._store(key, raw, file)

    @staticmethod
    def _wheel_metadata(path: Path, project: NormalizedName | None) -> bytes:
        try:
            with open(path, "rb") as fh:
                raw = read_metadata_member(fh, os.fstat(fh.fileno()).st_size)
            if raw is not None:
                return raw
            with zipfile.ZipFile(path) as archive:
                return read_wheel_metadata(archive, project, str(path))
        except (zipfile.BadZipFile, OSError) as exc:
            raise MetadataError(f"{path} is not a readable wheel: {exc}") from exc

    def _sdist_metadata(self, path: Path) -> bytes:
        _meta, raw = self._build(path, self.settings, str(path))
        return raw

    def _build(
        self, path: Path, settings: IndexSettings, source: str
    ) -> tuple[CoreMetadata, bytes]:
        """A PEP 517 metadata preparation, at most _BUILD_SLOTS at a time (prefetch may ask
        for many sdists at once; each build can spawn a pip and a backend)."""
        with self._build_slots:
            return building.prepare(path, settings, source)

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

    def _unadvertised_metadata(self, file: DistFile, key: str) -> CoreMetadata | None:
        """``<wheel>.metadata`` where the page does not advertise it: PyPI serves one for
        every wheel, and one small GET beats two Range reads and a zip parse (issue 17).
        An index that answers otherwise, or with another file's metadata, is not asked
        again this run; None sends the caller to Range reads."""
        try:
            raw = self._pep658_metadata(file)
        except IndexUnreachable:
            raise  # the network is down: Range reads would fail the same way
        except IndexUnavailable as exc:  # e.g. 403 for a path the index does not know
            _log.debug("no metadata file for %s (%s)", redact_url(file.url), exc)
            raw = None
        if raw is not None:
            try:
                return self._store(key, raw, file)
            except MetadataError:
                pass
        self._no_metadata_files.add(file.index)
        return None

    def _range_metadata(self, file: DistFile) -> bytes | None:
        """METADATA through Range requests; None when the server does not do ranges."""
        from lockcheck.index.lazywheel import (
            TAIL_BYTES,
            RangeFile,
            RangeNotSatisfied,
            parse_content_range,
        )

        def first(response: httpx.Response) -> tuple[str, object]:
            if response.status_code == 206:
                span = parse_content_range(response.headers.get("content-range"))
                body = response.read()
                if span is None or len(body) != span[1] - span[0]:
                    return "none", None
                return "range", (span, body)
            if response.status_code == 200:  # ranges ignored: this is the whole wheel
                return "file", self._save_download(response, file)
            return "none", None

        headers = {"Range": f"bytes=-{TAIL_BYTES}", **_NO_ENCODING}
        kind, value = self._stream_saving(file.url, first, headers)
        if kind == "file":
            assert isinstance(value, Path)
            self._files.put(_file_key(file), value)
            return self._wheel_metadata(value, file.name)
        if kind == "none":
            return None
        (start, _end, total), body = value  # type: ignore[misc]

        def fetch(begin: int, stop: int) -> bytes:
            response = self._session.get(
                file.url,
                headers={"Range": f"bytes={begin}-{stop - 1}", **_NO_ENCODING},
            )
            span = parse_content_range(response.headers.get("content-range"))
            if response.status_code != 206 or span is None or span[0] != begin:
                raise RangeNotSatisfied(f"HTTP {response.status_code}")
            return response.content

        remote = RangeFile(total, fetch)
        remote.add(start, body)
        try:
            raw = read_metadata_member(remote, total)  # type: ignore[arg-type]
            if raw is not None:
                return raw
            with zipfile.ZipFile(remote) as archive:
                return read_wheel_metadata(archive, file.name, redact_url(file.url))
        except (MetadataError, RangeNotSatisfied, zipfile.BadZipFile, OSError) as exc:
            _log.debug("range read of %s failed (%s); downloading it", redact_url(file.url), exc)
            return None

    # ------------------------------------------------------------------------------------
    # direct references
    # ------------------------------------------------------------------------------------

    def _load_direct(
        self, link: str, base_dir: Path, editable: bool
    ) -> tuple[CoreMetadata, DistFile | None]:
        lowered = link.lower()
        if lowered.startswith("git+"):
            return self._git_metadata(link), None
        if lowered.startswith(("hg+", "svn+", "bzr+")):
            raise MetadataError(f"{link}: only git VCS references are supported")
        base, fragment = strip_fragment(link)
        params = dict(urllib.parse.parse_qsl(fragment))
        if is_remote(base):
            if editable:
                raise MetadataError(f"{link}: an editable requirement must be a local directory")
            return self._remote_archive(link)
        path = url_to_path(location_to_url(base, base_dir))
        if params.get("subdirectory"):
            path = path / params["subdirectory"]
        if path.is_dir():
            meta, _raw = self._build(path, self.settings, str(path))
            return meta, None
        if path.is_file():
            if editable:
                raise MetadataError(f"{link}: an editable requirement must be a local directory")
            return self._archive_direct(path, path.as_uri(), link_from_url(link).hashes)
        raise MetadataError(f"{link}: no such file or directory ({path})")

    def _remote_archive(self, link: str) -> tuple[CoreMetadata, DistFile]:
        base, _fragment = strip_fragment(link)
        clean = split_credentials(base)[0]
        filename = filename_of(clean)
        if not is_archive(filename):
            raise MetadataError(f"{clean} is not a wheel or sdist URL")
        parsed = parse_filename(filename)
        provisional = DistFile(
            filename=filename,
            url=base,
            name=parsed.name if parsed else canonicalize_name(filename),
            version=parsed.version if parsed else Version("0"),
            is_wheel=filename.lower().endswith(".whl"),
            hashes=link_from_url(link).hashes,
        )
        path = self._fetch_file(provisional)
        return self._archive_direct(path, clean, provisional.hashes)

    def _archive_direct(
        self, path: Path, url: str, expected: Mapping[str, str]
    ) -> tuple[CoreMetadata, DistFile]:
        filename = url_to_path(url).name if url.startswith("file:") else filename_of(url)
        if not is_archive(filename):
            raise MetadataError(f"{path} is not a wheel or an sdist")
        digests = self._digests_of(path, {"sha256", *expected})
        digest = digests["sha256"]
        probe = DistFile(filename, url, canonicalize_name("x"), Version("0"), False, expected)
        self._verify(probe, digests, redact_url(url))
        parsed = parse_filename(filename)
        is_wheel = filename.lower().endswith(".whl")
        if is_wheel:
            raw = self._wheel_metadata(path, parsed.name if parsed else None)
            meta = parse_metadata(raw, redact_url(url))
            if parsed is not None:
                check_identity(meta, parsed.name, parsed.version, redact_url(url))
        else:
            key = Cache.metadata_key(sha256=digest)
            raw = self.cache.load_metadata(key) or b""
            try:
                meta = parse_metadata(raw, redact_url(url))
            except MetadataError:
                meta, raw = self._build(path, self.settings, redact_url(url))
                self.cache.store_metadata(key, raw)
        dist = DistFile(
            filename=filename,
            url=url,
            name=canonicalize_name(meta.name),
            version=meta.version,
            is_wheel=is_wheel,
            hashes={"sha256": digest},
            requires_python=meta.requires_python,
            tags=parsed.tags if parsed else frozenset(),
        )
        return meta, dist

    @staticmethod
    def _digests_of(path: Path, algorithms: Iterable[str]) -> dict[str, str]:
        hashers = {a: hashlib.new(a) for a in algorithms if a in hashlib.algorithms_available}
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                for hasher in hashers.values():
                    hasher.update(block)
        return {a: h.hexdigest() for a, h in hashers.items()}

    def _git_metadata(self, link: str) -> CoreMetadata:
        from lockcheck.index.vcs import GitCheckouts, parse_git_link

        with self._pool_lock:
            if self._git is None:
                self._git = GitCheckouts(self.cache.git_dir(), offline=self.settings.offline)
            git = self._git
        parsed = parse_git_link(link)
        tree, commit = git.checkout(parsed)
        key = Cache.metadata_key(url=f"git:{commit}:{parsed.subdirectory or ''}")
        raw = self.cache.load_metadata(key)
        if raw is not None:
            try:
                return parse_metadata(raw, redact_url(link))
            except MetadataError:
                self.cache.drop_metadata(key)
        meta, raw = self._build(tree, self.settings, redact_url(link))
        self.cache.store_metadata(key, raw)
        return meta
