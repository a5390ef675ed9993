"""A project's files, grouped by version and turned into DistFiles only when asked for.

numpy lists thousands of files; a resolution looks at one or two of its versions.  Keeping
every file as a compact page entry and building DistFiles per version on demand is most of
what makes a cold compile cheap in time and memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import overload

from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from lockcheck.index.filenames import _sdist_stem, _split_sdist, version_of
from lockcheck.index.pages import Link, PendingLink, dist_files, load_link
from lockcheck.models import DistFile

__all__ = [
    "ProjectFiles",
    "UnreadableEntries",
    "filename_version",
    "link_version",
    "wheel_version_text",
]


class UnreadableEntries(Exception):
    """Entries left unread can no longer be read (a cache entry changed or is damaged):
    the whole page is read again instead."""


def link_version(link: Link | PendingLink, project: NormalizedName) -> Version | None:
    """The version a page entry is for (None: not a file of *project*), cheaply."""
    return filename_version(link.filename, project)


def wheel_version_text(filename: str) -> str | None:
    """The version part of a wheel's file name (None: not a wheel, or not 5-6 parts)."""
    if not filename.endswith(".whl"):
        return None
    parts = filename[:-4].split("-")
    return parts[1] if len(parts) in (5, 6) else None


def filename_version(filename: str, project: NormalizedName) -> Version | None:
    """The version a distribution file name is for (None: not a file of *project*), cheaply.

    The name check and the full parse happen when the version is materialised
    (:func:`~lockcheck.index.pages.dist_files`); this only has to put entries in the right
    bucket, and a wrongly bucketed foreign file is dropped there.
    """
    if filename.endswith(".whl"):
        wheel_text = wheel_version_text(filename)
        if wheel_text is None:
            return None
        text = wheel_text
    else:
        stem = _sdist_stem(filename)
        if stem is None:
            return None
        split = _split_sdist(stem, project)
        if split is None or not split[1]:
            return None
        text = split[1]
    try:
        return version_of(text)
    except InvalidVersion:
        return None


def filename_versions(
    filenames: Iterable[str], project: NormalizedName
) -> Iterator[tuple[str, Version | None]]:
    """Each of *filenames* (one page's) with :func:`filename_version`, cheaper for a page of
    thousands of sdists: once one ``.tar.gz`` name is split, the others that start with the
    same ``<name>-`` are split there without normalising the name again.  The split is at
    the first dash whose left side is the project's name, and the dashes before that one
    give such a name the left sides the first name's split tried and rejected."""
    spelled: str | None = None
    for filename in filenames:
        if spelled is not None and filename.startswith(spelled) and filename.endswith(".tar.gz"):
            text = filename[len(spelled) : -len(".tar.gz")]
            try:
                version = version_of(text) if text else None
            except InvalidVersion:
                version = None
        else:
            version = filename_version(filename, project)
            if spelled is None and filename.endswith(".tar.gz"):
                split = _split_sdist(filename[: -len(".tar.gz")], project)
                if split is not None:
                    spelled = split[0] + "-"
        yield filename, version


class _Groups(Mapping[Version, Sequence[DistFile]]):
    def __init__(self, owner: ProjectFiles) -> None:
        self._owner = owner

    def __getitem__(self, version: Version) -> Sequence[DistFile]:
        return self._owner.files_of(version)

    def __iter__(self) -> Iterator[Version]:
        return iter(self._owner.versions())

    def __len__(self) -> int:
        return len(self._owner.versions())

    def __contains__(self, version: object) -> bool:
        return version in self._owner.versions()

    def newest_first(self) -> list[Version]:
        """Every version, newest first (see :meth:`ProjectFiles.newest_first`)."""
        return self._owner.newest_first()

    def files_but_wheels_refused(
        self, version: Version, wheel_ok: Callable[[str], bool]
    ) -> Sequence[DistFile]:
        """See :meth:`ProjectFiles.files_but_wheels_refused`."""
        return self._owner.files_but_wheels_refused(version, wheel_ok)


class ProjectFiles(Sequence[DistFile]):
    """Every file of one project (first source first), materialised per version."""

    def __init__(
        self,
        project: NormalizedName,
        entries: Sequence[tuple[Link | PendingLink, str]],
        *,
        known_versions: Iterable[Version] = (),
        complete: Callable[[], ProjectFiles] | None = None,
        versions: Mapping[str, Version | None] | None = None,
        admit: Callable[[DistFile], bool] | None = None,
        unread: Mapping[Version, Callable[[], Sequence[tuple[Link | PendingLink, str]]]]
        | None = None,
        order: Callable[[], list[tuple[Version, int]]] | None = None,
        reread: Callable[[], ProjectFiles] | None = None,
    ) -> None:
        """*versions*: the version of each entry's file name when already known (None
        there: not a file of the project); *admit*: which files count at all (a release
        cut-off), asked only for the versions that are looked at.  *unread* and *order*
        (given together, with no *entries*): each version's entries, read when the version
        is looked at, and the page order of those entries, (version, position) pairs;
        *reread*: the whole listing again, for when unread entries cannot be read."""
        self.project = project
        self._admit = admit
        # Versions listed on the page whose entries were not kept yet (read on demand), in
        # the order given (newest first, from a page's filter or its packed form).
        self._known = dict.fromkeys(known_versions)
        self._complete = complete
        self._reread = reread
        self._buckets: dict[Version, list[tuple[Link | PendingLink, str]]] = {}
        self._unread = dict(unread or {})
        self._order_of = order
        # (version, position in its bucket) in page order, so iteration keeps that order.
        self._order: list[tuple[Version, int]] = []
        last: Version | None = None
        bucket: list[tuple[Link | PendingLink, str]] = []
        for link, index in entries:
            if versions is not None and link.filename in versions:
                version = versions[link.filename]
            else:
                version = link_version(link, project)
            if version is None:
                continue
            if version is not last:  # a page lists a version's files together: hash once
                bucket = self._buckets.setdefault(version, [])
                last = version
            self._order.append((version, len(bucket)))
            bucket.append((link, index))
        # Per version: one slot per bucket entry (None where the entry turns out not to be a
        # file of this project), built on first use.
        self._built: dict[Version, list[DistFile | None]] = {}
        # (version, file name check) -> files_but_wheels_refused's answer.
        self._narrowed: dict[tuple[Version, Callable[[str], bool]], tuple[DistFile, ...]] = {}
        self._lock = threading.Lock()
        # Every version newest first, sorted for this listing (_take starts another).
        self._listing = 0
        self._sorted: tuple[int, list[Version]] | None = None

    def _ensure_complete(self) -> None:
        """Read the whole page (once) when a version that was not kept is wanted."""
        if self._complete is None:
            return
        with self._lock:
            self._complete_locked()

    def _complete_locked(self) -> None:
        if self._complete is not None:
            self._take(self._complete())

    def _take(self, full: ProjectFiles) -> None:
        """Hold *full*'s entries from now on (under the lock)."""
        full._read_order()
        self._buckets, self._order, self._built = full._buckets, full._order, {}
        self._narrowed = {}
        self._unread, self._order_of = dict(full._unread), None
        self._complete = self._reread = None
        self._listing += 1

    def _read_locked(self, version: Version) -> None:
        """Read a version's entries that were left packed until it was looked at (the
        whole page, when they cannot be read)."""
        entries = self._unread.get(version)
        if entries is None:
            return
        try:
            self._buckets[version] = list(entries())
            del self._unread[version]
        except UnreadableEntries:
            if self._reread is None:
                raise
            self._take(self._reread())

    def _read_order(self) -> None:
        with self._lock:
            if self._order_of is None:
                return
            try:
                self._order, self._order_of = self._order_of(), None
            except UnreadableEntries:
                if self._reread is None:
                    raise
                self._take(self._reread())

    def _slots(self, version: Version) -> list[DistFile | None]:
        built = self._built.get(version)
        if built is not None:
            return built
        # One lock hold from "where are this version's entries" to its slots: another
        # thread may be moving entries (a version read, the whole page taken) meanwhile.
        with self._lock:
            self._locate_locked(version)
            built = self._built.get(version)
            if built is None:
                built = self._built[version] = [
                    self._file_of(entry, index, version)
                    for entry, index in self._buckets.get(version, ())
                ]
        return built

    def _locate_locked(self, version: Version) -> None:
        """Have *version*'s entries in its bucket (read, or the whole page taken)."""
        if version not in self._buckets:
            if version in self._unread:
                self._read_locked(version)
            elif version in self._known:
                self._complete_locked()

    def _file_of(self, entry: Link | PendingLink, index: str, version: Version) -> DistFile | None:
        """The DistFile of one entry of *version*'s bucket (None: not a file of this
        project and version, or not admitted)."""
        link = load_link(entry)
        made = dist_files((link,), self.project, index) if link else []
        file = made[0] if made and made[0].version == version else None
        if file is not None and self._admit is not None and not self._admit(file):
            return None
        return file

    def files_of(self, version: Version) -> tuple[DistFile, ...]:
        """The DistFiles of one version (built on first use, then kept)."""
        return tuple(f for f in self._slots(version) if f is not None)

    def files_but_wheels_refused(
        self, version: Version, wheel_ok: Callable[[str], bool]
    ) -> tuple[DistFile, ...]:
        """:meth:`files_of` *version* less the wheels whose file name *wheel_ok* refuses,
        which are not decoded at all (kept per *wheel_ok*).  A page lists a version's wheels
        for every platform and Python, and a resolution for one environment takes one or
        two of them: building all of them was most of what reading a version cost.  Once
        every file of the version is built, those are filtered instead."""
        built = self._built.get(version)
        if built is not None:
            return tuple(
                f for f in built if f is not None and (not f.is_wheel or wheel_ok(f.filename))
            )
        key = (version, wheel_ok)
        known = self._narrowed.get(key)
        if known is not None:
            return known
        with self._lock:
            self._locate_locked(version)
            known = self._narrowed.get(key)
            if known is None:
                files = []
                for entry, index in self._buckets.get(version, ()):
                    name = entry.filename
                    if name.endswith(".whl") and not wheel_ok(name):
                        continue
                    file = self._file_of(entry, index, version)
                    if file is not None:
                        files.append(file)
                known = self._narrowed[key] = tuple(files)
        return known

    def by_version(self) -> Mapping[Version, Sequence[DistFile]]:
        """Version -> files, lazily (iterating the keys builds nothing)."""
        return _Groups(self)

    def versions(self) -> set[Version]:
        # Under the lock: a prefetch thread's _read moves a version from _unread to
        # _buckets, and reading the two unlocked could fail or miss that version.
        with self._lock:
            return self._versions_locked()

    def _versions_locked(self) -> set[Version]:
        return set(self._buckets) | self._unread.keys() | self._known.keys()

    def newest_first(self) -> list[Version]:
        """Every version, newest first: sorted once per listing, not for each specifier
        the resolver asks about (a big project lists thousands of versions).  The caller
        must not change the list."""
        with self._lock:
            # A version read moves from _unread to _buckets: the set stays the same.
            cached = self._sorted
            if cached is not None and cached[0] == self._listing:
                return cached[1]
            # Sorted from the order the versions came in (mostly newest first already:
            # timsort then makes one comparison per version, not n log n).
            # Of equal versions ("1.0", "1.0.0") the kept entries' spelling is listed,
            # as the union in _versions_locked does.
            spelled = {v: v for v in self._known}
            spelled.update((v, v) for v in self._unread)
            spelled.update((v, v) for v in self._buckets)
            newest = sorted(spelled.values(), reverse=True)
            self._sorted = (self._listing, newest)
            return newest

    def _all(self) -> list[DistFile]:
        """Every file in page order.  Started again when the entries were replaced
        meanwhile (the page read again, here or by another thread): the old order's
        positions do not fit the new buckets."""
        while True:
            self._ensure_complete()
            self._read_order()
            order = self._order
            files: list[DistFile] = []
            for version, position in order:
                slots = self._slots(version)
                if self._order is not order:
                    break
                file = slots[position]
                if file is not None:
                    files.append(file)
            else:
                return files

    def __len__(self) -> int:
        return len(self._all())

    @overload
    def __getitem__(self, index: int) -> DistFile: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[DistFile]: ...
    def __getitem__(self, index: int | slice) -> DistFile | Sequence[DistFile]:
        return self._all()[index]

    def __iter__(self) -> Iterator[DistFile]:
        return iter(self._all())

    def __bool__(self) -> bool:
        return bool(self._all())
