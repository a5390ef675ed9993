"""``lockcheck check``: is every lock still what compile would write?  Never writes.

Exit codes: 0 clean, 1 drift, 2 error.  A clean check is stamped, so the next identical
one answers from the stamp (here, or before click loads: see :mod:`lockcheck._entry`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lockcheck import stamps
from lockcheck.cli.exits import fail
from lockcheck.cli.options import Overrides, run_switches, settings_options
from lockcheck.cli.stamping import index_answer_expiry, steering_files, write_argv_stamp
from lockcheck.errors import LockcheckError, redact_url
from lockcheck.ui import use_colour

if TYPE_CHECKING:
    from lockcheck.check import LockReport
    from lockcheck.config import LockTarget, ProjectConfig
    from lockcheck.settings import CompileSettings

__all__ = ["check_command"]

_EXIT_CODES = {"clean": 0, "drift": 1, "error": 2}


@click.command("check")
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
@settings_options("check")
@run_switches
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
    if output_format is None:
        output_format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    cwd = Path.cwd()
    key = stamps.command_key("check", [repr(sorted(ctx.params.items())), output_format], cwd)
    if (stamp := stamps.load_fresh(key)) is not None:  # unchanged since a clean check
        if output_format != "text" or not quiet:
            click.echo(stamp.get("output", ""), nl=False)
        ctx.exit(0)
    try:
        config, targets = _targets(locks, config_file, no_config)
    except click.UsageError:
        raise
    except Exception as exc:
        ctx.exit(fail(exc, verbose > 0))
    overrides = Overrides(python_version, index_url, extra_index_urls)
    reports = [_check_one(t, config, overrides, offline, verbose > 0) for t in targets]
    worst = max((_EXIT_CODES[r.status] for r in reports), default=0)
    output = _render(reports, worst, output_format)
    shown = output
    if output_format != "text" or not quiet or worst:
        colour = output_format == "text" and use_colour(color)
        shown = _colour(output) if colour else output
        err = worst != 0 and output_format == "text"
        click.echo(shown, nl=False, err=err, color=colour or None)
    if worst == 0 and all(r.cacheable for r in reports):
        # Forced colours are part of the command line, so of the stamp's key: keep them.
        stamped = shown if color else output
        quiet_text = output_format == "text" and quiet
        _stamp_clean(key, cwd, reports, stamped, offline=offline, quiet_text=quiet_text)
    ctx.exit(worst)


def _targets(
    locks: tuple[Path, ...], config_file: Path | None, no_config: bool
) -> tuple[ProjectConfig, list[LockTarget]]:
    from lockcheck.config import load_config
    from lockcheck.targets import lock_targets

    config = load_config(Path.cwd(), config_file=config_file, no_config=no_config)
    targets = lock_targets(config, locks)
    if not targets and not config.configured:
        raise click.UsageError("no lock found: give one, or configure [tool.lockcheck]")
    return config, targets


def _check_one(
    target: LockTarget, config: ProjectConfig, overrides: Overrides, offline: bool, verbose: bool
) -> LockReport:
    """One lock's report; an error becomes that lock's report, the others still run."""
    from lockcheck.check import LockReport, check_lock

    settings = overrides.apply(target.settings)
    fix = "lockcheck compile" if config.configured else _fix_command(settings, config.root)
    try:
        return check_lock(
            settings,
            offline=offline,
            fix=fix,
            label=target.name,
            inputs_known=target.inputs_known,
            allow_yanked=config.allow_yanked,
        )
    except Exception as exc:
        if verbose and not isinstance(exc, LockcheckError):
            import traceback  # only here, as in exits.fail: a bug's trace for its report

            traceback.print_exc()
        message = str(exc) if isinstance(exc, LockcheckError) else redact_url(repr(exc))
        return LockReport(target.name, error=message)


def _render(reports: list[LockReport], worst: int, output_format: str) -> str:
    from lockcheck.check import render_github, render_json, render_text

    if output_format == "json":
        return render_json(reports, worst)
    if output_format == "github":
        return render_github(reports)
    return render_text(reports)


def _stamp_clean(
    key: str,
    cwd: Path,
    reports: list[LockReport],
    output: str,
    *,
    offline: bool,
    quiet_text: bool,
) -> None:
    """Stamp a clean check under its parameters and under its command line as typed."""
    files = steering_files(cwd)
    for report in reports:
        files.update(report.files)
    # A full check also asked the index which pins are yanked: that answer is trusted
    # as long as the index pages it came from (a yank must not hide behind a stamp).
    expires = {} if offline else {"expires": index_answer_expiry()}
    stamps.write_stamp(key, files, {"output": output, **expires})
    write_argv_stamp(files, {"output": "" if quiet_text else output, **expires})


def _colour(text: str) -> str:
    """Colours for a human at a terminal: verdicts, reasons, the fix, the diff."""
    return "\n".join(_colour_line(line) for line in text.splitlines()) + "\n"


def _colour_line(line: str) -> str:
    if line.endswith(": up to date"):
        return click.style(line, fg="green")
    if line.endswith((": does not match its inputs", ": pins a yanked release")) or (
        ": error: " in line
    ):
        return click.style(line, fg="red", bold=True)
    if line.startswith("  fix: "):
        return click.style(line, fg="cyan", bold=True)
    if line.startswith("    +") and not line.startswith("    +++"):
        return click.style(line, fg="green")
    if line.startswith("    -") and not line.startswith("    ---"):
        return click.style(line, fg="red")
    if line.startswith("  - "):
        return click.style(line, fg="yellow")
    return line


def _fix_command(settings: CompileSettings, root: Path) -> str:
    from lockcheck.lockfile.command import header_command

    target = settings.target
    assert target.output_file is not None  # a check target always names its lock
    output = target.output_file if target.output_file.is_absolute() else root / target.output_file
    return header_command(settings, target.src_files, output, root)
