"""Tamper-evident locks: `check` reports edited option lines and foreign hashes, and every fix
command it prints makes the next `check` pass."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import describe, run_lockcheck

LOCK = "requirements.txt"
EVIL = "https://evil.example/simple/"
BOGUS = "sha256:" + "0" * 64
LEVELS = [pytest.param((), id="full"), pytest.param(("--offline",), id="offline")]


@pytest.fixture
def project(tmp_path, make_index, universe_wheelhouse):
    """requirements.in (flask) compiled with hashes against a private index."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\n")
    result = run_lockcheck("compile", "-i", server.url, "--generate-hashes", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    return tmp_path, server


def edit(folder: Path, old: str, new: str, name: str = LOCK) -> None:
    path = folder / name
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new, 1))


def line_of(folder: Path, needle: str) -> int:
    lines = (folder / LOCK).read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


def reasons(result) -> list[dict]:
    payload = json.loads(result.stdout)
    return [r for lock in payload["locks"] for r in lock["reasons"]]


# ----------------------------------------------------------------------------------------
# the options block
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_edited_index_url_is_drift(project, level):
    folder, server = project
    edit(folder, f"--index-url {server.url}\n", f"--index-url {EVIL}\n")
    result = run_lockcheck("check", *level, cwd=folder)
    assert result.returncode == 1, describe(result)
    line = line_of(folder, f"--index-url {EVIL}")
    assert (
        f"line {line}: {LOCK}: --index-url is {EVIL} but the settings give {server.url}"
    ) in result.stderr


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    "added",
    [
        f"--extra-index-url {EVIL}",
        "--find-links https://evil.example/wheels/",
        "--trusted-host evil.example",
        "--no-index",
    ],
)
def test_an_added_option_line_is_drift(project, added, level):
    folder, server = project
    edit(folder, f"--index-url {server.url}\n", f"--index-url {server.url}\n{added}\n")
    result = run_lockcheck("check", *level, cwd=folder)
    assert result.returncode == 1, describe(result)
    option, _, value = added.partition(" ")
    expected = f"line {line_of(folder, added)}: {LOCK}: {option} is {value or 'set'} but the "
    assert expected + "settings write none" in result.stderr


def test_an_index_url_added_where_none_is_written(tmp_path, make_index, universe_wheelhouse):
    """The lock was compiled with --no-emit-index-url: any --index-url line is an attack."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("idna\n")
    args = ("compile", "-i", server.url, "--no-emit-index-url")
    assert run_lockcheck(*args, cwd=tmp_path).returncode == 0
    assert "--index-url " not in (tmp_path / LOCK).read_text()
    edit(tmp_path, "idna==", f"--index-url {EVIL}\n\nidna==")
    for level in ((), ("--offline",)):
        result = run_lockcheck("check", *level, cwd=tmp_path)
        assert result.returncode == 1, describe(result)
        assert f"{LOCK}: --index-url is {EVIL} but the settings write none" in result.stderr


def test_index_url_from_the_environment_is_the_settings(tmp_path, make_index, universe_wheelhouse):
    """PIP_INDEX_URL is part of the settings: the lock agrees with it, not with the default."""
    server = make_index(universe_wheelhouse)
    env = {"PIP_INDEX_URL": server.url}
    (tmp_path / "requirements.in").write_text("idna\n")
    assert run_lockcheck("compile", cwd=tmp_path, env=env).returncode == 0
    assert f"--index-url {server.url}\n" in (tmp_path / LOCK).read_text()
    result = run_lockcheck("check", "--offline", cwd=tmp_path, env=env)
    assert result.returncode == 0, describe(result)
    result = run_lockcheck("check", "--offline", cwd=tmp_path)
    assert result.returncode == 1, describe(result)
    assert f"--index-url is {server.url} but the settings write none" in result.stderr


def test_credentials_are_compared_masked(tmp_path, make_index, universe_wheelhouse):
    """Config holds the real credentials, the lock their mask: equal; another host: drift."""
    server = make_index(universe_wheelhouse)
    secret_url = server.url.replace("://", "://bob:hunter2@")
    masked_url = server.url.replace("://", "://****@")
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.in").write_text("idna\n")
    (tmp_path / ".lockcheck.toml").write_text(
        f'index-url = "{secret_url}"\n[[lock]]\ninputs = ["requirements.in"]\n'
    )
    lock = (
        "#\n# This file is autogenerated by lockcheck with Python 3.11\n"
        "# by the following command:\n#\n#    lockcheck compile\n#\n"
        f"--index-url {masked_url}\n\nidna==3.6\n    # via -r requirements.in\n"
    )
    (tmp_path / LOCK).write_text(lock)
    result = run_lockcheck("check", "--offline", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    (tmp_path / LOCK).write_text(lock.replace("@127.0.0.1", "@evil.example"))
    result = run_lockcheck("check", "--offline", cwd=tmp_path)
    assert result.returncode == 1, describe(result)
    assert f"--index-url is {masked_url.replace('127.0.0.1', 'evil.example')}" in result.stderr
    assert f"but the settings give {masked_url}" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def test_option_drift_in_json_and_github(project):
    folder, server = project
    edit(folder, f"--index-url {server.url}\n", f"--index-url {server.url}\n--find-links /tmp\n")
    result = run_lockcheck("check", "--offline", "--format", "json", cwd=folder)
    assert result.returncode == 1, describe(result)
    (reason,) = reasons(result)
    assert reason["kind"] == "index-option"
    assert reason["option"] == "--find-links"
    assert reason["found"] == ["/tmp"]
    assert reason["expected"] == []
    assert reason["line"] == line_of(folder, "--find-links")
    result = run_lockcheck("check", "--format", "github", cwd=folder)
    assert result.returncode == 1, describe(result)
    assert (
        f"::error file={LOCK},line={line_of(folder, '--find-links')},title=lockcheck drift::"
        f"{LOCK}: --find-links is /tmp but the settings write none. Fix: lockcheck compile"
    ) in result.stdout


# ----------------------------------------------------------------------------------------
# hashes
# ----------------------------------------------------------------------------------------


def test_a_bogus_hash_is_reported_and_compile_drops_it(project):
    folder, _ = project
    edit(folder, "flask==3.0.0 \\\n", f"flask==3.0.0 \\\n    --hash={BOGUS} \\\n")
    result = run_lockcheck("check", cwd=folder)
    assert result.returncode == 1, describe(result)
    line = line_of(folder, BOGUS)
    assert f"line {line}: flask==3.0.0 lists sha256:0000000000000000..." in result.stderr
    # The fix it prints recomputes the hashes instead of writing the bogus one back.
    fix = result.stderr.split("  fix: ", 1)[1].splitlines()[0]
    result = run_lockcheck(*shlex.split(fix)[1:], cwd=folder)
    assert result.returncode == 0, describe(result)
    assert (
        f"lockcheck: warning: {LOCK}: dropped --hash={BOGUS} of flask==3.0.0: "
        "no file of that release has it"
    ) in result.stderr
    assert BOGUS not in (folder / LOCK).read_text()
    result = run_lockcheck("check", cwd=folder)
    assert result.returncode == 0, describe(result)


def test_a_removed_hash_is_reported(project):
    folder, _ = project
    text = (folder / LOCK).read_text()
    first = re.search(r"flask==3\.0\.0 \\\n    (--hash=sha256:[0-9a-f]+) \\\n", text)
    assert first, text
    edit(folder, f"    {first.group(1)} \\\n", "")
    result = run_lockcheck("check", "--format", "json", cwd=folder)
    assert result.returncode == 1, describe(result)
    (reason,) = reasons(result)
    assert reason["kind"] == "missing-hash"
    assert reason["name"] == "flask"
    assert reason["digest"] == first.group(1).removeprefix("--hash=")
    assert reason["message"].startswith("flask==3.0.0 has no --hash for flask-3.0.0")


# ----------------------------------------------------------------------------------------
# every fix command that check prints makes the next check pass
# ----------------------------------------------------------------------------------------


def _configure(folder: Path, server, extra: str = "") -> None:
    (folder / ".git").mkdir(exist_ok=True)
    (folder / ".lockcheck.toml").write_text(
        f'index-url = "{server.url}"\n{extra}[[lock]]\ninputs = ["requirements.in"]\n'
    )


def _drop_hashes(folder: Path, name: str) -> None:
    text = (folder / LOCK).read_text()
    block = re.search(rf"^{name}==\S+( \\\n    --hash=\S+)+\n", text, re.M)
    assert block, text
    pin = block.group(0).split(" ", 1)[0]
    (folder / LOCK).write_text(text.replace(block.group(0), pin + "\n"))


@dataclass(frozen=True)
class Tamper:
    """One kind of drift: how to make it, and the reason kinds check must report."""

    make: Callable[[Path, object], None]
    kinds: frozenset[str]


def _first_hash(folder: Path, name: str) -> str:
    text = (folder / LOCK).read_text()
    match = re.search(rf"^{name}==\S+ \\\n    --hash=(\S+)", text, re.M)
    assert match, text
    return match.group(1)


TAMPERS: dict[str, Tamper] = {
    "input added": Tamper(
        lambda f, s: (f / "requirements.in").write_text("flask\nrequests\n"),
        frozenset({"missing-pin"}),
    ),
    "input removed": Tamper(
        lambda f, s: (f / "requirements.in").write_text("click\n"),
        frozenset({"orphan-pin"}),
    ),
    "input narrowed": Tamper(
        lambda f, s: (f / "requirements.in").write_text("flask<3\n"),
        frozenset({"unsatisfied-pin"}),
    ),
    "pin hand-edited, graph broken": Tamper(
        lambda f, s: edit(f, "werkzeug==3.0.0", "werkzeug==2.3.0"),
        frozenset({"pin-changed"}),
    ),
    "pin hand-edited, still valid": Tamper(
        lambda f, s: edit(f, "click==8.1.7", "click==8.1.3"),
        frozenset({"foreign-hash"}),
    ),
    "hash tampered": Tamper(
        lambda f, s: edit(f, _first_hash(f, "flask"), BOGUS),
        frozenset({"foreign-hash"}),
    ),
    "hash removed": Tamper(
        lambda f, s: edit(f, f"    --hash={_first_hash(f, 'flask')} \\\n", ""),
        frozenset({"missing-hash"}),
    ),
    "all hashes of a pin removed": Tamper(
        lambda f, s: _drop_hashes(f, "click"), frozenset({"missing-hashes"})
    ),
    "index-url edited": Tamper(
        lambda f, s: edit(f, f"--index-url {s.url}\n", f"--index-url {EVIL}\n"),
        frozenset({"index-option"}),
    ),
    "extra-index-url added": Tamper(
        lambda f, s: edit(f, "\n\n", f"\n--extra-index-url {EVIL}\n\n"),
        frozenset({"index-option"}),
    ),
    "find-links added": Tamper(
        lambda f, s: edit(f, "\n\n", "\n--find-links https://evil.example/wheels/\n\n"),
        frozenset({"index-option"}),
    ),
    "trusted-host added": Tamper(
        lambda f, s: edit(f, "\n\n", "\n--trusted-host evil.example\n\n"),
        frozenset({"index-option"}),
    ),
    "no-index added": Tamper(
        lambda f, s: edit(f, "\n\n", "\n--no-index\n\n"), frozenset({"index-option"})
    ),
    "credentials written": Tamper(
        lambda f, s: edit(f, "--index-url http://", "--index-url http://bob:hunter2@"),
        frozenset({"credentials", "index-option"}),
    ),
    "orphan pin added": Tamper(
        lambda f, s: edit(
            f, "itsdangerous==", "idna==3.6\n    # via -r requirements.in\nitsdangerous=="
        ),
        frozenset({"orphan-pin"}),
    ),
    "comment added": Tamper(
        lambda f, s: edit(f, "    # via flask\n", "    # via flask\n# looks harmless\n"),
        frozenset({"text"}),
    ),
    "header option changed": Tamper(lambda f, s: _configure(f, s), frozenset({"header-option"})),
    "python version changed": Tamper(
        lambda f, s: _configure(f, s, 'generate-hashes = true\npython-version = "3.12"\n'),
        frozenset({"python-version"}),
    ),
    "lock missing": Tamper(
        lambda f, s: (_configure(f, s, "generate-hashes = true\n"), (f / LOCK).unlink()),
        frozenset({"lock-missing"}),
    ),
}


def test_the_table_covers_every_kind_check_reports():
    from lockcheck import check

    kinds = {
        cls.kind
        for cls in vars(check).values()
        if isinstance(cls, type) and issubclass(cls, check.Drift) and cls is not check.Drift
    }
    covered = set().union(*(t.kinds for t in TAMPERS.values()))
    assert kinds - covered <= {"pin-added", "pin-removed"}  # reported next to another kind


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_every_fix_command_makes_the_next_check_pass(project, name):
    folder, server = project
    tamper = TAMPERS[name]
    tamper.make(folder, server)
    result = run_lockcheck("check", "--format", "json", cwd=folder)
    assert result.returncode == 1, describe(result)
    found = {r["kind"] for r in reasons(result)}
    assert tamper.kinds <= found, describe(result)
    (fix,) = {lock["fix"] for lock in json.loads(result.stdout)["locks"] if lock["reasons"]}
    argv = shlex.split(fix)
    assert argv[:2] == ["lockcheck", "compile"], fix
    done = run_lockcheck(*argv[1:], cwd=folder)
    assert done.returncode == 0, describe(done)
    for level in ((), ("--offline",)):
        after = run_lockcheck("check", *level, cwd=folder)
        assert after.returncode == 0, f"fix: {fix}\n" + describe(after)
