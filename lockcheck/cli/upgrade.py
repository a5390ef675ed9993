"""``lockcheck upgrade``: click command over :mod:`lockcheck.upgrade`.

Exit codes: 0 upgraded (or nothing to upgrade), 1 when ``--dry-run`` finds pins that would
move, 2 on any error.  Each lock is written whole or not at all; locks are upgraded in the
configured order, so a lock layered on another (``-c requirements.txt``) sees its new pins.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from lockcheck.cli.exits import fail
from lockcheck.cli.messages import shown, warn_dropped_hashes, warn_once
from lockcheck.cli.options import Overrides, settings_options
from lockcheck.ui import exit_interrupted, status

if TYPE_CHECKING:
    from lockcheck.config import LockTarget
    from lockcheck.settings import CompileSettings
    from lockcheck.upgrade import LockUpgrade

__all__ = ["upgrade_command"]


@click.command("upgrade")
@click.argument("packages", nargs=-1, metavar="[PACKAGE[SPEC]]...")
@click.option(
    "-o",
    "--output-file",
    "locks",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Upgrade only this lock (repeatable; default: every configured lock).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    help="How to report the change: a table, JSON for scripts, Markdown for a pull request.",
)
@click.option(
    "-n", "--dry-run", is_flag=True, help="Report what would move; exit 1 if anything would."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Configuration file (default: .lockcheck.toml or pyproject.toml, found upwards).",
)
@settings_options("upgrade")
@click.option("-q", "--quiet", is_flag=True)
@click.option("-v", "--verbose", count=True)
@click.pass_context
def upgrade_command(
    ctx: click.Context,
    packages: tuple[str, ...],
    locks: tuple[Path, ...],
    output_format: str,
    dry_run: bool,
    config_file: Path | None,
    index_url: str | None,
    extra_index_urls: tuple[str, ...],
    quiet: bool,
    verbose: int,
) -> None:
    """Move pins to the newest versions the inputs allow, and report what moved.

    Without PACKAGE, every pin of every configured lock (or each -o LOCK); with PACKAGE
    (NAME or NAME<SPEC), only those and what they force: every other pin is kept.
    """
    try:
        targets = _targets(locks, config_file)
        overrides = Overrides(index_url=index_url, extra_index_urls=extra_index_urls)
        results = _upgrade_all(targets, packages, overrides, dry_run, quiet, verbose)
    except KeyboardInterrupt:
        exit_interrupted("every lock not yet reported is untouched")
    except Exception as exc:
        ctx.exit(fail(exc, verbose > 0))
    from lockcheck.upgrade import render_json, render_markdown, render_table

    if output_format == "json":
        click.echo(render_json(results), nl=False)
    elif output_format == "markdown":
        click.echo(render_markdown(results, dry_run), nl=False)
    elif not quiet:
        click.echo(render_table(results, dry_run), nl=False)
    moved = any(r.updates for r in results)
    ctx.exit(1 if dry_run and moved else 0)


def _targets(locks: tuple[Path, ...], config_file: Path | None) -> list[LockTarget]:
    """Each -o LOCK, else the configured locks, else the locks with a header, else the default."""
    from lockcheck.config import load_config
    from lockcheck.targets import lock_targets, zero_config_target

    config = load_config(Path.cwd(), config_file=config_file)
    return lock_targets(config, locks) or [zero_config_target(config)]


def _upgrade_all(
    targets: list[LockTarget],
    packages: tuple[str, ...],
    overrides: Overrides,
    dry_run: bool,
    quiet: bool,
    verbose: int,
) -> list[LockUpgrade]:
    from lockcheck.compile import compile_lock
    from lockcheck.lockfile.writer import write_atomically
    from lockcheck.upgrade import (
        LockUpgrade,
        check_packages_are_pinned,
        pin_updates,
        project_page_for,
        upgrade_settings,
    )

    def output_of(settings: CompileSettings) -> Path:
        assert settings.target.output_file is not None  # a target always names its lock
        output = Path(settings.target.output_file)
        return output if output.is_absolute() else (settings.cwd or Path.cwd()) / output

    texts = {}
    for target in targets:
        path = output_of(target.settings)
        texts[shown(path)] = path.read_text(encoding="utf-8") if path.exists() else None
    check_packages_are_pinned(packages, texts)

    results = []
    for target in targets:
        settings = overrides.apply(upgrade_settings(target.settings, packages))
        with status(f"Upgrading {target.name}", quiet=quiet, verbose=verbose) as progress:
            result = compile_lock(settings, progress=progress)
        warn_dropped_hashes(result)
        warn_once(result.warnings(), None)
        assert result.output_file is not None  # upgrade targets always name their lock
        name = shown(result.output_file)
        if result.changed and not dry_run:
            write_atomically(result.output_file, result.text)
        results.append(
            LockUpgrade(
                lock=name,
                updates=pin_updates(result.previous_text, result.text, name),
                rewritten=result.changed,
                project_page=project_page_for(result.resolution),
            )
        )
    return results
