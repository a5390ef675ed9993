"""A forked copy of the ``lockcheck`` process doing one piece of work on the other core.

Linux only (elsewhere a fork may copy a system framework's state mid-way, or there is none).
The child never touches the run's standard streams (new ones, to the null device), ignores
Ctrl-C, SIGTERM and SIGHUP (the run handles them and kills the child), dies with the run
(parent-death signal, so a SIGKILLed run leaves none), and leaves by ``os._exit`` (never the
run's exit handlers).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import select
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable

from lockcheck.crashpoint import crash_point
from lockcheck.termination import CHILD_IGNORES

__all__ = [
    "REPORT_VAR",
    "ForkedCall",
    "detached_from",
    "die_with_parent",
    "is_console_spinner",
    "quiet_stdio",
    "report",
]

_log = logging.getLogger(__name__)

#: Tests name a file here to learn what forked copies did: ``forked <pid>``, then
#: ``answered`` or ``no answer``; or ``no fork: <why>``.
REPORT_VAR = "LOCKCHECK_TEST_FORK_REPORT"


def report(line: str, var: str = REPORT_VAR) -> None:
    """Test-only: append *line* to the file the environment variable *var* names."""
    path = os.environ.get(var)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def quiet_stdio() -> None:  # pragma: no cover (runs in a child)
    """New standard streams to the null device, and no logging (a handler holds the run's
    stream): none of the run's buffers (nor their locks, which a thread of the run may have
    held at the fork) is used, and nothing is written twice."""
    null = open(os.devnull, "r+")  # noqa: SIM115
    for fd in (0, 1, 2):  # nor their pipes: a caller reading them is not kept waiting
        with contextlib.suppress(OSError):
            os.dup2(null.fileno(), fd)
    sys.stdin = sys.stdout = sys.stderr = null
    logging.disable(logging.CRITICAL)


def die_with_parent() -> None:
    """The kernel kills this process when its parent dies (SIGKILL included)."""
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def detached_from(parent: int) -> bool:  # pragma: no cover (runs in a child)
    """(In a forked child of *parent*, the run.) Ctrl-C, SIGTERM and SIGHUP are the run's
    to handle, and the child dies with the run; whether the run still lives (it may have
    died before the parent-death signal was set)."""
    for signum in CHILD_IGNORES:
        signal.signal(signum, signal.SIG_IGN)
    die_with_parent()
    return os.getppid() == parent


def is_console_spinner(thread: threading.Thread) -> bool:
    """Whether *thread* is the terminal's spinner (rich's refresh thread): a fork may copy
    it, as the child never touches the console."""
    return type(thread).__name__ == "_RefreshThread" and type(thread).__module__ == "rich.live"


class ForkedCall:
    """``call()`` run in a forked child; its result comes back pickled."""

    def __init__(
        self,
        pid: int,
        results_fd: int,
        on_answer: Callable[[object], object | None],
        on_stop: Callable[[], object],
    ) -> None:
        self._pid = pid
        self._results = results_fd
        self._on_answer = on_answer
        self._on_stop: Callable[[], object] | None = on_stop

    @classmethod
    def start(
        cls,
        call: Callable[[], object],
        *,
        on_answer: Callable[[object], object | None] = lambda answer: answer,
        on_stop: Callable[[], object] = lambda: None,
    ) -> ForkedCall | None:
        """Fork now and run *call* in the child (None: no fork here).  The caller makes
        sure no other thread holds anything the child will use.  *on_answer* turns the
        child's answer into the result; *on_stop* runs once the child is gone."""
        if not sys.platform.startswith("linux"):
            return None
        read_fd, write_fd = os.pipe()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # Ctrl-C (SIGTERM, SIGHUP) waits until both sides know their part: the child ignores
        # it, the run (which then kills the child) gets it once the fork is done.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, CHILD_IGNORES)
        parent = os.getpid()  # before the fork: the run may be gone when the child asks
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: other threads
                pid = os.fork()
        except OSError as exc:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            _log.debug("no fork: %s", exc)
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:  # pragma: no cover (the child; checked by what it sends back)
            code = 1
            try:
                alive = detached_from(parent)
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                os.close(read_fd)
                quiet_stdio()
                if alive:
                    data = pickle.dumps(call(), protocol=pickle.HIGHEST_PROTOCOL)
                    crash_point("forked-call")
                    with open(write_fd, "wb") as out:
                        out.write(data)
                    code = 0
            finally:
                os._exit(code)
        forked = cls(pid, read_fd, on_answer, on_stop)
        try:
            os.close(write_fd)
            report(f"forked {pid}")
            crash_point("forked")
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)  # a Ctrl-C held lands here
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            forked.stop()
            raise
        return forked

    def result(self, wait: float) -> object | None:
        """What the call returned; None when it failed, or gave no answer in *wait* s (the
        child is then killed)."""
        deadline = time.monotonic() + wait
        chunks: list[bytes] = []
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._results], [], [], left)[0]:
                    _log.debug("forked call gave no answer in %.0f s", wait)
                    report("no answer")
                    return None
                chunk = os.read(self._results, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            try:
                answer = pickle.loads(b"".join(chunks)) if chunks else None
            except Exception as exc:  # a child killed mid-write: its answer is not whole
                _log.debug("forked call's answer unreadable: %s", exc)
                answer = None
            report("no answer" if answer is None else "answered")
            return None if answer is None else self._on_answer(answer)
        finally:
            self.stop()

    def stop(self) -> None:
        """Kill the child (if it still runs) and reap it; idempotent."""
        if self._pid:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = 0
        if self._results >= 0:
            with contextlib.suppress(OSError):
                os.close(self._results)
            self._results = -1
        if self._on_stop is not None:
            on_stop, self._on_stop = self._on_stop, None
            on_stop()
