"""The trust store of a cold compile, loaded as the program starts.

A cold compile's first request leaves once the fetch helper (forked when the run is ready
to ask for pages) has imported httpx and loaded the trust store: OpenSSL parsing the CA
bundle, about 25 ms, after the import.  The run's own client loads it again for its first
metadata read.  Loaded in a thread as the program starts, while the interpreter is busy with
the imports on one core and the other core is idle, the store is ready before the fork: the
helper inherits it, and the run's client takes it too.

Only the ``lockcheck`` program does this (:mod:`lockcheck._entry`), only for a compile (or a
check, which compiles) whose cache holds no metadata yet (a run the cache answers may make
no connection, and then loads no ssl), and only the store the environment names
(``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``) or the system's: a run whose settings name
another (``--cert``, pip's ``cert``) or a client certificate builds its own context, as
without this.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

    from lockcheck.index.settings import IndexSettings

__all__ = ["context_for", "settle", "start"]

#: The commands that resolve, and so connect when their cache is cold.
_RESOLVING = ("compile", "check")


class _Load:
    """The trust store of *bundle* (None: the system's) loading in a thread: ssl is
    imported there too, not on the main thread's way to the fork."""

    def __init__(self, bundle: str | None) -> None:
        self.bundle = bundle
        self.context: ssl.SSLContext | None = None
        # Not a daemon: the interpreter must not shut down under OpenSSL still loading.
        self.thread = threading.Thread(target=self._run, name="lockcheck-tls")
        self.thread.start()

    def _run(self) -> None:
        from lockcheck.index.tls import verifying_context

        # A store that does not load is left to the run's own build, which says why.
        with contextlib.suppress(Exception):
            self.context = verifying_context(self.bundle)


_early: _Load | None = None


def start(args: Sequence[str], environ: Mapping[str, str]) -> None:
    """Start loading the trust store when *args* are a compile's or a check's, not offline,
    whose cache (``--cache-dir``, else the default one) holds no metadata yet."""
    global _early
    if _early is not None or not any(c in args[:2] for c in _RESOLVING):
        return
    if any(a in args for a in ("--help", "-h", "--offline")) or not _cold(args, environ):
        return  # (--offline: the cache answers, or nothing does)
    _early = _Load(environ.get("REQUESTS_CA_BUNDLE") or environ.get("SSL_CERT_FILE") or None)


def settle(timeout: float) -> bool:
    """Wait up to *timeout* s for the load to end (a fork must not copy it half-done);
    whether no load runs now."""
    if _early is None:
        return True
    _early.thread.join(timeout)
    return not _early.thread.is_alive()


def context_for(settings: IndexSettings, environ: Mapping[str, str]) -> ssl.SSLContext:
    """:func:`~lockcheck.index.tls.build_context`, or the context loaded early when that is
    the same one (the same bundle, no client certificate)."""
    from lockcheck.index.tls import build_context
    from lockcheck.index.tlsfiles import ca_bundle

    early = _early
    same = early is not None and early.bundle == (ca_bundle(settings, environ) or None)
    if early is not None and same and not settings.client_cert:
        early.thread.join()
        if early.context is not None:
            return early.context
    return build_context(settings, environ)


def _cold(args: Sequence[str], environ: Mapping[str, str]) -> bool:
    from lockcheck.index.cache import metadata_dir

    root = _cache_dir_arg(args)
    if root is None:
        from lockcheck.cachedir import default_cache_dir

        root = default_cache_dir(environ)
    try:
        with os.scandir(metadata_dir(root)) as entries:
            return next(entries, None) is None
    except OSError:
        return True


def _cache_dir_arg(args: Sequence[str]) -> Path | None:
    """The compile's ``--cache-dir``, if given (the last one wins, as for click)."""
    found = None
    for i, arg in enumerate(args):
        if arg == "--cache-dir" and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith("--cache-dir="):
            found = arg.partition("=")[2]
    return Path(found).expanduser() if found else None
