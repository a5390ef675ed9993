"""Fetch and parse index pages in a second process, so a cold run uses a second core.

A cold compile is bound by one interpreter lock: the resolver, the HTTP clients of the
index threads and the parsing of every page take turns on it.  A forked helper process
takes the pages: it fetches each one, parses it and stores the page with its parsed form
in the cache exactly as the run would, on as many threads as the run asks at once.  The
run waits for the answer, then reads the fresh cache entry as a warm run does.  (Metadata
stays with the run: moving its Range reads too made the helper the slower side.)

The helper only warms the cache.  Whatever it cannot do (an error, a timeout, a cache it
cannot write, a helper that died) the run does itself, through the same code, and reports
as it always would; the helper never retries (the run's own attempt does).  It is forked
before the run starts any thread of its own (the terminal's spinner may run), on Linux
only; the run kills it when it closes (every entry it writes is whole or absent), and it
dies with the run (the parent-death signal).  Should the run's request pipe close first,
it leaves by itself.

The protocol is one line per request (``number TAB field TAB field ...``, no field holding
a tab or a newline) and one per answer (``number ok`` or ``number no``).  The helper takes
requests in the order they come, but for those the run hurries (``number TAB !``: the
resolver itself waits for that page), which it takes next; a hurry gets no answer of its
own.  The run sends pages as soon as it learns of them, so many may wait in the helper.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import IO

from lockcheck.crashpoint import crash_point
from lockcheck.forking import detached_from, is_console_spinner, quiet_stdio, report

__all__ = ["HELPER_THREADS", "REPORT_VAR", "FetchHelper", "Server"]

_log = logging.getLogger(__name__)

#: What the helper does for one request: its fields -> whether the cache now answers it.
Server = Callable[[Sequence[str]], bool]

#: Threads of the helper: requests served at once.
HELPER_THREADS = 6
#: The field of a request line that hurries an earlier request (see the protocol above).
_HURRY = "!"
#: Test-only: a file the run appends ``started <pid>`` and ``asked <n> ok <m>`` to.
REPORT_VAR = "LOCKCHECK_TEST_HELPER_REPORT"


def _report(line: str) -> None:
    report(line, REPORT_VAR)


class FetchHelper:
    """The run's side: fork the helper, send it requests, wait for its answers."""

    def __init__(self, make_server: Callable[[], Server], answer_wait: float) -> None:
        """*make_server*: called in the helper, gives what it does for one request;
        *answer_wait*: seconds the run waits for one answer before doing the work itself."""
        self._make_server = make_server
        self._answer_wait = answer_wait
        self._lock = threading.Lock()
        self._requests: IO[bytes] | None = None
        self._pid = 0
        #: Requests out, each sent once: fields -> (number, answer), and number -> fields.
        self._out: dict[tuple[str, ...], tuple[int, Future[bool]]] = {}
        self._sent: dict[int, tuple[str, ...]] = {}
        self._next = 0
        self._answered = 0
        self._tried = False

    @property
    def running(self) -> bool:
        return self._requests is not None

    def start(self) -> bool:
        """Fork the helper now, if no other thread of the run runs yet (a fork made later
        could copy a lock another thread holds); whether it runs."""
        with self._lock:
            if self._tried:
                return self._requests is not None
            self._tried = True
            # Linux only: elsewhere a fork may copy a system framework's state mid-way (macOS
            # after its proxy lookup), or there is no fork (Windows).
            if not sys.platform.startswith("linux") or not _alone():
                return False
            parent = os.getpid()  # before the fork: the run may be gone when it asks
            requests_read, requests_write = os.pipe()
            answers_read, answers_write = os.pipe()
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()  # nothing buffered is written twice
            try:
                with warnings.catch_warnings():
                    # Python 3.12+ warns of any other thread at a fork: here only the
                    # spinner's can run, and the helper never touches what it holds.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    pid = os.fork()
            except OSError as exc:
                _log.debug("no fetch helper: %s", exc)
                for fd in (requests_read, requests_write, answers_read, answers_write):
                    os.close(fd)
                return False
            if pid == 0:  # pragma: no cover (the helper; its work is checked by its answers)
                code = 1
                try:
                    quiet_stdio()
                    os.close(requests_write)
                    os.close(answers_read)
                    _serve(self._make_server, requests_read, answers_write, parent)
                    code = 0
                finally:
                    os._exit(code)  # never the run's exit handlers or buffers
            os.close(requests_read)
            os.close(answers_write)
            self._pid = pid
            _report(f"started {pid}")
            self._requests = open(requests_write, "wb", buffering=0)  # noqa: SIM115
            threading.Thread(
                target=self._read_answers,
                args=(open(answers_read, "rb"),),  # noqa: SIM115
                daemon=True,
                name="lockcheck-fetchhelper",
            ).start()
            return True

    def ask(self, *fields: str, first: bool = False) -> bool:
        """Have the helper do one request (*first*: before those waiting); whether the cache
        now answers it (False: the caller does it itself).  A request already sent
        (:meth:`send`) is waited for, not sent again."""
        future = self.send(*fields, first=first)
        if future is None:
            return False
        try:
            return future.result(timeout=self._answer_wait)
        except FutureTimeout:  # not the builtin TimeoutError before Python 3.11
            # A helper that stalls is not asked again: the run does the rest itself.
            _log.debug("fetch helper gave no answer in %.0f s", self._answer_wait)
            with self._lock:
                failed = self._stop()
            _fail(failed)
            return False

    def send(self, *fields: str, first: bool = False) -> Future[bool] | None:
        """Send one request without waiting for its answer (None: the helper cannot take
        it); the same request while it is out gets the same answer.  *first*: the helper
        takes it next (also when it was sent before, and waits)."""
        if any("\t" in f or "\n" in f for f in fields):
            return None
        with self._lock:
            if self._requests is None:
                return None
            number, future = self._out.get(fields, (-1, None))
            lines = []
            if future is None:
                future = Future()
                number = self._next
                self._next += 1
                self._out[fields] = (number, future)
                self._sent[number] = fields
                lines.append("\t".join((str(number), *fields)))
            if first:
                lines.append(f"{number}\t{_HURRY}")
            failed: list[Future[bool]] = []
            if lines:
                try:
                    self._requests.write("".join(line + "\n" for line in lines).encode())
                except OSError:
                    failed = self._stop()
        if failed:
            _fail(failed)
            return None
        return future

    def _read_answers(self, answers: IO[bytes]) -> None:
        with answers:
            for line in answers:
                number, _, answer = line.strip().partition(b" ")
                if not number.isdigit():
                    break  # not the helper's protocol: no more answers from it
                with self._lock:
                    fields = self._sent.pop(int(number), None)
                    future = None if fields is None else self._out.pop(fields)[1]
                    if answer == b"ok":
                        self._answered += 1
                if future is not None:
                    future.set_result(answer == b"ok")
        with self._lock:
            failed = self._stop()
        _fail(failed)

    def _stop(self) -> list[Future[bool]]:
        """(Lock held.) No more requests; every waiting one is done by its own thread: the
        answers to give as False once the lock is let go (a caller waiting on one may take
        other locks in its callbacks)."""
        requests, self._requests = self._requests, None
        if requests is not None:
            with contextlib.suppress(OSError):
                requests.close()  # the helper's end of input: it leaves
        waiting = [future for _number, future in self._out.values()]
        self._out.clear()
        self._sent.clear()
        return waiting

    def close(self) -> None:
        """End the helper: killed at once, idle or at work (a speculative request, or a run
        interrupted).  The run needs none of it any more, and every cache entry is written
        whole or not at all (waiting for an idle helper to leave on its own cost the run's
        exit 10 ms)."""
        with self._lock:
            failed = self._stop()
            pid, self._pid = self._pid, 0
        _fail(failed)
        if not pid:
            return
        _report(f"asked {self._next} ok {self._answered}")
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _fail(futures: list[Future[bool]]) -> None:
    """Answer each of *futures* not answered yet with False (the caller does the work)."""
    for future in futures:
        if not future.done():
            future.set_result(False)


def _alone() -> bool:
    """Whether forking now is safe: no other thread runs, but for the terminal's spinner
    (rich's refresh thread).  The helper never touches the console, and its standard
    streams are new ones (:func:`~lockcheck.forking.quiet_stdio`), so a lock that thread
    held at the fork is never waited for."""
    current = threading.current_thread()
    return all(thread is current or is_console_spinner(thread) for thread in threading.enumerate())


class _Queue:
    """(In the helper.) Requests waiting for a thread: in the order they came, but for the
    hurried ones, which go first (a hurry for one started or answered is ignored)."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._waiting: dict[str, list[str]] = {}
        self._order: deque[str] = deque()
        self._hurried: deque[str] = deque()
        self._closed = False

    def put(self, number: str, fields: list[str]) -> None:
        with self._ready:
            if fields == [_HURRY]:
                if number in self._waiting:
                    self._hurried.append(number)
            else:
                self._waiting[number] = fields
                self._order.append(number)
            self._ready.notify()

    def close(self) -> None:
        """No more requests: each thread leaves once none waits."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def take(self) -> tuple[str, list[str]] | None:
        """The next request to serve (None: closed and none waits)."""
        with self._ready:
            while True:
                for line in (self._hurried, self._order):
                    while line:
                        number = line.popleft()
                        fields = self._waiting.pop(number, None)
                        if fields is not None:
                            return number, fields
                if self._closed:
                    return None
                self._ready.wait()


def _serve(
    make_server: Callable[[], Server], requests_fd: int, answers_fd: int, parent: int
) -> None:  # pragma: no cover (runs in the helper)
    """The helper: answer each request on one of HELPER_THREADS threads until the input
    ends (or its run, *parent*, is gone)."""
    if not detached_from(parent):
        return
    serve = make_server()
    out_lock = threading.Lock()
    answers = open(answers_fd, "wb", buffering=0)  # noqa: SIM115
    queue = _Queue()

    def answer(number: str, fields: list[str]) -> None:
        crash_point("fetch-helper")
        try:
            ok = serve(fields)
        except BaseException:  # the run does the work itself and reports what is wrong
            ok = False
        with out_lock, contextlib.suppress(OSError):
            answers.write(f"{number} {'ok' if ok else 'no'}\n".encode())

    def work() -> None:
        while (request := queue.take()) is not None:
            answer(*request)

    threads = [
        threading.Thread(target=work, name=f"fetchhelper_{i}", daemon=True)
        for i in range(HELPER_THREADS)
    ]
    for thread in threads:
        thread.start()
    with open(requests_fd, "rb") as requests:
        for raw in requests:
            number, *fields = raw.decode().rstrip("\n").split("\t")
            queue.put(number, fields)
    queue.close()
    for thread in threads:
        thread.join()
    answers.close()
