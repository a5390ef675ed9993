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


def _non_default_options(ctx: click.Context) -> dict[str, object]:
    """Long option name -> value for every option the user moved off its default.

    Flags with a secondary (``--no-x``) form map to True/False; the header formatter turns
    False into the negative flag.
    """
    out: dict[str, object] = {}
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name is None:
            continue
        value = ctx.params.get(param.name)
        default = param.default
        if param.multiple:
            if not value:
                continue
            out[param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0]] = tuple(value)
            continue
        if value == default or (default is None and not value):
            continue
        name = next((o for o in param.opts if o.startswith("--")), param.opts[0])
        out[name] = value
    return out


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
@click.option("--extra", "extras", multiple=True, help="Optional dependencies to include.")
@click.option("--all-extras", is_flag=True, help="Include every optional dependency.")
@click.option("--group", "groups", multiple=True, help="PEP 735 dependency group to include.")
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
@click.option("--pre", is_flag=True, help="Allow pre-releases.")
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
@click.option("--emit-options/--no-emit-options", default=True)
@click.option("--emit-index-url/--no-emit-index-url", default=True)
@click.option("--emit-trusted-host/--no-emit-trusted-host", default=True)
@click.option("--emit-find-links/--no-emit-find-links", default=True)
@click.option(
    "--newline", type=click.Choice(["lf", "crlf", "native", "preserve"]), default="preserve"
)
@click.option("-i", "--index-url", help="Base URL of the package index.")
@click.option("--extra-index-url", "extra_index_urls", multiple=True)
@click.option("--no-index", is_flag=True, help="Ignore package indexes (find-links only).")
@click.option("-f", "--find-links", "find_links", multiple=True)
@click.option("--trusted-host", "trusted_hosts", multiple=True)
@click.option("--cert", help="CA bundle to verify TLS with.")
@click.option("--client-cert", help="Client certificate (PEM).")
@click.option("--only-binary", "only_binary", multiple=True)
@click.option("--no-binary", "no_binary", multiple=True)
@click.option("--build-isolation/--no-build-isolation", default=True)
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--offline", is_flag=True, help="Use only the cache; no network.")
@click.option("--refresh", is_flag=True, help="Revalidate every cached index page.")
@click.option("-n", "--dry-run", is_flag=True, help="Print the lock instead of writing it.")
@click.option("-q", "--quiet", is_flag=True)
@click.option("-v", "--verbose", count=True)
@click.pass_context
def compile_command(ctx: click.Context, **params: Any) -> None:
    """Resolve inputs into a fully pinned requirements.txt (pip-compile compatible)."""
    from lockcheck.compile import CompileSettings

    quiet = params.pop("quiet")
    verbose = params.pop("verbose")
    command_options = _non_default_options(ctx)
    settings = CompileSettings(
        **{k: (tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in params.items()},
        command_options=command_options,
    )
    ctx.exit(run_compile(settings, quiet=quiet, verbose=verbose))


def run_compile(settings: Any, *, quiet: bool = False, verbose: int = 0) -> int:
    from lockcheck.compile import compile_lock
    from lockcheck.ui import status

    try:
        with status("Resolving dependencies", quiet=quiet, verbose=verbose) as progress:
            result = compile_lock(settings, progress=progress)
    except KeyboardInterrupt:
        click.echo("lockcheck: interrupted; nothing was written", err=True)
        return 130
    except Exception as exc:
        return fail(exc, verbose > 0)
    if settings.dry_run or result.output_file is None:
        sys.stdout.write(result.text)
        sys.stdout.flush()
        if settings.dry_run and not quiet:
            click.echo("Dry-run, so nothing updated.", err=True)
        return 0
    from lockcheck.lockfile.writer import write_atomically

    if result.changed:
        try:
            write_atomically(result.output_file, result.text)
        except OSError as exc:
            return fail(exc, verbose > 0)
    if not quiet:
        state = "updated" if result.changed else "up to date"
        click.echo(
            f"{result.output_file.name} {state} ({len(result.resolution.packages)} packages)",
            err=True,
        )
    return 0


def _register_commands() -> None:
    """Commands that live in their own modules (each imports only click at import time)."""
    from lockcheck.sync.command import sync_command

    cli.add_command(sync_command)


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
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except SystemExit as exc:  # pragma: no cover
        return exc.code if isinstance(exc.code, int) else 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
