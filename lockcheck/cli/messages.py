"""Lines every command prints the same way: warnings, and paths as the user sees them."""

from __future__ import annotations

import logging
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


class _AsWarningLines(logging.Handler):
    """The library's log records as the commands' own lines (``lockcheck: warning: ...``).

    The stream is looked up at each record, not kept: while the spinner runs, stderr is
    rich's proxy, which prints the line above it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            kind = "warning" if record.levelno < logging.ERROR else "error"
            click.echo(f"lockcheck: {kind}: {record.getMessage()}", err=True)
        except Exception:  # a record that cannot be formatted: logging's own report
            self.handleError(record)


def route_library_warnings() -> None:
    """(The CLI.) What the library logs at WARNING and above (a find-links directory that
    does not exist, an unreadable netrc, a corrupt cache file...) is printed as the commands'
    warnings are; without this, Python's last-resort handler printed the bare message.
    Once per process: calling it again adds nothing."""
    package = logging.getLogger("lockcheck")
    if not any(isinstance(h, _AsWarningLines) for h in package.handlers):
        package.addHandler(_AsWarningLines(logging.WARNING))


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
