"""Console output: a rich spinner on a terminal, nothing (or plain lines) in CI.

Only this module imports rich, and only when a terminal is there to draw on.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import NoReturn

__all__ = ["exit_interrupted", "interactive", "status", "use_colour"]


def interactive() -> bool:
    """A human is watching: stderr is a TTY and we are not in CI."""
    return sys.stderr.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"


def use_colour(color: bool | None = None) -> bool:
    """Whether to colour: ``--color``/``--no-color`` when given (pip-tools' options), else
    not when ``NO_COLOR`` is set (no-color.org), else when a human is watching."""
    if color is not None:
        return color
    if os.environ.get("NO_COLOR"):
        return False
    return interactive()


@contextlib.contextmanager
def status(
    message: str, *, quiet: bool = False, verbose: int = 0, color: bool | None = None
) -> Iterator[Callable[[str], None] | None]:
    """Progress while the block runs; yields a callback taking one-line updates (or None).

    On a terminal: a rich spinner whose text follows the updates, coloured as
    :func:`use_colour` says.  Elsewhere (CI, pipes): plain lines on stderr, only with
    ``--verbose``; nothing with ``--quiet``.
    """
    if quiet:
        yield None
        return
    if not interactive():
        if verbose:
            yield lambda line: print(f"{message}: {line}", file=sys.stderr, flush=True)
        else:
            yield None
        return
    from rich.console import Console

    console = Console(stderr=True, no_color=not use_colour(color))
    with console.status(message) as live:
        yield lambda line: live.update(f"{message}: {line}")


def exit_interrupted(outcome: str | None = None) -> NoReturn:
    """Say how the run was stopped (and *outcome*, what that left as it was), and end the
    process now with 130 (128 + SIGINT) for Ctrl-C, 143 for SIGTERM, as shells expect.

    By the time Ctrl-C (or a :class:`lockcheck.termination.Terminated`) reaches here, the
    unwinding has run every clean-up (a venv is rolled back, temporary files are gone, a
    lock was never half written).  What remains are worker threads blocked in a socket
    read, which a normal exit would join for up to the network timeout: ``os._exit``
    abandons them.  A build such a thread runs is in a process group of its own, which the
    terminal's Ctrl-C does not reach: it is killed here.
    """
    from lockcheck.termination import stopped_by

    code, how = stopped_by()
    running = sys.modules.get("lockcheck.subprocs")  # (imported only by a run that built)
    if running is not None:
        running.kill_running()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    with contextlib.suppress(Exception):
        sys.stderr.write(f"lockcheck: {how}" + (f"; {outcome}" if outcome else "") + "\n")
        sys.stderr.flush()
    os._exit(code)
