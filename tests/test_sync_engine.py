"""``lockcheck sync`` against real virtualenvs and the local index.

Every lock carries its own ``--index-url`` pointing at a local server; venvs are made with
the stdlib ``venv`` module (no pip).  ``pip freeze --all`` of a synced venv is read with the
test interpreter's pip (``pip --python``), the same check a user would make.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv as stdlib_venv
from pathlib import Path

import pytest

from lockcheck.errors import HashMismatch, InputError, InstallFailed
from lockcheck.sync.apply import BACKUP_PREFIX
from lockcheck.sync.engine import SyncOptions, sync_env
from lockcheck.sync.target import venv_python
from tests.fixtures.builders import DistFactory
from tests.fixtures.index_server import IndexServer
from tests.helpers import describe, run_lockcheck

PROTECTED = {"pip", "setuptools", "wheel"}
PY312 = Path.home() / ".pyenv" / "versions" / "3.12.1" / "bin" / "python3.12"


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def make_venv(path: Path, python: str | Path | None = None) -> Path:
    if python is None:
        stdlib_venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(path)
    else:
        subprocess.run([str(python), "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def site_packages(venv: Path) -> Path:
    [site] = list((venv / "lib").glob("python*/site-packages"))
    return site


def dist_infos(venv: Path) -> list[str]:
    return sorted(p.name for p in site_packages(venv).glob("*.dist-info"))


def snapshot(venv: Path) -> dict[str, str]:
    """Every file of the venv (but sync's own stamp and lock) with its content digest."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(venv):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            path = Path(root) / name
            rel = str(path.relative_to(venv))
            if rel.startswith(".lockcheck-sync"):
                continue
            if path.is_symlink():
                out[rel] = "-> " + os.readlink(path)
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        out.update({str((Path(root) / d).relative_to(venv)) + "/": "dir" for d in dirs})
    return out


def freeze(venv: Path) -> set[str]:
    """``pip freeze --all`` of *venv*, less pip/setuptools/wheel."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv_python(venv)), "freeze", "--all"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    lines = {line.strip() for line in proc.stdout.splitlines() if line.strip()}
    return {line for line in lines if line.split("==")[0].lower() not in PROTECTED}


def write_lock(path: Path, server: IndexServer, *lines: str) -> Path:
    path.write_text("\n".join([f"--index-url {server.url}", "", *lines]) + "\n", encoding="utf-8")
    return path


def pins(lock: Path) -> set[str]:
    return {
        line.split(" ")[0]
        for line in lock.read_text().splitlines()
        if "==" in line and not line.startswith(("#", "-"))
    }


def run_python(venv: Path, code: str) -> str:
    proc = subprocess.run(
        [str(venv_python(venv)), "-c", code], capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


@pytest.fixture
def index(dist_factory: DistFactory, make_index) -> IndexServer:
    """alpha 1.0 (with a console script) and 2.0, beta, delta, extra, winonly, gamma (sdist
    only) and zzz-broken (a wheel whose install fails: a file in an unknown .data scheme)."""
    dist_factory.wheel(
        "alpha",
        "1.0",
        entry_points="[console_scripts]\nalpha-cli = alpha:__version__\n",
    )
    dist_factory.wheel("alpha", "2.0")
    dist_factory.wheel("beta", "1.0")
    dist_factory.wheel("delta", "1.0")
    dist_factory.wheel("extra", "1.0")
    dist_factory.wheel("winonly", "1.0")
    dist_factory.sdist("gamma", "0.5")
    dist_factory.wheel(
        "zzz-broken",
        "1.0",
        files={"zzz_broken/__init__.py": "", "zzz_broken-1.0.data/bogus/file.txt": "x"},
    )
    return make_index()


def sha256_of(server: IndexServer, filename: str) -> str:
    return hashlib.sha256((server.directory / filename).read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------
# installing, upgrading, removing
# --------------------------------------------------------------------------------------


def test_fresh_install_into_empty_venv(tmp_path: Path, index: IndexServer) -> None:
    venv = make_venv(tmp_path / "venv")
    lock = write_lock(
        tmp_path / "requirements.txt",
        index,
        "alpha==1.0",
        "beta==1.0",
        "gamma==0.5",
        'winonly==1.0 ; sys_platform == "win32"',
    )
    report = sync_env([lock], venv)
    assert report.applied and report.plan is not None
    assert report.summary() == "3 installed"
    assert [w.name for w in report.plan.skipped] == ["winonly"]
    assert freeze(venv) == {"alpha==1.0", "beta==1.0", "gamma==0.5"}
    # The sdist-only package was built into a wheel and installed like the others.
    assert run_python(venv, "import gamma, alpha; print(gamma.__version__, alpha.__version__)") == (
        "0.5 1.0"
    )
    info = site_packages(venv) / "alpha-1.0.dist-info"
    assert (info / "INSTALLER").read_text() == "lockcheck\n"
    assert (info / "REQUESTED").exists()
    assert not (info / "direct_url.json").exists()
    script = venv / "bin" / "alpha-cli"
    assert script.read_text().startswith(f"#!{venv_python(venv)}")
    assert os.access(script, os.X_OK)
    assert not list(venv.glob(BACKUP_PREFIX + "*"))

    # A second run is answered by the stamp: no request at all.
    index.clear_log()
    again = sync_env([lock], venv)
    assert again.from_stamp and again.summary() == "Everything up-to-date"
    assert index.count() == 0
    # Bypassing the stamp: everything is checked, nothing changes, still no download.
    forced = sync_env([lock], venv, SyncOptions(use_stamp=False))
    assert not forced.from_stamp and not forced.changes
    assert index.count("/files/") == 0


def test_sync_from_a_venv_with_extra_and_wrong_versions_matches_pip_freeze(
    tmp_path: Path, index: IndexServer, dist_factory: DistFactory
) -> None:
    venv = make_venv(tmp_path / "venv")
    # Installed by pip, the way a developer's venv drifts.
    subprocess.run(
        [
            sys.executable, "-m", "pip", "--python", str(venv_python(venv)), "install",
            "--quiet", "--no-index", "--find-links", str(dist_factory.directory),
            "alpha==2.0", "extra==1.0", "delta==1.0",
        ],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )  # fmt: skip
    assert freeze(venv) == {"alpha==2.0", "extra==1.0", "delta==1.0"}
    lock = write_lock(tmp_path / "requirements.txt", index, "alpha==1.0", "beta==1.0", "delta==1.0")
    report = sync_env([lock], venv)
    assert report.summary() == "1 installed, 1 downgraded, 1 removed"
    assert freeze(venv) == pins(lock)
    site = site_packages(venv)
    assert not (site / "extra").exists()
    assert not any(p.name.startswith("extra") for p in site.iterdir())
    assert (site / "delta-1.0.dist-info" / "INSTALLER").read_text().strip() == "pip"  # untouched


def test_cli_upgrade_downgrade_remove_and_dry_run(tmp_path: Path, index: IndexServer) -> None:
    venv = make_venv(tmp_path / "venv")
    lock = write_lock(tmp_path / "requirements.txt", index, "alpha==1.0", "beta==1.0")
    first = run_lockcheck("sync", "--python", venv, cwd=tmp_path)
    assert first.returncode == 0, describe(first)
    assert first.stdout.splitlines()[-1] == "2 installed"

    write_lock(lock, index, "alpha==2.0", "delta==1.0")
    dry = run_lockcheck("sync", "--python", venv, "--dry-run", cwd=tmp_path)
    assert dry.returncode == 1, describe(dry)
    assert "upgrade    alpha 1.0 -> 2.0" in dry.stdout
    assert "install    delta==1.0" in dry.stdout
    assert "remove     beta==1.0" in dry.stdout
    assert dry.stdout.splitlines()[-1] == "Would change: 1 to install, 1 to upgrade, 1 to remove"
    assert dist_infos(venv) == ["alpha-1.0.dist-info", "beta-1.0.dist-info"]

    applied = run_lockcheck("sync", "--python", venv, cwd=tmp_path)
    assert applied.returncode == 0, describe(applied)
    assert applied.stdout.splitlines()[-1] == "1 installed, 1 upgraded, 1 removed"
    assert freeze(venv) == {"alpha==2.0", "delta==1.0"}
    assert not (venv / "bin" / "alpha-cli").exists()  # alpha 1.0's script went with it

    up_to_date = run_lockcheck("sync", "--python", venv, "--dry-run", cwd=tmp_path)
    assert up_to_date.returncode == 0, describe(up_to_date)
    assert up_to_date.stdout.strip() == "Everything up-to-date"

    write_lock(lock, index, "alpha==1.0", "delta==1.0")
    down = run_lockcheck("sync", "--python", venv, "-q", cwd=tmp_path)
    assert down.returncode == 0 and down.stdout == "", describe(down)
    assert dist_infos(venv) == ["alpha-1.0.dist-info", "delta-1.0.dist-info"]
    assert (venv / "bin" / "alpha-cli").exists()


def test_protected_packages_are_kept_and_ask_can_decline(
    tmp_path: Path, index: IndexServer, dist_factory: DistFactory
) -> None:
    dist_factory.wheel("pip", "24.0")
    dist_factory.wheel("setuptools", "69.0")
    venv = make_venv(tmp_path / "venv")
    lock = write_lock(tmp_path / "requirements.txt", index, "pip==24.0", "setuptools==69.0")
    sync_env([lock], venv)
    write_lock(lock, index, "beta==1.0")
    declined = sync_env([lock], venv, confirm=lambda plan: False)
    assert declined.declined and declined.changes
    assert dist_infos(venv) == ["pip-24.0.dist-info", "setuptools-69.0.dist-info"]
    asked = run_lockcheck("sync", "--python", venv, "--ask", cwd=tmp_path)  # no answer: no
    assert asked.returncode == 1, describe(asked)
    assert "install    beta==1.0" in asked.stdout and "Apply these changes?" in asked.stdout
    accepted = sync_env([lock], venv, confirm=lambda plan: True)
    assert accepted.summary() == "1 installed"
    # Not in the lock any more, but protected: never removed.
    assert dist_infos(venv) == [
        "beta-1.0.dist-info",
        "pip-24.0.dist-info",
        "setuptools-69.0.dist-info",
    ]


def test_several_locks_are_merged_and_conflicts_name_both(
    tmp_path: Path, index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv")
    main = write_lock(tmp_path / "requirements.txt", index, "alpha==1.0")
    dev = write_lock(tmp_path / "requirements-dev.txt", index, "alpha==1.0", "beta==1.0")
    result = run_lockcheck("sync", "--python", venv, main, dev, cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    assert dist_infos(venv) == ["alpha-1.0.dist-info", "beta-1.0.dist-info"]
    write_lock(dev, index, "alpha==2.0")
    clash = run_lockcheck("sync", "--python", venv, main, dev, cwd=tmp_path)
    assert clash.returncode == 2, describe(clash)
    assert "requirements.txt:3" in clash.stderr and "requirements-dev.txt:3" in clash.stderr


# --------------------------------------------------------------------------------------
# the target interpreter decides markers and tags
# --------------------------------------------------------------------------------------


@pytest.mark.skipif(not PY312.exists(), reason="needs a Python 3.12 (pyenv) on this machine")
def test_markers_and_tags_come_from_the_target_interpreter(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    dist_factory.wheel("newpy", "1.0")
    dist_factory.wheel("oldpy", "1.0")
    dist_factory.wheel(
        "native", "1.0", tag="py311-none-any", files={"native/__init__.py": "T='311'"}
    )
    dist_factory.wheel(
        "native", "1.0", tag="py312-none-any", files={"native/__init__.py": "T='312'"}
    )
    server = make_index()
    lock = write_lock(
        tmp_path / "requirements.txt",
        server,
        "native==1.0",
        'newpy==1.0 ; python_version >= "3.12"',
        'oldpy==1.0 ; python_version < "3.12"',
    )
    venv312 = make_venv(tmp_path / "venv312", PY312)
    venv311 = make_venv(tmp_path / "venv311")
    sync_env([lock], venv312)
    sync_env([lock], venv311)
    assert dist_infos(venv312) == ["native-1.0.dist-info", "newpy-1.0.dist-info"]
    assert dist_infos(venv311) == ["native-1.0.dist-info", "oldpy-1.0.dist-info"]
    assert run_python(venv312, "import native; print(native.T)") == "312"
    assert run_python(venv311, "import native; print(native.T)") == "311"


# --------------------------------------------------------------------------------------
# direct references
# --------------------------------------------------------------------------------------


def test_editable_installed_once_and_replaced_when_the_reference_changes(
    tmp_path: Path, index: IndexServer, dist_factory: DistFactory
) -> None:
    project = dist_factory.project("myproj", "0.3.0")
    shutil.move(str(project), tmp_path / "src-dir")  # the directory name is not the project's
    venv = make_venv(tmp_path / "venv")
    lock = write_lock(tmp_path / "requirements.txt", index, "-e ./src-dir", "beta==1.0")
    report = sync_env([lock], venv)
    assert report.summary() == "2 installed"
    direct = json.loads(
        (site_packages(venv) / "myproj-0.3.0.dist-info" / "direct_url.json").read_text()
    )
    assert direct == {"url": (tmp_path / "src-dir").as_uri(), "dir_info": {"editable": True}}
    # Editable: edits in the tree are live.
    (tmp_path / "src-dir" / "myproj" / "__init__.py").write_text("X = 'edited'\n")
    assert run_python(venv, "import myproj; print(myproj.X)") == "edited"

    index.clear_log()
    forced = sync_env([lock], venv, SyncOptions(use_stamp=False))
    assert not forced.changes, forced.plan
    assert index.count() == 0

    write_lock(lock, index, "./src-dir", "beta==1.0")  # no longer editable
    changed = sync_env([lock], venv)
    assert changed.summary() == "1 reinstalled"
    direct = json.loads(
        (site_packages(venv) / "myproj-0.3.0.dist-info" / "direct_url.json").read_text()
    )
    assert direct["dir_info"] == {}
    assert freeze(venv) == {f"myproj @ {(tmp_path / 'src-dir').as_uri()}", "beta==1.0"}


def test_archive_url_and_git_references(
    tmp_path: Path, index: IndexServer, dist_factory: DistFactory
) -> None:
    repo = dist_factory.project("gitproj", "1.2.0")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], cwd=repo, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    venv = make_venv(tmp_path / "venv")
    wheel_url = index.file_url("alpha-1.0-py3-none-any.whl")
    digest = sha256_of(index, "alpha-1.0-py3-none-any.whl")
    lock = write_lock(
        tmp_path / "requirements.txt",
        index,
        f"alpha @ {wheel_url}",
        f"gitproj @ git+{repo.as_uri()}@{commit}",
    )
    assert sync_env([lock], venv).summary() == "2 installed"
    site = site_packages(venv)
    alpha = json.loads((site / "alpha-1.0.dist-info" / "direct_url.json").read_text())
    assert alpha == {
        "url": wheel_url,
        "archive_info": {"hash": f"sha256={digest}", "hashes": {"sha256": digest}},
    }
    vcs = json.loads((site / "gitproj-1.2.0.dist-info" / "direct_url.json").read_text())
    assert vcs["vcs_info"] == {"vcs": "git", "commit_id": commit, "requested_revision": commit}
    assert vcs["url"] == repo.as_uri()
    assert freeze(venv) == {
        f"alpha @ {wheel_url}#sha256={digest}",  # pip shows the recorded archive hash
        f"gitproj @ git+{repo.as_uri()}@{commit}",
    }
    assert not sync_env([lock], venv, SyncOptions(use_stamp=False)).changes

    # The lock now wants alpha from the index: the URL install is replaced.  gitproj follows
    # a branch: installed at the branch's commit, reinstalled when the branch moves.
    write_lock(lock, index, "alpha==1.0", f"gitproj @ git+{repo.as_uri()}@main")
    report = sync_env([lock], venv)
    assert {a.name: a.kind for a in report.plan.actions} == {"alpha": "reinstall"}
    assert not (site / "alpha-1.0.dist-info" / "direct_url.json").exists()
    (repo / "gitproj" / "__init__.py").write_text("MOVED = True\n")
    subprocess.run([*git, "commit", "-q", "-am", "two"], cwd=repo, check=True)
    assert sync_env([lock], venv).from_stamp  # the stamp does not look at remotes
    moved = sync_env([lock], venv, SyncOptions(use_stamp=False))
    assert moved.summary() == "1 reinstalled"
    assert run_python(venv, "import gitproj; print(gitproj.MOVED)") == "True"
    vcs = json.loads((site / "gitproj-1.2.0.dist-info" / "direct_url.json").read_text())
    assert vcs["vcs_info"]["requested_revision"] == "main"
    assert vcs["vcs_info"]["commit_id"] != commit


# --------------------------------------------------------------------------------------
# refusing and rolling back
# --------------------------------------------------------------------------------------


def test_wrong_hash_installs_nothing(tmp_path: Path, index: IndexServer) -> None:
    venv = make_venv(tmp_path / "venv")
    lock = write_lock(tmp_path / "requirements.txt", index, "alpha==1.0", "extra==1.0")
    sync_env([lock], venv)
    before = snapshot(venv)
    good = sha256_of(index, "beta-1.0-py3-none-any.whl")
    write_lock(
        lock,
        index,
        "alpha==2.0 \\",
        "    --hash=sha256:" + "0" * 64,
        f"beta==1.0 --hash=sha256:{good}",
    )
    result = run_lockcheck("sync", "--python", venv, cwd=tmp_path)
    assert result.returncode == 2, describe(result)
    first = result.stderr.splitlines()[0]
    assert "alpha-2.0-py3-none-any.whl does not match any hash locked for alpha" in first
    assert "requirements.txt:3" in first
    assert snapshot(venv) == before

    # Hashes are all or nothing, as with pip's --require-hashes.
    write_lock(lock, index, f"beta==1.0 --hash=sha256:{good}", "delta==1.0")
    partial = run_lockcheck("sync", "--python", venv, cwd=tmp_path)
    assert partial.returncode == 2 and "delta has no --hash" in partial.stderr, describe(partial)
    assert snapshot(venv) == before
    # A venv this run created is not left behind when the run fails.
    fresh = run_lockcheck("sync", "--python", tmp_path / "new-venv", cwd=tmp_path)
    assert fresh.returncode == 2, describe(fresh)
    assert not (tmp_path / "new-venv").exists()


def test_corrupt_download_installs_nothing(tmp_path: Path, index: IndexServer) -> None:
    venv = make_venv(tmp_path / "venv")
    lock = write_lock(tmp_path / "requirements.txt", index, "alpha==1.0")
    sync_env([lock], venv)
    before = snapshot(venv)
    index.corrupt("delta-1.0-py3-none-any.whl")  # served bytes differ from the index's hash
    write_lock(lock, index, "alpha==2.0", "beta==1.0", "delta==1.0")
    with pytest.raises(HashMismatch):
        sync_env([lock], venv)
    assert snapshot(venv) == before


def test_failure_in_the_middle_of_installs_is_rolled_back(
    tmp_path: Path, index: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv")
    lock = write_lock(tmp_path / "requirements.txt", index, "alpha==1.0", "beta==1.0")
    sync_env([lock], venv)
    before = snapshot(venv)
    # alpha is upgraded (1.0 removed, 2.0 installed) and beta removed before zzz-broken fails.
    write_lock(lock, index, "alpha==2.0", "delta==1.0", "zzz-broken==1.0")
    with pytest.raises(InstallFailed) as info:
        sync_env([lock], venv)
    message = str(info.value)
    assert "installing zzz_broken-1.0-py3-none-any.whl failed" in message
    assert "the environment was restored" in message
    assert snapshot(venv) == before
    assert not list(venv.glob(BACKUP_PREFIX + "*"))
    assert run_python(venv, "import alpha, beta; print(alpha.__version__)") == "1.0"

    result = run_lockcheck("sync", "--python", venv, cwd=tmp_path)
    assert result.returncode == 2, describe(result)
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(venv) == before


# --------------------------------------------------------------------------------------
# the no-op fast path
# --------------------------------------------------------------------------------------


def test_noop_is_answered_without_network_subprocess_or_heavy_imports(
    tmp_path: Path, index: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = make_venv(tmp_path / "venv")
    lock = write_lock(tmp_path / "requirements.txt", index, "alpha==1.0", "gamma==0.5")
    sync_env([lock], venv)
    index.clear_log()

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"subprocess started: {args}")

    from lockcheck.cli import main

    with monkeypatch.context() as patch:
        patch.setattr(subprocess.Popen, "__init__", no_subprocess)
        patch.chdir(tmp_path)
        assert main(["sync", "--python", str(venv)]) == 0
    assert index.count() == 0

    code = (
        "import json, sys\n"
        "from lockcheck.cli import main\n"
        f"rc = main(['sync', '--python', {str(venv)!r}, {str(lock)!r}])\n"
        "heavy = {'httpx', 'rich', 'resolvelib', 'installer', 'build', 'packaging.tags'}\n"
        "print(json.dumps([rc, sorted(heavy & set(sys.modules))]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rc, loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (rc, loaded) == (0, [])
    assert index.count() == 0

    # Any change in the venv's dist-info listing invalidates the stamp.
    (site_packages(venv) / "alpha-1.0.dist-info" / "INSTALLER").write_text("someone\n")
    os.utime(site_packages(venv) / "alpha-1.0.dist-info")
    assert not sync_env([lock], venv).from_stamp


# --------------------------------------------------------------------------------------
# choosing the venv
# --------------------------------------------------------------------------------------


def test_default_target_is_dot_venv_at_the_repository_root(
    tmp_path: Path, index: IndexServer
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write_lock(repo / "requirements.txt", index, "alpha==1.0")
    # pre-commit's hook environment is active: it must not be the target.
    hook_env = make_venv(tmp_path / "pc-home" / "repoab12" / "py_env-python3")
    env = {"VIRTUAL_ENV": str(hook_env), "PRE_COMMIT_HOME": str(tmp_path / "pc-home")}
    dry = run_lockcheck("sync", "--dry-run", cwd=repo, env=env)
    assert dry.returncode == 1, describe(dry)
    assert "install    alpha==1.0" in dry.stdout
    assert not (repo / ".venv").exists()  # a dry run creates nothing
    result = run_lockcheck("sync", cwd=repo, env=env)
    assert result.returncode == 0, describe(result)
    assert f"Created {repo / '.venv'}" in result.stdout
    assert dist_infos(repo / ".venv") == ["alpha-1.0.dist-info"]
    assert not list(site_packages(hook_env).glob("*.dist-info"))

    # A venv the user activated is the target.
    active = make_venv(tmp_path / "active")
    result = run_lockcheck("sync", cwd=repo, env={"VIRTUAL_ENV": str(active)})
    assert result.returncode == 0, describe(result)
    assert dist_infos(active) == ["alpha-1.0.dist-info"]

    missing = run_lockcheck("sync", cwd=tmp_path)
    assert missing.returncode == 2 and "requirements.txt does not exist" in missing.stderr


# --------------------------------------------------------------------------------------
# pylock.toml (PEP 751)
# --------------------------------------------------------------------------------------


def test_sync_from_a_pylock_installs_the_named_files(tmp_path: Path, index: IndexServer) -> None:
    def wheel(filename: str) -> str:
        url, digest = index.file_url(filename), sha256_of(index, filename)
        return f'wheels = [{{ url = "{url}", hashes = {{ sha256 = "{digest}" }} }}]'

    lock = tmp_path / "pylock.toml"
    lock.write_text(
        "\n".join(
            [
                'lock-version = "1.0"',
                'created-by = "hand"',
                'requires-python = ">=3.8"',
                "",
                "[[packages]]",
                'name = "alpha"',
                'version = "2.0"',
                wheel("alpha-2.0-py3-none-any.whl"),
                "",
                "[[packages]]",
                'name = "winonly"',
                'version = "1.0"',
                "marker = \"sys_platform == 'win32'\"",
                wheel("winonly-1.0-py3-none-any.whl"),
                "",
            ]
        ),
        encoding="utf-8",
    )
    venv = make_venv(tmp_path / "venv")
    report = sync_env([lock], venv)
    assert report.summary() == "1 installed"
    assert dist_infos(venv) == ["alpha-2.0.dist-info"]
    # The file came from the lock, not from the index's project page.
    assert index.count("/simple/") == 0
    assert sync_env([lock], venv).from_stamp

    lock.write_text(lock.read_text().replace('">=3.8"', '">=3.99"'), encoding="utf-8")
    with pytest.raises(InputError, match=r"requires Python >=3\.99"):
        sync_env([lock], venv)


def test_configured_locks_and_venv_are_the_defaults(tmp_path, make_index, universe_wheelhouse):
    """`lockcheck sync` with no argument: the configured locks, into the configured venv."""
    from tests.helpers import describe, run_lockcheck

    server = make_index(universe_wheelhouse)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".lockcheck.toml").write_text(
        f'venv = "env"\nindex-url = "{server.url}"\n'
        '[[lock]]\ninputs = ["requirements.in"]\n'
        '[[lock]]\ninputs = ["dev.in"]\nconstraints = ["requirements.txt"]\n'
    )
    (tmp_path / "requirements.in").write_text("idna\n")
    (tmp_path / "dev.in").write_text("iniconfig\n")
    assert run_lockcheck("compile", cwd=tmp_path).returncode == 0
    result = run_lockcheck("sync", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    site = next((tmp_path / "env" / "lib").glob("python3.*/site-packages"))
    names = {p.name.split("-")[0] for p in site.glob("*.dist-info")}
    assert {"idna", "iniconfig"} <= names


def test_noop_sync_answers_before_the_cli_loads(tmp_path, make_index, universe_wheelhouse):
    """A repeated no-op sync (the post-checkout hook) costs a few stat calls."""
    import subprocess
    import sys
    import venv as venv_module

    from tests.helpers import describe, run_lockcheck

    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.txt").write_text(f"--index-url {server.url}\n\nidna==3.6\n")
    target = tmp_path / "env"
    venv_module.create(target, with_pip=False)
    first = run_lockcheck("sync", "--python", str(target), cwd=tmp_path)
    assert first.returncode == 0, describe(first)
    again = run_lockcheck("sync", "--python", str(target), cwd=tmp_path)
    assert again.returncode == 0 and "Everything up-to-date" in again.stdout, describe(again)
    probe = (
        "import sys\nfrom lockcheck._entry import main\n"
        f"args = ['sync', '--python', {str(target)!r}]\nsys.argv = ['lockcheck', *args]\n"
        "code = main(args)\nprint('click' in sys.modules, code)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.endswith("False 0\n"), out.stdout + out.stderr
    # Something installed behind sync's back changes site-packages: a real sync removes it.
    site = next((target / "lib").glob("python3.*/site-packages"))
    (site / "stray-1.0.dist-info").mkdir()
    (site / "stray-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: stray\nVersion: 1.0\n"
    )
    (site / "stray-1.0.dist-info" / "RECORD").write_text(
        "stray-1.0.dist-info/METADATA,,\nstray-1.0.dist-info/RECORD,,\n"
    )
    result = run_lockcheck("sync", "--python", str(target), cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    assert "stray" in result.stdout
    assert not (site / "stray-1.0.dist-info").exists()


def test_noop_dry_run_repeats_before_the_cli_loads(tmp_path, make_index, universe_wheelhouse):
    """CI's `sync --dry-run` gate on an up-to-date venv is as cheap as a no-op sync, and still
    sees a change made behind its back."""
    import subprocess
    import sys
    import venv as venv_module

    from tests.helpers import describe, run_lockcheck

    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.txt").write_text(f"--index-url {server.url}\n\nidna==3.6\n")
    target = tmp_path / "env"
    venv_module.create(target, with_pip=False)
    assert run_lockcheck("sync", "--python", str(target), cwd=tmp_path).returncode == 0
    dry = run_lockcheck("sync", "--python", str(target), "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0 and dry.stdout.strip() == "Everything up-to-date", describe(dry)
    probe = (
        "import sys\nfrom lockcheck._entry import main\n"
        f"args = ['sync', '--python', {str(target)!r}, '--dry-run']\n"
        "sys.argv = ['lockcheck', *args]\n"
        "code = main(args)\nprint('click' in sys.modules, code)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout == "Everything up-to-date\nFalse 0\n", out.stdout + out.stderr
    (tmp_path / "requirements.txt").write_text(f"--index-url {server.url}\n\nidna==3.7\n")
    changed = run_lockcheck("sync", "--python", str(target), "--dry-run", cwd=tmp_path)
    assert changed.returncode == 1, describe(changed)
    assert "upgrade    idna 3.6 -> 3.7" in changed.stdout
