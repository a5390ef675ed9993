"""Unit tests of the sync pieces that need no venv: plan, lock merging, hashes, direct
references, target selection, the stamp and file choice."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from lockcheck.errors import HashMismatch, InputError
from lockcheck.lockfile.reader import read_lock
from lockcheck.models import DistFile
from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.sync import stamp
from lockcheck.sync.fetch import check_lock_hashes, choose_file
from lockcheck.sync.installed import InstalledDist, installed_distributions
from lockcheck.sync.links import direct_url_matches, parse_link
from lockcheck.sync.locks import Wanted, merge_locks, require_hashes
from lockcheck.sync.plan import plan
from lockcheck.sync.target import is_pre_commit_env, resolve_target

LINUX_311 = {
    "implementation_name": "cpython",
    "implementation_version": "3.11.4",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "6.1.0",
    "platform_system": "Linux",
    "platform_version": "#1 SMP",
    "python_full_version": "3.11.4",
    "platform_python_implementation": "CPython",
    "python_version": "3.11",
    "sys_platform": "linux",
}
LINUX_TAGS = [
    "cp311-cp311-manylinux_2_17_x86_64",
    "cp311-abi3-manylinux_2_17_x86_64",
    "py3-none-manylinux_2_17_x86_64",
    "py311-none-any",
    "py3-none-any",
]


@pytest.fixture
def env() -> TargetEnvironment:
    return TargetEnvironment.from_interpreter(LINUX_311, LINUX_TAGS)


def _lock(tmp_path: Path, text: str, name: str = "requirements.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_lock(path)


def _dist(tmp_path: Path, name: str, version: str, direct_url: dict | None = None) -> InstalledDist:
    return InstalledDist(
        name=canonicalize_name(name),
        display_name=name,
        version=version,
        path=tmp_path / f"{name}-{version}.dist-info",
        direct_url=direct_url,
    )


# --------------------------------------------------------------------------------------
# the target interpreter's environment
# --------------------------------------------------------------------------------------


def test_environment_from_interpreter_uses_the_reported_tags_and_markers() -> None:
    env = TargetEnvironment.from_interpreter(
        {**LINUX_311, "python_version": "3.9", "python_full_version": "3.9.18"},
        ["cp39-cp39-manylinux_2_17_x86_64", "py3-none-any"],
    )
    assert env.python_version == "3.9"
    assert env.supported_tags == [
        Tag("cp39", "cp39", "manylinux_2_17_x86_64"),
        Tag("py3", "none", "any"),
    ]
    assert env.tag_priority[Tag("py3", "none", "any")] == 1
    assert not env.is_running_interpreter
    # The old constructors still work as before.
    assert TargetEnvironment.for_python("3.10").python_version == "3.10"


# --------------------------------------------------------------------------------------
# plan
# --------------------------------------------------------------------------------------


def test_plan_installs_upgrades_downgrades_removes_and_keeps(
    tmp_path: Path, env: TargetEnvironment
) -> None:
    lock = _lock(
        tmp_path,
        "alpha==2.0\nbeta==1.0\ngamma==1.0\ndelta==3.0\n"
        'winonly==1.0 ; sys_platform == "win32"\npip==24.0\n',
    )
    merged = merge_locks([lock], env)
    installed = {
        d.name: d
        for d in [
            _dist(tmp_path, "alpha", "1.0"),
            _dist(tmp_path, "beta", "2.0"),
            _dist(tmp_path, "gamma", "1.0"),
            _dist(tmp_path, "extra-pkg", "0.1"),
            _dist(tmp_path, "winonly", "1.0"),
            _dist(tmp_path, "setuptools", "69.0"),
            _dist(tmp_path, "wheel", "0.42"),
            _dist(tmp_path, "pip", "23.0"),
            _dist(tmp_path, "lockcheck", "0.1.0"),
        ]
    }
    result = plan(merged, installed, env)
    kinds = {a.name: a.kind for a in result.actions}
    assert kinds == {
        "alpha": "upgrade",
        "beta": "downgrade",
        "delta": "install",
        "extra-pkg": "remove",
        "winonly": "remove",  # its marker does not hold: skipped, and removed when present
        "pip": "upgrade",  # protected packages are still changed when pinned
    }
    assert result.unchanged == ("gamma",)
    assert [d.name for d in result.kept] == ["lockcheck", "setuptools", "wheel"]
    assert [w.name for w in result.skipped] == ["winonly"]
    assert result.summary() == "1 installed, 2 upgraded, 1 downgraded, 2 removed"
    assert result.summary(dry_run=True) == (
        "Would change: 1 to install, 2 to upgrade, 1 to downgrade, 2 to remove"
    )
    assert "upgrade    alpha 1.0 -> 2.0" in result.lines()
    assert "remove     extra-pkg==0.1" in result.lines()
    # Removals include what an upgrade replaces; installs are everything needing a file.
    assert {d.name for d in result.removals} == {"alpha", "beta", "extra-pkg", "winonly", "pip"}
    assert {a.name for a in result.installs} == {"alpha", "beta", "delta", "pip"}


def test_plan_keeps_what_protected_packages_need(tmp_path: Path, env: TargetEnvironment) -> None:
    from dataclasses import replace

    lockcheck = replace(
        _dist(tmp_path, "lockcheck", "0.1.0"),
        requires=("click>=8", "httpx", 'tomli>=2; python_version < "3.11"', "not a requirement!"),
    )
    httpx = replace(_dist(tmp_path, "httpx", "0.27"), requires=("idna",))
    installed = {
        d.name: d
        for d in [
            lockcheck,
            httpx,
            _dist(tmp_path, "click", "8.1"),
            _dist(tmp_path, "idna", "3.7"),
            _dist(tmp_path, "tomli", "2.0"),
            _dist(tmp_path, "unrelated", "1.0"),
        ]
    }
    merged = merge_locks([_lock(tmp_path, "click==8.0\n")], env)
    result = plan(merged, installed, env)
    assert {a.name: a.kind for a in result.actions} == {
        "click": "downgrade",  # locked: the lock decides its version
        "tomli": "remove",  # lockcheck needs it only before 3.11
        "unrelated": "remove",
    }
    assert [d.name for d in result.kept] == ["httpx", "idna", "lockcheck"]


def test_plan_up_to_date_and_equal_versions(tmp_path: Path, env: TargetEnvironment) -> None:
    merged = merge_locks([_lock(tmp_path, "alpha==1.0\n")], env)
    installed = {"alpha": _dist(tmp_path, "alpha", "1.0.0"), "pip": _dist(tmp_path, "pip", "1")}
    result = plan(merged.wanted, installed, env)
    assert not result.changes
    assert result.summary() == "Everything up-to-date"


def test_plan_reinstalls_a_pin_installed_from_a_url(tmp_path: Path, env: TargetEnvironment) -> None:
    merged = merge_locks([_lock(tmp_path, "alpha==1.0\n")], env)
    direct = {"url": "file:///somewhere/alpha", "dir_info": {"editable": True}}
    installed = {"alpha": _dist(tmp_path, "alpha", "1.0", direct)}
    [action] = plan(merged.wanted, installed, env).actions
    assert action.kind == "reinstall"


def test_plan_editable_kept_while_direct_url_matches(
    tmp_path: Path, env: TargetEnvironment
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    merged = merge_locks([_lock(tmp_path, "-e ./proj\n")], env)
    same = {"url": project.as_uri(), "dir_info": {"editable": True}}
    assert not plan(merged.wanted, {"proj": _dist(tmp_path, "proj", "0.1", same)}, env).changes
    not_editable = {"url": project.as_uri(), "dir_info": {}}
    [action] = plan(
        merged.wanted, {"proj": _dist(tmp_path, "proj", "0.1", not_editable)}, env
    ).actions
    assert action.kind == "reinstall"
    elsewhere = {"url": (tmp_path / "other").as_uri(), "dir_info": {"editable": True}}
    [action] = plan(merged.wanted, {"proj": _dist(tmp_path, "proj", "0.1", elsewhere)}, env).actions
    assert action.kind == "reinstall"
    [action] = plan(merged.wanted, {}, env).actions
    assert action.kind == "install"
    assert action.describe() == "install    proj (-e ./proj)"


def test_direct_url_matching_for_archives_and_git(tmp_path: Path) -> None:
    archive = parse_link(
        "https://user:pw@files.example/alpha-1.0-py3-none-any.whl#sha256=" + "a" * 64,
        base_dir=tmp_path,
    )
    assert (
        archive.kind == "archive"
        and archive.url == "https://files.example/alpha-1.0-py3-none-any.whl"
    )
    installed = {
        "url": "https://files.example/alpha-1.0-py3-none-any.whl",
        "archive_info": {"hashes": {"sha256": "a" * 64}},
    }
    assert direct_url_matches(archive, installed)
    assert not direct_url_matches(
        archive, {**installed, "archive_info": {"hash": "sha256=" + "b" * 64}}
    )
    git = parse_link(
        "git+https://host.example/repo.git@" + "c" * 40 + "#subdirectory=sub", base_dir=tmp_path
    )
    assert git.kind == "vcs" and git.commit == "c" * 40 and git.subdirectory == "sub"
    vcs = {
        "url": "https://host.example/repo.git",
        "vcs_info": {"vcs": "git", "commit_id": "c" * 40},
        "subdirectory": "sub",
    }
    assert direct_url_matches(git, vcs)
    assert not direct_url_matches(git, {**vcs, "subdirectory": None})
    assert not direct_url_matches(git, {**vcs, "vcs_info": {"vcs": "git", "commit_id": "d" * 40}})
    branch = parse_link("git+https://host.example/repo.git@main", base_dir=tmp_path)
    assert branch.commit is None and not direct_url_matches(branch, vcs)
    assert git.direct_url()["vcs_info"] == {
        "vcs": "git",
        "commit_id": "c" * 40,
        "requested_revision": "c" * 40,
    }
    with pytest.raises(InputError, match="editable VCS"):
        parse_link("git+https://host.example/repo.git", base_dir=tmp_path, editable=True)


# --------------------------------------------------------------------------------------
# merging locks, hashes
# --------------------------------------------------------------------------------------


def test_merge_locks_conflicting_pins_names_both_files(
    tmp_path: Path, env: TargetEnvironment
) -> None:
    first = _lock(tmp_path, "alpha==1.0\nbeta==1.0\n", "requirements.txt")
    second = _lock(tmp_path, "# dev\nbeta==1.0\nalpha==2.0\n", "requirements-dev.txt")
    with pytest.raises(InputError) as info:
        merge_locks([first, second], env)
    message = str(info.value)
    assert "requirements.txt:1" in message and "requirements-dev.txt:3" in message
    assert "==1.0" in message and "==2.0" in message


def test_merge_locks_agreeing_locks_and_markers(tmp_path: Path, env: TargetEnvironment) -> None:
    first = _lock(
        tmp_path,
        '--index-url https://one.example/simple\nalpha==1.0\nold==1.0 ; python_version < "3.8"\n',
        "a.txt",
    )
    second = _lock(
        tmp_path,
        "--index-url https://two.example/simple\n--extra-index-url https://three.example/simple\n"
        'alpha==1.0\nold==2.0 ; python_version >= "3.8"\n',
        "b.txt",
    )
    merged = merge_locks([first, second], env)
    assert merged.wanted["old"].package.version == Version("2.0")  # the other marker is false
    assert merged.wanted["alpha"].lock == tmp_path / "a.txt"
    assert merged.options.index_url == "https://one.example/simple"
    assert merged.options.extra_index_urls == (
        "https://two.example/simple",
        "https://three.example/simple",
    )


def test_merge_locks_intersects_hashes(tmp_path: Path, env: TargetEnvironment) -> None:
    h1, h2, h3 = ("sha256:" + c * 64 for c in "abc")
    first = _lock(tmp_path, f"alpha==1.0 --hash={h1} --hash={h2}\n", "a.txt")
    second = _lock(tmp_path, f"alpha==1.0 --hash={h2} --hash={h3}\n", "b.txt")
    assert merge_locks([first, second], env).wanted["alpha"].package.hashes == (h2,)
    third = _lock(tmp_path, f"alpha==1.0 --hash={h3}\n", "c.txt")
    with pytest.raises(InputError, match="no hash in common"):
        merge_locks([first, third], env)


def test_require_hashes_is_all_or_nothing(tmp_path: Path, env: TargetEnvironment) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    h = "sha256:" + "a" * 64
    ok = merge_locks([_lock(tmp_path, f"alpha==1.0 --hash={h}\n-e ./proj\n", "ok.txt")], env)
    assert require_hashes(ok.wanted.values()) is True
    assert (
        require_hashes(merge_locks([_lock(tmp_path, "alpha==1.0\n", "n.txt")], env).wanted.values())
        is False
    )
    fragment = merge_locks(
        [
            _lock(
                tmp_path,
                f"alpha==1.0 --hash={h}\nb @ https://x.example/b-1.tar.gz#sha256={'b' * 64}\n",
                "f.txt",
            )
        ],
        env,
    )
    assert require_hashes(fragment.wanted.values()) is True
    bad = merge_locks([_lock(tmp_path, f"alpha==1.0 --hash={h}\nbeta==2.0\n", "bad.txt")], env)
    with pytest.raises(InputError, match="beta has no --hash") as info:
        require_hashes(bad.wanted.values())
    assert info.value.line == 2


def test_check_lock_hashes(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "f.whl"
    path.write_bytes(b"content")
    digest = hashlib.sha256(b"content").hexdigest()
    where = Wanted(read_lock("alpha==1.0\n").entries[0].package, tmp_path / "r.txt", 7)
    assert check_lock_hashes(path, [], name="alpha", where=where) == digest
    assert (
        check_lock_hashes(
            path, ["sha256:" + "0" * 64, f"sha256:{digest}"], name="alpha", where=where
        )
        == digest
    )
    with pytest.raises(HashMismatch) as info:
        check_lock_hashes(path, ["sha256:" + "0" * 64], name="alpha", where=where)
    assert info.value.line == 7 and digest in str(info.value)


# --------------------------------------------------------------------------------------
# choosing the file for the target
# --------------------------------------------------------------------------------------


def _file(filename: str, tags: set[Tag], sha: str = "", is_wheel: bool = True) -> DistFile:
    return DistFile(
        filename=filename,
        url=f"https://files.example/{filename}",
        name=canonicalize_name("native"),
        version=Version("1.0"),
        is_wheel=is_wheel,
        hashes={"sha256": sha} if sha else {},
        tags=frozenset(tags),
    )


def test_choose_file_follows_the_target_tags_and_lock_hashes(env: TargetEnvironment) -> None:
    linux = _file(
        "native-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        {Tag("cp311", "cp311", "manylinux_2_17_x86_64")},
        "1" * 64,
    )
    windows = _file("native-1.0-cp311-cp311-win_amd64.whl", {Tag("cp311", "cp311", "win_amd64")})
    pure = _file("native-1.0-py3-none-any.whl", {Tag("py3", "none", "any")}, "2" * 64)
    sdist = _file("native-1.0.tar.gz", set(), "3" * 64, is_wheel=False)
    files = [windows, sdist, pure, linux]
    both = frozenset({"binary", "source"})
    assert choose_file(files, Version("1.0"), env, both) == linux
    # pip prefers a file whose hash the lock lists.
    assert choose_file(files, Version("1.0"), env, both, ["2" * 64]) == pure
    assert choose_file(files, Version("1.0"), env, frozenset({"source"})) == sdist
    assert choose_file([windows], Version("1.0"), env, both) is None
    assert choose_file(files, Version("2.0"), env, both) is None


# --------------------------------------------------------------------------------------
# installed distributions, target selection, stamp
# --------------------------------------------------------------------------------------


def test_installed_distributions_reads_metadata_and_direct_url(tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = site / "Foo_Bar-1.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Foo.Bar\nVersion: 1.2\n\nbody\n")
    (info / "RECORD").write_text("")
    (info / "INSTALLER").write_text("pip\n")
    (info / "direct_url.json").write_text(
        json.dumps({"url": "file:///x", "dir_info": {"editable": True}})
    )
    (site / "old.egg-info").mkdir()
    (site / "old.egg-info" / "PKG-INFO").write_text("Name: old\nVersion: 0.1\n")
    found = installed_distributions([site, site])
    assert set(found) == {"foo-bar", "old"}
    foo = found["foo-bar"]
    assert (foo.display_name, foo.version, foo.installer, foo.editable) == (
        "Foo.Bar",
        "1.2",
        "pip",
        True,
    )
    assert foo.record == info / "RECORD"
    assert found["old"].record is None


def test_pre_commit_environments_are_recognised(tmp_path: Path) -> None:
    home = tmp_path / "pc-home"
    env = home / "repoabc123" / "py_env-python3.11"
    environ = {"PRE_COMMIT_HOME": str(home)}
    assert is_pre_commit_env(env, environ)
    # Without PRE_COMMIT_HOME in the environment: recognised by pre-commit's naming.
    elsewhere = tmp_path / "other-cache" / "repo_x1y2" / "py_env-python3"
    assert is_pre_commit_env(elsewhere, {})
    assert is_pre_commit_env(
        tmp_path / "xdg" / "pre-commit" / "anything", {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    )
    assert not is_pre_commit_env(tmp_path / "project" / ".venv", environ)


def _make_fake_venv(path: Path) -> Path:
    (path / "bin").mkdir(parents=True)
    (path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (path / "bin" / "python").write_text("")
    return path


def test_resolve_target_order(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    active = _make_fake_venv(tmp_path / "active")
    hook_env = _make_fake_venv(tmp_path / "pc" / "repo123" / "py_env-python3")
    # Default: .venv at the repository root, wherever in the tree we are.
    assert resolve_target(environ={}, cwd=sub) == repo / ".venv"
    # An activated venv wins ...
    assert resolve_target(environ={"VIRTUAL_ENV": str(active)}, cwd=sub) == active
    # ... unless it is pre-commit's own hook environment.
    environ = {"VIRTUAL_ENV": str(hook_env), "PRE_COMMIT_HOME": str(tmp_path / "pc")}
    assert resolve_target(environ=environ, cwd=sub) == repo / ".venv"
    # --python: a venv directory or its interpreter.
    assert resolve_target(str(active), environ=environ, cwd=sub) == active
    assert resolve_target(str(active / "bin" / "python"), environ={}, cwd=sub) == active
    assert resolve_target("../../newenv", environ={}, cwd=sub) == repo / "newenv"
    with pytest.raises(InputError, match="not a virtual environment"):
        resolve_target(str(repo / "src"), environ={}, cwd=sub)
    # Outside any repository: the current directory.
    outside = tmp_path / "plain"
    outside.mkdir()
    assert resolve_target(environ={}, cwd=outside) == outside / ".venv"


def test_stamp_tracks_locks_and_dist_info(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (venv / "lib64").symlink_to("lib")
    lock = tmp_path / "requirements.txt"
    lock.write_text("alpha==1.0\n")
    python = venv / "bin" / "python"
    assert stamp.site_packages_dirs(venv) == [site]
    assert not stamp.is_fresh([lock], venv, python)
    stamp.write([lock], venv, python)
    assert stamp.is_fresh([lock], venv, python)
    assert not stamp.is_fresh([lock], venv, python, extra="other version")
    assert not stamp.is_fresh([lock], venv, tmp_path / "other" / "python")
    lock.write_text("alpha==2.0\n")
    assert not stamp.is_fresh([lock], venv, python)
    stamp.write([lock], venv, python)
    (site / "beta-1.0.dist-info").mkdir()
    assert not stamp.is_fresh([lock], venv, python)
    stamp.write([lock], venv, python)
    assert stamp.is_fresh([lock], venv, python)
    os.utime(site / "beta-1.0.dist-info", ns=(1, 1))
    assert not stamp.is_fresh([lock], venv, python)
    stamp.clear(venv)
    assert not stamp.is_fresh([lock], venv, python)
    lock.unlink()
    assert stamp.compute([lock], venv, python) is None
