"""End to end: the ``lockcheck-sync`` hook run by the real pre-commit after git checkouts.

The hook repository is a temporary git repository holding this working tree's files (tracked
and untracked, so the code under test is what runs), committed there.  pre-commit installs
the hook's own environment from it with pip (that part uses the public index, so it takes a
while: these tests are ``slow``); every lock the hook syncs resolves against the local index.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.builders import DistFactory
from tests.fixtures.index_server import IndexServer
from tests.helpers import subprocess_env

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
_GIT_ID = ["-c", "user.name=lockcheck-tests", "-c", "user.email=tests@example.invalid"]


def git(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *_GIT_ID, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, f"git {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def hook_repository(dest: Path) -> tuple[Path, str]:
    """This working tree (tracked and untracked files, not ignored ones) committed into a
    fresh repository; returns it and the commit."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        source = PROJECT_ROOT / rel
        if not source.is_file():
            continue  # deleted in the working tree
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    git("init", "-q", "-b", "main", str(dest), cwd=dest.parent)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "--no-verify", "-m", "lockcheck under test", cwd=dest)
    commit = git("rev-parse", "HEAD", cwd=dest).strip()
    return dest, commit


def write_lock(path: Path, server: IndexServer, *pins: str) -> None:
    path.write_text("\n".join([f"--index-url {server.url}", "", *pins]) + "\n")


def installed(venv: Path) -> list[str]:
    return sorted(p.name for p in venv.glob("lib/python*/site-packages/*.dist-info"))


@pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed")
def test_post_checkout_and_post_merge_keep_dot_venv_in_step(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    dist_factory.wheel("alpha", "1.0")
    dist_factory.wheel("alpha", "2.0")
    dist_factory.wheel("beta", "1.0")
    server = make_index()
    hook_repo, rev = hook_repository(tmp_path / "hook-repo")

    project = tmp_path / "project"
    project.mkdir()
    env = subprocess_env({"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")})
    git("init", "-q", "-b", "main", cwd=project, env=env)
    (project / ".gitignore").write_text(".venv/\n")
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n-   repo: {hook_repo}\n    rev: {rev}\n    hooks:\n    -   id: lockcheck-sync\n"
    )
    write_lock(project / "requirements.txt", server, "alpha==1.0")
    git("add", "-A", cwd=project, env=env)
    git("commit", "-q", "-m", "main lock", cwd=project, env=env)
    git("checkout", "-q", "-b", "feature", cwd=project, env=env)
    write_lock(project / "requirements.txt", server, "alpha==2.0", "beta==1.0")
    git("commit", "-q", "-am", "feature lock", cwd=project, env=env)
    git("checkout", "-q", "main", cwd=project, env=env)
    assert not (project / ".venv").exists()

    install = subprocess.run(
        [
            str(PRE_COMMIT),
            "install",
            "-t",
            "post-checkout",
            "-t",
            "post-merge",
            "-t",
            "post-rewrite",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    # The first checkout installs the hook environment (pip, public index), then syncs.
    out = git("checkout", "feature", cwd=project, env=env)
    assert installed(project / ".venv") == ["alpha-2.0.dist-info", "beta-1.0.dist-info"], out
    assert "lockcheck sync" in out and "Passed" in out, out
    # The hook environment itself was left alone.
    hook_envs = list((tmp_path / "pre-commit-home").glob("repo*/py_env-*"))
    assert hook_envs, out
    assert not list(hook_envs[0].glob("lib/python*/site-packages/beta-*.dist-info"))

    out = git("checkout", "main", cwd=project, env=env)
    assert installed(project / ".venv") == ["alpha-1.0.dist-info"], out

    # A merge that brings the other lock in: post-merge syncs again.
    out = git("merge", "--ff-only", "feature", cwd=project, env=env)
    assert installed(project / ".venv") == ["alpha-2.0.dist-info", "beta-1.0.dist-info"], out
    assert not subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()
