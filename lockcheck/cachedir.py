"""Where lockcheck keeps its cache: one rule for the index cache and the stamps.

``$LOCKCHECK_CACHE_DIR``, else the platform's user cache folder (``$XDG_CACHE_HOME`` or
``~/.cache`` on Linux, as platformdirs says, without importing it on the fast paths).
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["default_cache_dir", "warn_unwritable"]

#: Cache write failures seen so far in this process (``next`` is atomic: threads agree on
#: which failure was the first).
_failures = itertools.count()


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get("LOCKCHECK_CACHE_DIR"):
        return Path(environ["LOCKCHECK_CACHE_DIR"]).expanduser()
    if sys.platform.startswith("linux"):
        base = environ.get("XDG_CACHE_HOME", "").strip()
        root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
        return root / "lockcheck"
    import platformdirs

    return Path(platformdirs.user_cache_dir("lockcheck"))


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
