"""The no-op fast path: a stamp that says "this venv already matches these locks".

After every successful sync a digest of the locks' bytes, the venv's ``*.dist-info`` listing
(names and mtimes) and the target python's path is written into the venv.  When the next run
computes the same digest nothing can have changed that sync would act on, so it answers
without reading the locks' contents twice, starting the interpreter or touching the network.
A git hook after every checkout then costs a few stat calls.

Stdlib only: this module must stay cheap to import.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from lockcheck.sync.journal import has_pending

__all__ = [
    "STAMP_NAME",
    "clear",
    "compute",
    "dist_dirs",
    "is_fresh",
    "site_packages_dirs",
    "write",
]

#: File in the venv's root holding the digest of the last successful sync.
STAMP_NAME = ".lockcheck-sync.stamp"
_FORMAT = "lockcheck-sync-stamp 1"
_DIST_SUFFIXES = (".dist-info", ".egg-info")


def site_packages_dirs(venv: Path) -> list[Path]:
    """Site-packages directories of *venv* found on disk (no interpreter is started).

    POSIX venvs have ``lib/pythonX.Y/site-packages`` (``lib64`` is often a link to ``lib``),
    Windows ones ``Lib/site-packages``; duplicates through links are dropped.
    """
    found: list[Path] = []
    seen: set[str] = set()
    candidates: list[Path] = [venv / "Lib" / "site-packages"]
    for lib in ("lib", "lib64"):
        with contextlib.suppress(OSError):
            for entry in sorted(os.scandir(venv / lib), key=lambda e: e.name):
                if entry.name.startswith(("python", "pypy")):
                    candidates.append(Path(entry.path) / "site-packages")
    for path in candidates:
        if not path.is_dir():
            continue
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            found.append(path)
    return found


def dist_dirs(sites: Iterable[Path]) -> list[Path]:
    """The ``*.dist-info`` / ``*.egg-info`` folders in *sites*, sorted by name per site."""
    found: list[Path] = []
    for directory in sites:
        try:
            names = sorted(e.name for e in os.scandir(directory) if e.name.endswith(_DIST_SUFFIXES))
        except OSError:
            continue
        found.extend(Path(directory) / name for name in names)
    return found


def _listing(dirs: Iterable[Path]) -> Iterable[bytes]:
    for directory in dirs:
        yield f"dir {os.path.realpath(directory)}\n".encode()
        for path in dist_dirs([directory]):
            try:
                mtime = path.stat().st_mtime_ns
            except OSError:
                continue
            yield f"{path.name} {mtime}\n".encode()


def compute(locks: Iterable[Path], venv: Path, python: Path, extra: str = "") -> str | None:
    """The digest of the current state, or None when a lock cannot be read."""
    digest = hashlib.sha256()
    digest.update(f"{_FORMAT}\n{extra}\npython {python}\n".encode())
    for lock in locks:
        try:
            data = Path(lock).read_bytes()
        except OSError:
            return None
        digest.update(f"lock {os.path.abspath(lock)} {len(data)}\n".encode())
        digest.update(data)
    for line in _listing(site_packages_dirs(venv)):
        digest.update(line)
    return digest.hexdigest()


def _stamp_path(venv: Path) -> Path:
    return venv / STAMP_NAME


def is_fresh(locks: Iterable[Path], venv: Path, python: Path, extra: str = "") -> bool:
    """Whether the stamp in *venv* matches the current state exactly (never while a
    transaction a killed run left behind is pending)."""
    if has_pending(venv):
        return False
    try:
        recorded = _stamp_path(venv).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return bool(recorded) and recorded == compute(locks, venv, python, extra)


def write(locks: Iterable[Path], venv: Path, python: Path, extra: str = "") -> None:
    """Record the current state as synced (best effort: a stamp is only an optimisation)."""
    value = compute(locks, venv, python, extra)
    if value is None:
        return
    path = _stamp_path(venv)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(value + "\n", encoding="ascii")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def clear(venv: Path) -> None:
    """Forget the stamp (before the venv is touched, so a crash never leaves a stale one)."""
    with contextlib.suppress(OSError):
        _stamp_path(venv).unlink()
