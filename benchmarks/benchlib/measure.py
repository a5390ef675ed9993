"""One measured process: wall time and peak RSS from ``os.wait4``.

A fresh subprocess per measurement; ``wait4`` returns that child's rusage, whose
``ru_maxrss`` on Linux is the peak RSS of the largest single process among the child and the
descendants it waited for, not the sum over the process tree (a tool that runs a build
backend in a subprocess reports the bigger of the two).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .stats import Sample

__all__ = ["rss_to_kib", "run_measured"]


def rss_to_kib(ru_maxrss: int, platform: str = sys.platform) -> int:
    """ru_maxrss is KiB on Linux and bytes on macOS."""
    return ru_maxrss // 1024 if platform == "darwin" else ru_maxrss


def run_measured(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    log_path: Path,
) -> Sample:
    """Run argv once, output to ``log_path``; kill its process group after ``timeout`` s."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = threading.Event()

        def _kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, _kill)
        timer.daemon = True
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: take the whole session down with us
            _kill()
            os.wait4(proc.pid, 0)
            proc.returncode = -signal.SIGKILL
            raise
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - start
    returncode = os.waitstatus_to_exitcode(status)
    proc.returncode = returncode  # reaped by wait4; stop Popen from waiting again
    return Sample(
        seconds=elapsed,
        max_rss_kib=rss_to_kib(usage.ru_maxrss),
        returncode=returncode,
        timed_out=timed_out.is_set(),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
    )
