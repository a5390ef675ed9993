"""Where lockcheck keeps its cache: one rule for the index cache and the stamps.

``$LOCKCHECK_CACHE_DIR``, else the platform's user cache folder (``$XDG_CACHE_HOME`` or
``~/.cache`` on Linux, as platformdirs says, without importing it on the fast paths).
"""

from __future__ import annotations

import itertools
import os
import sys

TYPE_CHECKING = False  # typing itself costs the fast path 2 ms

if TYPE_CHECKING:  # pathlib and collections.abc cost the fast path more than its answer
    from collections.abc import Mapping
    from pathlib import Path

__all__ = ["cache_root", "default_cache_dir", "warn_unwritable"]

#: Cache write failures seen so far in this process (``next`` is atomic: threads agree on
#: which failure was the first).
_failures = itertools.count()


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    from pathlib import Path

    return Path(cache_root(environ))


def cache_root(environ: Mapping[str, str] | None = None) -> str:
    """:func:`default_cache_dir` as a string, for the fast path (no pathlib)."""
    environ = os.environ if environ is None else environ
    if environ.get("LOCKCHECK_CACHE_DIR"):
        return os.path.expanduser(environ["LOCKCHECK_CACHE_DIR"])
    if sys.platform.startswith("linux"):
        base = environ.get("XDG_CACHE_HOME", "").strip()
        root = (
            base
            if base and os.path.isabs(base)
            else os.path.join(os.path.expanduser("~"), ".cache")
        )
        return os.path.join(root, "lockcheck")
    import platformdirs

    return str(platformdirs.user_cache_dir("lockcheck"))


def warn_unwritable(root: Path, exc: OSError) -> None:
    """Say once per run that the cache cannot be written (full disk, read-only, no access):
    the run goes on without it, and one line is enough however many entries fail."""
    if next(_failures):
        return
    import logging

    logging.getLogger("lockcheck.cache").warning(
        "cannot write to the cache %s (%s); this run goes on without it",
        root,
        exc.strerror or exc,
    )
