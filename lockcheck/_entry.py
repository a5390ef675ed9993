"""Console entry point: a repeated ``check`` or no-op ``sync`` answers before click loads.

A git hook runs these after every checkout and CI runs ``check`` on every push; when nothing
changed, the answer is in a stamp, and importing the CLI would cost more than the answer.
"""

from __future__ import annotations

import sys

from lockcheck.stamps import fast_answer

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        code = fast_answer(args)
        if code is not None:
            return code
        from lockcheck.cli import main as full_main  # click and the commands: not on the fast path

        return full_main(args)
    except KeyboardInterrupt:  # outside a command's own handling (start-up, click)
        from lockcheck.ui import exit_interrupted  # not on the fast path: it loads typing

        exit_interrupted()
