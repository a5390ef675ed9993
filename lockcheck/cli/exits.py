"""Exit codes, decided here and nowhere else: 0 success, 1 drift (or a lock that changed
under the hook, a declined ``--ask``), 2 any error, 130 Ctrl-C.

A :class:`~lockcheck.errors.LockcheckError` carries its own code and message; anything else
is an internal error, printed as one redacted line (with the traceback under ``-v``).
"""

from __future__ import annotations

import click

from lockcheck.errors import LockcheckError, redact_url

__all__ = ["fail"]


def fail(exc: BaseException, verbose: bool) -> int:
    """Print *exc* as lockcheck's error lines and return the exit code it means."""
    if isinstance(exc, LockcheckError):
        click.echo(f"lockcheck: error: {exc}", err=True)
        for cause in getattr(exc, "causes", ()) or ():
            click.echo(f"  - {cause}", err=True)
        if exc.hint:
            click.echo(f"  hint: {exc.hint}", err=True)
        return exc.exit_code
    if verbose:
        import traceback  # only here: not worth its import on every start-up

        traceback.print_exc()
    message = redact_url(f"{type(exc).__name__}: {exc}")
    click.echo(f"lockcheck: internal error: {message}", err=True)
    return 2
