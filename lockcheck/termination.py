"""SIGTERM and SIGHUP end a run the way Ctrl-C does.

A CI job cancelled or timed out, ``timeout(1)``, an editor cancelling a git hook, a closed
terminal: each sends SIGTERM or SIGHUP, whose default action ends the process on the spot.
That skips every clean-up a Ctrl-C gets: a sync's downloads stay in the temporary directory,
a build's process group keeps running, a sync killed mid-install leaves its journal for the
next run to finish.  Raising :class:`Terminated` (a ``KeyboardInterrupt``) instead unwinds
through the same handling as Ctrl-C: nothing half written, the venv rolled back, temporary
files removed, builds ended; the exit status is 128 + the signal's number, as a shell
reports a process that signal ended.
"""

from __future__ import annotations

import signal
import sys

__all__ = ["CHILD_IGNORES", "Terminated", "install", "stopped_by"]

#: The signals a forked child of the run ignores: the run handles them and ends the child.
CHILD_IGNORES = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})

_HANDLED = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """The run received *signum* (SIGTERM or SIGHUP): stop as on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise(signum: int, frame: object) -> None:
    raise Terminated(signum)


def install() -> None:
    """(The ``lockcheck`` program only.) SIGTERM and SIGHUP raise :class:`Terminated` in the
    main thread.  A signal the run was started with ignored (``nohup`` ignores SIGHUP) stays
    ignored, as Ctrl-C does when it arrives ignored."""
    for signum in _HANDLED:
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _raise)


def stopped_by(exc: BaseException | None = None) -> tuple[int, str]:
    """The exit status and the word for how the run was stopped: 130 and "interrupted" for
    Ctrl-C, 143 and "terminated (SIGTERM)" for SIGTERM.  *exc* defaults to the exception
    being handled; a termination is found in its causes too (click wraps Ctrl-C in Abort)."""
    seen = exc if exc is not None else sys.exc_info()[1]
    while seen is not None:
        if isinstance(seen, Terminated):
            return 128 + seen.signum, f"terminated ({signal.Signals(seen.signum).name})"
        seen = seen.__cause__ or seen.__context__
    return 128 + signal.SIGINT, "interrupted"
