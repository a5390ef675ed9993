"""Console entry point: a repeated ``check`` or no-op ``sync`` answers before click loads.

A git hook runs these after every checkout and CI runs ``check`` on every push; when nothing
changed, the answer is in a stamp, and importing the CLI would cost more than the answer.
"""

from __future__ import annotations

import gc
import sys

from lockcheck.stamps import fast_answer

__all__ = ["main"]

#: Collect the youngest generation every 2,000 allocations instead of 700, the oldest half as
#: often.  A cold compile keeps hundreds of thousands of objects alive (page entries,
#: versions, candidates), and with the default thresholds the collector walked them about
#: 900 times on the large set: 0.6 s of its 5 s of CPU, 0.25 s after this (issue 17;
#: 5,000 saved hardly more CPU and cost 20 MiB of peak memory).
_GC_THRESHOLD = (2000, 10, 20)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        code = fast_answer(args)
        if code is not None:
            return code
        gc.set_threshold(*_GC_THRESHOLD)
        from lockcheck.cli import main as full_main  # click and the commands: not on the fast path

        gc.freeze()  # what the imports made lives until exit: no collection walks it again
        return full_main(args)
    except KeyboardInterrupt:  # outside a command's own handling (start-up, click)
        from lockcheck.ui import exit_interrupted  # not on the fast path: it loads typing

        exit_interrupted()
