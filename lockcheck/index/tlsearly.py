"""TLS contexts built in a thread; a cold compile's trust store loaded as the program starts.

Loading a CA bundle takes about 25 ms, and OpenSSL releases the interpreter lock meanwhile:
:class:`PendingContext` builds a context in a thread while its caller goes on.

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
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

    from lockcheck.index.settings import IndexSettings

__all__ = ["PendingContext", "context_for", "settle", "start"]

#: The commands that resolve, and so connect when their cache is cold.
_RESOLVING = ("compile", "check")


class PendingContext:
    """A context being built in a thread; :meth:`get` waits for it and raises what the
    build raised (a ConfigError)."""

    def __init__(self, build: Callable[[], ssl.SSLContext]) -> None:
        self._build = build
        self._context: ssl.SSLContext | None = None
        self._error: BaseException | None = None
        # Not a daemon: the interpreter must not shut down under OpenSSL still loading
        # (a run that never opens a TLS connection exits while it works: that crashed).
        self._thread = threading.Thread(target=self._run, name="lockcheck-tls")
        self._thread.start()

    def _run(self) -> None:
        try:
            self._context = self._build()
        except BaseException as exc:  # handed to whoever asks for the context
            self._error = exc

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the build to finish (whatever its outcome), up to *timeout* s; whether
        it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def get(self) -> ssl.SSLContext:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._context is not None
        return self._context


def _verifying(bundle: str | None) -> ssl.SSLContext:
    # (In the thread: ssl is imported there, not on the main thread's way to the fork.)
    from lockcheck.index.tls import verifying_context

    return verifying_context(bundle)


#: The bundle loaded early (None: the system's store) and its load.
_early: tuple[str | None, PendingContext] | None = None


def start(args: Sequence[str], environ: Mapping[str, str]) -> None:
    """Start loading the trust store when *args* are a compile's or a check's, not offline,
    whose cache (``--cache-dir``, else the default one) holds no metadata yet."""
    global _early
    if _early is not None or not any(c in args[:2] for c in _RESOLVING):
        return
    if any(a in args for a in ("--help", "-h", "--offline")) or not _cold(args, environ):
        return  # (--offline: the cache answers, or nothing does)
    bundle = environ.get("REQUESTS_CA_BUNDLE") or environ.get("SSL_CERT_FILE") or None
    _early = (bundle, PendingContext(partial(_verifying, bundle)))


def settle(timeout: float) -> bool:
    """Wait up to *timeout* s for the load to end (a fork must not copy it half-done);
    whether no load runs now."""
    return _early is None or _early[1].wait(timeout)


def context_for(settings: IndexSettings, environ: Mapping[str, str]) -> ssl.SSLContext:
    """:func:`~lockcheck.index.tls.build_context`, or the context loaded early when that is
    the same one (the same bundle, no client certificate)."""
    from lockcheck.index.tls import build_context
    from lockcheck.index.tlsfiles import ca_bundle

    early = _early
    if early is not None and not settings.client_cert:
        bundle, load = early
        if bundle == (ca_bundle(settings, environ) or None):
            # A store that did not load is left to the build below, which says why.
            with contextlib.suppress(Exception):
                return load.get()
    return build_context(settings, environ)


def _cold(args: Sequence[str], environ: Mapping[str, str]) -> bool:
    from lockcheck.index.cache import holds_no_metadata

    root = _cache_dir_arg(args)
    if root is None:
        from lockcheck.cachedir import default_cache_dir

        root = default_cache_dir(environ)
    return holds_no_metadata(root)


def _cache_dir_arg(args: Sequence[str]) -> Path | None:
    """The compile's ``--cache-dir``, if given (the last one wins, as for click)."""
    found = None
    for i, arg in enumerate(args):
        if arg == "--cache-dir" and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith("--cache-dir="):
            found = arg.partition("=")[2]
    return Path(found).expanduser() if found else None
