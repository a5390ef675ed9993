"""``lockcheck compile``: options -> CompileSettings -> :func:`lockcheck.compile.compile_lock`.

Exit codes: 0 written (or up to date), 1 when the git hook (``--changed``) rewrote a lock,
2 on any error (nothing written).  A repeated run on unchanged inputs answers from a stamp.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lockcheck import stamps
from lockcheck.cli.exits import fail
from lockcheck.cli.messages import shown, warn_dropped_hashes, warn_once
from lockcheck.cli.options import run_switches, settings_options
from lockcheck.cli.stamping import steering_files
from lockcheck.errors import IndexUnavailable, IndexUnreachable
from lockcheck.ui import exit_interrupted, status

if TYPE_CHECKING:
    from lockcheck.compile import CompileResult
    from lockcheck.config import LockTarget, ProjectConfig
    from lockcheck.settings import CompileSettings

__all__ = ["compile_command", "run_compile"]


@click.command("compile")
@click.argument(
    "src_files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path)
)
@settings_options("compile")
@run_switches
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
    explicit = _explicit_params(ctx, params)
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
    record = _Record(files=steering_files(cwd))
    codes = [
        run_compile(s, quiet=quiet, verbose=verbose, hook=changed, record=record, color=color)
        for s in settings_list
    ]
    if fast and record.cacheable and max(codes) == 0:
        message = "; ".join(f"{shown(p)} up to date" for p in record.outputs)
        payload = {"message": message or "up to date", "warnings": record.warnings}
        stamps.write_stamp(key, record.files, payload)
    ctx.exit(max(codes))


def _explicit_params(ctx: click.Context, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters the command line gave (defaults left out: config fills those)."""
    return {
        name: (tuple(value) if isinstance(value, (list, tuple)) else value)
        for name, value in params.items()
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        or (name == "refresh" and value)
    }


class _Record:
    """What a run read and wrote: the files its unchanged-inputs stamp must watch."""

    def __init__(self, files: set[Path]) -> None:
        self.files = files
        self.outputs: list[Path] = []
        # False when an input points at a tree or URL whose content no stamp can watch.
        self.cacheable = True
        # Warnings already printed: each once per run, and again when a stamp answers.
        self.warnings: list[str] = []


def _compile_plan(
    explicit: dict[str, Any], changed: bool, config_file: Path | None, no_config: bool = False
) -> list[CompileSettings]:
    """The CompileSettings to run, from the command line, the config and the project."""
    from lockcheck.config import load_config
    from lockcheck.options import normalised_changes
    from lockcheck.settings import CompileSettings, TargetOptions, with_changes

    config = load_config(Path.cwd(), config_file=config_file, no_config=no_config)
    src_files = tuple(explicit.pop("src_files", ()))
    overrides = normalised_changes(explicit)
    if changed:
        chosen = _changed_targets(config, src_files)
        return [with_changes(t.settings, overrides) for t in chosen]
    if not src_files and config.configured and "output_file" not in overrides:
        return [with_changes(t.settings, overrides) for t in config.targets]
    base = dict(config.options)
    if config.configured:
        base = {
            k: v
            for k, v in base.items()
            if k not in ("src_files", "output_file", "constraint_files")
        }
    return [with_changes(CompileSettings(TargetOptions(src_files)), {**base, **overrides})]


def _changed_targets(config: ProjectConfig, src_files: tuple[Path, ...]) -> list[LockTarget]:
    """Git-hook mode: the locks that depend on the changed *src_files*, in build order."""
    from lockcheck.targets import (
        discover_header_locks,
        select_changed,
        target_for_lock,
        zero_config_target,
    )

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
    return select_changed(targets, src_files, config.root, config.path)


def run_compile(
    settings: CompileSettings,
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
    try:
        result = _compile_for(settings, hook=hook, quiet=quiet, verbose=verbose, color=color)
    except KeyboardInterrupt:
        exit_interrupted("nothing was written")
    except Exception as exc:
        return fail(exc, verbose > 0)
    warn_dropped_hashes(result)
    warn_once(result.warnings(), record.warnings if record is not None else None)
    if settings.dry_run or result.output_file is None:
        sys.stdout.write(result.text)
        sys.stdout.flush()
        if settings.dry_run and not quiet:
            click.echo("Dry-run, so nothing updated.", err=True)
        return 0
    from lockcheck.lockfile.writer import write_atomically

    if record is not None:
        _record_run(record, settings, result)
    if result.changed:
        try:
            write_atomically(result.output_file, result.text)
        except Exception as exc:
            return fail(exc, verbose > 0)
    name = shown(result.output_file)
    if hook and result.changed:
        from lockcheck.check import pin_changes

        changes = pin_changes(result.previous_text, result.text, name)
        what = "; ".join(c.done() for c in changes) or "annotations or options changed"
        click.echo(f"lockcheck: {name} was out of date and has been rewritten: {what}", err=True)
        click.echo(f"lockcheck: review it and stage it: git add {name}", err=True)
        return 1
    if not quiet:
        state = "updated" if result.changed else "up to date"
        click.echo(f"{name} {state} ({len(result.resolution.packages)} packages)", err=True)
    return 0


def _record_run(record: _Record, settings: CompileSettings, result: CompileResult) -> None:
    from lockcheck.inputs.selection import inputs_are_static

    assert result.output_file is not None
    cwd = settings.cwd or Path.cwd()
    record.files.update(Path(f) for f in result.inputs.files)
    record.files.update(cwd / f for f in settings.target.constraint_files)
    record.files.add(result.output_file)
    record.outputs.append(result.output_file)
    if not inputs_are_static(settings, result.inputs, cwd):
        record.cacheable = False


def _compile_for(
    settings: CompileSettings, *, hook: bool, quiet: bool, verbose: int, color: bool | None = None
) -> CompileResult:
    """compile_lock; in a hook without network (pre-commit.ci runs hooks offline), the
    cache stands in for the index when it holds everything the resolution needs."""
    from dataclasses import replace  # not loaded for --help

    from lockcheck.compile import compile_lock

    try:
        with status(
            "Resolving dependencies", quiet=quiet, verbose=verbose, color=color
        ) as progress:
            return compile_lock(settings, progress=progress)
    except IndexUnreachable as unreachable:
        if not hook or settings.network.offline:
            raise
        offline = replace(settings.network, offline=True)
        try:
            result = compile_lock(replace(settings, network=offline))
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
