"""Credentials per host: from index URLs (``https://user:pw@host/simple``) and ``~/.netrc``.

An index page links its files by URL without credentials (often on the same host), so the
credentials of a configured index URL are remembered per ``host[:port]`` and applied to every
request to that host, like pip's ``MultiDomainBasicAuth``.  Hosts without URL credentials
fall back to the netrc file (``$NETRC``, else ``~/.netrc``).
"""

from __future__ import annotations

import logging
import netrc
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from lockcheck.index.urls import netloc_key, split_credentials

__all__ = ["Credentials"]

_log = logging.getLogger(__name__)


class Credentials:
    """Thread-safe lookup of (user, password) for a URL."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._by_netloc: dict[str, tuple[str, str]] = {}
        self._environ = environ
        self._netrc: netrc.netrc | None = None
        self._netrc_loaded = False
        self._lock = threading.Lock()

    def remember(self, url: str) -> None:
        """Keep the credentials embedded in *url* (an index or find-links URL) for its host."""
        _, creds = split_credentials(url)
        if creds is not None:
            with self._lock:
                self._by_netloc.setdefault(netloc_key(url), creds)

    def _netrc_file(self) -> netrc.netrc | None:
        with self._lock:
            if not self._netrc_loaded:
                self._netrc_loaded = True
                path = self._environ.get("NETRC") or str(
                    Path(self._environ.get("HOME") or os.path.expanduser("~")) / ".netrc"
                )
                if os.path.isfile(path):
                    try:
                        self._netrc = netrc.netrc(path)
                    except (netrc.NetrcParseError, OSError) as exc:
                        _log.warning("ignoring unreadable netrc file %s: %s", path, exc)
            return self._netrc

    def lookup(self, url: str) -> tuple[str, str] | None:
        """Credentials for *url*: its own userinfo, its host's index credentials, netrc."""
        _, creds = split_credentials(url)
        if creds is not None:
            return creds
        key = netloc_key(url)
        with self._lock:
            found = self._by_netloc.get(key)
        if found is not None:
            return found
        rc = self._netrc_file()
        if rc is None:
            return None
        host = key.rsplit(":", 1)[0] if not key.endswith("]") else key
        entry = rc.authenticators(host)
        if entry is None:
            return None
        login, _account, password = entry
        return login or "", password or ""
