"""``lockcheck upgrade``: pins move on purpose, the change is reported, and the gate passes after.

Every test runs the real CLI against a local index whose newer releases the old lock does not
have yet: requests 2.31.0 -> 2.32.3 forces urllib3 up (2.32.3 needs urllib3>=2), while flask
and its dependencies have newer releases that ``upgrade requests`` must leave alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.builders import PackageSpec
from tests.helpers import call_lockcheck, describe

PY = ">=3.8"

PACKAGES = [
    PackageSpec("requests", "2.31.0", ("urllib3<3,>=1.21.1", "idna"), requires_python=PY),
    PackageSpec("requests", "2.32.3", ("urllib3<3,>=2", "idna"), requires_python=PY),
    PackageSpec("urllib3", "1.26.18", requires_python=PY),
    PackageSpec("urllib3", "2.2.1", requires_python=PY),
    PackageSpec("idna", "3.6", requires_python=PY),
    PackageSpec("idna", "3.7", requires_python=PY),
    PackageSpec("flask", "2.3.0", ("click>=8",), requires_python=PY),
    PackageSpec("flask", "3.0.0", ("click>=8",), requires_python=PY),
    PackageSpec("click", "8.1.3", requires_python=PY),
    PackageSpec("click", "8.1.7", requires_python=PY),
    PackageSpec("gone", "1.0", requires_python=PY),
]

OLD_PINS = "requests==2.31.0\nurllib3==1.26.18\nidna==3.6\nflask==2.3.0\nclick==8.1.3\n"


@pytest.fixture
def old_lock(tmp_path: Path, make_index):
    """requirements.txt holding the old pins, compiled by lockcheck so its header is current."""
    index = make_index(PACKAGES)
    (tmp_path / "requirements.in").write_text(OLD_PINS)
    result = call_lockcheck("compile", "-i", index.url, cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    (tmp_path / "requirements.in").write_text("requests\nflask\n")
    result = call_lockcheck("compile", "-i", index.url, cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    lock = (tmp_path / "requirements.txt").read_text()
    assert "requests==2.31.0" in lock and "flask==2.3.0" in lock, lock
    return tmp_path, index


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        if "==" in line and not line.startswith(("#", " ")):
            name, _, version = line.partition("==")
            pins[name] = version.split()[0]
    return pins


def test_upgrade_all_reports_each_bump_as_json_and_rewrites_the_lock(old_lock) -> None:
    cwd, index = old_lock
    result = call_lockcheck("upgrade", "--format", "json", "-i", index.url, cwd=cwd)
    assert result.returncode == 0, describe(result)
    rows = json.loads(result.stdout)
    assert sorted(rows, key=lambda r: r["name"]) == [
        {"lock": "requirements.txt", "name": n, "old": o, "new": v, "kind": "upgraded"}
        for n, o, v in [
            ("click", "8.1.3", "8.1.7"),
            ("flask", "2.3.0", "3.0.0"),
            ("idna", "3.6", "3.7"),
            ("requests", "2.31.0", "2.32.3"),
            ("urllib3", "1.26.18", "2.2.1"),
        ]
    ]
    assert _pins((cwd / "requirements.txt").read_text()) == {
        "click": "8.1.7",
        "flask": "3.0.0",
        "idna": "3.7",
        "requests": "2.32.3",
        "urllib3": "2.2.1",
    }
    check = call_lockcheck("check", "-i", index.url, cwd=cwd)
    assert check.returncode == 0, describe(check)


def test_upgrade_one_package_moves_what_it_forces_and_nothing_else(old_lock) -> None:
    cwd, index = old_lock
    result = call_lockcheck("upgrade", "requests", "--format", "markdown", "-i", index.url, cwd=cwd)
    assert result.returncode == 0, describe(result)
    assert _pins((cwd / "requirements.txt").read_text()) == {
        "click": "8.1.3",
        "flask": "2.3.0",
        "idna": "3.6",
        "requests": "2.32.3",
        "urllib3": "2.2.1",
    }
    lines = result.stdout.splitlines()
    assert lines[0] == "| Package | Lock | From | To | Change |"
    body = [line for line in lines[2:] if line.startswith("| ")]
    assert body == [
        "| requests | `requirements.txt` | `2.31.0` | `2.32.3` | upgraded |",
        "| urllib3 | `requirements.txt` | `1.26.18` | `2.2.1` | upgraded |",
    ]
    assert "2 pins changed in 1 lock." in result.stdout
    check = call_lockcheck("check", "-i", index.url, cwd=cwd)
    assert check.returncode == 0, describe(check)


def test_upgrade_with_a_spec_stops_where_the_spec_says(old_lock) -> None:
    cwd, index = old_lock
    result = call_lockcheck("upgrade", "urllib3<2", "idna", "-i", index.url, cwd=cwd)
    assert result.returncode == 0, describe(result)
    pins = _pins((cwd / "requirements.txt").read_text())
    assert pins["urllib3"] == "1.26.18" and pins["idna"] == "3.7", pins
    assert pins["requests"] == "2.31.0", pins
    assert "idna" in result.stdout and "3.6 -> 3.7" in result.stdout, describe(result)


def test_dry_run_reports_exits_1_and_writes_nothing(old_lock) -> None:
    cwd, index = old_lock
    before = (cwd / "requirements.txt").read_bytes()
    result = call_lockcheck("upgrade", "--dry-run", "-i", index.url, cwd=cwd)
    assert result.returncode == 1, describe(result)
    assert (cwd / "requirements.txt").read_bytes() == before
    assert "requests" in result.stdout and "2.31.0 -> 2.32.3" in result.stdout
    assert "5 pins would change in 1 lock" in result.stdout, describe(result)


def test_nothing_to_upgrade_exits_0_and_says_so(old_lock) -> None:
    cwd, index = old_lock
    assert call_lockcheck("upgrade", "-i", index.url, cwd=cwd).returncode == 0
    result = call_lockcheck("upgrade", "--dry-run", "-i", index.url, cwd=cwd)
    assert result.returncode == 0, describe(result)
    assert "every pin is already the newest allowed" in result.stdout
    assert (
        json.loads(call_lockcheck("upgrade", "--format", "json", "-i", index.url, cwd=cwd).stdout)
        == []
    )


def test_a_package_no_lock_pins_is_an_error_and_nothing_is_written(old_lock) -> None:
    cwd, index = old_lock
    before = (cwd / "requirements.txt").read_bytes()
    result = call_lockcheck("upgrade", "reqeusts", "-i", index.url, cwd=cwd)
    assert result.returncode == 2, describe(result)
    assert "reqeusts is not pinned in requirements.txt" in result.stderr, describe(result)
    assert (cwd / "requirements.txt").read_bytes() == before


def test_removed_and_added_pins_are_reported(old_lock) -> None:
    cwd, index = old_lock
    lock = cwd / "requirements.txt"
    # A pin no input needs any more goes; the upgrade reports it as removed.
    lock.write_text(lock.read_text() + "gone==1.0\n    # via -r requirements.in\n")
    result = call_lockcheck("upgrade", "--format", "json", "-i", index.url, cwd=cwd)
    assert result.returncode == 0, describe(result)
    kinds = {row["name"]: row["kind"] for row in json.loads(result.stdout)}
    assert kinds["gone"] == "removed", kinds
    assert "gone==" not in lock.read_text()


def test_configured_locks_are_upgraded_in_order_and_layered_locks_follow(
    tmp_path: Path, make_index
) -> None:
    index = make_index(PACKAGES)
    (tmp_path / "requirements.in").write_text("requests<2.32\n")
    (tmp_path / "dev.in").write_text("-c requirements.txt\nrequests\nflask<3\n")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.lockcheck]\n"
        f'index-url = "{index.url}"\n'
        '[[tool.lockcheck.lock]]\ninputs = ["requirements.in"]\noutput = "requirements.txt"\n'
        '[[tool.lockcheck.lock]]\ninputs = ["dev.in"]\noutput = "dev.txt"\n'
    )
    result = call_lockcheck("compile", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    (tmp_path / "requirements.in").write_text("requests\n")
    (tmp_path / "dev.in").write_text("-c requirements.txt\nrequests\nflask\n")
    result = call_lockcheck("upgrade", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    rows = {(r["lock"], r["name"]): (r["old"], r["new"]) for r in json.loads(result.stdout)}
    assert rows[("requirements.txt", "requests")] == ("2.31.0", "2.32.3"), rows
    assert rows[("dev.txt", "requests")] == ("2.31.0", "2.32.3"), rows
    assert rows[("dev.txt", "flask")] == ("2.3.0", "3.0.0"), rows
    check = call_lockcheck("check", cwd=tmp_path)
    assert check.returncode == 0, describe(check)


def test_only_the_lock_named_with_o_moves(tmp_path: Path, make_index) -> None:
    index = make_index(PACKAGES)
    for name in ("a", "b"):
        (tmp_path / f"{name}.in").write_text("idna==3.6\n")
        result = call_lockcheck("compile", "-i", index.url, f"{name}.in", cwd=tmp_path)
        assert result.returncode == 0, describe(result)
        (tmp_path / f"{name}.in").write_text("idna\n")
    result = call_lockcheck("upgrade", "-o", "a.txt", "-i", index.url, cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    assert "idna==3.7" in (tmp_path / "a.txt").read_text()
    assert "idna==3.6" in (tmp_path / "b.txt").read_text()


def _package(name: str, version: str, url: str):
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    from lockcheck.models import DistFile, LockedPackage

    key = canonicalize_name(name)
    dist = DistFile(f"{name}-{version}-py3-none-any.whl", url, key, Version(version), True)
    return LockedPackage(key, name, Version(version), files=(dist,))


def test_markdown_links_only_packages_that_came_from_pypi() -> None:
    from lockcheck.models import Resolution
    from lockcheck.upgrade import LockUpgrade, PinUpdate, project_page_for, render_markdown

    pythonhosted = "https://files.pythonhosted.org/packages/ab/cd/requests-2.32.3.whl"
    private = "https://user:secret@pkgs.example.com/simple/corp/corp-2.0.whl"
    resolution = Resolution(
        {
            "requests": _package("requests", "2.32.3", pythonhosted),
            "corp": _package("corp", "2.0", private),
        },
        "3.11",
    )
    result = LockUpgrade(
        "requirements.txt",
        (
            PinUpdate("requirements.txt", "corp", "1.0", "2.0", "upgraded"),
            PinUpdate("requirements.txt", "requests", "2.31.0", "2.32.3", "upgraded"),
            PinUpdate("requirements.txt", "gone", "1.0", None, "removed"),
        ),
        rewritten=True,
        project_page=project_page_for(resolution),
    )
    text = render_markdown([result], dry_run=False)
    assert "| [requests](https://pypi.org/project/requests/2.32.3/) |" in text, text
    assert "| corp | `requirements.txt` | `1.0` | `2.0` | upgraded |" in text, text
    # A mixed lock: a removed package's origin is unknown, so it gets no link either.
    assert "| gone | `requirements.txt` | `1.0` | - | removed |" in text, text
    assert "secret" not in text and "example.com" not in text
