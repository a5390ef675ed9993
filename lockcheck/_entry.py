"""Console entry point: a repeated ``check`` or no-op ``sync`` answers before click loads.

A git hook runs these after every checkout and CI runs ``check`` on every push; when nothing
changed, the answer is in a stamp, and importing the CLI would cost more than the answer.
"""

from __future__ import annotations

import gc
import os
import sys

from lockcheck.stamps import fast_answer

__all__ = ["console", "main"]

#: Collect the youngest generation every 2,000 allocations instead of 700, the oldest half as
#: often.  A cold compile keeps hundreds of thousands of objects alive (page entries,
#: versions, candidates), and with the default thresholds the collector walked them about
#: 900 times on the large set: 0.6 s of its 5 s of CPU, 0.25 s after this (issue 17;
#: 5,000 saved hardly more CPU and cost 20 MiB of peak memory).
_GC_THRESHOLD = (2000, 10, 20)

#: True when this process is the ``lockcheck`` program, not a program calling the library:
#: only then may a cold run fork its fetch helper (:mod:`lockcheck.index.fetchhelper`).
COMMAND = False


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        code = fast_answer(args)
        if code is not None:
            return code
        gc.set_threshold(*_GC_THRESHOLD)
        if COMMAND:
            from lockcheck.index import tlsearly

            tlsearly.start(args, os.environ)  # a cold compile's trust store, on the idle core
        from lockcheck.cli import main as full_main  # click and the commands: not on the fast path

        gc.freeze()  # what the imports made lives until exit: no collection walks it again
        return full_main(args)
    except KeyboardInterrupt:  # outside a command's own handling (start-up, click)
        from lockcheck.ui import exit_interrupted  # not on the fast path: it loads typing

        exit_interrupted()


def console() -> None:
    """The ``lockcheck`` program (console script and ``python -m lockcheck``): :func:`main`,
    then the exit.

    Once the answer is written, tearing the interpreter down buys nothing: a compile leaves
    hundreds of thousands of objects (page entries, versions, candidates) that would be freed
    one by one, then every module is cleared, 25-45 ms of CPU on the data-science set, about
    5% of a warm compile (issue 17).  So the exit skips that part and only that part:
    standard streams are flushed and the ``atexit`` handlers run as they would; while another
    thread still runs, or a stream cannot be flushed, the exit is the ordinary one.
    """
    global COMMAND
    COMMAND = True
    code = main()
    _exit(code)


def _exit(code: int) -> None:
    import atexit
    import threading

    if threading.active_count() == 1 and _flushed():
        atexit._run_exitfuncs()
        if _flushed():
            os._exit(code)
    sys.exit(code)  # threads to wait for, or a stream to report on: Python's own exit


def _flushed() -> bool:
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # a closed pipe: the ordinary exit reports it
        return False
    return True
