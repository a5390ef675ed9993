"""Thin click shell: parse options, build settings, call the library, map errors to exits.

Exit codes are decided here and nowhere else: 0 success, 1 drift (or a lock that changed under
``--check``-style use), 2 any error.  Nothing below this module sees click or argv.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from lockcheck import __version__
from lockcheck.cli_options import index_options, index_url_options

__all__ = ["cli", "fail", "main"]


def fail(exc: BaseException, verbose: bool) -> int:
    from lockcheck.errors import LockcheckError, redact_url

    if isinstance(exc, LockcheckError):
        click.echo(f"lockcheck: error: {exc}", err=True)
        for cause in getattr(exc, "causes", ()) or ():
            click.echo(f"  - {cause}", err=True)
        if exc.hint:
            click.echo(f"  hint: {exc.hint}", err=True)
        return exc.exit_code
    if verbose:
        import traceback

        traceback.print_exc()
    message = redact_url(f"{type(exc).__name__}: {exc}")
    click.echo(f"lockcheck: internal error: {message}", err=True)
    return 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lockcheck")
def cli() -> None:
    """Keep pinned requirements honest: compile, check and sync lock files."""


@cli.command("compile")
@click.argument(
    "src_files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option(
    "-o",
    "--output-file",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Lock file to write ('-' for standard output).",
)
@click.option(
    "--python-version",
    metavar="X.Y",
    help="Target Python for markers, Requires-Python and the header.",
)
@click.option(
    "--python-platform",
    metavar="PLATFORM",
    help="Target platform: linux, macos, windows (or linux-aarch64, macos-x86_64, ...).",
)
@click.option("--universal", is_flag=True, help="One lock for every platform and Python version.")
@click.option(
    "--environment",
    "environments",
    multiple=True,
    metavar="MARKER",
    help="Universal lock limited to environments matching this PEP 508 marker (repeatable).",
)
@click.option(
    "--format",
    "lock_format",
    type=click.Choice(["requirements", "pylock", "requirements.txt", "pylock.toml"]),
    default=None,
    help="Lock format (default: from the output name; pylock.toml is PEP 751). uv's "
    "requirements.txt and pylock.toml are the same.",
)
@click.option("--extra", "extras", multiple=True, help="Optional dependencies to include.")
@click.option("--all-extras", is_flag=True, help="Include every optional dependency.")
@click.option("--group", "groups", multiple=True, help="PEP 735 dependency group to include.")
@click.option(
    "--build-deps-for",
    "build_deps_for",
    multiple=True,
    type=click.Choice(["editable", "sdist", "wheel"]),  # builddeps.ALL_BUILD_TARGETS
    help="Also lock what building this target of the project needs, with [build-system] "
    "requires (repeatable).",
)
@click.option(
    "--all-build-deps",
    is_flag=True,
    help="Also lock what building the project needs, for every target (wheel, sdist, editable).",
)
@click.option(
    "--only-build-deps",
    is_flag=True,
    help="Lock only the build dependencies, not the project's own requirements.",
)
@click.option(
    "-c",
    "--constraint",
    "constraint_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Constraints file.",
)
@click.option("-U", "--upgrade", is_flag=True, help="Ignore existing pins; take newest versions.")
@click.option(
    "-P",
    "--upgrade-package",
    "upgrade_packages",
    multiple=True,
    metavar="NAME[SPEC]",
    help="Upgrade one package (repeatable).",
)
@click.option("-p", "--pre", is_flag=True, help="Allow pre-releases.")
@click.option("--generate-hashes", is_flag=True, help="Add --hash lines for every file.")
@click.option(
    "--reuse-hashes/--no-reuse-hashes",
    default=True,
    help="Keep hashes of unchanged pins from the existing lock.",
)
@click.option(
    "--allow-unsafe/--no-allow-unsafe",
    default=False,
    help="Pin setuptools, pip and distribute too.",
)
@click.option(
    "--unsafe-package",
    "unsafe_packages",
    multiple=True,
    help="Treat this package as unsafe (repeatable).",
)
@click.option(
    "--strip-extras/--no-strip-extras",
    default=True,
    help="Write pins without extras (default), so the lock works as constraints.",
)
@click.option("--annotate/--no-annotate", default=True, help="Write '# via' annotations.")
@click.option("--annotation-style", type=click.Choice(["split", "line"]), default="split")
@click.option("--header/--no-header", default=True, help="Write the header comment.")
@click.option(
    "--header-style",
    type=click.Choice(["lockcheck", "pip-compile"]),
    default=None,
    help="Header lines as lockcheck writes them, or as pip-compile does (for update bots that "
    "re-run the header's command). Default: the existing lock's style, else lockcheck's.",
)
@click.option("--emit-options/--no-emit-options", default=True)
@click.option("--emit-index-url/--no-emit-index-url", default=True)
@click.option("--emit-trusted-host/--no-emit-trusted-host", default=True)
@click.option("--emit-find-links/--no-emit-find-links", default=True)
@click.option(
    "--newline",
    type=click.Choice(["LF", "CRLF", "native", "preserve"], case_sensitive=False),
    default="preserve",
)
@index_options
@click.option("--only-binary", "only_binary", multiple=True)
@click.option("--no-binary", "no_binary", multiple=True)
@click.option(
    "--exclude-newer",
    "--uploaded-prior-to",
    "exclude_newer",
    metavar="WHEN",
    help="Only files uploaded before WHEN: an RFC 3339 timestamp, a date (midnight UTC) or a "
    "duration counted back from now (P7D, PT12H).",
)
@click.option(
    "--exclude-newer-package",
    "exclude_newer_package",
    multiple=True,
    metavar="NAME=WHEN",
    help="Another cut-off for one package (WHEN 'false': none) (repeatable).",
)
@click.option(
    "--pip-args",
    metavar="ARGS",
    help="pip-compile's: the pip options among ARGS that lockcheck has (index, TLS, "
    "--only-binary, --no-binary, --pre, --no-build-isolation, --timeout, --retries).",
)
@click.option(
    "--resolver",
    metavar="backtracking",
    help="pip-compile's: only 'backtracking', which is what lockcheck's resolver does.",
)
@click.option(
    "--max-rounds",
    type=int,
    help="pip-compile's: raises the resolver's bound of 5000 rounds (never lowers it).",
)
@click.option("--refresh", is_flag=True, help="Revalidate every cached index page.")
@click.option("-r", "--rebuild", is_flag=True, help="pip-compile's name for --refresh.")
@click.option("-n", "--dry-run", is_flag=True, help="Print the lock instead of writing it.")
@click.option("-q", "--quiet", is_flag=True)
@click.option("-v", "--verbose", count=True)
@click.option(
    "--color/--no-color",
    default=None,
    help="Force colours on or off (default: on a terminal, unless NO_COLOR is set).",
)
@click.option(
    "--changed",
    is_flag=True,
    help="Git-hook mode: SRC_FILES are the changed files; recompile every lock that depends on "
    "them (and the locks layered on those) and exit 1 when a lock was rewritten.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Configuration file: lockcheck's, or pip-tools' with [tool.pip-tools] tables "
    "(default: .lockcheck.toml, pyproject.toml, .pip-tools.toml, found upwards).",
)
@click.option("--no-config", is_flag=True, help="Read no configuration file.")
@click.pass_context
def compile_command(ctx: click.Context, **params: Any) -> None:
    """Resolve inputs into a fully pinned requirements.txt (pip-compile compatible).

    Without SRC_FILES, every lock of [tool.lockcheck] is compiled in dependency order; with no
    configuration, requirements.in (else pyproject.toml) is compiled into requirements.txt.
    """
    quiet = params.pop("quiet")
    verbose = params.pop("verbose")
    changed = params.pop("changed")
    config_file = params.pop("config_file")
    no_config = params.pop("no_config")
    color = params.pop("color")
    if params.pop("rebuild"):
        params["refresh"] = True
    explicit = {
        name: (tuple(value) if isinstance(value, (list, tuple)) else value)
        for name, value in params.items()
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        or (name == "refresh" and value)
    }
    from lockcheck import stamps

    cwd = Path.cwd()
    one_off = ("upgrade", "upgrade_packages", "dry_run", "refresh")
    fast = not any(explicit.get(k) for k in one_off) and str(explicit.get("output_file")) != "-"
    key = stamps.command_key("compile", [repr(sorted(ctx.params.items()))], cwd)
    if fast and (stamp := stamps.load_fresh(key)) is not None:
        for line in stamp.get("warnings", ()):
            click.echo(f"lockcheck: warning: {line}", err=True)
        if not quiet:
            click.echo(stamp.get("message", "up to date"), err=True)
        ctx.exit(0)
    try:
        settings_list = _compile_plan(explicit, changed, config_file, no_config)
    except Exception as exc:
        ctx.exit(fail(exc, verbose > 0))
    if not settings_list:
        if not quiet:
            click.echo("lockcheck: no lock depends on the changed files", err=True)
        ctx.exit(0)
    record = _Record(files=_steering_files(cwd))
    codes = [
        run_compile(s, quiet=quiet, verbose=verbose, hook=changed, record=record, color=color)
        for s in settings_list
    ]
    if fast and record.cacheable and max(codes) == 0:
        message = "; ".join(f"{_shown(p)} up to date" for p in record.outputs)
        payload = {"message": message or "up to date", "warnings": record.warnings}
        stamps.write_stamp(key, record.files, payload)
    ctx.exit(max(codes))


class _Record:
    """What a run read and wrote: the files its unchanged-inputs stamp must watch."""

    def __init__(self, files: set[Path]) -> None:
        self.files = files
        self.outputs: list[Path] = []
        # False when an input points at a tree or URL whose content no stamp can watch.
        self.cacheable = True
        # Warnings already printed: each once per run, and again when a stamp answers.
        self.warnings: list[str] = []


def _steering_files(cwd: Path) -> set[Path]:
    """Files that change what a command here does: lockcheck's config and pip's."""
    import os

    from lockcheck.config import CONFIG_FILES
    from lockcheck.index.pipconfig import config_files

    files = {cwd / name for name in CONFIG_FILES}
    files.update(config_files(os.environ))
    return files


def _compile_plan(
    explicit: dict[str, Any], changed: bool, config_file: Path | None, no_config: bool = False
) -> list[Any]:
    """The CompileSettings to run, from the command line, the config and the project."""
    from dataclasses import replace

    from lockcheck.compile import CompileSettings
    from lockcheck.config import load_config
    from lockcheck.options import normalised_changes
    from lockcheck.targets import (
        discover_header_locks,
        select_changed,
        target_for_lock,
        zero_config_target,
    )

    config = load_config(Path.cwd(), config_file=config_file, no_config=no_config)
    src_files = tuple(explicit.pop("src_files", ()))
    overrides = normalised_changes(explicit)
    if changed:
        if config.configured:
            targets = list(config.targets)
        else:
            known = [target_for_lock(lock, config) for lock in discover_header_locks(config.root)]
            have = {str(t.output) for t in known}
            for src in src_files:  # a new .in file without its lock yet
                if src.suffix == ".in" and (src.exists()):
                    target = zero_config_target(config, (src,))
                    if str(target.output) not in have:
                        known.append(target)
            if not known:
                try:
                    known = [zero_config_target(config)]
                except Exception:
                    known = []
            targets = known
        chosen = select_changed(targets, src_files, config.root, config.path)
        return [replace(t.settings, **overrides) for t in chosen]
    if not src_files and config.configured and "output_file" not in overrides:
        return [replace(t.settings, **overrides) for t in config.targets]
    base = dict(config.options)
    if config.configured:
        base = {
            k: v
            for k, v in base.items()
            if k not in ("src_files", "output_file", "constraint_files")
        }
    return [replace(CompileSettings(), src_files=src_files, **{**base, **overrides})]


def run_compile(
    settings: Any,
    *,
    quiet: bool = False,
    verbose: int = 0,
    hook: bool = False,
    record: _Record | None = None,
    color: bool | None = None,
) -> int:
    """Compile one lock and write it; in hook mode a rewritten lock exits 1.

    *record* collects every file the run read or wrote (for the unchanged-inputs stamp).
    """
    from lockcheck.compile import inputs_are_static

    try:
        result = _compile_for(settings, hook=hook, quiet=quiet, verbose=verbose, color=color)
    except KeyboardInterrupt:
        from lockcheck.ui import exit_interrupted

        exit_interrupted("lockcheck: interrupted; nothing was written")
    except Exception as exc:
        return fail(exc, verbose > 0)
    _warn_dropped_hashes(result)
    _warn_once(result.warnings(), record)
    if settings.dry_run or result.output_file is None:
        sys.stdout.write(result.text)
        sys.stdout.flush()
        if settings.dry_run and not quiet:
            click.echo("Dry-run, so nothing updated.", err=True)
        return 0
    from lockcheck.lockfile.writer import write_atomically

    if record is not None:
        record.files.update(Path(f) for f in result.inputs.files)
        record.files.update((settings.cwd or Path.cwd()) / f for f in settings.constraint_files)
        record.files.add(result.output_file)
        record.outputs.append(result.output_file)
        if not inputs_are_static(settings, result.inputs, settings.cwd or Path.cwd()):
            record.cacheable = False
    if result.changed:
        try:
            write_atomically(result.output_file, result.text)
        except Exception as exc:
            return fail(exc, verbose > 0)
    shown = _shown(result.output_file)
    if hook and result.changed:
        from lockcheck.check import pin_changes

        changes = pin_changes(result.previous_text, result.text, shown)
        what = "; ".join(c.done() for c in changes) or "annotations or options changed"
        click.echo(f"lockcheck: {shown} was out of date and has been rewritten: {what}", err=True)
        click.echo(f"lockcheck: review it and stage it: git add {shown}", err=True)
        return 1
    if not quiet:
        state = "updated" if result.changed else "up to date"
        click.echo(f"{shown} {state} ({len(result.resolution.packages)} packages)", err=True)
    return 0


def _compile_for(
    settings: Any, *, hook: bool, quiet: bool, verbose: int, color: bool | None = None
) -> Any:
    """compile_lock; in a hook without network (pre-commit.ci runs hooks offline), the
    cache stands in for the index when it holds everything the resolution needs."""
    from dataclasses import replace

    from lockcheck.compile import compile_lock
    from lockcheck.errors import IndexUnavailable, IndexUnreachable
    from lockcheck.ui import status

    try:
        with status(
            "Resolving dependencies", quiet=quiet, verbose=verbose, color=color
        ) as progress:
            return compile_lock(settings, progress=progress)
    except IndexUnreachable as unreachable:
        if not hook or settings.offline:
            raise
        try:
            result = compile_lock(replace(settings, offline=True))
        except IndexUnavailable as missing:
            raise IndexUnavailable(
                f"this hook needs the network: {unreachable.message}, and the cache does not "
                f"hold everything ({missing.message})",
                hint="where hooks run without network (pre-commit.ci), skip this one there: "
                "`ci: skip: [lockcheck]`, and gate with `lockcheck check` in CI",
            ) from None
        if not quiet:
            click.echo(f"lockcheck: {unreachable.message}; compiled from the cache", err=True)
        return result


def _warn_once(lines: list[str], record: _Record | None) -> None:
    """Print each warning (a yanked release an exact pin chose, with its reason; a source
    the cut-off could not judge) once per run."""
    printed = record.warnings if record is not None else []
    for line in lines:
        if line not in printed:
            printed.append(line)
            click.echo(f"lockcheck: warning: {line}", err=True)


def _warn_dropped_hashes(result: Any) -> None:
    """Name each hash of the old lock that compile left out for belonging to no file."""
    previous = result.previous_text
    if not previous or "--hash" not in previous or result.output_file is None:
        return
    from lockcheck.check import foreign_hashes

    shown = _shown(result.output_file)
    for reason in foreign_hashes(previous, shown, result.resolution):
        click.echo(
            f"lockcheck: warning: {shown}: dropped --hash={reason.digest} of "
            f"{reason.name}=={reason.version}: no file of that release has it",
            err=True,
        )


def _shown(path: Path) -> str:
    import os

    try:
        return os.path.relpath(path).replace(os.sep, "/")
    except ValueError:  # pragma: no cover - another drive
        return str(path)


@cli.command("check")
@click.argument("locks", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--offline", is_flag=True, help="Structural checks only: no network, no resolution.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "github", "json"]),
    default=None,
    help="Report format (default: text; github inside GitHub Actions).",
)
@click.option("--python-version", metavar="X.Y", help="Override the target Python.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)
@click.option("--no-config", is_flag=True, help="Read no configuration file.")
@index_url_options
@click.option("-q", "--quiet", is_flag=True)
@click.option("-v", "--verbose", count=True)
@click.option(
    "--color/--no-color",
    default=None,
    help="Force colours on or off (default: on a terminal, unless NO_COLOR is set).",
)
@click.pass_context
def check_command(
    ctx: click.Context,
    locks: tuple[Path, ...],
    offline: bool,
    output_format: str | None,
    python_version: str | None,
    config_file: Path | None,
    no_config: bool,
    index_url: str | None,
    extra_index_urls: tuple[str, ...],
    quiet: bool,
    verbose: int,
    color: bool | None,
) -> None:
    """Exit 0 when every lock matches its inputs, 1 on drift, 2 on error. Never writes."""
    import os

    from lockcheck import stamps

    if output_format is None:
        output_format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    cwd = Path.cwd()
    key = stamps.command_key("check", [repr(sorted(ctx.params.items())), output_format], cwd)
    if (stamp := stamps.load_fresh(key)) is not None:  # unchanged since a clean check
        if output_format != "text" or not quiet:
            click.echo(stamp.get("output", ""), nl=False)
        ctx.exit(0)
    from dataclasses import replace

    from lockcheck.check import LockReport, check_lock, render_github, render_json, render_text
    from lockcheck.config import load_config
    from lockcheck.targets import lock_targets

    try:
        config = load_config(Path.cwd(), config_file=config_file, no_config=no_config)
        targets = lock_targets(config, locks)
        if not targets and not config.configured:
            raise click.UsageError("no lock found: give one, or configure [tool.lockcheck]")
    except click.UsageError:
        raise
    except Exception as exc:
        ctx.exit(fail(exc, verbose > 0))
    reports: list[LockReport] = []
    worst = 0
    for target in targets:
        settings = target.settings
        if python_version:
            settings = replace(settings, python_version=python_version)
        if index_url:
            settings = replace(settings, index_url=index_url)
        if extra_index_urls:
            settings = replace(settings, extra_index_urls=extra_index_urls)
        fix = "lockcheck compile" if config.configured else _fix_command(settings, config.root)
        try:
            report = check_lock(
                settings,
                offline=offline,
                fix=fix,
                label=target.name,
                inputs_known=target.inputs_known,
                allow_yanked=config.allow_yanked,
            )
        except Exception as exc:
            from lockcheck.errors import LockcheckError, redact_url

            message = str(exc) if isinstance(exc, LockcheckError) else redact_url(repr(exc))
            report = LockReport(target.name, error=message)
        reports.append(report)
        worst = max(worst, {"clean": 0, "drift": 1, "error": 2}[report.status])
    if output_format == "json":
        output = render_json(reports, worst)
    elif output_format == "github":
        output = render_github(reports)
    else:
        output = render_text(reports)
    shown = output
    if output_format != "text" or not quiet or worst:
        from lockcheck.ui import use_colour

        colour = output_format == "text" and use_colour(color)
        shown = _colour(output) if colour else output
        err = worst != 0 and output_format == "text"
        click.echo(shown, nl=False, err=err, color=colour or None)
    if worst == 0 and all(r.cacheable for r in reports):
        files = _steering_files(cwd)
        for report in reports:
            files.update(report.files)
        # A full check also asked the index which pins are yanked: that answer is trusted
        # as long as the index pages it came from (a yank must not hide behind a stamp).
        expires = {} if offline else {"expires": _index_answer_expiry()}
        # Forced colours are part of the command line, so of the stamp's key: keep them.
        output = shown if color else output
        stamps.write_stamp(key, files, {"output": output, **expires})
        shown_output = output if (output_format != "text" or not quiet) else ""
        stamps.write_stamp(
            stamps.argv_key(sys.argv[1:]), files, {"output": shown_output, **expires}
        )
    ctx.exit(worst)


def _index_answer_expiry() -> float:
    import time

    from lockcheck.index.cache import PAGE_MAX_AGE

    return time.time() + PAGE_MAX_AGE


def _colour(text: str) -> str:
    """Colours for a human at a terminal: verdicts, reasons, the fix, the diff."""
    out = []
    for line in text.splitlines():
        if line.endswith(": up to date"):
            line = click.style(line, fg="green")
        elif line.endswith((": does not match its inputs", ": pins a yanked release")) or (
            ": error: " in line
        ):
            line = click.style(line, fg="red", bold=True)
        elif line.startswith("  fix: "):
            line = click.style(line, fg="cyan", bold=True)
        elif line.startswith("    +") and not line.startswith("    +++"):
            line = click.style(line, fg="green")
        elif line.startswith("    -") and not line.startswith("    ---"):
            line = click.style(line, fg="red")
        elif line.startswith("  - "):
            line = click.style(line, fg="yellow")
        out.append(line)
    return "\n".join(out) + "\n"


def _fix_command(settings: Any, root: Path) -> str:
    from lockcheck.compile import _header_command

    output = (
        settings.output_file if settings.output_file.is_absolute() else root / settings.output_file
    )
    return _header_command(settings, settings.src_files, output, root)


def _register_commands() -> None:
    """Commands that live in their own modules (each imports only click at import time)."""
    from lockcheck.sync.command import sync_command
    from lockcheck.upgrade_command import upgrade_command

    cli.add_command(sync_command)
    cli.add_command(upgrade_command)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry: returns the exit code instead of raising SystemExit."""
    try:
        code = cli.main(args=argv, prog_name="lockcheck", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            from lockcheck.ui import exit_interrupted

            exit_interrupted()
        click.echo("Aborted.", err=True)
        return 1
    except SystemExit as exc:  # pragma: no cover
        return exc.code if isinstance(exc.code, int) else 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
