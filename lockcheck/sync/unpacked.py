"""The unpacked-wheel cache: each verified wheel is unzipped once, then linked into venvs.

Unzipping and hashing every file of every wheel on every install is where a sync into a new
venv spent its time.  Like uv, sync keeps each wheel it has verified unpacked under
``<cache>/v1/unpacked/<ab>/<sha256 of the wheel>/`` with a manifest of its files (path,
RECORD hash, size, executable bit, in archive order), and installs by hard-linking those
files into site-packages (a plain copy where a link cannot be made: another filesystem, a
link limit).  The manifest gives RECORD its hashes, so nothing is read or hashed again.

An entry exists only complete: it is unpacked into ``v1/tmp/`` (same filesystem) and
renamed into place, manifest included, in one ``os.rename``; a run killed while unpacking
leaves a stray temporary directory and no entry.  Its key is the sha256 of the wheel's bytes
as hashed when it was verified against the lock (and the index), so an entry stands for a
verified file.

Linked files share their data with the cache: a file edited in place inside site-packages
changes the cached copy too (uv's hard-link mode has the same trade).  Sync itself never
writes into an installed file: it replaces files, it does not edit them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import posixpath
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from lockcheck.errors import InstallFailed
from lockcheck.sync.crashpoint import crash_point

__all__ = [
    "ManifestEntry",
    "UnpackedWheel",
    "find_unpacked",
    "link_or_copy",
    "unpack_wheel",
]

_MANIFEST = ".lockcheck-manifest.json"
_FORMAT = 1
_CHUNK = 1 << 20


class ManifestEntry(NamedTuple):
    """One file of an unpacked wheel: its archive path, RECORD hash, size and mode (a tuple:
    a big wheel's manifest is read on every sync)."""

    path: str
    digest: str  # "sha256=<urlsafe b64, no padding>", as RECORD writes it
    size: int
    executable: bool


@dataclass(frozen=True)
class UnpackedWheel:
    """A wheel's files in the cache, and the manifest written when it was unpacked."""

    root: Path
    filename: str
    entries: tuple[ManifestEntry, ...]

    def file(self, path: str) -> Path:
        return self.root / path


def _entry_dir(cache_root: Path, sha256: str) -> Path:
    sha = sha256.lower()
    return cache_root / "v1" / "unpacked" / sha[:2] / sha


def _load(root: Path) -> UnpackedWheel | None:
    try:
        data = json.loads((root / _MANIFEST).read_bytes())
        if data.get("format") != _FORMAT:
            return None
        entries = tuple(map(ManifestEntry._make, data["files"]))
        return UnpackedWheel(root, str(data["filename"]), entries)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find_unpacked(cache_root: Path | None, sha256: str | None) -> UnpackedWheel | None:
    """The cache's unpacked copy of the wheel whose bytes hash to *sha256*, if it has one."""
    if cache_root is None or not sha256:
        return None
    return _load(_entry_dir(cache_root, sha256))


def _safe_member(name: str, wheel: Path) -> str | None:
    """The archive path of a member to unpack; None for directories and ``__pycache__``
    files (installer skips those too); InstallFailed for a path that leaves the archive."""
    if name.endswith("/"):
        return None
    path = posixpath.normpath(name)
    if path.startswith(("/", "../")) or path == ".." or "\\" in name or ":" in path.split("/")[0]:
        raise InstallFailed(f"{wheel.name} has a file outside the wheel: {name}")
    if "__pycache__" in path.split("/")[:-1]:
        return None
    return path


def unpack_wheel(wheel: Path, sha256: str, cache_root: Path) -> UnpackedWheel:
    """Unpack *wheel* (already verified; *sha256* is of its bytes) into the cache, or return
    the entry another run made.  OSError when the cache cannot be written."""
    final = _entry_dir(cache_root, sha256)
    existing = _load(final)
    if existing is not None:
        return existing
    tmp_parent = cache_root / "v1" / "tmp"
    tmp_parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=tmp_parent, prefix="unpack-"))
    try:
        entries = _extract(wheel, tmp)
        manifest = {
            "format": _FORMAT,
            "filename": wheel.name,
            "files": [[e.path, e.digest, e.size, e.executable] for e in entries],
        }
        (tmp / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        crash_point("unpack")
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(tmp, final)
        except OSError:
            loaded = _load(final)  # another run won the race
            if loaded is None:
                raise
            return loaded
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return UnpackedWheel(final, wheel.name, tuple(entries))


def _extract(wheel: Path, dest: Path) -> list[ManifestEntry]:
    """Write every file of *wheel* under *dest*, hashing as it goes (one pass)."""
    entries: list[ManifestEntry] = []
    made: set[str] = set()
    try:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                path = _safe_member(info.filename, wheel)
                if path is None:
                    continue
                parent = posixpath.dirname(path)
                if parent and parent not in made:
                    os.makedirs(dest / parent, exist_ok=True)
                    made.add(parent)
                target = dest / path
                hasher = hashlib.sha256()
                size = 0
                with archive.open(info) as src, open(target, "wb") as out:
                    while block := src.read(_CHUNK):
                        hasher.update(block)
                        out.write(block)
                        size += len(block)
                # installer's rule (after pip): a regular file with any x bit set.
                mode = info.external_attr >> 16
                executable = bool(mode and stat.S_ISREG(mode) and mode & 0o111)
                if executable:
                    os.chmod(target, os.stat(target).st_mode | 0o111)
                digest = base64.urlsafe_b64encode(hasher.digest()).rstrip(b"=").decode("ascii")
                entries.append(ManifestEntry(path, f"sha256={digest}", size, executable))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise InstallFailed(f"{wheel.name} is not a readable wheel: {exc}") from exc
    return entries


def link_or_copy(source: str, target: str) -> None:
    """Hard-link *source* to *target*; copy (data and mode) where no link can be made."""
    try:
        os.link(source, target)
    except OSError:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        shutil.copy(source, target)
