"""The locks a sync installs from, read and merged into one wanted set.

Several locks (``requirements.txt`` + ``requirements-dev.txt``) describe one venv: every
entry whose marker holds for the target interpreter is wanted; the same project pinned to two
different versions (or two different sources) is an error naming both places.  Hashes follow
pip's ``--require-hashes``: as soon as one entry carries ``--hash``, every pin must.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.utils import NormalizedName

from lockcheck.errors import InputError
from lockcheck.lockfile.reader import ParsedLock, read_lock
from lockcheck.models import IndexOptions, LockedPackage
from lockcheck.references import DirectReference
from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.sync.links import LinkTarget, parse_link

__all__ = ["MergedLocks", "Wanted", "merge_locks", "read_locks", "require_hashes"]

_HASH_FRAGMENT = re.compile(r"[#&](sha256|sha384|sha512)=[0-9a-fA-F]+")


@dataclass(frozen=True)
class Wanted:
    """One locked entry and where it comes from."""

    package: LockedPackage
    lock: Path
    line: int
    #: Where a direct reference installs from (filled in by the engine, which may resolve a
    #: git ref to its commit); see :meth:`link_target`.
    target: LinkTarget | None = None

    def link_target(self) -> LinkTarget | None:
        """The direct reference's LinkTarget (parsed now when not filled in), None for pins."""
        if self.package.link is None:
            return None
        if self.target is not None:
            return self.target
        return parse_link(
            self.package.link,
            base_dir=self.base_dir,
            editable=self.package.editable,
            hashes=self.package.hashes,
        )

    @property
    def name(self) -> NormalizedName:
        return self.package.name

    @property
    def base_dir(self) -> Path:
        """Relative links (``-e ./pkg``) are taken relative to the lock's directory."""
        return self.lock.parent

    @property
    def where(self) -> str:
        return f"{self.lock}:{self.line}"

    @property
    def is_link(self) -> bool:
        return self.package.link is not None


@dataclass(frozen=True)
class MergedLocks:
    """The wanted set: applicable entries by name, entries whose marker does not hold, and
    the locks' index options merged."""

    wanted: dict[NormalizedName, Wanted]
    skipped: tuple[Wanted, ...] = ()
    options: IndexOptions = field(default_factory=IndexOptions)


def _read_one(path: Path) -> ParsedLock:
    if path.suffix == ".toml" and path.name.startswith("pylock."):
        # PEP 751: the same ParsedLock shape, each pin carrying its exact files.
        from lockcheck.lockfile.pylock import read_pylock

        return read_pylock(path)
    return read_lock(path)


def read_locks(paths: Iterable[Path]) -> list[ParsedLock]:
    """Parse every lock, requirements.txt or ``pylock[.name].toml`` (absolute paths, so
    errors and relative links are unambiguous)."""
    return [_read_one(Path(os.path.abspath(p))) for p in paths]


def _check_lock_environment(lock: ParsedLock, env: TargetEnvironment) -> None:
    """A pylock.toml says which environments and Pythons it is for: refuse others."""
    where = lock.path or "<lock>"
    requires_python = getattr(lock, "requires_python", None)
    if requires_python is not None and not requires_python.contains(env.version, prereleases=True):
        raise InputError(
            f"this lock requires Python {requires_python}; the target is {env.python_full_version}",
            file=where,
        )
    environments = getattr(lock, "environments", None)
    if environments and not any(env.evaluate(marker) for marker in environments):
        shown = " | ".join(str(m) for m in environments)
        raise InputError(
            f"this lock is for other environments ({shown}), not the target's",
            file=where,
        )


def _same_source(a: LockedPackage, b: LockedPackage, a_dir: Path, b_dir: Path) -> bool:
    if (a.link is None) != (b.link is None) or a.editable != b.editable:
        return False
    if a.link is None or b.link is None:
        return a.version == b.version
    return DirectReference.parse(a.link).place(a_dir) == DirectReference.parse(b.link).place(b_dir)


def _show(package: LockedPackage) -> str:
    if package.link is not None:
        return f"{'-e ' if package.editable else ''}{package.link}"
    return f"=={package.version}"


def _merge_pair(first: Wanted, second: Wanted) -> Wanted:
    a, b = first.package, second.package
    if not _same_source(a, b, first.base_dir, second.base_dir):
        raise InputError(
            f"{a.name} is locked as {_show(a)} in {first.where} but as {_show(b)} in "
            f"{second.where}",
            file=second.lock,
            line=second.line,
            hint="the locks given together must agree on every package they share",
        )
    hashes = a.hashes
    if a.hashes and b.hashes:
        hashes = tuple(sorted(set(a.hashes) & set(b.hashes)))
        if not hashes:
            raise InputError(
                f"{a.name} has no hash in common between {first.where} and {second.where}",
                file=second.lock,
                line=second.line,
            )
    elif b.hashes:
        hashes = b.hashes
    return replace(first, package=replace(a, hashes=hashes))


def _merge_options(locks: Sequence[ParsedLock]) -> IndexOptions:
    """pip reading several ``-r`` files: the first ``--index-url`` is the index; other
    locks' differing index URLs become extra indexes, so their packages stay reachable.
    URLs naming the same index (``https://****@h/simple/``, ``https://u:****@h/simple``)
    count once."""
    index_url: str | None = None
    extras: list[str] = []
    find_links: list[str] = []
    trusted: list[str] = []
    no_index = pre = False
    only_binary: set[str] = set()
    no_binary: set[str] = set()
    for lock in locks:
        opts = lock.options
        if opts.index_url:
            if index_url is None:
                index_url = opts.index_url
            else:
                extras.append(opts.index_url)
        extras.extend(opts.extra_index_urls)
        base = lock.path.parent if lock.path else Path.cwd()
        for location in opts.find_links:
            candidate = base / location
            if "://" not in location and not os.path.isabs(location) and candidate.exists():
                location = str(candidate)
            find_links.append(location)
        trusted.extend(opts.trusted_hosts)
        no_index = no_index or opts.no_index
        pre = pre or opts.pre
        only_binary |= opts.only_binary
        no_binary |= opts.no_binary
    return IndexOptions(
        index_url=index_url,
        no_index=no_index,
        extra_index_urls=_one_per_index(extras, index_url),
        find_links=tuple(dict.fromkeys(find_links)),
        trusted_hosts=tuple(dict.fromkeys(trusted)),
        pre=pre,
        only_binary=frozenset(only_binary),
        no_binary=frozenset(no_binary),
    )


def _one_per_index(urls: Iterable[str], main: str | None) -> tuple[str, ...]:
    """*urls* in order, the first of each index only, without the *main* index."""
    from lockcheck.index.urls import location_key

    seen = {location_key(main)} if main else set()
    unique = []
    for url in urls:
        if location_key(url) not in seen:
            seen.add(location_key(url))
            unique.append(url)
    return tuple(unique)


def merge_locks(locks: Sequence[ParsedLock], env: TargetEnvironment) -> MergedLocks:
    """Entries of every lock whose marker holds on *env*, merged by project name."""
    wanted: dict[NormalizedName, Wanted] = {}
    skipped: list[Wanted] = []
    for lock in locks:
        _check_lock_environment(lock, env)
        path = lock.path or Path("<lock>")
        for entry in lock.entries:
            if entry.commented:  # "# pip" in the unsafe section: not pinned, nothing to do
                continue
            item = Wanted(entry.package, Path(path), entry.line)
            if not env.evaluate(entry.package.marker):
                skipped.append(item)
                continue
            known = wanted.get(item.name)
            wanted[item.name] = item if known is None else _merge_pair(known, item)
    skipped = [s for s in skipped if s.name not in wanted]
    return MergedLocks(wanted, tuple(skipped), _merge_options(locks))


def require_hashes(wanted: Iterable[Wanted]) -> bool:
    """pip's hash-checking mode: on when any entry has ``--hash``; then every pin and every
    archive reference must have one (InputError otherwise).  Editables, directories and VCS
    references carry no file to hash and are accepted (pip refuses them outright); an
    archive URL with a ``#sha256=`` fragment is checked against it."""
    items = list(wanted)
    if not any(w.package.hashes for w in items):
        return False
    for item in sorted(items, key=lambda w: (str(w.lock), w.line)):
        package = item.package
        if package.hashes or package.editable:
            continue
        link = package.link or ""
        if link and (
            DirectReference.parse(link).kind == "vcs"
            or _HASH_FRAGMENT.search(link)
            or _is_dir(item)
        ):
            continue
        raise InputError(
            f"{package.name} has no --hash, but other entries do: with hashes, every "
            "package must have them (pip's --require-hashes)",
            file=item.lock,
            line=item.line,
        )
    return True


def _is_dir(item: Wanted) -> bool:
    reference = DirectReference.parse(item.package.link or "")
    return reference.is_local and reference.local_path(item.base_dir).is_dir()
