"""Apply a plan to a venv as one transaction: uninstall by RECORD, install with ``installer``.

Nothing is deleted while the transaction runs: every file an uninstall removes, and every
file an install would overwrite, is moved into a backup directory inside the venv (same
filesystem, so a rename), and every file written is remembered, in memory and in a journal
beside the backup (:mod:`lockcheck.sync.journal`).  On any failure the new files are deleted
and the moved ones put back, so the venv is as it was; on success the journal, then the
backup, is dropped.  When the process is killed instead, the next sync finds the journal and
rolls the transaction back (:func:`recover`) before it plans.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from lockcheck.crashpoint import crash_point
from lockcheck.errors import InstallFailed
from lockcheck.sync.fetch import PreparedWheel
from lockcheck.sync.installed import InstalledDist
from lockcheck.sync.interpreter import InterpreterInfo
from lockcheck.sync.journal import (
    BACKUP_PREFIX,
    JOURNAL_NAME,
    JournalWriter,
    backup_dirs,
    read_journal,
)

__all__ = [
    "BACKUP_PREFIX",
    "Transaction",
    "apply_plan",
    "check_removable",
    "compile_bytecode",
    "recover",
    "venv_lock",
]

_LOCK_NAME = ".lockcheck-sync.lock"
#: At most this many byte-compiling processes at once.
_COMPILE_WORKERS = 4
#: How long a sync waits for another one working on the same venv.
LOCK_TIMEOUT = 600.0


class Transaction:
    """Moves out of the way and new files, so that :meth:`rollback` can undo everything."""

    def __init__(self, venv: Path, backup: Path, journal: JournalWriter | None) -> None:
        self.venv = Path(os.path.abspath(venv))
        self._real_venv = os.path.realpath(self.venv)
        self.backup = backup
        self._journal = journal
        self._moved: list[tuple[Path, Path]] = []
        self._created_files: list[str] = []
        self._created_set: set[str] = set()
        self._created_dirs: list[Path] = []
        #: Directories this transaction made: they hold only files it wrote, so a file
        #: written into one needs no check for something in its way.
        self._new_dirs: set[str] = set()
        #: Directories made while nothing had been moved away or removed yet ("tree" in the
        #: journal), each with every directory made under it: no step of a rollback puts
        #: anything back inside one, so a rollback deletes each whole and the files written
        #: into them are not journaled one by one (a new venv's 19,000 lines for the
        #: data-science lock, 40 ms).
        self._trees: list[str] = []
        self._tree_dirs: set[str] = set()
        #: Directories seen to exist (forgotten whenever something is moved away).
        self._present_dirs: set[str] = set()
        self._removed_dirs: list[Path] = []
        self._counter = 0

    @classmethod
    def begin(cls, venv: Path) -> Transaction:
        """A new transaction, its journal open before anything is touched."""
        try:
            backup = Path(tempfile.mkdtemp(dir=venv, prefix=BACKUP_PREFIX))
            crash_point("backup")
            journal = JournalWriter(backup / JOURNAL_NAME)
        except OSError as exc:
            raise InstallFailed(
                f"cannot start changing {venv}: {exc}; nothing was changed"
            ) from exc
        crash_point("journal")
        return cls(venv, backup, journal)

    @classmethod
    def resume(cls, backup: Path) -> Transaction:
        """The transaction a killed run left in *backup*, rebuilt from its journal."""
        txn = cls(backup.parent, backup, None)
        for kind, *paths in read_journal(backup / JOURNAL_NAME):
            if kind == "move" and len(paths) == 2:
                txn._moved.append((Path(paths[0]), Path(paths[1])))
            elif kind == "create" and len(paths) == 1:
                txn._created_files.append(paths[0])
            elif kind == "mkdir" and len(paths) == 1:
                txn._created_dirs.append(Path(paths[0]))
            elif kind == "tree" and len(paths) == 1:
                txn._trees.append(paths[0])
            elif kind == "rmdir" and len(paths) == 1:
                txn._removed_dirs.append(Path(paths[0]))
        return txn

    def _log(self, *fields: str | Path) -> None:
        if self._journal is not None:
            self._journal.log(*map(str, fields))

    def inside(self, path: Path) -> bool:
        """Whether *path* lies in the venv (links in its folders resolved, not the path's own)."""
        parent = os.path.realpath(path.parent)
        return os.path.commonpath([self._real_venv, parent]) == self._real_venv

    def stash(self, path: Path) -> None:
        """Move *path* (a file, a link or a directory) into the backup."""
        self._counter += 1
        dest = self.backup / str(self._counter)
        self._log("move", path, dest)
        self._present_dirs.clear()
        try:
            os.replace(path, dest)
        except OSError:
            shutil.move(str(path), str(dest))
        self._moved.append((path, dest))
        crash_point("stash")

    def remove_empty_dirs(self, start: Path, stop: Path) -> None:
        """rmdir *start* and its parents while empty, up to (not including) *stop*."""
        stop_real = os.path.realpath(stop)
        self._present_dirs.clear()
        current = start
        while os.path.realpath(current) != stop_real and self.inside(current):
            self._log("rmdir", current)
            try:
                current.rmdir()
            except OSError:
                return
            self._removed_dirs.append(current)
            current = current.parent

    def will_create(self, path: str | os.PathLike[str]) -> None:
        """Record that *path* is about to be written (stashing what is there now)."""
        self.will_create_all((path,))

    def will_create_all(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """:meth:`will_create` for many files, their journal lines written in one go.

        Called for every installed file: plain strings and sets keep it to one lstat per
        file, none for a file in a directory this transaction made, and no journal line for
        one in a tree (see ``_trees``)."""
        lines: list[tuple[str, str]] = []
        try:
            for item in paths:
                path = os.fspath(item)
                if path in self._created_set:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                    continue
                directory = parent = os.path.dirname(path)
                if directory not in self._new_dirs:
                    if os.path.lexists(path):
                        if os.path.isdir(path) and not os.path.islink(path):
                            raise InstallFailed(f"cannot write {path}: a directory is in the way")
                        self.stash(Path(path))
                    missing: list[str] = []
                    while (
                        parent not in self._present_dirs
                        and parent not in self._new_dirs  # journaled, not made yet
                        and not os.path.exists(parent)
                    ):
                        missing.append(parent)
                        parent = os.path.dirname(parent)
                    self._present_dirs.add(parent)
                    if missing:
                        lines.extend(self._will_make(missing, parent))
                if directory in self._tree_dirs:
                    self._created_set.add(path)  # a rollback deletes its tree
                    continue
                lines.append(("create", path))
                self._created_files.append(path)
                self._created_set.add(path)
        finally:
            if lines and self._journal is not None:
                self._journal.log_many(lines)

    def _will_make(self, missing: list[str], existing: str) -> list[tuple[str, str]]:
        """The journal lines for making *missing* (deepest first) under *existing*."""
        self._new_dirs.update(missing)
        if existing in self._tree_dirs:  # inside a tree: deleted with it
            self._tree_dirs.update(missing)
            return []
        if not self._moved and not self._removed_dirs:  # no rollback step puts anything back
            self._trees.append(missing[-1])
            self._tree_dirs.update(missing)
            return [("tree", missing[-1])]
        self._created_dirs.extend(Path(directory) for directory in reversed(missing))
        return [("mkdir", directory) for directory in reversed(missing)]

    def rollback(self) -> list[str]:
        """Undo everything; returns the problems met (empty when fully restored).

        Safe to run again after being killed midway (the journal is only dropped at the
        end): a file that was both moved away and then created is deleted only while its
        saved copy is still in the backup, since otherwise it is the restored original."""
        problems: list[str] = []
        for tree in reversed(self._trees):
            try:
                shutil.rmtree(tree)
            except FileNotFoundError:
                pass  # never made, or deleted by an earlier, interrupted rollback
            except OSError as exc:
                problems.append(f"cannot delete {tree}: {exc}")
            crash_point("rollback")
        restored = {str(original) for original, saved in self._moved if not os.path.lexists(saved)}
        for path in reversed(self._created_files):
            if path in restored:
                continue
            try:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            except OSError as exc:
                problems.append(f"cannot delete {path}: {exc}")
            crash_point("rollback")
        for removed in self._removed_dirs:
            with contextlib.suppress(OSError):
                removed.mkdir(parents=True, exist_ok=True)
        for original, saved in reversed(self._moved):
            if not os.path.lexists(saved):
                continue  # restored by an earlier, interrupted rollback (or never moved)
            try:
                original.parent.mkdir(parents=True, exist_ok=True)
                os.replace(saved, original)
            except OSError as exc:
                problems.append(f"cannot restore {original}: {exc}")
            crash_point("rollback")
        for created in reversed(self._created_dirs):
            with contextlib.suppress(OSError):
                created.rmdir()
        if not problems:
            self._drop()
        return problems

    def commit(self) -> None:
        """Deleting the journal is the commit; the backup is junk from then on."""
        crash_point("commit")
        self._drop()

    def _drop(self) -> None:
        if self._journal is not None:
            self._journal.close()
        with contextlib.suppress(FileNotFoundError):
            (self.backup / JOURNAL_NAME).unlink()
        crash_point("committed")
        shutil.rmtree(self.backup, ignore_errors=True)


def recover(venv: Path) -> int:
    """Roll back every transaction a killed sync left in *venv*, and delete the backups of
    committed ones; returns how many were rolled back (InstallFailed when one cannot be)."""
    rolled_back = 0
    for backup in backup_dirs(venv):
        if not (backup / JOURNAL_NAME).exists():
            shutil.rmtree(backup, ignore_errors=True)  # committed, or never started
            continue
        problems = Transaction.resume(backup).rollback()
        if problems:
            raise InstallFailed(
                f"an interrupted sync left {backup}; rolling it back failed: {problems[0]}",
                hint="restore the files listed in its journal by hand, or recreate the venv",
            )
        rolled_back += 1
    return rolled_back


# --------------------------------------------------------------------------------------
# uninstall
# --------------------------------------------------------------------------------------


def check_removable(dists: Sequence[InstalledDist]) -> None:
    """Refuse, before anything is touched, to remove what sync cannot uninstall: an
    ``.egg-info`` (no RECORD by design).  A ``.dist-info`` without RECORD is an install that
    died midway: its metadata directory goes, and a reinstall writes over its files."""
    for dist in dists:
        for copy in (dist, *dist.duplicates):
            if copy.path.suffix != ".dist-info":
                raise InstallFailed(
                    f"cannot uninstall {copy.display_name} {copy.version}: {copy.path.name} "
                    "has no RECORD (installed by an old tool); nothing was changed",
                    hint=f"remove {copy.path} and its files by hand, or recreate the venv",
                )


def _record_paths(dist: InstalledDist) -> set[Path]:
    record = dist.record
    if record is None:
        return set()
    site = dist.site_dir
    paths: set[Path] = set()
    with open(record, newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if not row or not row[0]:
                continue
            path = Path(os.path.normpath(os.path.join(site, row[0])))
            paths.add(path)
            if path.suffix == ".py":
                cache = path.parent / "__pycache__"
                if cache.is_dir():
                    paths.update(cache.glob(f"{path.stem}.*.pyc"))
                paths.add(path.with_suffix(".pyc"))
    return paths


def uninstall(dist: InstalledDist, txn: Transaction) -> None:
    """Move every file RECORD lists (and the metadata directory) into the backup."""
    for copy in (dist, *dist.duplicates):
        paths = _record_paths(copy)
        parents: set[Path] = set()
        for path in sorted(paths, key=lambda p: (len(p.parts), str(p)), reverse=True):
            if not os.path.lexists(path) or not txn.inside(path):
                continue
            if path.is_dir() and not path.is_symlink():
                continue  # RECORD lists files; a directory here is someone else's
            txn.stash(path)
            parents.add(path.parent)
        if copy.path.exists():
            txn.stash(copy.path)
        for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            txn.remove_empty_dirs(parent, copy.site_dir)


# --------------------------------------------------------------------------------------
# install
# --------------------------------------------------------------------------------------


def _destination(info: InterpreterInfo, dist_name: str, txn: Transaction) -> Any:
    from installer.destinations import SchemeDictionaryDestination
    from installer.records import Hash, RecordEntry
    from installer.utils import get_launcher_kind

    class TrackedDestination(SchemeDictionaryDestination):  # type: ignore[misc]
        """installer's destination, reporting every file to the transaction first."""

        def write_to_fs(self, scheme: Any, path: str, stream: BinaryIO, is_executable: bool) -> Any:
            """installer's write (refuse a path outside the scheme or an existing file, hash
            while writing, installer's executable mode) on strings instead of Paths: it runs
            for every file of a wheel installed from its archive."""
            root = os.path.abspath(self.scheme_dict[scheme])
            target = os.path.abspath(os.path.join(root, path))
            if os.path.commonpath([root, target]) != root:
                raise ValueError(f"Attempting to write {path} outside of the target directory")
            txn.will_create(target)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            hasher = hashlib.sha256()
            size = 0
            with open(target, "xb") as out:
                while block := stream.read(1 << 20):
                    hasher.update(block)
                    out.write(block)
                    size += len(block)
            if is_executable:
                os.chmod(target, os.stat(target).st_mode | 0o111)
            crash_point("write")
            digest = base64.urlsafe_b64encode(hasher.digest()).decode("ascii").rstrip("=")
            return RecordEntry(path, Hash("sha256", digest), size)

    scheme = {
        "purelib": info.paths["purelib"],
        "platlib": info.paths["platlib"],
        "scripts": info.paths["scripts"],
        "data": info.paths["data"],
        "headers": os.path.join(
            info.prefix, "include", "site", f"python{info.python_xy}", dist_name
        ),
    }
    return TrackedDestination(
        scheme_dict=scheme, interpreter=info.python, script_kind=get_launcher_kind()
    )


def install_wheel(prepared: PreparedWheel, info: InterpreterInfo, txn: Transaction) -> None:
    """Install one wheel; PEP 376 INSTALLER and REQUESTED, PEP 610 direct_url.json when the
    wheel came from a direct reference."""
    from installer import install
    from installer.sources import WheelFile

    extra: dict[str, bytes] = {"INSTALLER": b"lockcheck\n", "REQUESTED": b""}
    if prepared.direct_url is not None:
        extra["direct_url.json"] = json.dumps(prepared.direct_url, sort_keys=True).encode()
    if prepared.unpacked is not None:
        from lockcheck.sync.linkinstall import install_unpacked

        name = prepared.unpacked.filename.split("-", 1)[0]
        install_unpacked(prepared.unpacked, _destination(info, name, txn), txn, extra)
        return
    assert prepared.wheel is not None
    with WheelFile.open(prepared.wheel) as archive:
        install(archive, _destination(info, archive.distribution, txn), extra)


@contextlib.contextmanager
def venv_lock(
    venv: Path, timeout: float = LOCK_TIMEOUT, waiting: Callable[[str], None] | None = None
) -> Iterator[None]:
    """One sync per venv at a time (an advisory lock; a no-op where fcntl is missing).

    The kernel drops the lock when its holder dies, so a killed sync never blocks the next
    one; a live holder is waited for at most *timeout* seconds (InstallFailed then)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path = venv / _LOCK_NAME
    try:
        handle = open(path, "a+b")  # noqa: SIM115 - closed in finally
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise InstallFailed(
                        f"another sync of {venv} ({_holder(handle)}) is still running after "
                        f"{timeout:.0f}s; nothing was changed"
                    ) from None
                if waiting is not None:
                    waiting(f"waiting for another sync of {venv} ({_holder(handle)})")
                    waiting = None
                time.sleep(0.1)
        with contextlib.suppress(OSError):
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _holder(handle: BinaryIO) -> str:
    """ "pid N" of the process holding the lock, as it wrote it."""
    with contextlib.suppress(OSError, ValueError):
        handle.seek(0)
        return f"pid {int(handle.read(32).strip() or b'?')}"
    return "pid unknown"


def apply_plan(
    removals: Sequence[InstalledDist],
    wheels: Sequence[PreparedWheel],
    *,
    venv: Path,
    info: InterpreterInfo,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Remove *removals*, then install *wheels*; all or nothing (InstallFailed on failure,
    with the venv restored)."""
    check_removable(removals)
    recover(venv)
    txn = Transaction.begin(venv)
    step = "starting"
    try:
        for dist in removals:
            step = f"uninstalling {dist.display_name} {dist.version}"
            if progress:
                progress(step)
            uninstall(dist, txn)
        for prepared in wheels:
            step = f"installing {prepared.filename}"
            if progress:
                progress(step)
            install_wheel(prepared, info, txn)
    except BaseException as exc:
        problems = txn.rollback()
        if isinstance(exc, KeyboardInterrupt):
            raise
        state = (
            "the environment was restored"
            if not problems
            else f"restoring the environment failed ({problems[0]}); backup kept in {txn.backup}"
        )
        detail = (str(exc) or type(exc).__name__).rstrip(".")
        raise InstallFailed(f"{step} failed: {detail}; {state}") from exc
    txn.commit()


def _archive_names(prepared: PreparedWheel) -> list[str]:
    """The file names inside a prepared wheel (from the cache's manifest when unpacked)."""
    import zipfile

    if prepared.unpacked is not None:
        return [entry[0] for entry in prepared.unpacked.entries]
    if prepared.wheel is None:
        return []
    with contextlib.suppress(OSError, zipfile.BadZipFile), zipfile.ZipFile(prepared.wheel) as zf:
        return zf.namelist()
    return []


def compile_bytecode(python: str, wheels: Sequence[PreparedWheel], info: InterpreterInfo) -> None:
    """Byte-compile the installed modules with the target interpreter (best effort)."""
    roots = [Path(info.paths["purelib"]), Path(info.paths["platlib"])]
    files: list[str] = []
    for prepared in wheels:
        for name in _archive_names(prepared):
            if name.endswith(".py") and ".data/" not in name.split("/", 1)[0] + "/":
                for root in roots:
                    candidate = root / name
                    if candidate.is_file():
                        files.append(str(candidate))
                        break
    if not files:
        return
    # compileall compiles a list of files one by one (its -j applies to directories only):
    # one process per core, each with its share of the files, as uv compiles in parallel.
    workers = max(1, min(os.cpu_count() or 1, _COMPILE_WORKERS, len(files) // 50 or 1))
    shares = [files[i::workers] for i in range(workers)]
    procs: list[subprocess.Popen[str]] = []
    try:
        for share in shares:
            proc = subprocess.Popen(
                [python, "-m", "compileall", "-q", "-i", "-"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            procs.append(proc)
            assert proc.stdin is not None
            proc.stdin.write("\n".join(share) + "\n")
            proc.stdin.close()
        deadline = time.monotonic() + 600
        for proc in procs:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except (OSError, subprocess.SubprocessError):
        pass  # best effort, as before: a module not compiled now is compiled on import
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
