"""What a user sees for generated bad input: exit 2 and one error line, never a traceback.

A sample of the inputs from tests/fixtures/strategies.py that the parsers reject in-process
goes through the real CLI: ``compile`` for requirement files and pyproject.toml,
``check --offline`` for both lock formats.  Few examples each: a subprocess costs far more
than a parse, and the in-process properties cover the breadth.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from lockcheck.errors import LockcheckError
from lockcheck.inputs.pyproject import read_pyproject
from lockcheck.inputs.reqfile import parse_requirement_files
from lockcheck.lockfile.pylock import read_pylock
from lockcheck.lockfile.reader import read_lock
from tests.fixtures.strategies import (
    bad_pylock_documents,
    bad_pyproject_documents,
    examples,
    file_bytes,
    lock_lines,
    requirement_file_lines,
)
from tests.helpers import describe, run_lockcheck

#: Nothing listens there: a run that got past parsing would fail on the network instead.
_NO_INDEX = "http://127.0.0.1:9/simple"

_CLI_SETTINGS = settings(
    max_examples=examples(4),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _assume_rejected(parse: Callable[[], object]) -> None:
    """Only inputs the parser rejects in-process are for these tests (an accepted one would
    go on to the network)."""
    try:
        parse()
    except LockcheckError:
        return
    assume(False)


def _assert_one_clean_error(project: Path, *args: str, names: str) -> None:
    """``lockcheck *args`` exits 2 with one error line naming the file *names*: no traceback,
    no internal error, nothing else on stderr but a hint."""
    result = run_lockcheck(*args, cwd=project, timeout=60)
    assert result.returncode == 2, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    assert "internal error" not in result.stderr, describe(result)
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("lockcheck: ")]
    assert len(errors) == 1, describe(result)
    assert errors[0].startswith("lockcheck: error: "), describe(result)
    assert names in errors[0], describe(result)
    others = [line for line in lines if line not in errors]
    assert all(line.startswith("  hint: ") for line in others), describe(result)


@_CLI_SETTINGS
@given(data=file_bytes(requirement_file_lines(includes=("requirements.in", "missing.in"))))
@example(
    data=b'\x00https://host/pkg-1.0-py3-none-any.whl;python_version >= "3.8" \\\nxxxx\n'
)  # a wheel path that does not exist, then a bad marker: the error alone, no warning first
def test_compile_reports_a_bad_requirement_file_in_one_line(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "requirements.in").write_bytes(data)
        _assume_rejected(lambda: parse_requirement_files([project / "requirements.in"], environ={}))
        _assert_one_clean_error(
            project, "compile", "-i", _NO_INDEX, "requirements.in", names="requirements.in"
        )
        assert not (project / "requirements.txt").exists()


@_CLI_SETTINGS
@given(document=bad_pyproject_documents())
@example(document='project = "requests>=2"\n')  # the config reader read [project] as a table
def test_compile_reports_a_bad_pyproject_in_one_line(document: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "pyproject.toml").write_text(document, encoding="utf-8", errors="replace")
        _assume_rejected(lambda: read_pyproject(project / "pyproject.toml"))
        _assert_one_clean_error(
            project, "compile", "-i", _NO_INDEX, "pyproject.toml", names="pyproject.toml"
        )
        assert not (project / "requirements.txt").exists()


@_CLI_SETTINGS
@given(data=file_bytes(lock_lines(), max_lines=12))
def test_check_reports_a_bad_requirements_lock_in_one_line(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "requirements.in").write_text("foo\n")
        (project / "requirements.txt").write_bytes(data)
        _assume_rejected(lambda: read_lock(project / "requirements.txt"))
        _assert_one_clean_error(
            project, "check", "--offline", "requirements.txt", names="requirements.txt"
        )


@_CLI_SETTINGS
@given(document=bad_pylock_documents(), crlf=st.booleans())
def test_check_reports_a_bad_pylock_in_one_line(document: str, crlf: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "requirements.in").write_text("foo\n")
        text = document.replace("\n", "\r\n") if crlf else document
        (project / "pylock.toml").write_bytes(text.encode("utf-8", "surrogatepass"))
        _assume_rejected(lambda: read_pylock(project / "pylock.toml"))
        _assert_one_clean_error(project, "check", "--offline", "pylock.toml", names="pylock.toml")
