"""Property: any requirement file or pyproject.toml gives a result or one clean error.

The parsers are called in-process (thousands of inputs per second); a few generated inputs
also go through the real CLI (tests/test_properties_cli.py) to show what a user sees.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from lockcheck.config import load_config
from lockcheck.inputs.pyproject import read_pyproject
from lockcheck.inputs.reqfile import parse_requirement_files
from tests.fixtures.strategies import (
    assert_clean_error,
    bad_pyproject_documents,
    examples,
    file_bytes,
    pyproject_with_each_key_wrong,
    requirement_file_lines,
)

#: The files a generated project may have; ``missing.in`` is never written.
_FILES = ("a.in", "b.in", "sub/c.in")
_INCLUDE_TARGETS = ("a.in", "b.in", "sub/c.in", "../a.in", "c.in", "missing.in", "sub", "")
_ENVIRON = {"FOO": "foo", "HOME": "/nonexistent-home", "EMPTY": ""}


@contextlib.contextmanager
def _project() -> Iterator[Path]:
    """A fresh folder, made the working directory (relative links resolve in it)."""
    before = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield Path(tmp)
        finally:
            os.chdir(before)


def _error_names_a_line(message: str) -> bool:
    """Every error about a file's content names its line; reading or decoding it does not."""
    return not any(word in message for word in ("could not open", "decode", "not UTF-8"))


_FILE_CONTENTS = file_bytes(requirement_file_lines(includes=_INCLUDE_TARGETS))


@settings(max_examples=examples(200))
@given(
    contents=st.fixed_dictionaries({}, optional=dict.fromkeys(_FILES, _FILE_CONTENTS)),
    constraint=st.booleans(),
)
@example(contents={"a.in": b"-r b.in\n", "b.in": b"-r a.in\n"}, constraint=False)
@example(contents={"a.in": b"-r missing.in\n"}, constraint=False)
@example(contents={"a.in": b"\xef\xbb\xbffoo==1.0\r\nbar\x00\n"}, constraint=True)
@example(contents={"a.in": b"\xff\xfex\x00y"}, constraint=False)  # UTF-16 BOM, odd length
@example(contents={"a.in": b"file://[dev]\n"}, constraint=False)  # urllib rejects the host
@example(contents={"a.in": b"-r file://[::1\n"}, constraint=False)
@example(contents={"a.in": b"-r\x00 b.in\n"}, constraint=False)  # a NUL in the path
@example(contents={"a.in": b"-e \x1b[2J\x1b]0;title\x07\n"}, constraint=False)  # escapes
def test_requirement_files_parse_or_fail_cleanly(
    contents: dict[str, bytes], constraint: bool
) -> None:
    with _project() as root:
        (root / "sub").mkdir()
        for name, data in contents.items():
            (root / name).write_bytes(data)
        try:
            parse_requirement_files(["a.in"], environ=_ENVIRON, constraint=constraint)
        except Exception as exc:
            labels = [name for name in (*_FILES, "missing.in") if name in str(exc)]
            assert labels, f"error names none of the files: {exc!r}"
            assert_clean_error(exc, labels[0], line_known=_error_names_a_line(str(exc)))


_EXTRAS = st.lists(st.sampled_from(["extra", "all", "nope", "Extra", ""]), max_size=2)
_GROUPS = st.lists(st.sampled_from(["test", "lint", "missing", "Test", "-"]), max_size=2)


@settings(max_examples=examples(200))
@given(
    document=bad_pyproject_documents(),
    encoding=st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]),
    extras=_EXTRAS,
    all_extras=st.booleans(),
    groups=_GROUPS,
)
@example(document="", encoding="utf-16", extras=[], all_extras=False, groups=[])
def test_pyproject_reads_or_fails_cleanly(
    document: str, encoding: str, extras: list[str], all_extras: bool, groups: list[str]
) -> None:
    with _project() as root:
        path = root / "pyproject.toml"
        path.write_bytes(document.encode(encoding, "replace"))
        try:
            read_pyproject(
                Path("pyproject.toml"), extras=extras, all_extras=all_extras, groups=groups
            )
        except Exception as exc:
            assert_clean_error(exc, "pyproject.toml")
        try:  # the same file as configuration ([tool.lockcheck], [project] requires-python)
            load_config(root)
        except Exception as exc:
            assert_clean_error(exc, "pyproject.toml")


def test_a_version_longer_than_python_reads_is_an_input_error() -> None:
    """packaging accepts ``>=1000...0`` (5000 digits) and fails later, in the resolver, with a
    bare ValueError; the readers reject it with file and line."""
    digits = "1" + "0" * 5000
    with _project() as root:
        (root / "a.in").write_text(f"ok\nfoo>={digits}\n")
        (root / "pyproject.toml").write_text(
            f'[project]\nname = "demo"\nversion = "1"\ndependencies = ["foo=={digits}"]\n'
        )
        for read, label in (
            (lambda: parse_requirement_files(["a.in"], environ={}), "a.in:2"),
            (lambda: read_pyproject(Path("pyproject.toml")), "pyproject.toml:4"),
        ):
            try:
                read()
            except Exception as exc:
                assert_clean_error(exc, label)
            else:
                raise AssertionError(f"{label}: accepted a version of 5001 digits")


def test_pyproject_with_each_key_of_each_wrong_type_fails_cleanly(tmp_path: Path) -> None:
    """Not a sample: every key of the base pyproject.toml, in turn, deleted or of every TOML
    type, read with every extra and group the base defines."""
    cases = pyproject_with_each_key_wrong()
    path = tmp_path / "pyproject.toml"
    for what, document in cases:
        path.write_text(document, encoding="utf-8")
        for read in (
            lambda: read_pyproject(path, extras=["extra", "all"], groups=["test", "lint"]),
            lambda: load_config(tmp_path),
        ):
            try:
                read()
            except Exception as exc:
                try:
                    assert_clean_error(exc, "pyproject.toml")
                except AssertionError as failure:
                    raise AssertionError(f"{what}: {failure}") from exc
    assert len(cases) > 300
