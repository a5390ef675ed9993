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

Pruning.  A sync claims the cache before it looks anything up (:func:`claim_cache`): a shared
``flock`` on ``v1/unpacked.lock``, held until the process ends.  The claim first tries the lock
exclusively, without waiting; holding it, the process is the only sync using the cache, so
every ``v1/tmp/unpack-*`` is the leftover of a killed run and is removed, and once a day
(``v1/unpacked/.pruned``) the entries not used for :data:`PRUNE_AFTER_DAYS` days (the
manifest's mtime, refreshed on every use) are removed.  With another sync running, nothing is
removed: an entry it found, or a directory it is unpacking into, stays.  Venvs keep their own
links, so pruning an entry never breaks one.

Linked files share their data with the cache: a file edited in place inside site-packages
changes the cached copy too (uv's hard-link mode has the same trade).  Sync itself never
writes into an installed file: it replaces files, it does not edit them.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import posixpath
import shutil
import stat
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from lockcheck.crashpoint import crash_point
from lockcheck.errors import InstallFailed

__all__ = [
    "PRUNE_AFTER_DAYS",
    "ManifestEntry",
    "ManifestRow",
    "UnpackedWheel",
    "claim_cache",
    "find_unpacked",
    "link_or_copy",
    "unpack_wheel",
    "wheel_layout",
]

_MANIFEST = ".lockcheck-manifest.json"
_FORMAT = 1
_CHUNK = 1 << 20
#: Entries not used for this many days are removed (by the first sync of a day that has
#: the cache to itself).
PRUNE_AFTER_DAYS = 30
_PRUNE_EVERY_S = 86400.0
_MARKER = ".pruned"
#: How long a claim waits for another process's pruning to finish before going on
#: without the unpacked cache (installing from the archives).
_CLAIM_WAIT_S = 30.0

#: Lock files held by this process, by cache root (claimed once, held until exit).
_claims: dict[str, int] = {}
_claims_lock = threading.Lock()


class ManifestEntry(NamedTuple):
    """One file of an unpacked wheel: its archive path, RECORD hash, size and mode (a tuple:
    a big wheel's manifest is read on every sync)."""

    path: str
    digest: str  # "sha256=<urlsafe b64, no padding>", as RECORD writes it
    size: int
    executable: bool


#: A manifest row as read back: (path, digest, size, executable), a plain tuple (building a
#: ManifestEntry for each of a data-science sync's 19,000 rows cost 8 ms).
ManifestRow = tuple[str, str, int, bool]


@dataclass(frozen=True)
class UnpackedWheel:
    """A wheel's files in the cache, and the manifest written when it was unpacked."""

    root: Path
    filename: str
    entries: tuple[ManifestRow, ...]
    #: (.dist-info directory, root scheme) as found when it was unpacked; None when not
    #: recorded (an entry an older lockcheck made, or a wheel installer refuses: then it is
    #: found again at install time, and the install fails there).
    layout: tuple[str, str] | None = None

    def wheel_layout(self) -> tuple[str, str]:
        """(.dist-info directory, root scheme); InstallFailed for a wheel installer refuses."""
        return self.layout or wheel_layout(self.filename, self.entries, self.root)


def wheel_layout(filename: str, entries: Iterable[ManifestRow], root: Path) -> tuple[str, str]:
    """The one ``.dist-info`` directory of an unpacked wheel and its root scheme (purelib or
    platlib, from WHEEL, whose Wheel-Version must be 1.x), or InstallFailed, as installer
    checks them."""
    from installer.utils import parse_metadata_file

    tops = {entry[0].split("/", 1)[0] for entry in entries}
    found = sorted(top for top in tops if top.endswith(".dist-info"))
    if len(found) != 1:
        raise InstallFailed(
            f"{filename} does not hold exactly one .dist-info directory "
            f"({', '.join(found) or 'none'})"
        )
    text = (root / found[0] / "WHEEL").read_text(encoding="utf-8")
    wheel = parse_metadata_file(text)
    version = wheel["Wheel-Version"] or ""
    if not version.startswith("1."):
        raise InstallFailed(
            f"{filename}: Wheel-Version {version or '(none)'} is not supported (1.x only)"
        )
    return found[0], "purelib" if wheel["Root-Is-Purelib"] == "true" else "platlib"


def _entry_dir(cache_root: Path, sha256: str) -> Path:
    sha = sha256.lower()
    return cache_root / "v1" / "unpacked" / sha[:2] / sha


def _load(root: Path) -> UnpackedWheel | None:
    try:
        data = json.loads((root / _MANIFEST).read_bytes())
        if data.get("format") != _FORMAT:
            return None
        entries = tuple(map(tuple, data["files"]))
        layout = data.get("layout")
        if not (
            isinstance(layout, list)
            and len(layout) == 2
            and isinstance(layout[0], str)
            and layout[1] in ("purelib", "platlib")
        ):
            layout = None
        return UnpackedWheel(
            root, str(data["filename"]), entries, tuple(layout) if layout else None
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _touch(root: Path) -> None:
    """Mark an entry as used now (pruning goes by the manifest's mtime)."""
    with contextlib.suppress(OSError):
        os.utime(root / _MANIFEST)


def find_unpacked(cache_root: Path | None, sha256: str | None) -> UnpackedWheel | None:
    """The cache's unpacked copy of the wheel whose bytes hash to *sha256*, if it has one."""
    if cache_root is None or not sha256:
        return None
    found = _load(_entry_dir(cache_root, sha256))
    if found is not None:
        _touch(found.root)
    return found


def claim_cache(cache_root: Path) -> bool:
    """Claim the unpacked cache for this process (see the module docstring), tidying it
    first when no other sync uses it.  False when the claim could not be made within
    ``_CLAIM_WAIT_S`` or the cache cannot be written: then do not use it."""
    key = str(cache_root)
    with _claims_lock:
        fd = _claims.get(key)
        try:
            if fd is None:
                (cache_root / "v1").mkdir(parents=True, exist_ok=True)
                fd = os.open(cache_root / "v1" / "unpacked.lock", os.O_RDWR | os.O_CREAT, 0o644)
                _claims[key] = fd
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another sync uses the cache: remove nothing
            else:
                _tidy(cache_root)
            return _share(fd)
        except OSError:
            return False


def _share(fd: int) -> bool:
    """Hold *fd*'s lock shared, waiting a bounded time for a pruning process."""
    deadline = time.monotonic() + _CLAIM_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def _tidy(cache_root: Path) -> None:
    """With the cache to ourselves: remove killed runs' temporary directories, and once a
    day the entries unused for PRUNE_AFTER_DAYS days (renamed out of the way first, so a
    kill while removing leaves no half entry under ``v1/unpacked``)."""
    tmp = cache_root / "v1" / "tmp"
    with contextlib.suppress(OSError):
        for child in os.scandir(tmp):
            if child.name.startswith(("unpack-", "prune-")):
                shutil.rmtree(child.path, ignore_errors=True)
    root = cache_root / "v1" / "unpacked"
    marker = root / _MARKER
    now = time.time()
    try:
        if now - marker.stat().st_mtime < _PRUNE_EVERY_S:
            return
    except FileNotFoundError:
        pass
    if not root.is_dir():
        return
    oldest = now - PRUNE_AFTER_DAYS * 86400
    for shard in os.scandir(root):
        if not shard.is_dir(follow_symlinks=False):
            continue
        for entry in os.scandir(shard.path):
            try:
                used = os.stat(os.path.join(entry.path, _MANIFEST)).st_mtime
            except OSError:
                used = 0.0  # no manifest: not an entry lockcheck made whole
            if used >= oldest:
                continue
            tmp.mkdir(parents=True, exist_ok=True)
            doomed = tmp / f"prune-{entry.name}"
            try:
                os.rename(entry.path, doomed)
            except OSError:
                continue
            crash_point("prune")
            shutil.rmtree(doomed, ignore_errors=True)
    marker.touch()


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
        _touch(final)
        return existing
    tmp_parent = cache_root / "v1" / "tmp"
    tmp_parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=tmp_parent, prefix="unpack-"))
    try:
        entries = _extract(wheel, tmp)
        try:
            layout: tuple[str, str] | None = wheel_layout(wheel.name, entries, tmp)
        except (InstallFailed, OSError):
            layout = None  # found (and refused) again at install time
        manifest = {
            "format": _FORMAT,
            "filename": wheel.name,
            "files": [[e.path, e.digest, e.size, e.executable] for e in entries],
            "layout": list(layout) if layout else None,  # (older lockchecks ignore it)
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
    return UnpackedWheel(final, wheel.name, tuple(entries), layout)


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
