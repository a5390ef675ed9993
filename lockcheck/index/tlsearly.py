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

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

    from lockcheck.index.tls import PendingContext

__all__ = ["settle", "start", "take"]

#: The commands that resolve, and so connect when their cache is cold.
_RESOLVING = ("compile", "check")

#: The bundle it was loaded from (None: the system store) and the load under way.
_early: tuple[str | None, PendingContext] | None = None


def start(args: Sequence[str], environ: Mapping[str, str]) -> None:
    """Start loading the trust store when *args* are a compile's or a check's whose cache
    (``--cache-dir``, else the default one) holds no metadata yet."""
    global _early
    if _early is not None or not any(c in args[:2] for c in _RESOLVING):
        return
    if "--help" in args or "-h" in args:
        return
    if not _cold(args, environ):
        return
    from lockcheck.index.tls import PendingContext, verifying_context

    bundle = environ.get("REQUESTS_CA_BUNDLE") or environ.get("SSL_CERT_FILE") or None
    _early = (bundle, PendingContext(lambda: verifying_context(bundle)))


def settle(timeout: float) -> bool:
    """Wait up to *timeout* s for the load to end (a fork must not copy it half-done);
    whether no load runs now."""
    if _early is None:
        return True
    thread = _early[1].thread
    thread.join(timeout)
    return not thread.is_alive()


def take(bundle: str | None) -> ssl.SSLContext | None:
    """The context loaded early, when it was loaded from *bundle* and the load worked
    (None: the caller builds its own, and reports what is wrong with it)."""
    early = _early
    if early is None or early[0] != (bundle or None):
        return None
    try:
        return early[1].get()
    except Exception:  # said by the caller's own build
        return None


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
