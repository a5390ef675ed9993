"""The example projects in examples/: their committed locks pass the gate, and each project
compiles (then passes the full gate) against the local test index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import describe, run_lockcheck

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).parent.parent / "examples"
# webapp is left out: the README's first command rewrites its lock with the machine's index.
PROJECTS = ["flask-app", "library", "monorepo"]
LOCKS = {
    "flask-app": ["requirements.txt", "requirements-dev.txt"],
    "library": ["pylock.toml"],
    "monorepo": [
        "constraints.txt",
        "services/api/requirements.txt",
        "services/worker/requirements.txt",
    ],
}


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(EXAMPLES / name, target)
    return target


@pytest.mark.parametrize("name", PROJECTS)
def test_committed_locks_pass_the_offline_gate(name: str, tmp_path: Path) -> None:
    project = _copy(name, tmp_path)
    result = run_lockcheck("check", "--offline", cwd=project)
    assert result.returncode == 0, describe(result)
    for lock in LOCKS[name]:
        assert (project / lock).is_file(), lock
        assert f"{lock}: up to date" in result.stdout, describe(result)
    for part in (".pre-commit-config.yaml", ".github/workflows/locks.yml"):
        assert (project / part).is_file(), part


@pytest.mark.parametrize("name", PROJECTS)
def test_each_project_compiles_against_the_local_index(
    name: str, tmp_path: Path, universe_index
) -> None:
    project = _copy(name, tmp_path)
    before = {lock: (project / lock).read_text() for lock in LOCKS[name]}
    result = run_lockcheck("compile", "-i", universe_index.url, cwd=project)
    assert result.returncode == 0, describe(result)
    for lock in LOCKS[name]:
        text = (project / lock).read_text()
        assert text != before[lock], f"{lock} was not recompiled"
        assert universe_index.url in text, f"{lock} did not come from the local index"
    check = run_lockcheck("check", "-i", universe_index.url, cwd=project)
    assert check.returncode == 0, describe(check)
