"""Turn every install action into a verified wheel on disk, before the venv is touched.

For a pin: pick the file pip would pick for the *target* interpreter (its tags and
Requires-Python; a file whose hash the lock lists first), download it through the shared
cache (the finder checks the index's hashes), check it against the lock's ``--hash`` lines,
and build it when it is an sdist.  Direct references are fetched, checked out or built the
same way; editables get a PEP 660 wheel.  Downloads run in parallel, builds two at a time;
the first failure stops everything and nothing has been installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.specifiers import SpecifierSet
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)

from lockcheck.errors import HashMismatch, InstallFailed
from lockcheck.models import DistFile
from lockcheck.resolve.candidates import FormatControl, applicable_versions
from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.sync.links import LinkTarget, with_commit
from lockcheck.sync.plan import Action
from lockcheck.sync.unpacked import UnpackedWheel, claim_cache, find_unpacked, unpack_wheel
from lockcheck.yanked import yanked_release

if TYPE_CHECKING:
    from lockcheck.index.finder import PackageFinder
    from lockcheck.index.settings import IndexSettings

__all__ = ["PreparedWheel", "check_lock_hashes", "choose_file", "prepare_wheels"]

_BUILD_SLOTS = 2
_MAX_DOWNLOADS = 8


@dataclass(frozen=True)
class PreparedWheel:
    """A wheel ready to install for one action, and the PEP 610 data to record with it."""

    action: Action
    #: The verified archive; None when the unpacked cache already held it (not downloaded).
    wheel: Path | None
    direct_url: Mapping[str, Any] | None = None
    #: The wheel unpacked in the cache, installed by linking its files.
    unpacked: UnpackedWheel | None = None

    @property
    def filename(self) -> str:
        if self.unpacked is not None:
            return self.unpacked.filename
        assert self.wheel is not None
        return self.wheel.name


def choose_file(
    files: Iterable[DistFile],
    version: object,
    env: TargetEnvironment,
    formats: frozenset[str],
    allowed_sha256: Iterable[str] = (),
) -> DistFile | None:
    """The file pip would install for ``==version`` on *env*: files whose sha256 the lock
    lists first (pip's hash-checking preference), then pip's ranking (best wheel tag, then
    the sdist)."""
    same = [f for f in files if f.version == version]
    spec = SpecifierSet(f"=={version}")
    allowed = {h.lower() for h in allowed_sha256}
    pools = []
    if allowed:
        pools.append([f for f in same if (f.hashes.get("sha256") or "").lower() in allowed])
    pools.append(same)
    for pool in pools:
        choices = applicable_versions(pool, env, spec, formats, allow_prereleases=True)
        if choices:
            return choices[0].best_file
    return None


def _sha256s(package: Any) -> frozenset[str]:
    """The sha256 values a lock entry allows, lower case."""
    return frozenset(h.split(":", 1)[1].lower() for h in package.hashes if h.startswith("sha256:"))


def _digests(path: Path, algorithms: Iterable[str]) -> dict[str, str]:
    hashers = {a: hashlib.new(a) for a in set(algorithms) if a in hashlib.algorithms_available}
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            for hasher in hashers.values():
                hasher.update(block)
    return {a: h.hexdigest() for a, h in hashers.items()}


def check_lock_hashes(path: Path, hashes: Sequence[str], *, name: str, where: Any) -> str:
    """Raise HashMismatch unless *path* matches one of the lock's ``alg:hex`` hashes;
    returns the file's sha256."""
    wanted: dict[str, set[str]] = {}
    for item in hashes:
        algorithm, _, value = item.partition(":")
        wanted.setdefault(algorithm.lower(), set()).add(value.lower())
    digests = _digests(path, {"sha256", *wanted})
    if wanted and not any(digests.get(a) in values for a, values in wanted.items()):
        shown = ", ".join(f"{a}:{digests[a]}" for a in sorted(wanted) if a in digests)
        raise HashMismatch(
            f"{path.name} does not match any hash locked for {name} (got {shown or 'nothing'})",
            file=where.lock,
            line=where.line,
        )
    return digests["sha256"]


def _wheel_identity(wheel: Path) -> tuple[str, object, frozenset[Any]]:
    try:
        name, version, _build, tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as exc:
        raise InstallFailed(f"the build produced {wheel.name}, not a valid wheel") from exc
    return name, version, tags


class _Preparer:
    """Shared state of one preparation run (thread-safe)."""

    def __init__(
        self,
        *,
        finder: PackageFinder,
        settings: IndexSettings,
        env: TargetEnvironment,
        formats: FormatControl,
        staging: Path,
        cache_root: Path | None,
        progress: Callable[[str], None] | None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.finder = finder
        self.warn = warn
        self.settings = settings
        self.env = env
        self.formats = formats
        self.staging = staging
        self.cache_root = cache_root
        #: The unpacked-wheel cache's root once this process has claimed it (None: install
        #: from the archives; another process is pruning it, or it cannot be locked).
        self.unpacked_root: Path | None = None
        self.progress = progress
        self._builds = threading.BoundedSemaphore(_BUILD_SLOTS)
        self._git_lock = threading.Lock()
        self._git: Any = None

    def say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)

    def workdir(self, action: Action) -> Path:
        path = self.staging / action.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- building ------------------------------------------------------------------------

    def _compatible(self, wheel: Path) -> bool:
        _name, _version, tags = _wheel_identity(wheel)
        return any(t in self.env.tag_priority for t in tags)

    def build(self, source: Path, out_dir: Path, label: str, cache_key: str | None) -> Path:
        """A wheel of an sdist or source tree, from the built-wheel cache when possible."""
        cache_dir = None
        if cache_key and self.cache_root is not None:
            cache_dir = self.cache_root / "v1" / "built-wheels" / cache_key[:2] / cache_key
            for cached in sorted(cache_dir.glob("*.whl")) if cache_dir.is_dir() else ():
                if self._compatible(cached):
                    return cached
        from lockcheck.build import build_wheel

        self.say(f"building {label}")
        with self._builds:
            wheel = build_wheel(
                source,
                out_dir,
                isolation=self.settings.build_isolation,
                index_env=self.settings.pip_env(),
            )
        if not self._compatible(wheel):
            raise InstallFailed(
                f"the wheel built from {label} ({wheel.name}) does not fit the target "
                f"interpreter (Python {self.env.python_full_version})",
                hint="the build ran with lockcheck's own interpreter; sync from a lockcheck "
                "running on the target's Python version",
            )
        if cache_dir is not None and self.cache_root is not None:
            tmp = cache_dir / f".{wheel.name}.{os.getpid()}.tmp"
            try:
                cache_dir.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(wheel, tmp)
                os.replace(tmp, cache_dir / wheel.name)
            except OSError as exc:  # the cache is an optimisation: say so once, go on
                from lockcheck.cachedir import warn_unwritable

                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
                warn_unwritable(self.cache_root, exc)
        return wheel

    # -- one action ----------------------------------------------------------------------

    def prepare(self, action: Action) -> PreparedWheel:
        wanted = action.wanted
        assert wanted is not None
        target = wanted.link_target()
        if target is None:
            return self._pinned(action)
        wheel, direct_url = self._direct(action, target)
        name, _version, _tags = _wheel_identity(wheel)
        if canonicalize_name(name) != action.name:
            raise InstallFailed(
                f"{target.show()} is {name}, not {action.name} as the lock says",
                file=wanted.lock,
                line=wanted.line,
            )
        return PreparedWheel(action, wheel, direct_url)

    def unpack(self, wheel: Path, sha256: str) -> UnpackedWheel | None:
        """*wheel* (verified, *sha256* of its bytes) unpacked in the cache; None without a
        writable cache (it is then installed from the archive)."""
        root = self.unpacked_root
        if root is None:
            return None
        try:
            return unpack_wheel(wheel, sha256, root)
        except OSError as exc:  # the cache is an optimisation: say so once, go on
            from lockcheck.cachedir import warn_unwritable

            warn_unwritable(root, exc)
            return None

    def _pinned(self, action: Action) -> PreparedWheel:
        return self.fetch(action, self.choose(action))

    def answers_locally(self, action: Action) -> bool:
        """Whether :meth:`choose` can answer for *action* without a server: a pin whose
        files the lock names, or whose index pages are fresh in the cache."""
        wanted = action.wanted
        if wanted is None or wanted.link_target() is not None:
            return False
        return bool(wanted.package.files) or self.finder.answers_locally(wanted.package.name)

    def choose(self, action: Action) -> DistFile:
        """The file to install for a pin (InstallFailed when none fits); a yanked release
        is reported here, once."""
        wanted = action.wanted
        assert wanted is not None
        package = wanted.package
        assert package.version is not None  # a pin, not a direct reference (see prepare)
        # A pylock.toml names the exact files; a requirements.txt leaves them to the index.
        # Only the pinned version's files are built from the index page (the whole list
        # would build, and for a big page read again in full, every release's files).
        files = list(package.files) or list(
            self.finder.project_versions(package.name)[package.version]
        )
        chosen = choose_file(
            files, package.version, self.env, self.formats.allowed(package.name), _sha256s(package)
        )
        if chosen is None:
            same = sum(1 for f in files if f.version == package.version)
            raise InstallFailed(
                f"no file of {package.name}=={package.version} can be installed on Python "
                f"{self.env.python_full_version} ({self.env.markers.get('sys_platform')}, "
                f"{self.env.markers.get('platform_machine')}): {same} file(s) found, none fits",
                file=wanted.lock,
                line=wanted.line,
            )
        yanked = yanked_release(package.name, package.version, files)
        if yanked is not None and self.warn is not None:
            self.warn(f"installing {yanked.message()}")
        return chosen

    def cached(self, action: Action, chosen: DistFile) -> PreparedWheel | None:
        """*chosen* from the unpacked cache, when it holds it: a wheel unpacked before
        stands for bytes that hashed to its key, so when the lock allows that hash (or
        locks none, and it is the index's), nothing is downloaded."""
        assert action.wanted is not None
        package = action.wanted.package
        index_sha256 = (chosen.hashes.get("sha256") or "").lower()
        if chosen.is_wheel and (index_sha256 in _sha256s(package) or not package.hashes):
            found = find_unpacked(self.unpacked_root, index_sha256)
            if found is not None:
                return PreparedWheel(action, None, unpacked=found)
        return None

    def fetch(self, action: Action, chosen: DistFile) -> PreparedWheel:
        """*chosen*, from the unpacked cache or downloaded, verified (and built)."""
        return self.cached(action, chosen) or self.download(action, chosen)

    def download(self, action: Action, chosen: DistFile) -> PreparedWheel:
        """*chosen* downloaded, verified (and built): the unpacked cache does not hold it."""
        wanted = action.wanted
        assert wanted is not None
        package = wanted.package
        self.say(f"downloading {chosen.filename}")
        path = self.finder.download(chosen, self.workdir(action))
        sha256 = check_lock_hashes(path, package.hashes, name=package.name, where=wanted)
        if chosen.is_wheel:
            return PreparedWheel(action, path, unpacked=self.unpack(path, sha256))
        wheel = self.build(path, self.workdir(action) / "built", chosen.filename, f"s{sha256}")
        name, version, _tags = _wheel_identity(wheel)
        if canonicalize_name(name) != package.name or version != package.version:
            raise InstallFailed(
                f"{chosen.filename} built {wheel.name}, not {package.name} {package.version}",
                file=wanted.lock,
                line=wanted.line,
            )
        return PreparedWheel(action, wheel)

    def _direct(self, action: Action, target: LinkTarget) -> tuple[Path, dict[str, Any]]:
        wanted = action.wanted
        assert wanted is not None
        work = self.workdir(action)
        if target.kind == "dir":
            assert target.path is not None
            if target.editable:
                from lockcheck.sync.editable import build_editable

                self.say(f"building editable {target.path}")
                with self._builds:
                    wheel = build_editable(
                        target.path,
                        work / "built",
                        isolation=self.settings.build_isolation,
                        index_env=self.settings.pip_env(),
                    )
            else:
                wheel = self.build(target.path, work / "built", str(target.path), None)
            return wheel, target.direct_url()
        if target.kind == "vcs":
            tree, commit = self._checkout(target)
            key = hashlib.sha256(f"{commit}\0{target.subdirectory or ''}".encode()).hexdigest()
            wheel = self.build(tree, work / "built", target.show(), f"g{key}")
            return wheel, with_commit(target, commit).direct_url()
        # An archive: a local path or a URL.
        if target.path is not None:
            if not target.path.is_file():
                raise InstallFailed(
                    f"{target.path} does not exist", file=wanted.lock, line=wanted.line
                )
            path = target.path
        else:
            from lockcheck.index.pages import filename_of
            from lockcheck.index.urls import strip_fragment

            base = strip_fragment(target.link)[0]
            filename = filename_of(target.url)
            probe = DistFile(
                filename=filename,
                url=base,
                name=action.name,
                version=wanted.package.version or _zero(),
                is_wheel=filename.lower().endswith(".whl"),
                hashes={},
            )
            self.say(f"downloading {filename}")
            path = self.finder.download(probe, work)
        lock_hashes = [*wanted.package.hashes, *(f"{a}:{v}" for a, v in target.hashes.items())]
        sha256 = check_lock_hashes(path, lock_hashes, name=action.name, where=wanted)
        if path.name.lower().endswith(".whl"):
            if not self._compatible(path):
                raise InstallFailed(
                    f"{path.name} does not fit the target interpreter "
                    f"(Python {self.env.python_full_version})",
                    file=wanted.lock,
                    line=wanted.line,
                )
            wheel = path
        else:
            wheel = self.build(path, work / "built", path.name, f"s{sha256}")
        return wheel, target.direct_url(archive_sha256=sha256)

    def _checkout(self, target: LinkTarget) -> tuple[Path, str]:
        """A working tree at the target's commit (resolved already when planning, so the
        mirror is not fetched a second time)."""
        from dataclasses import replace

        from lockcheck.index.vcs import GitCheckouts, parse_git_link

        with self._git_lock:
            if self._git is None:
                self._git = GitCheckouts(self.finder.cache.git_dir(), offline=self.settings.offline)
        link = parse_git_link(target.link)
        if target.commit:
            link = replace(link, ref=target.commit)
        self.say(f"checking out {target.show()}")
        return self._git.checkout(link)


def _zero() -> Any:
    from packaging.version import Version

    return Version("0")


def prepare_wheels(
    actions: Sequence[Action],
    *,
    finder: PackageFinder,
    settings: IndexSettings,
    env: TargetEnvironment,
    staging: Path,
    formats: FormatControl | None = None,
    cache_root: Path | None = None,
    progress: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[PreparedWheel]:
    """A verified wheel for every action that installs something, in *actions*' order.

    Files land in *staging* (the caller's directory, which it removes: see
    :mod:`lockcheck.sync.staging`).  Raises on the first failure (HashMismatch,
    IndexUnavailable, BuildError, InstallFailed); nothing is installed here.
    """
    todo = [a for a in actions if a.needs_file]
    if not todo:
        return []
    preparer = _Preparer(
        finder=finder,
        settings=settings,
        env=env,
        formats=formats or FormatControl(),
        staging=staging,
        cache_root=cache_root,
        progress=progress,
        warn=warn,
    )
    if cache_root is not None and claim_cache(cache_root):
        preparer.unpacked_root = cache_root
    results: dict[int, PreparedWheel] = {}
    # What the caches answer is prepared here, in order, before the pool starts: on pool
    # threads it would only contend for the interpreter lock (a warm data-science sync's
    # 112 look-ups took 0.18-0.25 s on eight threads, ~0.1 s here).  The pool is for
    # downloads, builds and the pages a server must be asked for.
    remote: list[tuple[int, Callable[[], PreparedWheel]]] = []
    for index, action in enumerate(todo):
        if not preparer.answers_locally(action):
            remote.append((index, partial(preparer.prepare, action)))
            continue
        chosen = preparer.choose(action)
        found = preparer.cached(action, chosen)
        if found is not None:
            results[index] = found
        else:
            remote.append((index, partial(preparer.download, action, chosen)))
    if remote:
        results.update(_run_pool(remote))
    return [results[i] for i in range(len(todo))]


def _run_pool(work: Sequence[tuple[int, Callable[[], PreparedWheel]]]) -> dict[int, PreparedWheel]:
    """Run each piece of *work* on a pool; raise the failure first in plan order."""
    results: dict[int, PreparedWheel] = {}
    pool = ThreadPoolExecutor(max_workers=min(_MAX_DOWNLOADS, len(work)))
    try:
        futures = {pool.submit(call): index for index, call in work}
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        failed = [f for f in done if f.exception() is not None]
        if failed:
            # Report the failure of the first action in plan order (deterministic).
            first = min(failed, key=lambda f: futures[f])
            wait(pending)
            raise first.exception()  # type: ignore[misc]
        for future, index in futures.items():
            results[index] = future.result()
    except KeyboardInterrupt:
        # Not the executor's own exit, which would wait for every download in flight.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results
