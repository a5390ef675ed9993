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

#: The cyclic collector runs once 500,000 more container objects are alive than at its last run,
#: where Python's default is 700 (mypy, another short-lived program holding a large live
#: graph, raises it to 200,000).  A compile's objects (page entries, versions, candidates,
#: parsed JSON pages) are freed by their reference counts or live until the exit; at the exit
#: of a cold compile of the large set the collector finds only 5,283 objects in cycles (1,636
#: on the commit-hook workload), yet at the former (2000, 10, 20) its walks over the live ones
#: took 0.29 s of the main process's CPU there and 0.22 s on a universal data-science lock,
#: for no change in peak memory (issue 17).  The bound stays: a run that made garbage in
#: cycles faster than that would still have it collected.
_GC_THRESHOLD = (500_000, 10, 10)

#: True when this process is the ``lockcheck`` program, not a program calling the library:
#: only then may a cold run fork its fetch helper (:mod:`lockcheck.index.fetchhelper`).
COMMAND = False


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        code = fast_answer(args)
        if code is not None:
            return code
        if COMMAND:  # the program's own process: a library caller keeps its collector
            gc.set_threshold(*_GC_THRESHOLD)
            from lockcheck import termination
            from lockcheck.index import tlsearly

            termination.install()  # SIGTERM and SIGHUP: unwound as Ctrl-C is

            tlsearly.start(args, os.environ)  # a cold compile's trust store, on the idle core
        from lockcheck.cli import main as full_main  # click and the commands: not on the fast path

        if COMMAND:
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

    # A run that never loaded threading (the fast answers) started no thread through it;
    # importing it just to ask would cost the fast path 3 ms.
    threading = sys.modules.get("threading")
    if (threading is None or threading.active_count() == 1) and _flushed():
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
