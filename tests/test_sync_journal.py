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


def test_each_new_directory_is_journaled_once_however_many_subdirectories_it_gets(
    tmp_path: Path,
) -> None:
    """A wheel's files are journaled before any is linked, so its new directories do not
    exist yet while the rest are journaled: a deep tree (jedi's typeshed stubs) used to
    journal ``jedi`` again for each of its subdirectories, and stat every level each time.
    (Once something was moved away: before that, ``jedi`` is one "tree" line; see below.)"""
    from lockcheck.sync.apply import Transaction

    venv = tmp_path / "venv"
    site = venv / "lib" / "site-packages"
    site.mkdir(parents=True)
    (site / "old.py").write_text("")
    txn = Transaction.begin(venv)
    txn.stash(site / "old.py")  # an uninstall: from here on, no trees
    files = [
        f"{site}/jedi/third_party/typeshed/stubs/{stub}/{module}/__init__.pyi"
        for stub in ("PyMySQL", "PyScreeze", "six")
        for module in ("a", "b")
    ]
    txn.will_create_all(files)
    journal = read_journal(txn.backup / "journal")
    assert txn.rollback() == []
    assert (site / "old.py").exists()
    made = [step[1] for step in journal if step[0] == "mkdir"]
    assert len(made) == len(set(made)), made
    assert made[:4] == [
        f"{site}/jedi",
        f"{site}/jedi/third_party",
        f"{site}/jedi/third_party/typeshed",
        f"{site}/jedi/third_party/typeshed/stubs",
    ]
    assert len(made) == 4 + 3 + 6
    assert [step[1] for step in journal if step[0] == "create"] == files
    assert not [step for step in journal if step[0] == "tree"]


def test_a_transaction_that_moved_nothing_journals_a_new_directory_as_one_tree(
    tmp_path: Path,
) -> None:
    """Before anything is moved away or removed, a new top directory is journaled once as a
    tree, with none of its subdirectories or files; a file written beside it keeps its own
    line.  A rollback deletes both."""
    from lockcheck.sync.apply import Transaction

    venv = tmp_path / "venv"
    site = venv / "lib" / "site-packages"
    site.mkdir(parents=True)
    txn = Transaction.begin(venv)
    files = [
        f"{site}/jedi/third_party/typeshed/stubs/{stub}/{module}/__init__.pyi"
        for stub in ("PyMySQL", "PyScreeze", "six")
        for module in ("a", "b")
    ]
    txn.will_create_all([*files, f"{site}/six.py"])
    for path in files:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text("")
    (site / "six.py").write_text("")
    journal = read_journal(txn.backup / "journal")
    assert journal == [["tree", f"{site}/jedi"], ["create", f"{site}/six.py"]]
    assert txn.rollback() == []
    assert list(site.iterdir()) == []
