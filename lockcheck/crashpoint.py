"""A test-only hook that kills sync (or a cache write) at a named point, so crash recovery
can be tested deterministically.

``LOCKCHECK_TEST_CRASH_AT=<event>[:<n>]`` makes the *n*-th (default first) call of
``crash_point(<event>)`` send SIGKILL to the running process: no ``finally`` block, no
rollback and no flushing happen, exactly as with ``kill -9``.  The events sync passes:

``venv``        a venv sync creates is complete, its "unfinished" marker still there
``unpack``      a wheel is unpacked in the cache's temporary directory, not yet renamed
                into ``v1/unpacked/`` (before the venv is touched)
``prune``       an unused entry of the unpacked cache was moved to ``v1/tmp/prune-*``,
                not yet removed (before the venv is touched)
``backup``      the transaction's backup directory exists, its journal not yet
``journal``     the transaction's journal exists, nothing in the venv has changed yet
``stash``       after a file (or directory) was moved into the backup
``write``       after a file of a wheel was written (or linked from the unpacked cache)
``rollback``    after one step of a rollback (after a failure, or of a leftover transaction)
``commit``      everything applied, the journal not yet removed
``committed``   the journal removed, the backup not yet deleted
``stamp``       just before the no-op stamp is written

The index cache (:mod:`lockcheck.index.cache`) passes one event, at several points of each
entry it writes:

``cache-write`` the temporary file made; part of the entry written; all of it written, not
                yet renamed into place

The fetch helper (:mod:`lockcheck.index.fetchhelper`) passes one, in its own process:

``fetch-helper`` the helper took a request and has not started on it (it dies; the run
                does that request and the rest itself)

A forked copy of a universal compile (:mod:`lockcheck.forking`) passes one:

``forked-call`` the copy has its share of environments resolved, not yet sent back (it
                dies; the run resolves that share itself)
``forked``      (in the run) the copy has just been forked

A process counts its own events: a forked helper starts from its parent's counts.

Unset (always, outside tests), a call costs one comparison.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["ENV_VAR", "crash_point"]

ENV_VAR = "LOCKCHECK_TEST_CRASH_AT"


def _parse(value: str | None) -> tuple[str, int] | None:
    if not value:
        return None
    event, _sep, count = value.partition(":")
    return event, int(count) if count.isdigit() else 1


_TARGET = _parse(os.environ.get(ENV_VAR))
_seen: dict[str, int] = {}
_counting = threading.Lock()


def crash_point(event: str) -> None:
    """Die here (SIGKILL) when the environment asks for this event's n-th occurrence."""
    if _TARGET is None or _TARGET[0] != event:
        return
    with _counting:  # sync links a big wheel's files from two threads
        _seen[event] = _seen.get(event, 0) + 1
        reached = _seen[event] == _TARGET[1]
    if reached:
        kill = getattr(signal, "SIGKILL", None)
        if kill is None:  # pragma: no cover - Windows
            os._exit(137)
        os.kill(os.getpid(), kill)
