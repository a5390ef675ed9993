"""Lines every command prints the same way: warnings, and paths as the user sees them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from lockcheck.compile import CompileResult

__all__ = ["route_library_warnings", "shown", "warn", "warn_dropped_hashes", "warn_once"]


def shown(path: Path) -> str:
    """*path* relative to the working directory, with forward slashes."""
    try:
        return os.path.relpath(path).replace(os.sep, "/")
    except ValueError:  # pragma: no cover - another drive
        return str(path)


def warn(line: str) -> None:
    click.echo(f"lockcheck: warning: {line}", err=True)


#: The name of the handler :func:`route_library_warnings` adds (so that it adds one only).
_HANDLER_NAME = "lockcheck-cli-warnings"


def route_library_warnings() -> None:
    """(The CLI, once a command runs.) What the library logs at WARNING and above (a
    find-links directory that does not exist, an unreadable netrc, a corrupt cache file...)
    is printed as the commands' warnings are, ``lockcheck: warning: ...``; without this,
    Python's last-resort handler printed the bare message.  Calling it again adds nothing.

    The stream is looked up at each record, not kept: while the spinner runs, stderr is
    rich's proxy, which prints the line above it."""
    import logging  # not at import: ``lockcheck --help`` does without it

    package = logging.getLogger("lockcheck")
    if any(h.get_name() == _HANDLER_NAME for h in package.handlers):
        return

    class AsWarningLines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                if record.levelno < logging.ERROR:
                    warn(record.getMessage())
                else:
                    click.echo(f"lockcheck: error: {record.getMessage()}", err=True)
            except Exception:  # a record that cannot be formatted: logging's own report
                self.handleError(record)

    handler = AsWarningLines(logging.WARNING)
    handler.set_name(_HANDLER_NAME)
    package.addHandler(handler)


def warn_once(lines: list[str], printed: list[str] | None) -> None:
    """Print each warning (a yanked release an exact pin chose, with its reason; a source
    the cut-off could not judge) once per run: *printed* holds those already printed."""
    printed = [] if printed is None else printed
    for line in lines:
        if line not in printed:
            printed.append(line)
            warn(line)


def warn_dropped_hashes(result: CompileResult) -> None:
    """Name each hash of the old lock that compile left out for belonging to no file."""
    previous = result.previous_text
    if not previous or "--hash" not in previous or result.output_file is None:
        return
    from lockcheck.check import foreign_hashes

    name = shown(result.output_file)
    for reason in foreign_hashes(previous, name, result.resolution):
        warn(
            f"{name}: dropped --hash={reason.digest} of "
            f"{reason.name}=={reason.version}: no file of that release has it"
        )
