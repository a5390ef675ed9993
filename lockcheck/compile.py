"""``compile_lock``: inputs -> index -> resolve -> requirements.txt text.

The library entry point behind ``lockcheck compile``; it sees no click and no argv, only a
frozen :class:`CompileSettings`, so tests, bots and ``check`` can call it in-process.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import NormalizedName, canonicalize_name

from lockcheck.errors import InputError
from lockcheck.models import IndexOptions, ParsedInputs, Resolution
from lockcheck.paths import default_output_for

if TYPE_CHECKING:
    from lockcheck.index.finder import PackageFinder
    from lockcheck.inputs.reqfile import Fetch

__all__ = [
    "CompileResult",
    "CompileSettings",
    "compile_lock",
    "default_output_for",
    "expected_options_block",
    "read_settings_inputs",
]


@dataclass(frozen=True)
class CompileSettings:
    """Everything one compile needs, after CLI, config and environment were merged."""

    src_files: tuple[Path, ...] = ()
    # None: derived from the first input (requirements.in -> requirements.txt).
    # Path("-"): standard output.
    output_file: Path | None = None
    python_version: str | None = None
    # Target when python_version is not given, without appearing in the header's command:
    # the lower bound of requires-python, else the Python named by the existing lock's header.
    default_python_version: str | None = None
    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    # pip-compile's build dependencies of project inputs: targets whose
    # get_requires_for_build_<target> is asked (with [build-system] requires), and whether
    # only those are locked.
    build_deps_for: tuple[str, ...] = ()
    all_build_deps: bool = False
    only_build_deps: bool = False
    constraint_files: tuple[Path, ...] = ()
    upgrade: bool = False
    upgrade_packages: tuple[str, ...] = ()
    # Existing pins are first held as constraints, as pip-compile holds them; `lockcheck
    # upgrade NAME` turns that off so what an upgraded package forces may move too.
    hold_pins: bool = True
    pre: bool = False
    generate_hashes: bool = False
    # pip-tools' option, accepted so its commands and configs work; hashes are always
    # those of the release's files, never copied from the existing lock.
    reuse_hashes: bool = True
    allow_unsafe: bool = False
    unsafe_packages: tuple[str, ...] = ()
    build_isolation: bool = True
    # Other targets: one platform (--python-platform), or every environment (universal).
    python_platform: str | None = None
    universal: bool = False
    environments: tuple[str, ...] = ()
    python_versions: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    # The project's requires-python (universal locks cover exactly that range).
    requires_python: str | None = None
    # "requirements" (pip-compile's format) or "pylock" (PEP 751); None: from the file name.
    lock_format: str | None = None
    # Index options given on the command line (None / empty = not given).
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    no_index: bool = False
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    cert: str | None = None
    client_cert: str | None = None
    only_binary: tuple[str, ...] = ()
    no_binary: tuple[str, ...] = ()
    # Release cut-off (lockcheck.cutoff): WHEN as given, so the header keeps a duration a
    # duration; per-package "name=WHEN" exceptions.
    exclude_newer: str | None = None
    exclude_newer_package: tuple[str, ...] = ()
    # pip-compile's --pip-args: the pip options among them that lockcheck has, applied where
    # they act (lockcheck.pipargs); the header keeps the string as given, as pip-compile does.
    pip_args: str | None = None
    # pip-compile's --resolver: only "backtracking" (lockcheck's resolver) is accepted.
    resolver: str = "backtracking"
    # pip-compile's --max-rounds (default 10): it can raise the resolver's bound of
    # resolve.resolver.MAX_ROUNDS rounds, never lower it (pip-compile's rounds are whole
    # re-resolutions, which lockcheck does not need).
    max_rounds: int = 10
    # Network knobs only --pip-args sets (None: pip's configuration, else lockcheck's default).
    timeout: float | None = None
    retries: int | None = None
    cache_dir: Path | None = None
    offline: bool = False
    refresh: bool = False
    # Output.
    header: bool = True
    # "lockcheck", or "pip-compile" (its header lines, for bots that re-run them); None:
    # the existing lock's style, else lockcheck's.
    header_style: str | None = None
    annotate: bool = True
    annotation_style: str = "split"
    strip_extras: bool = True
    emit_options: bool = True
    emit_index_url: bool = True
    emit_trusted_host: bool = True
    emit_find_links: bool = True
    newline: str = "preserve"
    dry_run: bool = False
    environ: Mapping[str, str] | None = None
    cwd: Path | None = None


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
        """``name==version is yanked: reason`` for each pin whose every file is yanked.

        PEP 592 lets only an exact pin choose such a release; pip warns when it does, so
        the reader learns why the release was pulled before shipping it.
        """
        from lockcheck.yanked import yanked_release

        # A universal lock keys a package pinned at two versions "name@version": use .name.
        found = (
            yanked_release(p.name, p.version, p.files) for p in self.resolution.packages.values()
        )
        return sorted(y.message() for y in found if y is not None)

    def warnings(self) -> list[str]:
        """Every warning of the run, each once: unjudged sources, then yanked pins."""
        return [*self.notices, *self.yanked_pins()]


def _discover_inputs(cwd: Path) -> tuple[Path, ...]:
    for name in ("requirements.in", "setup.py", "pyproject.toml", "setup.cfg"):
        if (cwd / name).exists():
            return (Path(name),)
    raise InputError(
        "no input given and none of requirements.in, setup.py, pyproject.toml, setup.cfg "
        "exists here"
    )


def merge_index_options(settings: CompileSettings, file_opts: IndexOptions, environ):
    """pip's precedence: pip.conf < PIP_* env < command line < requirement-file lines.

    Shared by compile and sync (a lock's options block plays the requirement file's part).
    """
    from lockcheck.index.settings import IndexSettings
    from lockcheck.pipargs import with_pip_args

    settings = with_pip_args(settings)
    base = IndexSettings.from_pip_config(environ=environ)
    changes: dict[str, object] = {}
    if settings.index_url:
        changes["index_url"] = settings.index_url
    if settings.extra_index_urls:
        changes["extra_index_urls"] = tuple(settings.extra_index_urls)
    if settings.no_index:
        changes["no_index"] = True
    if settings.find_links:
        changes["find_links"] = tuple(settings.find_links)
    if settings.trusted_hosts:
        changes["trusted_hosts"] = tuple(settings.trusted_hosts)
    if settings.cert:
        changes["cert"] = settings.cert
    if settings.client_cert:
        changes["client_cert"] = settings.client_cert
    if settings.cache_dir:
        changes["cache_dir"] = settings.cache_dir
    if settings.timeout is not None:
        changes["timeout"] = settings.timeout
    if settings.retries is not None:
        changes["retries"] = settings.retries
    changes["offline"] = settings.offline
    changes["refresh"] = settings.refresh
    changes["build_isolation"] = settings.build_isolation
    merged = replace(base, **changes)
    file_changes: dict[str, object] = {}
    if file_opts.index_url:
        # pip replaces its whole index list when a requirement file names an index.
        file_changes["index_url"] = file_opts.index_url
        file_changes["extra_index_urls"] = tuple(file_opts.extra_index_urls)
    elif file_opts.extra_index_urls:
        file_changes["extra_index_urls"] = _dedup(
            (*merged.extra_index_urls, *file_opts.extra_index_urls)
        )
    if file_opts.no_index:
        file_changes["no_index"] = True
    if file_opts.find_links:
        file_changes["find_links"] = _dedup((*merged.find_links, *file_opts.find_links))
    if file_opts.trusted_hosts:
        file_changes["trusted_hosts"] = _dedup((*merged.trusted_hosts, *file_opts.trusted_hosts))
    final = replace(merged, **file_changes) if file_changes else merged
    # A lock's "https://****@host/simple/" takes the credentials given for that index on
    # the command line or in pip's settings (which the lock's own line outranks).
    configured = (
        settings.index_url or "",
        *settings.extra_index_urls,
        *settings.find_links,
        base.index_url,
        *base.extra_index_urls,
        *base.find_links,
    )
    return final.with_credentials(configured)


def _dedup(items) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _format_control(settings: CompileSettings, file_opts: IndexOptions):
    from lockcheck.pipargs import with_pip_args
    from lockcheck.resolve.candidates import FormatControl

    settings = with_pip_args(settings)

    def norm(values) -> frozenset[str]:
        out: set[str] = set()
        for value in values:
            for item in str(value).split(","):
                item = item.strip()
                if item:
                    out.add(item if item.startswith(":") else canonicalize_name(item))
        return frozenset(out)

    only = norm(settings.only_binary) | file_opts.only_binary
    no = norm(settings.no_binary) | file_opts.no_binary
    return FormatControl(only_binary=frozenset(only), no_binary=frozenset(no))


def compile_lock(
    settings: CompileSettings, *, progress: Callable[[str], None] | None = None
) -> CompileResult:
    """Resolve the inputs and render the lock text (writing is the caller's choice)."""
    from lockcheck.index.finder import PackageFinder

    environ = dict(os.environ if settings.environ is None else settings.environ)
    cwd = (settings.cwd or Path.cwd()).resolve()
    src_files = settings.src_files or _discover_inputs(cwd)
    stdout = settings.output_file is not None and str(settings.output_file) == "-"
    default = default_output_for(src_files, cwd)
    if settings.lock_format == "pylock":
        default = default.parent / "pylock.toml"
    output = None if stdout else (settings.output_file or default)
    as_pylock = settings.lock_format == "pylock" or (
        output is not None and settings.lock_format is None and _is_pylock(output)
    )
    if output is not None and not output.is_absolute():
        output = cwd / output

    if output is not None and output.resolve() in {
        (cwd / s).resolve() for s in src_files if str(s) != "-"
    }:
        raise InputError(f"the output file {output.name} is also an input")

    from lockcheck.cutoff import CutOff

    # Before any network: a bad WHEN is an input error; one clock reading for the run.
    cutoff = CutOff.from_settings(settings.exclude_newer, settings.exclude_newer_package)
    pre_index = merge_index_options(settings, IndexOptions(), environ)
    from lockcheck.index.remotefiles import RemoteFileFetcher

    with RemoteFileFetcher(pre_index, environ=environ) as fetch:
        inputs = read_settings_inputs(
            replace(settings, src_files=src_files),
            cwd,
            environ,
            pre_index.pip_env(),
            fetch=fetch,
        )
    if inputs.unchecked_remote:  # offline with no copy: never compile without a file
        from lockcheck.errors import IndexUnavailable

        raise IndexUnavailable(
            f"offline mode: no cached copy of {inputs.unchecked_remote[0]}",
            hint="run once without --offline to fill the cache",
        )
    index_settings = merge_index_options(settings, inputs.options, environ)
    finder = PackageFinder(index_settings, cutoff=cutoff)
    try:
        # The inputs' own pages are fetched while the rest of the run gets ready (imports,
        # the previous lock): the resolver's first question is about them.
        finder.prefetch_pages(
            r.requirement.name for r in inputs.requirements if r.requirement is not None
        )
        return _resolve_and_render(
            settings, finder, inputs, src_files, cwd, environ, output, as_pylock, progress
        )
    finally:
        finder.close()


def _resolve_and_render(
    settings: CompileSettings,
    finder: PackageFinder,
    inputs: ParsedInputs,
    src_files: list[Path],
    cwd: Path,
    environ: dict[str, str],
    output: Path | None,
    as_pylock: bool,
    progress: Callable[[str], None] | None,
) -> CompileResult:
    """compile_lock's second half, with the index already at work."""
    from lockcheck.lockfile.settings import OutputSettings, custom_compile_command_from_env
    from lockcheck.lockfile.writer import render_requirements
    from lockcheck.pipargs import with_pip_args
    from lockcheck.resolve.resolver import (
        DEFAULT_UNSAFE,
        ExistingPin,
        ResolveRequest,
        parse_upgrade_package,
        resolve,
    )

    out_dir = output.parent if output is not None else cwd
    constraints = list(inputs.constraints)
    index_settings = finder.settings

    previous_text: str | None = None
    existing: dict[NormalizedName, ExistingPin] = {}
    if output is not None and output.is_file():
        # Untranslated, so --newline=preserve sees CRLF.
        previous_text = output.read_bytes().decode("utf-8", errors="replace")
    previous_lock = read_any_lock(previous_text, output) if (previous_text or "").strip() else None
    env = _target_environment(settings, previous_text)
    style = _header_style(settings, previous_lock, as_pylock)
    # Before resolving: an option the pip-compile style cannot carry fails at once.
    command = None if as_pylock else _header_command(settings, src_files, output, cwd, style=style)
    if previous_lock is not None and not settings.upgrade:
        for entry in previous_lock.entries:
            pkg = entry.package
            if entry.commented or pkg.version is None or pkg.editable or pkg.link:
                continue
            existing[pkg.name] = ExistingPin(pkg.name, pkg.version, tuple(pkg.hashes))

    upgrade_packages = dict(parse_upgrade_package(p) for p in settings.upgrade_packages)
    request = ResolveRequest(
        requirements=inputs.requirements,
        constraints=constraints,
        env=env,
        extras=frozenset(canonicalize_name(e) for e in settings.extras),
        existing_pins=existing,
        upgrade_packages=upgrade_packages,
        upgrade_all=settings.upgrade,
        hold_pins=settings.hold_pins,
        formats=_format_control(settings, inputs.options),
        allow_prereleases=with_pip_args(settings).pre or inputs.options.pre,
        max_rounds=settings.max_rounds,
        generate_hashes=settings.generate_hashes,
        allow_unsafe=settings.allow_unsafe,
        # pip-tools: --unsafe-package replaces the default set.
        unsafe_packages=frozenset(canonicalize_name(p) for p in settings.unsafe_packages)
        or DEFAULT_UNSAFE,
        base_dir=cwd,
        output_dir=out_dir,
        progress=progress,
    )
    if settings.universal or settings.environments:
        from lockcheck.resolve.universal import build_universe, resolve_universal

        grid = build_universe(
            requires_python=_requires_python(settings, src_files, cwd, env),
            python_versions=settings.python_versions,
            platforms=settings.platforms,
            environments=settings.environments,
        )
        previous = []
        if previous_lock is not None:
            previous = [e.package for e in previous_lock.entries if not e.commented]
        resolution = resolve_universal(request, finder, grid, previous, progress)
    else:
        resolution = resolve(request, finder)
    if as_pylock:
        from lockcheck.lockfile.pylock import with_file_hashes

        resolution = with_file_hashes(resolution, finder.sha256)
        text = _render_pylock(settings, resolution, src_files, output, cwd, index_settings, env)
        return CompileResult(text, output, previous_text, resolution, inputs, _notices(finder))

    output_settings = OutputSettings(
        header=settings.header,
        annotate=settings.annotate,
        annotation_style=settings.annotation_style,
        strip_extras=settings.strip_extras,
        allow_unsafe=settings.allow_unsafe,
        unsafe_packages=request.unsafe_packages,
        generate_hashes=settings.generate_hashes,
        newline=settings.newline,
        python_version=resolution.python_version,
        header_tool=style,
        compile_command=command,
        custom_compile_command=custom_compile_command_from_env(environ),
        **_options_block_fields(settings, index_settings, request.formats),
    )
    text = render_requirements(
        resolution,
        output_settings,
        existing_text=previous_text,
        fallback_texts=[_raw(cwd / p) for p in src_files if str(p) != "-"],
    )
    return CompileResult(text, output, previous_text, resolution, inputs, _notices(finder))


def _notices(finder: PackageFinder) -> tuple[str, ...]:
    return tuple(finder.judge.warnings()) if finder.judge is not None else ()


def _options_block_fields(settings: CompileSettings, index_settings, formats) -> dict[str, object]:
    """The OutputSettings fields that decide the lock's options block."""
    return {
        "emit_options": settings.emit_options,
        "emit_index_url": settings.emit_index_url,
        "emit_trusted_host": settings.emit_trusted_host,
        "emit_find_links": settings.emit_find_links,
        "index_url": index_settings.index_url,
        "no_index": index_settings.no_index,
        "extra_index_urls": index_settings.extra_index_urls,
        "find_links": index_settings.find_links,
        "trusted_hosts": index_settings.trusted_hosts,
        "only_binary": formats.only_binary,
        "no_binary": formats.no_binary,
    }


def expected_options_block(settings: CompileSettings, inputs: ParsedInputs) -> list[str]:
    """The option lines compile writes for *settings* and *inputs*, without the network.

    The same merge as :func:`compile_lock` (pip config and env, config, command line, the
    inputs' own option lines), so ``check`` can tell an edited ``--index-url`` offline.
    """
    from lockcheck.lockfile.settings import OutputSettings
    from lockcheck.lockfile.writer import options_block

    environ = dict(os.environ if settings.environ is None else settings.environ)
    index_settings = merge_index_options(settings, inputs.options, environ)
    formats = _format_control(settings, inputs.options)
    return options_block(OutputSettings(**_options_block_fields(settings, index_settings, formats)))


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    """Run a block in *path*: input paths and ``# via`` labels are relative to it, as in pip."""
    previous = Path.cwd()
    if previous.resolve() == path.resolve():
        yield
        return
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def read_settings_inputs(
    settings: CompileSettings,
    cwd: Path,
    environ: Mapping[str, str] | None = None,
    index_env: Mapping[str, str] | None = None,
    *,
    build_hooks: bool = True,
    fetch: Fetch | None = None,
) -> ParsedInputs:
    """The inputs and ``--constraint`` files of *settings*, read relative to *cwd*
    (*build_hooks*: see :func:`lockcheck.inputs.pyproject.read_project_input`; *fetch*
    reads remote requirement files, see :mod:`lockcheck.index.remotefiles`)."""
    from lockcheck.inputs import read_inputs
    from lockcheck.inputs.builddeps import build_targets
    from lockcheck.pipargs import with_pip_args

    with _working_directory(cwd):
        return read_inputs(
            list(settings.src_files),
            extras=settings.extras,
            all_extras=settings.all_extras,
            groups=settings.groups,
            build_isolation=with_pip_args(settings).build_isolation,
            index_env=index_env,
            environ=environ,
            relative_to=cwd,
            constraints=list(settings.constraint_files),
            build_targets=build_targets(settings),
            only_build_deps=settings.only_build_deps,
            build_hooks=build_hooks,
            fetch=fetch,
        )


def inputs_are_static(settings: CompileSettings, inputs: ParsedInputs, cwd: Path) -> bool:
    """Whether the inputs are plain files (so a stamp of their bytes stands for them).

    setup.py, setup.cfg, a pyproject.toml with dynamic dependencies and build dependencies
    are answered by a build backend, which may read any file of the project (and comes from
    the index): those runs are never stamped.  Nor are runs with a remote requirement
    file (``-c https://…``), whose content can change without any local file changing, or
    with a direct reference (a local tree or a URL) that no stamp can watch.
    """
    if inputs.remote or inputs.unchecked_remote:
        return False
    if any(r.link or (r.requirement and r.requirement.url) for r in inputs.requirements):
        return False
    if settings.all_build_deps or settings.build_deps_for:
        return False
    for src in (*settings.src_files, *(Path(f) for f in inputs.files)):
        path = src if src.is_absolute() else cwd / src
        if path.name in ("setup.py", "setup.cfg"):
            return False
        if path.name == "pyproject.toml":
            try:
                import tomllib

                project = tomllib.loads(path.read_text(encoding="utf-8")).get("project")
            except (OSError, ValueError):
                return False
            if not isinstance(project, dict):
                return False
            dynamic = project.get("dynamic") or []
            if "dependencies" in dynamic or "optional-dependencies" in dynamic:
                return False
    return True


def _raw(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _target_environment(settings: CompileSettings, lock_text: str | None):
    from lockcheck.resolve.environment import TargetEnvironment

    python = target_python(settings, lock_text)
    if settings.python_platform:
        from lockcheck.resolve.platforms import environment_for

        return environment_for(
            python or TargetEnvironment.current().python_version, settings.python_platform
        )
    return TargetEnvironment.for_python(python)


def _requires_python(settings: CompileSettings, src_files, cwd: Path, env) -> str:
    """The Python range a universal lock covers: the setting, the project's, else >= target."""
    if settings.requires_python:
        return settings.requires_python
    candidates = [cwd / p for p in src_files if Path(p).name == "pyproject.toml"]
    candidates.append(cwd / "pyproject.toml")
    for path in candidates:
        if path.is_file():
            import tomllib

            with path.open("rb") as fh:
                value = tomllib.load(fh).get("project", {}).get("requires-python")
            if isinstance(value, str):
                return value
    return f">={env.python_version}"


def _is_pylock(path: Path) -> bool:
    """PEP 751's file names (``pylock.toml``, ``pylock.<name>.toml``), without importing the
    pylock module for the common requirements.txt case."""
    name = path.name
    if not (name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))):
        return False
    from lockcheck.lockfile.pylock import is_pylock_path

    return is_pylock_path(path)


def read_any_lock(text: str, output: Path | None):
    """The existing lock, whichever format it is in."""
    if output is not None and _is_pylock(output):
        from lockcheck.lockfile.pylock import read_pylock

        return read_pylock(text, name=str(output), base_dir=output.parent)
    from lockcheck.lockfile.reader import read_lock

    return read_lock(text, name=str(output))


def _render_pylock(settings, resolution, src_files, output, cwd, index_settings, env) -> str:
    """PEP 751 text; [tool.lockcheck] records the command that regenerates it."""
    from lockcheck.lockfile.pylock import PylockSettings, render_pylock

    universal = settings.universal or bool(settings.environments)
    environments = tuple(settings.environments)
    if universal:
        requires_python = _requires_python(settings, src_files, cwd, env)
        if not environments:  # the operating systems the lock was resolved for
            from lockcheck.resolve.platforms import platform_named
            from lockcheck.resolve.universal import DEFAULT_PLATFORMS

            systems = {
                platform_named(p).sys_platform for p in settings.platforms or DEFAULT_PLATFORMS
            }
            environments = tuple(f'sys_platform == "{s}"' for s in sorted(systems))
    else:
        requires_python = f"=={env.python_version}.*"
        environments = (
            f'sys_platform == "{env.markers["sys_platform"]}"'
            f' and python_version == "{env.python_version}"',
        )
    command = _header_command(settings, src_files, output, cwd)
    return render_pylock(
        resolution,
        PylockSettings(
            requires_python=requires_python,
            environments=environments,
            output_dir=(output.parent if output is not None else cwd),
            tool_table={"command": command},
            index_urls=index_settings.index_urls,
        ),
    )


def target_python(settings: CompileSettings, lock_text: str | None) -> str | None:
    """Explicit --python-version, else the lock header's Python, else the inferred default
    (the lower bound of requires-python).

    Keeping the existing lock's Python means the hook gives the same lock whatever
    interpreter runs it, and whatever requires-python says; ``--python-version`` moves a
    lock to another Python.
    """
    if settings.python_version:
        return settings.python_version
    if lock_text and lock_text.startswith("#"):
        match = _HEADER_PYTHON.search(lock_text[:400])
        if match:
            return match.group(1)
    return settings.default_python_version


_HEADER_PYTHON = re.compile(r"^# This file is autogenerated by \S+ with [Pp]ython (\d+\.\d+)", re.M)


HEADER_STYLES = ("lockcheck", "pip-compile")


def _header_style(settings: CompileSettings, previous_lock: Any, as_pylock: bool) -> str:
    """The header's tool: as asked, else the existing lock's (a pip-compile lock stays one,
    so bots that re-run its header keep working), else lockcheck's."""
    style = settings.header_style
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


def _header_command(
    settings: CompileSettings,
    src_files: tuple[Path, ...],
    output: Path | None,
    cwd: Path,
    *,
    style: str = "lockcheck",
) -> str:
    from lockcheck.lockfile.command import format_compile_command, pip_compile_options
    from lockcheck.options import command_options

    options = command_options(settings)
    program = "lockcheck compile"
    if style == "pip-compile":
        options = pip_compile_options(options, strip_extras=settings.strip_extras)
        program = "pip-compile"
    if output is not None:
        try:
            shown = os.path.relpath(output, cwd)
        except ValueError:  # pragma: no cover - other drive on Windows
            shown = str(output)
        options["--output-file"] = shown.replace(os.sep, "/")
    else:
        options["--output-file"] = "-"
    sources = [str(s).replace(os.sep, "/") for s in src_files]
    return format_compile_command(options, sources, program=program)
