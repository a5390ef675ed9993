"""Credentials per host: from index URLs (``https://user:pw@host/simple``) and ``~/.netrc``.

An index page links its files by URL without credentials (often on the same host), so the
credentials of a configured index URL are remembered per ``host[:port]`` and applied to every
request to that host, like pip's ``MultiDomainBasicAuth``.  Hosts without URL credentials
fall back to the netrc file (``$NETRC``, else ``~/.netrc``).

A masked URL (``https://****@host/simple/``, as every lock writes it) holds no credentials:
:func:`fill_masked` takes them from a configured URL of the same index (command line, pip's
settings), else the host's are looked up as for a URL without any; ``****`` is never sent.
There is no keyring support.
"""

from __future__ import annotations

import logging
import netrc
import os
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path

from lockcheck.index.urls import is_masked, location_key, netloc_key, split_credentials

__all__ = ["Credentials", "fill_masked"]

_log = logging.getLogger(__name__)

_WHERE = (
    "give them with --index-url / --extra-index-url (USER:PASSWORD@ in the URL), "
    "PIP_INDEX_URL / PIP_EXTRA_INDEX_URL or pip.conf, or a 'machine {host}' line in "
    "~/.netrc (or in the file $NETRC names)"
)


def _host(netloc: str) -> str:
    """``host`` of ``host[:port]`` (netrc names machines without ports)."""
    return netloc if netloc.endswith("]") else netloc.rsplit(":", 1)[0]


def fill_masked(url: str, configured: Iterable[str]) -> str:
    """*url* with its masked credentials replaced by those of the first *configured* URL
    naming the same index (scheme, host, port, path); *url* as it is otherwise.

    Only the user info changes, so the URL redacts back to the very text it was read from.
    """
    if not is_masked(split_credentials(url)[1]):
        return url
    key = location_key(url)
    for candidate in configured:
        creds = split_credentials(candidate)[1]
        if creds is not None and not is_masked(creds) and location_key(candidate) == key:
            parts = urllib.parse.urlsplit(url)
            userinfo = urllib.parse.urlsplit(candidate).netloc.rpartition("@")[0]
            host = parts.netloc.rpartition("@")[2]
            return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))
    return url


class Credentials:
    """Thread-safe lookup of (user, password) for a URL."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._by_netloc: dict[str, tuple[str, str]] = {}
        #: host -> a configured URL of it whose credentials are masked (for error messages).
        self._masked: dict[str, str] = {}
        self._environ = environ
        self._netrc: netrc.netrc | None = None
        self._netrc_loaded = False
        self._lock = threading.Lock()

    def remember(self, url: str) -> None:
        """Keep the credentials embedded in *url* (an index or find-links URL) for its host."""
        _, creds = split_credentials(url)
        if creds is None:
            return
        with self._lock:
            if is_masked(creds):
                self._masked.setdefault(netloc_key(url), url)
            else:
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
        """Credentials for *url*: its own userinfo (unless masked), its host's index
        credentials, netrc."""
        _, creds = split_credentials(url)
        if creds is not None and not is_masked(creds):
            return creds
        key = netloc_key(url)
        with self._lock:
            found = self._by_netloc.get(key)
        if found is not None:
            return found
        rc = self._netrc_file()
        if rc is None:
            return None
        entry = rc.authenticators(_host(key))
        if entry is None:
            return None
        login, _account, password = entry
        return login or "", password or ""

    def refusal(self, url: str) -> tuple[str, str | None]:
        """(the end of the message, a hint) for a 401/403 answer to *url*: which credentials
        were missing and where they can come from, on one line."""
        key = netloc_key(url)
        with self._lock:
            masked = self._masked.get(key)
        if self.lookup(url) is not None:
            return "", (
                f"check the credentials for {key} (in the index URL, PIP_INDEX_URL / "
                "pip.conf, or ~/.netrc)"
            )
        where = _WHERE.format(host=_host(key))
        if masked is not None:
            return f": {masked} masks its credentials and none for {key} were found; {where}", None
        return f": no credentials for {key} were found; {where}", None
