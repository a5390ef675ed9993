"""Install a wheel from the unpacked-wheel cache by linking its files into the venv.

The steps are installer's (``installer.install``), in its order: the ``WHEEL`` check,
entry-point scripts, every file of the archive (``.data/<scheme>/`` files to their scheme,
``#!python`` scripts rewritten), ``INSTALLER``/``REQUESTED``/``direct_url.json``, then
``RECORD``.  What differs is the cost of a file: it is hard-linked (or copied) from the
cache, its RECORD line comes from the cache's manifest, and the transaction journal gets the
wheel's files in one write before the first is linked (each file as one ``os.link`` instead
of a decompress, a hash, a write and a journal line).  Its directories are made and its
scripts written in archive order, then its files are linked (a big wheel's by two threads,
half of them each); RECORD, written last, still says the install finished.
"""

from __future__ import annotations

import csv
import io
import os
import posixpath
import threading
from operator import itemgetter
from typing import Any

from lockcheck.crashpoint import crash_point
from lockcheck.errors import InstallFailed
from lockcheck.sync.unpacked import ManifestRow, UnpackedWheel, link_or_copy

__all__ = ["install_unpacked"]


def install_unpacked(
    unpacked: UnpackedWheel, destination: Any, txn: Any, extra: dict[str, bytes]
) -> None:
    """Install *unpacked* through *destination* (sync's tracked installer destination, for
    what is written rather than linked) inside the transaction *txn*."""
    from installer.utils import SCHEME_NAMES, parse_entrypoints, parse_wheel_filename

    parsed = parse_wheel_filename(unpacked.filename)
    dist_info, root_scheme = unpacked.wheel_layout()
    root = os.fspath(unpacked.root)  # strings, not Paths: the loops below run once per file
    data_dir = f"{parsed.distribution}-{parsed.version}.data/"
    record_path = f"{dist_info}/RECORD"
    dirs: dict[str, str] = destination.scheme_dict
    written: list[tuple[str, Any]] = []  # (scheme, installer RecordEntry)

    entry_points = os.path.join(root, dist_info, "entry_points.txt")
    if os.path.isfile(entry_points):  # (an entry holds exactly its manifest's files)
        with open(entry_points, encoding="utf-8") as fh:
            text = fh.read()
        for name, module, attr, section in parse_entrypoints(text):
            record = destination.write_script(name=name, module=module, attr=attr, section=section)
            written.append(("scripts", record))

    # (scheme, path in the scheme, manifest entry); a script of .data/scripts is written
    # (its shebang rewritten) before the files are linked.
    plan: list[tuple[str, str, ManifestRow]] = []
    for entry in unpacked.entries:
        path = entry[0]
        if path == record_path:
            continue
        if path.startswith(data_dir):
            scheme, _sep, rel = path[len(data_dir) :].partition("/")
            if scheme not in SCHEME_NAMES or not rel:
                raise InstallFailed(
                    f"{unpacked.filename}: {path} is not in a valid .data subdirectory"
                )
            plan.append((scheme, rel, entry))
        else:
            plan.append((root_scheme, path, entry))

    linked = [(s, rel, e) for s, rel, e in plan if s != "scripts"]
    txn.will_create_all(os.path.join(dirs[s], rel) for s, rel, _e in linked)
    made: set[str] = set()
    links: list[tuple[str, str]] = []
    for scheme, rel, entry in plan:
        source = os.path.join(root, entry[0])
        if scheme == "scripts":  # its "#!python" shebang is rewritten: a copy, not a link
            with open(source, "rb") as fh:
                written.append((scheme, destination.write_file(scheme, rel, fh, entry[3])))
            continue
        target = os.path.join(dirs[scheme], rel)
        parent = os.path.dirname(target)
        if parent not in made:
            _make_dir(parent)
            made.add(parent)
        links.append((source, target))
    _link_all(links)

    for filename, contents in extra.items():
        with io.BytesIO(contents) as stream:
            record = destination.write_file(root_scheme, f"{dist_info}/{filename}", stream, False)
        written.append((root_scheme, record))

    rows = [(rel, scheme, entry[1], str(entry[2])) for scheme, rel, entry in linked]
    for scheme, record in written:
        row = record.to_row()
        rows.append((row[0], scheme, row[1], row[2]))
    rows.append((record_path, root_scheme, "", ""))
    destination.write_to_fs(
        root_scheme, record_path, io.BytesIO(_record(rows, dirs, root_scheme)), False
    )


#: A wheel with at least this many files is linked by two threads, half of its files each.
#: A link is a system call of about 10 us run without the interpreter lock, into directories
#: made beforehand: two threads link the data-science lock's 19,000 files in 0.12-0.15 s
#: instead of 0.18-0.22 s.  (Making the directories from two threads as well gained
#: nothing: they contend in the kernel.)  A smaller wheel is not worth a thread's start.
_THREADED_LINKS = 128


def _link_all(links: list[tuple[str, str]]) -> None:
    """Hard-link (or copy) each ``(source, target)``; the targets' directories exist."""
    if len(links) < _THREADED_LINKS:
        _link_each(links)
        return
    half = len(links) // 2  # halves, not alternate files: each thread in its own directories
    helper = _Linker(links[half:])
    helper.start()
    try:
        _link_each(links[:half])
    finally:
        helper.join()  # a failure or Ctrl-C here: the rollback must not race the helper
    if helper.error is not None:
        raise helper.error


def _link_each(links: list[tuple[str, str]]) -> None:
    for source, target in links:
        link_or_copy(source, target)
        crash_point("write")


class _Linker(threading.Thread):
    """The second half of a big wheel's links; its failure is raised by the caller."""

    def __init__(self, links: list[tuple[str, str]]) -> None:
        super().__init__(name="lockcheck-link", daemon=True)
        self._links = links
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            _link_each(self._links)
        except BaseException as exc:  # handed to the thread that installs the wheel
            self.error = exc


def _make_dir(path: str) -> None:
    """One mkdir for the usual case (the parent exists: archive order), makedirs else."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)


def _record(rows: list[tuple[str, str, str, str]], dirs: dict[str, str], root: str) -> bytes:
    """RECORD as installer writes it: sorted by path within its scheme, other schemes'
    paths relative to the root scheme's directory, and csv's quoting.  A path that needs no
    quotes (about every one) is written without the csv writer: a new venv from the
    data-science lock writes 19,000 lines, 24 ms through the writer, 7 ms without."""
    prefixes = {
        scheme: "" if scheme == root else posixpath.join(os.path.relpath(path, dirs[root]), "")
        for scheme, path in dirs.items()
    }
    lines: list[str] = []
    for path, scheme, digest, size in sorted(rows, key=itemgetter(0)):
        shown = prefixes[scheme] + path
        if "," in shown or '"' in shown or "\n" in shown or "\r" in shown:
            out = io.StringIO()
            csv.writer(out, delimiter=",", quotechar='"', lineterminator="\n").writerow(
                (shown, digest, size)
            )
            lines.append(out.getvalue())
        else:
            lines.append(f"{shown},{digest},{size}\n")
    return "".join(lines).encode("utf-8")
