"""Property: any requirements.txt lock or pylock.toml gives a result or one clean error.

``check`` and ``sync`` read locks that people edit by hand and that merges mangle; whatever
is in the file, the reader answers with a ParsedLock or an InputError naming the file (and
the line, where there is one).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from lockcheck.lockfile.pylock import read_pylock
from lockcheck.lockfile.reader import read_lock
from tests.fixtures.strategies import (
    assert_clean_error,
    bad_pylock_documents,
    examples,
    file_bytes,
    lock_lines,
    pylock_with_each_key_wrong,
    valid_pylock_document,
)


@settings(max_examples=examples(200))
@given(data=file_bytes(lock_lines(), max_lines=12))
@example(data=b"foo==1.0 ; python_version >\n")
@example(data=b"\xef\xbb\xbffoo==1.0\r\n    --hash=sha256:ab\r\n")
@example(data=b"foo==1.0 \\\n")
@example(data=b"file://[dev]\n")  # urllib rejects the host
@example(data=b"foo==1" + b"0" * 5000 + b"\n")  # more digits than Python reads as an int
def test_requirements_lock_reads_or_fails_cleanly(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "requirements.txt")
        path.write_bytes(data)
        try:
            read_lock(path)
        except Exception as exc:
            assert_clean_error(exc, str(path), line_known="UTF-8" not in str(exc))


def test_base_pylock_document_is_valid() -> None:
    """The mutations start from a valid lock, so each one tests the key it breaks."""
    lock = read_pylock(valid_pylock_document(), base_dir=Path.cwd())
    assert [e.package.name for e in lock.entries] == ["pkg", "local", "vcs", "arch"]


@settings(max_examples=examples(200))
@given(document=bad_pylock_documents(), crlf=st.booleans())
@example(document='lock-version = "1.0"\ncreated-by = "x"\npackages = [{name = "a"}]\n', crlf=True)
def test_pylock_reads_or_fails_cleanly(document: str, crlf: bool) -> None:
    if crlf:
        document = document.replace("\n", "\r\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "pylock.toml")
        path.write_bytes(document.encode("utf-8", "surrogatepass"))
        try:
            read_pylock(path)
        except Exception as exc:
            assert_clean_error(exc, str(path))


def test_pylock_with_each_key_of_each_wrong_type_fails_cleanly(tmp_path: Path) -> None:
    """Not a sample: every key of the base lock, in turn, deleted or of every TOML type."""
    cases = pylock_with_each_key_wrong()
    path = tmp_path / "pylock.toml"
    for what, document in cases:
        path.write_text(document, encoding="utf-8")
        try:
            read_pylock(path)
        except Exception as exc:
            try:
                assert_clean_error(exc, str(path))
            except AssertionError as failure:
                raise AssertionError(f"{what}: {failure}") from exc
    assert len(cases) > 500
