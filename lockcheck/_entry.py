"""Console entry point: a repeated ``check`` or no-op ``sync`` answers before click loads.

A git hook runs these after every checkout and CI runs ``check`` on every push; when nothing
changed, the answer is in a stamp, and importing the CLI would cost more than the answer.
"""

from __future__ import annotations

import gc
import sys

__all__ = ["main"]

#: Collect the youngest generation every 5,000 allocations instead of 700.  A cold compile
#: keeps hundreds of thousands of objects alive (page entries, versions, candidates), and
#: with the default threshold the collector walked them about 900 times on the large set:
#: 0.6 s of its 5 s of CPU (issue 17).  Cyclic garbage is rare here; peak memory moved
#: within its run-to-run spread.
_GC_THRESHOLD = (5000, 10, 10)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        from lockcheck.stamps import fast_answer

        code = fast_answer(args)
        if code is not None:
            return code
        gc.set_threshold(*_GC_THRESHOLD)
        from lockcheck.cli import main as full_main

        gc.freeze()  # what the imports made lives until exit: no collection walks it again
        return full_main(args)
    except KeyboardInterrupt:  # outside a command's own handling (start-up, click)
        from lockcheck.ui import exit_interrupted

        exit_interrupted()
