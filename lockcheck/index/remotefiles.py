"""Remote requirement files (``-r https://…`` / ``-c https://…``) fetched for the input parser.

The parser never imports httpx: it is handed a :class:`RemoteFileFetcher` (a callable taking a
URL), which goes through the index layer's :class:`~lockcheck.index.http.HttpSession` (system
trust store, bounded retries, timeouts, credentials from pip's settings and netrc) and keeps the
last copy of each file in the cache, so ``check --offline`` can still read it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from lockcheck.errors import IndexUnavailable, RemoteFileOffline, redact_url

if TYPE_CHECKING:
    from lockcheck.index.cache import Cache
    from lockcheck.index.http import HttpSession
    from lockcheck.index.settings import IndexSettings

__all__ = ["RemoteFile", "RemoteFileFetcher"]


class RemoteFile(NamedTuple):
    """A fetched requirement file: its bytes and the server's Content-Type (for decoding)."""

    content: bytes
    content_type: str


class RemoteFileFetcher:
    """Fetches remote requirement files; one session, opened on first use (most runs have
    no remote input and should not pay for a TLS context)."""

    def __init__(
        self, settings: IndexSettings, *, environ: Mapping[str, str] | None = None
    ) -> None:
        self._settings = settings
        self._environ = environ
        self._session: HttpSession | None = None
        self._cache: Cache | None = None

    def _open_cache(self) -> Cache:
        if self._cache is None:
            from lockcheck.index.cache import Cache, default_cache_dir

            self._cache = Cache(self._settings.cache_dir or default_cache_dir(self._environ))
        return self._cache

    def __call__(self, url: str) -> RemoteFile:
        from lockcheck.index.cache import CachedPage

        cache = self._open_cache()
        if self._settings.offline:
            page = cache.load_page(url)
            if page is None or page.status != 200:
                raise RemoteFileOffline(
                    f"{redact_url(url)} was not checked (offline, and no copy in the cache)",
                    url=url,
                )
            return RemoteFile(page.body, page.content_type)
        if self._session is None:
            from lockcheck.index.http import HttpSession

            self._session = HttpSession(self._settings, environ=self._environ)
        response = self._session.get(url)
        if response.status_code >= 300:  # 404 / 410 come back to the caller as answers
            phrase = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
            raise IndexUnavailable(f"{redact_url(url)} answered {phrase}", url=url)
        content_type = response.headers.get("content-type", "")
        cache.store_page(
            CachedPage(
                url=url,
                final_url=str(response.url),
                status=200,
                content_type=content_type,
                etag=None,
                last_modified=None,
                fetched_at=time.time(),
                body=response.content,
            )
        )
        return RemoteFile(response.content, content_type)

    def __enter__(self) -> RemoteFileFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        if self._cache is not None:
            self._cache.close()
