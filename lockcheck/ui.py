"""Console output: a rich spinner on a terminal, nothing (or plain lines) in CI.

Only this module and ``cli.py`` import rich, and only when a terminal is there to draw on.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

__all__ = ["interactive", "status"]


def interactive() -> bool:
    """A human is watching: stderr is a TTY and we are not in CI."""
    return sys.stderr.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"


@contextlib.contextmanager
def status(
    message: str, *, quiet: bool = False, verbose: int = 0
) -> Iterator[Callable[[str], None] | None]:
    """Progress while the block runs; yields a callback taking one-line updates (or None).

    On a terminal: a rich spinner whose text follows the updates.  Elsewhere (CI, pipes):
    plain lines on stderr, only with ``--verbose``; nothing with ``--quiet``.
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

    console = Console(stderr=True)
    with console.status(message) as live:
        yield lambda line: live.update(f"{message}: {line}")
