"""``compile_lock``: inputs -> index -> resolve -> requirements.txt text.

The library entry point behind ``lockcheck compile``; it sees no click and no argv, only a
frozen :class:`CompileSettings`, so tests, bots and ``check`` can call it in-process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name

from lockcheck.errors import IndexUnavailable, InputError
from lockcheck.index.settings import merge_index_options
from lockcheck.inputs.selection import read_settings_inputs
from lockcheck.lockfile.command import header_command
from lockcheck.lockfile.existing import is_pylock_output, read_any_lock
from lockcheck.models import IndexOptions, ParsedInputs, Resolution
from lockcheck.paths import default_output_for, discover_inputs
from lockcheck.settings import CompileSettings, TargetOptions, format_control, target_python
from lockcheck.yanked import yanked_release

if TYPE_CHECKING:
    from lockcheck.index.finder import PackageFinder
    from lockcheck.lockfile.reader import ParsedLock
    from lockcheck.resolve.environment import TargetEnvironment
    from lockcheck.resolve.resolver import ExistingPin, ResolveRequest

__all__ = [
    "CompileResult",
    "CompileSettings",
    "compile_lock",
    "expected_options_block",
]


@dataclass(frozen=True)
class CompileResult:
    text: str
    output_file: Path | None
    previous_text: str | None
    resolution: Resolution
    inputs: ParsedInputs
    # What the index could not tell (sources the cut-off could not judge).
    notices: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.previous_text != self.text

    def yanked_pins(self) -> list[str]:
        """``name==version is yanked: reason`` for each pin whose file the target installs
        is yanked (then so is every file it could install: a yanked one is taken only when
        no other is left), or, in a universal lock, whose every file is.

        PEP 592 lets only an exact pin choose such a release; pip warns when it does, so
        the reader learns why the release was pulled before shipping it.
        """
        # A universal lock keys a package pinned at two versions "name@version": use .name.
        found = (
            yanked_release(p.name, p.version, p.files if p.chosen_file is None else [p.chosen_file])
            for p in self.resolution.packages.values()
            if p.version is not None  # a direct reference has no index release to yank
        )
        return sorted(y.message() for y in found if y is not None)

    def warnings(self) -> list[str]:
        """Every warning of the run, each once: unjudged sources, then yanked pins."""
        return [*self.notices, *self.yanked_pins()]


def compile_lock(
    settings: CompileSettings, *, progress: Callable[[str], None] | None = None
) -> CompileResult:
    """Resolve the inputs and render the lock text (writing is the caller's choice)."""
    from lockcheck.index.finder import PackageFinder

    environ = dict(os.environ if settings.environ is None else settings.environ)
    cwd = (settings.cwd or Path.cwd()).resolve()
    src_files = settings.target.src_files or discover_inputs(cwd)
    output, as_pylock = _output(settings.target, src_files, cwd)
    # Before any network: a bad WHEN is an input error; one clock reading for the run.
    cutoff = None
    if settings.resolution.exclude_newer or settings.resolution.exclude_newer_package:
        from lockcheck.cutoff import CutOff  # here: datetime and the parser, only when asked

        cutoff = CutOff.from_settings(
            settings.resolution.exclude_newer, settings.resolution.exclude_newer_package
        )
    target = replace(settings.target, src_files=src_files)
    inputs = _read_inputs(replace(settings, target=target), cwd, environ)
    index_settings = merge_index_options(settings.network, inputs.options, environ)
    finder = PackageFinder(index_settings, cutoff=cutoff)
    try:
        # The inputs' own pages are fetched while the rest of the run gets ready (imports,
        # the previous lock): the resolver's first question is about them.
        finder.prefetch_pages(
            r.requirement.name for r in inputs.requirements if r.requirement is not None
        )
        run = _Run(settings, finder, inputs, src_files, cwd, environ, output, as_pylock)
        return run.resolve_and_render(progress)
    finally:
        finder.close()


def _output(
    target: TargetOptions, src_files: tuple[Path, ...], cwd: Path
) -> tuple[Path | None, bool]:
    """The lock to write (None: standard output) and whether it is a pylock.toml."""
    stdout = target.output_file is not None and str(target.output_file) == "-"
    default = default_output_for(src_files, cwd)
    if target.lock_format == "pylock":
        default = default.parent / "pylock.toml"
    output = None if stdout else (target.output_file or default)
    as_pylock = target.lock_format == "pylock" or (
        output is not None and target.lock_format is None and is_pylock_output(output)
    )
    if output is not None and not output.is_absolute():
        output = cwd / output
    if output is not None and output.resolve() in {
        (cwd / s).resolve() for s in src_files if str(s) != "-"
    }:
        raise InputError(f"the output file {output.name} is also an input")
    return output, as_pylock


def _read_inputs(settings: CompileSettings, cwd: Path, environ: dict[str, str]) -> ParsedInputs:
    """The inputs, remote requirement files fetched with the project's index settings."""
    from lockcheck.index.remotefiles import RemoteFileFetcher

    pre_index = merge_index_options(settings.network, IndexOptions(), environ)
    with RemoteFileFetcher(pre_index, environ=environ) as fetch:
        inputs = read_settings_inputs(settings, cwd, environ, pre_index.pip_env(), fetch=fetch)
    if inputs.unchecked_remote:  # offline with no copy: never compile without a file
        raise IndexUnavailable(
            f"offline mode: no cached copy of {inputs.unchecked_remote[0]}",
            hint="run once without --offline to fill the cache",
        )
    return inputs


@dataclass(frozen=True)
class _Previous:
    """The lock on disk before this run: its text (None: none) and what it says."""

    text: str | None
    lock: ParsedLock | None

    @classmethod
    def read(cls, output: Path | None) -> _Previous:
        text = None
        if output is not None and output.is_file():
            # Untranslated, so --newline=preserve sees CRLF.
            text = output.read_bytes().decode("utf-8", errors="replace")
        lock = read_any_lock(text or "", output) if (text or "").strip() else None
        return cls(text, lock)

    def pins(self) -> dict[NormalizedName, ExistingPin]:
        """The exact pins to prefer (not editable ones, nor direct references)."""
        from lockcheck.resolve.resolver import ExistingPin

        existing: dict[NormalizedName, ExistingPin] = {}
        for entry in self.lock.entries if self.lock is not None else ():
            pkg = entry.package
            if entry.commented or pkg.version is None or pkg.editable or pkg.link:
                continue
            existing[pkg.name] = ExistingPin(pkg.name, pkg.version, tuple(pkg.hashes))
        return existing


@dataclass(frozen=True)
class _Run:
    """compile_lock's second half, with the index already at work."""

    settings: CompileSettings
    finder: PackageFinder
    inputs: ParsedInputs
    src_files: tuple[Path, ...]
    cwd: Path
    environ: dict[str, str]
    output: Path | None
    as_pylock: bool

    def resolve_and_render(self, progress: Callable[[str], None] | None) -> CompileResult:
        settings = self.settings
        previous = _Previous.read(self.output)
        env = _target_environment(settings.target, previous.text)
        style = _header_style(settings, previous.lock, self.as_pylock)
        # Before resolving: an option the pip-compile style cannot carry fails at once.
        command = None if self.as_pylock else self.command(style)
        request = self.request(previous, env, progress)
        resolution = self.resolve(request, previous, env, progress)
        if self.as_pylock:
            from lockcheck.lockfile.pylock import with_file_hashes

            resolution = with_file_hashes(resolution, self.finder.sha256)
            text = self.render_pylock(resolution, env)
        else:
            text = self.render_requirements(resolution, request, previous.text, style, command)
        notices = _notices(self.finder)
        return CompileResult(text, self.output, previous.text, resolution, self.inputs, notices)

    def command(self, style: str = "lockcheck") -> str:
        return header_command(self.settings, self.src_files, self.output, self.cwd, style=style)

    def request(
        self,
        previous: _Previous,
        env: TargetEnvironment,
        progress: Callable[[str], None] | None,
    ) -> ResolveRequest:
        from lockcheck.resolve.resolver import ResolveRequest, parse_upgrade_package

        settings, inputs = self.settings, self.inputs
        upgrade_packages = dict(
            parse_upgrade_package(p) for p in settings.resolution.upgrade_packages
        )
        return ResolveRequest(
            requirements=inputs.requirements,
            constraints=list(inputs.constraints),
            env=env,
            extras=frozenset(canonicalize_name(e) for e in settings.target.extras),
            existing_pins={} if settings.resolution.upgrade else previous.pins(),
            upgrade_packages=upgrade_packages,
            upgrade_all=settings.resolution.upgrade,
            hold_pins=settings.resolution.hold_pins,
            formats=format_control(settings, inputs.options),
            allow_prereleases=settings.with_pip_args().resolution.pre or inputs.options.pre,
            max_rounds=settings.resolution.max_rounds,
            generate_hashes=settings.output.generate_hashes,
            allow_unsafe=settings.output.allow_unsafe,
            unsafe_packages=settings.output.unsafe_names,
            base_dir=self.cwd,
            output_dir=self.output.parent if self.output is not None else self.cwd,
            progress=progress,
        )

    def resolve(
        self,
        request: ResolveRequest,
        previous: _Previous,
        env: TargetEnvironment,
        progress: Callable[[str], None] | None,
    ) -> Resolution:
        settings = self.settings
        if not (settings.target.is_universal):
            from lockcheck.resolve.resolver import resolve

            return resolve(request, self.finder)
        from lockcheck.resolve.universal import build_universe, resolve_universal

        grid = build_universe(
            requires_python=_requires_python(settings.target, self.src_files, self.cwd, env),
            python_versions=settings.target.python_versions,
            platforms=settings.target.platforms,
            environments=settings.target.environments,
        )
        pins = []
        if previous.lock is not None:
            pins = [e.package for e in previous.lock.entries if not e.commented]
        return resolve_universal(request, self.finder, grid, pins, progress)

    def render_requirements(
        self,
        resolution: Resolution,
        request: ResolveRequest,
        previous_text: str | None,
        style: str,
        command: str | None,
    ) -> str:
        from lockcheck.lockfile.settings import Header, custom_compile_command_from_env
        from lockcheck.lockfile.writer import render_requirements

        header = Header(
            tool=style,
            command=command,
            custom_command=custom_compile_command_from_env(self.environ),
            python_version=resolution.python_version,
        )
        return render_requirements(
            resolution,
            self.settings.output,
            header,
            index=self.finder.settings,
            formats=request.formats,
            existing_text=previous_text,
            fallback_texts=[_raw(self.cwd / p) for p in self.src_files if str(p) != "-"],
        )

    def render_pylock(self, resolution: Resolution, env: TargetEnvironment) -> str:
        """PEP 751 text; [tool.lockcheck] records the command that regenerates it."""
        from lockcheck.lockfile.pylock import PylockSettings, render_pylock

        target, cwd = self.settings.target, self.cwd
        if target.is_universal:
            requires_python = _requires_python(target, self.src_files, cwd, env)
            environments = tuple(target.environments) or _platform_environments(target)
        else:
            requires_python = f"=={env.python_version}.*"
            environments = (
                f'sys_platform == "{env.markers["sys_platform"]}"'
                f' and python_version == "{env.python_version}"',
            )
        return render_pylock(
            resolution,
            PylockSettings(
                requires_python=requires_python,
                environments=environments,
                output_dir=(self.output.parent if self.output is not None else cwd),
                tool_table={"command": self.command()},
                index_urls=self.finder.settings.index_urls,
            ),
        )


def _platform_environments(target: TargetOptions) -> tuple[str, ...]:
    """The operating systems a universal lock was resolved for, as markers."""
    from lockcheck.resolve.platforms import platform_named
    from lockcheck.resolve.universal import DEFAULT_PLATFORMS

    systems = {platform_named(p).sys_platform for p in target.platforms or DEFAULT_PLATFORMS}
    return tuple(f'sys_platform == "{s}"' for s in sorted(systems))


def _notices(finder: PackageFinder) -> tuple[str, ...]:
    return tuple(finder.judge.warnings()) if finder.judge is not None else ()


def expected_options_block(settings: CompileSettings, inputs: ParsedInputs) -> list[str]:
    """The option lines compile writes for *settings* and *inputs*, without the network.

    The same merge as :func:`compile_lock` (pip config and env, config, command line, the
    inputs' own option lines), so ``check`` can tell an edited ``--index-url`` offline.
    """
    from lockcheck.lockfile.writer import options_block

    environ = dict(os.environ if settings.environ is None else settings.environ)
    index_settings = merge_index_options(settings.network, inputs.options, environ)
    formats = format_control(settings, inputs.options)
    return options_block(settings.output, index_settings, formats)


def _raw(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _target_environment(target: TargetOptions, lock_text: str | None) -> TargetEnvironment:
    from lockcheck.resolve.environment import TargetEnvironment

    python = target_python(target, lock_text)
    if target.python_platform:
        from lockcheck.resolve.platforms import environment_for

        return environment_for(
            python or TargetEnvironment.current().python_version, target.python_platform
        )
    return TargetEnvironment.for_python(python)


def _requires_python(
    target: TargetOptions, src_files: tuple[Path, ...], cwd: Path, env: TargetEnvironment
) -> str:
    """The Python range a universal lock covers: the setting, the project's, else >= target."""
    if target.requires_python:
        return target.requires_python
    candidates = [cwd / p for p in src_files if Path(p).name == "pyproject.toml"]
    candidates.append(cwd / "pyproject.toml")
    for path in candidates:
        if path.is_file():
            if sys.version_info >= (3, 11):  # here: only universal locks of projects read it
                import tomllib
            else:  # pragma: no cover - Python 3.10
                import tomli as tomllib
            with path.open("rb") as fh:
                value = tomllib.load(fh).get("project", {}).get("requires-python")
            if isinstance(value, str):
                return value
    return f">={env.python_version}"


HEADER_STYLES = ("lockcheck", "pip-compile")


def _header_style(
    settings: CompileSettings, previous_lock: ParsedLock | None, as_pylock: bool
) -> str:
    """The header's tool: as asked, else the existing lock's (a pip-compile lock stays one,
    so bots that re-run its header keep working), else lockcheck's."""
    style = settings.output.header_style
    if style is not None and style not in HEADER_STYLES:
        raise InputError(
            f"invalid header style {style!r}: expected one of {', '.join(HEADER_STYLES)}"
        )
    if as_pylock:
        if style == "pip-compile":
            raise InputError("--header-style=pip-compile is for requirements files, not pylock")
        return "lockcheck"
    header = previous_lock.header if previous_lock is not None else None
    if style is None and header is not None and header.tool == "pip-compile":
        return "pip-compile"
    return style or "lockcheck"
