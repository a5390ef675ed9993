"""Console output: a rich spinner on a terminal, nothing (or plain lines) in CI.

Only this module and ``cli.py`` import rich, and only when a terminal is there to draw on.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["interactive", "status"]


def interactive() -> bool:
    """A human is watching: stderr is a TTY and we are not in CI."""
    return sys.stderr.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"


@contextlib.contextmanager
def status(message: str, *, quiet: bool = False) -> Iterator[None]:
    """Show *message* with a spinner while the block runs (TTY only)."""
    if quiet or not interactive():
        yield
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(message):
        yield
