"""``lockcheck sync``: click command over :func:`lockcheck.sync.engine.sync_env`.

Exit codes: 0 in sync (or synced), 1 when ``--dry-run`` finds changes or ``--ask`` is
declined, 2 on any error (the venv as it was).  Imports only click at import time; a no-op
run answered by the stamp imports nothing heavy (no httpx, rich, resolvelib, installer).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lockcheck.cli.exits import fail
from lockcheck.cli.messages import warn
from lockcheck.cli.options import given_options, run_switches, settings_options
from lockcheck.cli.stamping import write_argv_stamp
from lockcheck.errors import InputError
from lockcheck.ui import exit_interrupted, status

if TYPE_CHECKING:
    from lockcheck.sync.engine import SyncOptions, SyncReport
    from lockcheck.sync.plan import SyncPlan

__all__ = ["sync_command"]


@click.command("sync")
@click.argument("locks", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--python",
    "--python-executable",
    "python",
    metavar="PATH",
    help="Target virtualenv (its directory or its python; --python-executable is pip-sync's "
    "name). Default: $VIRTUAL_ENV unless it is pre-commit's hook environment, else .venv at "
    "the repository root (created).",
)
@click.option(
    "-n", "--dry-run", is_flag=True, help="Print the plan; exit 1 if anything would change."
)
@click.option("-a", "--ask", is_flag=True, help="Show the plan and ask before changing anything.")
@click.option("--force", is_flag=True, help="Check everything even when the stamp says up to date.")
@click.option(
    "--compile/--no-compile",
    "compile_bytecode",
    default=False,
    help="Byte-compile installed modules with the target interpreter.",
)
@settings_options("sync")
@click.option("--no-config", is_flag=True, help="Read no configuration file.")
@run_switches
@click.pass_context
def sync_command(
    ctx: click.Context,
    locks: tuple[Path, ...],
    python: str | None,
    dry_run: bool,
    ask: bool,
    force: bool,
    compile_bytecode: bool,
    no_config: bool,
    quiet: bool,
    verbose: int,
    color: bool | None,
    **network_params: object,
) -> None:
    """Make a virtualenv hold exactly what LOCKS pin (default: requirements.txt).

    Installs, upgrades, downgrades and removes packages; pip, setuptools, wheel and
    lockcheck are never removed.  Every file is downloaded, verified and built before the
    venv is touched, and a failure puts the venv back as it was.
    """
    # The engine, the config reader and the target's layers load only for a real run (and
    # not for --help).
    from lockcheck.config import sync_defaults
    from lockcheck.sync.engine import SyncOptions
    from lockcheck.sync.target import resolve_target

    try:
        defaults = sync_defaults(Path.cwd(), no_config=no_config)
        # The command line wins over the configuration, option by option.
        network = given_options(ctx, network_params, defaults.network)
        options = SyncOptions(
            dry_run=dry_run,
            use_stamp=not force,
            compile_bytecode=compile_bytecode,
            network=network,
            warn=warn,
        )
        lock_paths = list(locks) or list(defaults.locks) or [_default_lock()]
        if python is None and defaults.python is not None:
            python = str(defaults.python)
        venv = resolve_target(python)
        report = _run(lock_paths, venv, options, ask=ask, quiet=quiet, verbose=verbose, color=color)
    except KeyboardInterrupt:
        exit_interrupted()
    except Exception as exc:
        ctx.exit(fail(exc, verbose > 0))
    _show(report, ask=ask, dry_run=dry_run, quiet=quiet, verbose=verbose)
    if report.declined or (dry_run and report.changes):
        ctx.exit(1)
    if not ask and not (dry_run and report.created):
        # A dry run that got here found nothing to change: its repeat is as cheap as a
        # no-op sync (unless the venv does not exist yet).
        _write_fast_stamp(lock_paths, report.venv, quiet)
    ctx.exit(0)


def _show(report: SyncReport, *, ask: bool, dry_run: bool, quiet: bool, verbose: int) -> None:
    """The plan (unless --ask showed it already), then the summary."""
    plan = report.plan
    shown_by_ask = ask and plan is not None and plan.changes
    if (
        plan is not None
        and not quiet
        and not shown_by_ask
        and (dry_run or verbose or report.applied)
    ):
        for line in plan.lines():
            click.echo(f"  {line}")
    if verbose and report.from_stamp:
        click.echo(f"{report.venv}: the stamp matches (--force checks everything)", err=True)
    if not quiet:
        if report.created:
            click.echo(f"Created {report.venv}")
        click.echo(report.summary())


def _write_fast_stamp(locks: list[Path], venv: Path, quiet: bool) -> None:
    """Let the next identical command line answer before click loads (see lockcheck._entry).

    It watches the locks, the config files, the venv's site-packages folders (any install
    or removal changes their mtime) and each metadata folder in them (a file of an install
    deleted, or added late, changes that folder's mtime), besides the venv's own stamp."""
    from lockcheck.config import CONFIG_FILES
    from lockcheck.sync.stamp import STAMP_NAME, dist_dirs, site_packages_dirs

    cwd = Path.cwd()
    files = {*(cwd / name for name in CONFIG_FILES), venv / STAMP_NAME}
    files.update(Path(p).resolve() for p in locks)
    sites = site_packages_dirs(venv)
    files.update(sites)
    files.update(dist_dirs(sites))
    files.add(venv / "pyvenv.cfg")
    output = "" if quiet else "Everything up-to-date\n"
    write_argv_stamp(files, {"output": output})


def _default_lock() -> Path:
    path = Path("requirements.txt")
    if not path.exists():
        raise InputError(
            "no lock given and requirements.txt does not exist here",
            hint="pass the lock files to sync, e.g. lockcheck sync requirements-dev.txt",
        )
    return path


class _LazyProgress:
    """Progress that starts drawing on its first update: the stamp path never imports rich."""

    def __init__(self, *, quiet: bool, verbose: int, color: bool | None = None) -> None:
        self._quiet = quiet
        self._verbose = verbose
        self._color = color
        self._stack = contextlib.ExitStack()
        self._callback: Callable[[str], None] | None = None
        self._started = False

    def __call__(self, line: str) -> None:
        if not self._started:
            self._started = True
            self._callback = self._stack.enter_context(
                status("Syncing", quiet=self._quiet, verbose=self._verbose, color=self._color)
            )
        if self._callback is not None:
            self._callback(line)

    def close(self) -> None:
        self._stack.close()
        self._started = False
        self._callback = None


def _run(
    locks: list[Path],
    venv: Path,
    options: SyncOptions,
    *,
    ask: bool,
    quiet: bool,
    verbose: int,
    color: bool | None = None,
) -> SyncReport:
    from lockcheck.sync.engine import sync_env

    progress = _LazyProgress(quiet=quiet, verbose=verbose, color=color)

    def confirm(plan: SyncPlan) -> bool:
        progress.close()
        for line in plan.lines():
            click.echo(f"  {line}")
        try:
            return click.confirm("Apply these changes?", default=False)
        except click.Abort:  # no answer (end of input, Ctrl-C at the prompt)
            return False

    try:
        return sync_env(locks, venv, options, progress=progress, confirm=confirm if ask else None)
    finally:
        progress.close()
