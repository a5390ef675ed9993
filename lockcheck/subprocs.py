"""Child processes with a time bound that leave nothing behind.

A PEP 517 backend can hang (a ``setup.py`` that waits on the network or on a prompt) and a
build can start processes of its own (compilers, a pip).  Each child started here runs in a
process group of its own, so that reaching its bound, Ctrl-C or any other error ends the
whole group: killing the child alone would leave a grandchild holding the output pipe, and
the read of that pipe would wait for it.

A child in its own group does not get the terminal's Ctrl-C; the run does, and kills every
group still running (:func:`kill_running`, called by the interrupted exit, which ends the
process without waiting for the threads that started them).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence

__all__ = ["bound_from", "kill_running", "run_bounded"]

_running: dict[int, subprocess.Popen] = {}
_lock = threading.Lock()


def bound_from(environ: Mapping[str, str], name: str, default: float) -> float:
    """Seconds from the variable *name* (unset or empty: *default*); raises ConfigError
    unless it is a finite number above 0 (a bound that is no bound is not taken)."""
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        from lockcheck.errors import ConfigError

        raise ConfigError(f"{name} must be a number of seconds above 0, not {value!r}")
    return seconds


def run_bounded(
    cmd: Sequence[str],
    *,
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    text: bool = False,
    merge_stderr: bool = True,
) -> subprocess.CompletedProcess:
    """Run *cmd* with no input, capturing its output (stderr into stdout unless
    *merge_stderr* is False), for at most *timeout* seconds.

    Raises :class:`subprocess.TimeoutExpired` (with the output so far) once the bound is
    reached, after the child's whole process group is killed; OSError when it cannot start.
    """
    proc = subprocess.Popen(
        list(cmd),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=text,
        start_new_session=True,
    )
    with _lock:
        _running[proc.pid] = proc
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()  # the pipes close once the group is gone
            raise subprocess.TimeoutExpired(list(cmd), timeout, output=out, stderr=err) from None
        except BaseException:  # Ctrl-C, or an error while reading: nothing is left running
            _kill_group(proc)
            proc.wait()
            raise
    finally:
        with _lock:
            _running.pop(proc.pid, None)
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL *proc*'s process group (it leads it: the group's id is its pid); where there
    are no process groups (Windows), the child alone."""
    killpg = getattr(os, "killpg", None)
    with contextlib.suppress(OSError):
        if killpg is not None:
            killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover (Windows)
            proc.kill()


def kill_running() -> None:
    """Kill the process group of every child still running (the run is ending at once)."""
    with _lock:
        running = list(_running.values())
    for proc in running:
        _kill_group(proc)
