"""The ``lockcheck`` click group and :func:`main`, which turns every outcome into an exit code.

Each command lives in its own module and imports only click and light modules at import
time, so ``lockcheck --help`` stays cheap; the library below sees no click and no argv.
"""

from __future__ import annotations

import sys

import click

from lockcheck import __version__
from lockcheck.cli.check import check_command
from lockcheck.cli.compile import compile_command
from lockcheck.cli.messages import route_library_warnings
from lockcheck.cli.stamping import remember_command_line
from lockcheck.cli.sync import sync_command
from lockcheck.cli.upgrade import upgrade_command
from lockcheck.ui import exit_interrupted

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lockcheck")
def cli() -> None:
    """Keep pinned requirements honest: compile, check and sync lock files."""
    route_library_warnings()  # here, not in main(): ``--help`` needs no logging


for _command in (compile_command, check_command, sync_command, upgrade_command):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of raising SystemExit."""
    remember_command_line(sys.argv[1:] if argv is None else argv)
    try:
        code = cli.main(args=argv, prog_name="lockcheck", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            exit_interrupted()
        click.echo("Aborted.", err=True)
        return 1
    except SystemExit as exc:  # pragma: no cover
        return exc.code if isinstance(exc.code, int) else 1
    return code if isinstance(code, int) else 0
