"""``sync_env(locks, venv)``: make a virtualenv hold exactly what its locks pin.

The library behind ``lockcheck sync`` (no click, no argv).  Order of work:

1. the stamp: when the venv was synced against these very locks and its ``*.dist-info``
   listing has not changed since, answer at once (nothing else is imported or started);
2. read and merge the locks; ask the target interpreter for its markers, tags and paths;
3. plan (:func:`lockcheck.sync.plan.plan`);
4. fetch, verify and build every wheel the plan needs, in a temporary directory;
5. apply the plan as one transaction, then write the stamp.

A transaction a killed run left behind is rolled back (from its journal) before step 3, and
a distribution whose metadata says its install never finished is reinstalled.

Only this module's top-level imports run on the fast path: keep them stdlib-only.
"""

from __future__ import annotations

import configparser
import importlib
import logging
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockcheck import __version__
from lockcheck.cachedir import default_cache_dir
from lockcheck.errors import InputError
from lockcheck.settings import NetworkOptions
from lockcheck.sync import stamp
from lockcheck.sync.target import (
    base_python,
    create_venv,
    is_unfinished_venv,
    is_venv,
    venv_python,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from lockcheck.index.finder import PackageFinder
    from lockcheck.index.settings import IndexSettings
    from lockcheck.models import IndexOptions
    from lockcheck.sync.installed import InstalledDist
    from lockcheck.sync.locks import Wanted
    from lockcheck.sync.plan import SyncPlan

__all__ = ["SyncOptions", "SyncReport", "sync_env"]

_STAMP_EXTRA = f"lockcheck {__version__}"


@dataclass(frozen=True)
class SyncOptions:
    """Every knob of one sync (index options given here rank below the locks' own lines,
    above pip's configuration, as in compile)."""

    dry_run: bool = False
    #: Answer from the stamp when it matches (``--force`` turns this off).
    use_stamp: bool = True
    #: Byte-compile installed modules with the target interpreter.
    compile_bytecode: bool = False
    create: bool = True
    #: Index, TLS and cache options, as for compile (pip-sync's --pip-args among them).
    network: NetworkOptions = field(default_factory=NetworkOptions)
    environ: Mapping[str, str] | None = None
    # Told each warning (a yanked release about to be installed) before the venv changes.
    warn: Callable[[str], None] | None = None


@dataclass(frozen=True)
class SyncReport:
    """What a sync found and did."""

    venv: Path
    python: Path
    #: None when the stamp answered (nothing was read or planned).
    plan: SyncPlan | None = None
    applied: bool = False
    dry_run: bool = False
    created: bool = False
    #: ``--ask`` was declined.
    declined: bool = False
    #: A dry run found a transaction a killed sync left (a real run rolls it back first).
    interrupted: bool = False

    @property
    def from_stamp(self) -> bool:
        return self.plan is None

    @property
    def changes(self) -> bool:
        """Whether anything changed (or, in a dry run, would change)."""
        return self.interrupted or (self.plan is not None and self.plan.changes)

    def summary(self) -> str:
        if self.plan is None:
            return "Everything up-to-date"
        if self.declined:
            return "Nothing changed"
        if self.interrupted:
            return "Would roll back an interrupted sync, then plan again"
        return self.plan.summary(dry_run=self.dry_run)


def _index_settings(
    options: SyncOptions, file_opts: IndexOptions, environ: Mapping[str, str]
) -> IndexSettings:
    """compile's precedence (pip.conf < PIP_* < command line < the locks' option lines)."""
    from lockcheck.index.settings import merge_index_options

    return merge_index_options(options.network, file_opts, environ)


class _LazyFinder:
    """The finder is made on first use: a plan with nothing to fetch opens no connection."""

    def __init__(self, settings: IndexSettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self.environ = environ
        self._finder: PackageFinder | None = None

    def get(self) -> PackageFinder:
        if self._finder is None:
            from lockcheck.index.finder import PackageFinder

            self._finder = PackageFinder(self.settings, environ=self.environ)
        return self._finder

    def close(self) -> None:
        if self._finder is not None:
            self._finder.close()


def _static_name(tree: Path) -> str | None:
    """The project name a source tree declares statically (PEP 621 or setup.cfg)."""
    pyproject = tree / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        name = (data.get("project") or {}).get("name")
        if isinstance(name, str) and name:
            return name
    setup_cfg = tree / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser()
        try:
            parser.read(setup_cfg, encoding="utf-8")
            name = parser.get("metadata", "name", fallback=None)
        except (OSError, configparser.Error):
            name = None
        if name and "%" not in name and ":" not in name:
            return name
    return None


def _describe_links(
    wanted: dict[Any, Wanted],
    installed: Mapping[Any, InstalledDist],
    finder: _LazyFinder,
) -> dict[Any, Wanted]:
    """Parse each direct reference, resolve git refs to commits, and learn its real project
    name (the lock only guesses it from the path): from the installed distribution that came
    from the same place, else statically (file name, pyproject.toml), else its metadata."""
    from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

    from lockcheck.index.pages import filename_of
    from lockcheck.sync.links import direct_url_matches, with_commit

    out: dict[Any, Wanted] = {}
    for name, item in wanted.items():
        target = item.link_target()
        if target is None:
            out[name] = item
            continue
        if target.kind == "vcs" and target.commit is None:
            from lockcheck.index.vcs import GitCheckouts, parse_git_link

            git = GitCheckouts(finder.get().cache.git_dir(), offline=finder.settings.offline)
            _mirror, commit = git.commit_for(parse_git_link(target.link))
            target = with_commit(target, commit)
        real: str | None = None
        for dist in installed.values():
            if direct_url_matches(target, dist.direct_url):
                real = dist.name
                break
        if real is None:
            if target.kind == "dir" and target.path is not None:
                real = _static_name(target.path)
            elif target.kind == "archive":
                filename = target.path.name if target.path else filename_of(target.url)
                try:
                    if filename.lower().endswith(".whl"):
                        real = parse_wheel_filename(filename)[0]
                    else:
                        real = parse_sdist_filename(filename)[0]
                except ValueError:
                    real = None
        if real is None:
            meta, _file = finder.get().direct_metadata(
                item.package.link or "", base_dir=item.base_dir, editable=item.package.editable
            )
            real = meta.name
        canonical = canonicalize_name(real)
        package = item.package
        if canonical != package.name:
            package = replace(package, name=canonical, display_name=real)
        updated = replace(item, package=package, target=target)
        if canonical in out:
            raise InputError(
                f"{canonical} is locked twice (as {out[canonical].where} and {item.where})",
                file=item.lock,
                line=item.line,
            )
        out[canonical] = updated
    return out


def sync_env(
    locks: Sequence[Path],
    venv: Path,
    options: SyncOptions | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    confirm: Callable[[SyncPlan], bool] | None = None,
) -> SyncReport:
    """Make *venv* hold exactly the packages *locks* pin for its interpreter.

    *venv* is created (stdlib ``venv``, no pip) when missing, unless this is a dry run.
    *confirm* is asked with the plan before anything changes (``--ask``).  Raises
    InputError (locks), HashMismatch, IndexUnavailable, BuildError (preparation: nothing
    touched) or InstallFailed (venv restored).
    """
    options = options or SyncOptions()
    environ = dict(os.environ if options.environ is None else options.environ)
    venv = Path(os.path.abspath(venv))
    lock_paths = [Path(os.path.abspath(p)) for p in locks]
    python = venv_python(venv)

    if (
        options.use_stamp
        and python.exists()
        and stamp.is_fresh(lock_paths, venv, python, _STAMP_EXTRA)
    ):
        return SyncReport(venv, python, dry_run=options.dry_run)

    parsed = _read_locks(lock_paths, progress)
    unfinished = _check_venv(venv, dry_run=options.dry_run)
    cache_root = options.network.cache_dir or default_cache_dir(environ)

    created = False
    if unfinished or not venv.exists():
        if options.dry_run or not options.create:
            return _without_venv(parsed, options, environ, venv, python, cache_root)
        if progress:
            progress(f"creating {venv}")
        create_venv(venv)
        created = True
    try:
        return _sync_existing(
            parsed,
            venv,
            python,
            lock_paths,
            options,
            environ,
            cache_root,
            created,
            progress,
            confirm,
        )
    except BaseException:
        if created:  # the venv did not exist before this run: leave none behind
            shutil.rmtree(venv, ignore_errors=True)
        raise


def _read_locks(lock_paths: list[Path], progress: Callable[[str], None] | None) -> list[Any]:
    from lockcheck.sync.locks import read_locks

    if progress:
        progress("reading the locks")
    if not lock_paths:
        raise InputError("no lock to sync from")
    return list(read_locks(lock_paths))


def _check_venv(venv: Path, *, dry_run: bool) -> bool:
    """Whether *venv* must be made (again): a sync killed while creating it left it
    unfinished, and a real run removes it.  Anything else there must be a virtualenv."""
    unfinished = is_unfinished_venv(venv)
    if unfinished and not dry_run:
        shutil.rmtree(venv)
    if venv.exists() and not is_venv(venv):
        raise InputError(f"{venv} exists but is not a virtual environment")
    return unfinished


def _without_venv(
    parsed: Sequence[Any],
    options: SyncOptions,
    environ: Mapping[str, str],
    venv: Path,
    python: Path,
    cache_root: Path,
) -> SyncReport:
    """A dry run's plan for a venv not made yet (the base interpreter stands in), or the
    error of a run told not to create one."""
    from lockcheck.sync.interpreter import query_interpreter

    if not options.dry_run:
        raise InputError(f"the virtualenv {venv} does not exist")
    info = query_interpreter(base_python(), cache_root)
    return _dry_run_report(parsed, {}, info, options, environ, venv, python, False)


def _sync_existing(
    parsed: Sequence[Any],
    venv: Path,
    python: Path,
    lock_paths: Sequence[Path],
    options: SyncOptions,
    environ: Mapping[str, str],
    cache_root: Path,
    created: bool,
    progress: Callable[[str], None] | None,
    confirm: Callable[[SyncPlan], bool] | None,
) -> SyncReport:
    from lockcheck.crashpoint import crash_point
    from lockcheck.sync.apply import recover, venv_lock
    from lockcheck.sync.installed import installed_distributions
    from lockcheck.sync.interpreter import query_interpreter
    from lockcheck.sync.locks import merge_locks, require_hashes
    from lockcheck.sync.plan import plan
    from lockcheck.sync.staging import remove_abandoned

    info = query_interpreter(python, cache_root)
    if options.dry_run:
        from lockcheck.sync.journal import has_pending

        installed = installed_distributions(info.site_packages)
        report = _dry_run_report(parsed, installed, info, options, environ, venv, python, created)
        return replace(report, interrupted=has_pending(venv))

    with venv_lock(venv, waiting=progress):
        remove_abandoned()  # what killed syncs downloaded
        if recover(venv):
            logging.getLogger(__name__).warning(
                "%s: rolled back a sync that was interrupted before it finished", venv
            )
        env = info.environment
        merged = merge_locks(parsed, env)
        require_hashes(merged.wanted.values())
        index_settings = _index_settings(options, merged.options, environ)
        finder = _LazyFinder(index_settings, environ)
        try:
            installed = installed_distributions(info.site_packages)
            wanted = _describe_links(merged.wanted, installed, finder)
            the_plan = plan(replace(merged, wanted=wanted), installed, env)
            if not the_plan.changes:
                stamp.write(lock_paths, venv, python, _STAMP_EXTRA)
                return SyncReport(venv, python, the_plan, created=created)
            if confirm is not None and not confirm(the_plan):
                return SyncReport(venv, python, the_plan, created=created, declined=True)
            _execute(
                the_plan, merged, info, index_settings, finder, options, venv, cache_root, progress
            )
        finally:
            finder.close()
        crash_point("stamp")
        stamp.write(lock_paths, venv, python, _STAMP_EXTRA)
        return SyncReport(venv, python, the_plan, applied=True, created=created)


def _dry_run_report(
    parsed: Sequence[Any],
    installed: Mapping[Any, InstalledDist],
    info: Any,
    options: SyncOptions,
    environ: Mapping[str, str],
    venv: Path,
    python: Path,
    created: bool,
) -> SyncReport:
    from lockcheck.sync.locks import merge_locks, require_hashes
    from lockcheck.sync.plan import plan

    env = info.environment
    merged = merge_locks(parsed, env)
    require_hashes(merged.wanted.values())
    finder = _LazyFinder(_index_settings(options, merged.options, environ), environ)
    try:
        wanted = _describe_links(merged.wanted, installed, finder)
    finally:
        finder.close()
    the_plan = plan(replace(merged, wanted=wanted), installed, env)
    return SyncReport(venv, python, the_plan, dry_run=True, created=created)


def _execute(
    the_plan: SyncPlan,
    merged: Any,
    info: Any,
    index_settings: IndexSettings,
    finder: _LazyFinder,
    options: SyncOptions,
    venv: Path,
    cache_root: Path,
    progress: Callable[[str], None] | None,
) -> None:
    from lockcheck.resolve.candidates import FormatControl
    from lockcheck.sync.apply import apply_plan, check_removable, compile_bytecode
    from lockcheck.sync.fetch import prepare_wheels
    from lockcheck.sync.staging import Staging

    # Everything the transaction needs is imported before anything is removed: the venv
    # may be the one lockcheck runs from.
    for module in (
        "installer",
        "installer.destinations",
        "installer.records",
        "installer.sources",
        "installer.utils",
        "lockcheck.sync.linkinstall",
        "lockcheck.sync.unpacked",
    ):
        importlib.import_module(module)

    formats = FormatControl(
        only_binary=merged.options.only_binary, no_binary=merged.options.no_binary
    )
    check_removable(the_plan.removals)  # before any download: fail fast
    staging = Staging()
    try:
        wheels = prepare_wheels(
            the_plan.actions,
            finder=finder.get() if the_plan.installs else None,  # type: ignore[arg-type]
            settings=index_settings,
            env=info.environment,
            formats=formats,
            staging=staging.path,
            cache_root=cache_root,
            progress=progress,
            warn=options.warn,
        )
        stamp.clear(venv)
        apply_plan(the_plan.removals, wheels, venv=venv, info=info, progress=progress)
        if options.compile_bytecode and wheels:
            compile_bytecode(info.python, wheels, info)
    finally:
        staging.remove()
