"""What the configured indexes and find-links locations list for a project.

Index pages (PEP 691 JSON or PEP 503 HTML) are read through the on-disk cache, revalidated
with ETag / Last-Modified once older than :data:`~lockcheck.index.cache.PAGE_MAX_AGE`; big
pages keep only their newest versions' entries at first.  Find-links locations (folders,
HTML pages, archives) are listed once per run.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from lockcheck.errors import IndexUnavailable, redact_url
from lockcheck.index.cache import PAGE_MAX_AGE, Cache, CachedPage, ParsedPage
from lockcheck.index.filenames import is_archive, version_of
from lockcheck.index.mergedlisting import MergedListing, labelled
from lockcheck.index.once import OnceMap
from lockcheck.index.packedpage import PackedPage, pack_page
from lockcheck.index.pages import Link, PendingLink, filename_of, link_from_url, parse_page
from lockcheck.index.projectfiles import (
    ProjectFiles,
    filename_versions,
)
from lockcheck.index.settings import IndexSettings
from lockcheck.index.urls import (
    is_remote,
    location_to_url,
    split_credentials,
    strip_fragment,
    url_to_path,
)
from lockcheck.models import DistFile

if TYPE_CHECKING:
    from concurrent.futures import Future

    from lockcheck.index.fetchhelper import FetchHelper
    from lockcheck.index.http import HttpSession

__all__ = ["ACCEPT", "NEWEST_VERSIONS", "Source", "SourcePages", "make_sources"]

_log = logging.getLogger(__name__)

#: Content negotiation of the simple API: PEP 691 JSON first, HTML as fallback.
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
_HTML_SUFFIXES = (".html", ".htm")

NEWEST_VERSIONS = 24
_MISSING = object()


class _NewestVersions:
    """Page filter: keep the files of the newest versions, remember every version seen.

    Big pages list tens of thousands of files: wheels are bucketed by the version text of
    their name (one split each) and each distinct text is parsed once.
    """

    def __init__(self, project: NormalizedName, count: int = NEWEST_VERSIONS) -> None:
        self.project = project
        self.count = count
        #: Every version seen (newest first when one page was read: see :meth:`__call__`).
        self.versions: dict[Version, None] = {}
        #: Version of each kept file, so ProjectFiles need not work it out again.
        self.kept: dict[str, Version | None] = {}
        self.dropped = False

    def __call__(self, filenames: list[str]) -> dict[str, Version | None]:
        by_text: dict[str, list[str]] = {}
        by_version: dict[Version | None, list[str]] = {}
        others: list[str] = []
        for filename in filenames:
            # A wheel's version is its second part: five or six parts, four or five dashes
            # (wheel_version_text's rule, inlined: this runs once per file of a page).
            if filename.endswith(".whl") and 3 < filename.count("-") < 6:
                text = filename.split("-", 2)[1]
                bucket = by_text.get(text)
                if bucket is None:
                    by_text[text] = [filename]
                else:
                    bucket.append(filename)
            else:
                others.append(filename)
        for filename, version in filename_versions(others, self.project):
            by_version.setdefault(version, []).append(filename)
        for text, names in by_text.items():
            try:
                parsed: Version | None = version_of(text)
            except InvalidVersion:
                parsed = None
            by_version.setdefault(parsed, []).extend(names)
        # Newest first: a packed page keeps its versions in this order, so reading it
        # again sorts an ordered list (a comparison per version, not n log n of them).
        ordered = sorted((v for v in by_version if v is not None), reverse=True)
        self.versions.update(dict.fromkeys(ordered))
        newest = ordered[: self.count]
        self.dropped = self.dropped or len(newest) < len(ordered)
        kept = self.kept
        for version in (None, *newest):
            for filename in by_version.get(version, ()):
                kept[filename] = version
        return kept

    def merge(self, other: _NewestVersions) -> None:
        """Add what *other* saw on another page of the project."""
        self.versions.update(other.versions)
        self.kept.update(other.kept)
        self.dropped = self.dropped or other.dropped


@dataclass(frozen=True)
class Source:
    kind: str  # "index" | "find-links"
    url: str  # as configured, as a URL (may hold credentials)
    label: str  # url without credentials: DistFile.index


def _page_url(source: Source, name: NormalizedName) -> str:
    """The index *source*'s simple page of *name* (may hold the source's credentials)."""
    return f"{source.url.rstrip('/')}/{urllib.parse.quote(name)}/"


def make_sources(settings: IndexSettings) -> list[Source]:
    sources = []
    for url in settings.index_urls:
        full = location_to_url(url)
        sources.append(Source("index", full, split_credentials(full)[0]))
    for location in settings.find_links:
        full = location_to_url(location)
        sources.append(Source("find-links", full, split_credentials(full)[0]))
    return sources


def _is_local_host(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class SourcePages:
    """The pages and listings of one run's sources (thread-safe; the finder memoises per
    project)."""

    def __init__(
        self,
        settings: IndexSettings,
        session: HttpSession,
        cache: Cache,
        sources: list[Source],
        admit: Callable[[DistFile], bool] | None = None,
    ) -> None:
        """*admit*: which files count at all (a release cut-off)."""
        self.settings = settings
        self._session = session
        self.cache = cache
        self.sources = sources
        self._admit = admit
        self._pages: OnceMap[str, tuple[Link | PendingLink, ...] | None] = OnceMap()
        self._listings: OnceMap[str, tuple[Link | PendingLink, ...]] = OnceMap()
        # Parsing is CPU work under the GIL: running many at once gains nothing and
        # multiplies the memory peak (each big page is a large tree while parsed).
        self._parse_slots = threading.Semaphore(2)
        self._began = time.time()
        #: The fetch helper, when one runs: it fetches and parses pages on another core.
        self.helper: FetchHelper | None = None

    def fetch_for_helper(self, url: str, label: str, project: str, count: int) -> bool:
        """(In the fetch helper.) Fetch, parse and store one index page as :meth:`collect`
        would; whether the cache now holds it."""
        keep = _NewestVersions(NormalizedName(project), count)
        self._page(url, label, keep=keep, links_wanted=False)
        return self.cache.writable

    def send_ahead(self, name: NormalizedName, *, first: bool = False) -> list[Future[bool]]:
        """Have the fetch helper start on *name*'s index pages without waiting for them
        (*first*: before the others it has waiting; the resolver asks for them now): the
        thread that reads them later waits for the same request instead of sending it, so
        pages come in as fast as the helper takes them, not as fast as the threads that
        need them are free.  The requests out for them (none: no helper, or the cache
        answers)."""
        helper = self.helper
        out: list[Future[bool]] = []
        if helper is None or not helper.running:
            return out
        for source in self.sources:
            if source.kind != "index":
                continue
            url = _page_url(source, name)
            if url.lower().startswith("file:"):
                continue
            age = self.cache.page_age(split_credentials(url)[0])
            if age is None or not self._fresh(age):
                sent = helper.send("page", url, source.url, name, str(NEWEST_VERSIONS), first=first)
                if sent is not None:
                    out.append(sent)
        return out

    def collect(self, name: NormalizedName, *, complete: bool = False) -> ProjectFiles:
        """The project's files.  Unless *complete*, big index pages keep only their newest
        versions' entries (every version stays known): the rest is read again, once, if
        the resolver ever asks for an older version."""
        keep = None if complete else _NewestVersions(name)
        found = [(source, self._source_links(source, name, keep)) for source in self.sources]
        listed = [(source, links) for source, links in found if links]
        admit = self._admit
        known: Iterable[Version] = ()
        if keep is not None and keep.dropped:
            known = keep.versions

        def more() -> ProjectFiles:
            return self.collect(name, complete=True)

        if len(listed) == 1 and isinstance(listed[0][1], PackedPage):
            # One page, from its parsed form: each version's entries stay packed until
            # that version is looked at (and the whole page is read if they cannot be).
            label, page = listed[0][0].label, listed[0][1]
            unread = {v: labelled(entries, label) for v, entries in page.groups().items()}
            return ProjectFiles(
                name,
                (),
                admit=admit,
                unread=unread,
                order=page.order,
                known_versions=known,
                complete=more if known else None,
                reread=more,
            )
        versions = keep.kept if keep else None
        if len(listed) > 1:
            # Several sources: merged version by version, each when it is looked at.
            merged = MergedListing(name, [(s.label, links) for s, links in listed], versions)
            return ProjectFiles(
                name,
                (),
                admit=admit,
                unread=merged.unread(),
                order=merged.order,
                known_versions=known,
                complete=more if known else None,
                reread=more,
            )
        seen: set[str] = set()
        entries: list[tuple[Link | PendingLink, str]] = []
        for source, links in listed:
            assert not isinstance(links, PackedPage)  # one packed page is read above
            for link in links:
                if link.filename not in seen:
                    seen.add(link.filename)
                    entries.append((link, source.label))
        return ProjectFiles(
            name,
            entries,
            admit=admit,
            versions=versions,
            known_versions=known,
            complete=more if known else None,
        )

    def answers_locally(self, name: NormalizedName) -> bool:
        """Whether :meth:`collect` of *name* will ask no server: every index page has a
        fresh entry in the cache (or the run is offline), every find-links location
        is local or already listed.  One stat per source: the finder's scheduling question
        (a read from the cache is cheaper in the asking thread than on another one)."""
        for source in self.sources:
            if source.kind != "index":
                if is_remote(source.url) and source.url not in self._listings:
                    return False
                continue
            if self.settings.offline:
                continue
            age = self.cache.page_age(split_credentials(_page_url(source, name))[0])
            if age is None or not self._fresh(age):
                return False
        return True

    def _source_links(
        self, source: Source, name: NormalizedName, keep: _NewestVersions | None = None
    ) -> tuple[Link | PendingLink, ...] | PackedPage:
        if source.kind == "index":
            # One page per project, read under the project's own OnceMap entry: its links
            # need not be kept after they become DistFiles (memory).
            page = _page_url(source, name)
            return self._page(page, source.url, keep=keep) or ()  # type: ignore[return-value]
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
        self,
        url: str,
        label: str,
        *,
        required: bool = False,
        keep: _NewestVersions | None = None,
        links_wanted: bool = True,
    ) -> tuple[Link | PendingLink, ...] | None:
        """Links of one simple page (None: the page does not exist, i.e. HTTP 404); with
        *keep*, JSON entries may be PendingLinks, and a page read from its parsed form in
        the cache comes back as a :class:`PackedPage` (typed loosely: only then).  Not
        *links_wanted*: the page is only stored (the links that come back are not to be
        read)."""
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
        page: CachedPage | None = None
        if keep is not None:
            helper = self.helper
            if helper is not None and helper.running:
                age = self.cache.page_age(clean)
                if age is None or not self._fresh(age):
                    # Read from the cache below; what the helper could not do, done here.
                    helper.ask("page", url, label, keep.project, str(keep.count))
            kept = self._parsed_page(url, label, clean, keep)
            if isinstance(kept, CachedPage):
                page = kept  # a new page from the server: parsed below
            elif kept is not _MISSING:
                return kept  # type: ignore[return-value]
        cached: CachedPage | None = None
        if page is None:
            cached = self.cache.load_page(clean)
            if cached is not None and self._usable(cached):
                page = cached
        if page is None:
            if self.settings.offline:
                raise IndexUnavailable(
                    f"offline mode: no cached copy of {clean} (from {label})",
                    url=clean,
                    hint="run once without --offline to fill the cache",
                )
            page = self._fetch_page(url, label, cached)
            if keep is None:
                if page is cached:  # 304: the body stays, its fetch time is new
                    self.cache.touch_page(clean, page.fetched_at)
                else:
                    self.cache.store_page(page)
        if page.status == 404:
            if required:
                raise IndexUnavailable(
                    f"find-links page {clean} was not found (HTTP 404)", url=clean
                )
            if keep is not None:
                self.cache.store_page(page, parsed=None)
            return None
        local = None if keep is None else _NewestVersions(keep.project, keep.count)
        spans: list[tuple[int, int]] = []
        try:
            # Parsing is CPU work under the GIL: running many at once gains nothing and
            # multiplies the memory peak (each big page is a large tree while parsed).
            with self._parse_slots:
                links = tuple(
                    parse_page(
                        page.body, page.content_type, page.final_url, local, spans, links_wanted
                    )
                )
        except IndexUnavailable:
            if page is cached and not self.settings.offline:
                page = self._fetch_page(url, label, None)
                links = tuple(parse_page(page.body, page.content_type, page.final_url))
                self.cache.store_page(page)
                return links
            raise
        if keep is not None and local is not None:
            keep.merge(local)
            packed = pack_page(
                local.project,
                local.count,
                links,
                spans,
                len(page.body),
                versions=local.versions,
                kept=local.kept,
                dropped=local.dropped,
            )
            # One write: a new page, a 304, or a stored body without its parsed form.
            self.cache.store_page(page, parsed=packed)
        return links

    def _usable(self, page: CachedPage) -> bool:
        """Whether a cached page is used without asking the server (fresh, or offline)."""
        return self._fresh(time.time() - page.fetched_at)

    def _fresh(self, age: float) -> bool:
        """Whether a page fetched *age* seconds ago is used as it is: always when offline;
        with ``--refresh``, once fetched during this run (a page is asked for once a run)."""
        if self.settings.offline:
            return True
        if self.settings.refresh:
            return 0 <= age <= time.time() - self._began
        return 0 <= age < PAGE_MAX_AGE

    def _parsed_page(self, url: str, label: str, clean: str, keep: _NewestVersions) -> object:
        """The page from its parsed-page cache entry, without its raw body: its links (None:
        HTTP 404), or a new page the server sent instead, or ``_MISSING`` (no usable entry:
        the raw body is read)."""
        entry = self.cache.load_parsed(clean)
        if entry is None:
            return _MISSING
        header = entry.page
        packed: PackedPage | None = None
        try:
            if header.status != 404:
                packed = PackedPage(
                    entry.parsed,
                    header.final_url,
                    keep.project,
                    keep.count,
                    read_span=functools.partial(self.cache.read_body_span, clean, entry.place),
                    on_unreadable=functools.partial(self.cache.drop_parsed, clean),
                )
        except (ValueError, TypeError, IndexError) as exc:
            _log.debug("ignoring parsed page cache entry for %s: %s", clean, exc)
            return _MISSING
        if not self._usable(header):  # (never offline: then every page is usable)
            page = self._fetch_page(url, label, header)
            if page is not header and (packed is None or not self._same_page(clean, entry, page)):
                return page
            # A 304, or the same bytes again: the same page, fetched now.
            self.cache.touch_page(clean, page.fetched_at)
        if packed is not None:
            keep.versions.update(dict.fromkeys(packed.versions))
            keep.dropped = keep.dropped or packed.dropped
        return packed

    def _same_page(self, clean: str, entry: ParsedPage, page: CachedPage) -> bool:
        """Whether the server sent the stored page again, byte for byte: an index without
        ETag or Last-Modified (a mirror, PyPI behind some proxies) cannot answer 304, and
        parsing each page it re-sends again was most of a stale cache's CPU."""
        stored = entry.page
        if (page.status, page.final_url, page.content_type, page.etag, page.last_modified) != (
            stored.status,
            stored.final_url,
            stored.content_type,
            stored.etag,
            stored.last_modified,
        ):
            return False
        size = len(page.body)
        return self.cache.read_body_span(clean, entry.place, size, 0, size) == page.body

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
            return cached  # not stored here: the caller stores the form it keeps
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
        return page  # not stored here either: the caller stores it with its parsed form

    def _find_links(self, source: Source) -> tuple[Link | PendingLink, ...]:
        url = source.url
        if is_remote(url):
            if is_archive(filename_of(strip_fragment(url)[0])):
                return (link_from_url(url),)
            return self._pages.get(url, lambda: self._page(url, url, required=True)) or ()
        path = url_to_path(url)
        if path.is_dir():
            links: list[Link | PendingLink] = []
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
