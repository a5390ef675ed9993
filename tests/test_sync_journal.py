"""The transaction journal: what a killed sync leaves for the next one to read."""

from __future__ import annotations

import json
from pathlib import Path

from lockcheck.sync.journal import JournalWriter, read_journal


def test_log_many_writes_one_json_line_per_step_that_read_journal_gives_back(
    tmp_path: Path,
) -> None:
    steps = [
        ("create", "/venv/lib/site-packages/pkg/__init__.py"),
        ("mkdir", '/venv/lib/site-packages/we"ird\\dir'),
        ("create", "/venv/lib/site-packages/ümlaut/\u2603.py"),
        ("create", "/venv/lib/site-packages/bad/\udcff.py"),  # a non-UTF-8 file name
        ("move", "/venv/a", "/venv/.backup/1"),
    ]
    writer = JournalWriter(tmp_path / "journal")
    writer.log_many(steps)
    writer.log("rmdir", "/venv/x")
    writer.close()
    raw = (tmp_path / "journal").read_bytes()
    expected = "".join(json.dumps(list(step)) + "\n" for step in [*steps, ("rmdir", "/venv/x")])
    assert raw == expected.encode("utf-8")
    assert read_journal(tmp_path / "journal") == [list(s) for s in steps] + [["rmdir", "/venv/x"]]
