"""Run the lockcheck CLI and pip-compile in subprocesses, the way a user would, or lockcheck
in-process (:func:`call_lockcheck`) where a test checks logic rather than the console script.

Both helpers inherit ``os.environ``, which the autouse ``_isolated_environment`` fixture in
conftest has already cleaned (no pip.conf, no PIP_* index settings, private caches), and
capture text output without raising on a non-zero exit: assert on ``returncode`` yourself
and put ``describe(result)`` in the assertion message.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = [
    "PIP_COMPILE",
    "call_lockcheck",
    "describe",
    "run_lockcheck",
    "run_pip_compile",
    "subprocess_env",
]

#: The pip-compile of the interpreter running the tests (pip-tools is a test dependency).
PIP_COMPILE = Path(sys.executable).parent / "pip-compile"
UV = Path(sys.executable).parent / "uv"
_TIMEOUT = 300


def subprocess_env(env: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """``os.environ`` updated with *env*; a ``None`` value removes the variable."""
    merged = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _run(
    argv: list[str], cwd: str | Path, env: Mapping[str, str | None] | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env=subprocess_env(env),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def run_lockcheck(
    *args: str | Path,
    cwd: str | Path,
    env: Mapping[str, str | None] | None = None,
    timeout: float = _TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """``python -m lockcheck *args`` in *cwd* with the test interpreter."""
    return _run([sys.executable, "-m", "lockcheck", *map(str, args)], cwd, env, timeout)


@contextlib.contextmanager
def _environment(env: Mapping[str, str | None] | None, cwd: str | Path) -> Iterator[None]:
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    wanted = subprocess_env(env)
    os.environ.clear()
    os.environ.update(wanted)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


class _Captured(io.TextIOWrapper):
    """A text stream with a ``.buffer`` (lockcheck writes a lock to ``-`` as bytes)."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", newline="")

    def text(self) -> str:
        self.flush()
        return self.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


def call_lockcheck(
    *args: str | Path,
    cwd: str | Path,
    env: Mapping[str, str | None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``lockcheck *args`` in this process (``lockcheck._entry.main``, the console script's
    own entry, fast path included), with the same result shape as :func:`run_lockcheck`.

    Several times faster than a subprocess; use it where a test checks what lockcheck decides
    (drift reasons, settings, errors). Tests of the real console script, signals, hooks and
    crash safety keep :func:`run_lockcheck`.
    """
    from lockcheck._entry import main

    argv = [str(arg) for arg in args]
    stdout, stderr = _Captured(), _Captured()
    with (
        _environment(env, cwd),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(
        ["lockcheck", *argv], code, stdout=stdout.text(), stderr=stderr.text()
    )


def run_pip_compile(
    *args: str | Path,
    cwd: str | Path,
    env: Mapping[str, str | None] | None = None,
    timeout: float = _TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """``pip-compile *args`` (next to ``sys.executable``) in *cwd*; arguments pass unchanged,
    so give ``--index-url``, ``--cache-dir`` etc. yourself."""
    return _run([str(PIP_COMPILE), *map(str, args)], cwd, env, timeout)


def run_uv_pip_compile(
    *args: str | Path,
    cwd: str | Path,
    timeout: float = _TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """``uv pip compile *args`` (uv from the test extra) in *cwd*, blind to any uv config and
    never downloading a Python; give ``--index-url`` and ``--cache-dir`` yourself."""
    env: dict[str, str | None] = {"UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never"}
    for name in ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_FIND_LINKS", "UV_EXTRA_INDEX_URL"):
        env[name] = None
    return _run([str(UV), "pip", "compile", "--no-config", *map(str, args)], cwd, env, timeout)


def describe(result: subprocess.CompletedProcess[str]) -> str:
    """The command, exit code, stdout and stderr of a run, for assertion messages."""
    argv = result.args if isinstance(result.args, str) else " ".join(map(str, result.args))
    return (
        f"$ {argv}\nexit code {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )


@contextlib.contextmanager
def threads_switching_often() -> Iterator[None]:
    """Threads switch every microsecond: a race between two of them shows in a few hundred
    rounds, not once in a CI run."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
