"""Stamps answer only for what they recorded: a changed file, a damaged stamp or one another
version of the tool wrote means a real run, never a wrong answer or a crash."""

from __future__ import annotations

import marshal
import os
from pathlib import Path

import pytest

from lockcheck import stamps


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"LOCKCHECK_CACHE_DIR": str(tmp_path / "cache")}


def _stamp_file(env: dict[str, str], key: str) -> Path:
    (found,) = stamps.stamp_dir(env).glob(f"{key}.*")
    return found


def test_a_stamp_answers_until_a_recorded_file_changes(tmp_path: Path, env) -> None:
    lock, absent = tmp_path / "requirements.txt", tmp_path / "lockcheck.toml"
    lock.write_text("x==1\n")
    stamps.write_stamp("k", [lock, absent], {"output": "up to date\n"}, env)
    assert stamps.load_fresh("k", env)["output"] == "up to date\n"

    os.utime(lock, ns=(1, 1))  # touched, same bytes: still answers (git checkout does this)
    assert stamps.load_fresh("k", env) is not None
    lock.write_text("x==2\n")  # same size, new bytes
    os.utime(lock, ns=(2, 2))
    assert stamps.load_fresh("k", env) is None

    stamps.write_stamp("k", [lock, absent], {"output": ""}, env)
    absent.write_text("")  # a file that was absent appears
    assert stamps.load_fresh("k", env) is None


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"files": {}, "output": "up to date"}',  # what an older lockcheck wrote (JSON)
        marshal.dumps({"files": {}, "output": "x"})[:-3],  # cut short
        marshal.dumps(["files"]),  # not a dict
        marshal.dumps({"output": "x"}),  # no files
        marshal.dumps({"files": ["a"], "output": "x"}),  # files not a mapping
        marshal.dumps({"files": {"/": [1]}, "output": "x"}),  # a record of the wrong shape
        b"\x00not a stamp\xff" * 8,
    ],
)
def test_a_damaged_stamp_means_a_real_run(tmp_path: Path, env, content: bytes) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("x==1\n")
    stamps.write_stamp("k", [lock], {"output": ""}, env)
    _stamp_file(env, "k").write_bytes(content)
    assert stamps.load_fresh("k", env) is None


def test_keys_follow_the_command_the_directory_and_the_steering_environment() -> None:
    key = stamps.command_key("check", ["requirements.txt"], "/p", {"PIP_INDEX_URL": "a"})
    assert key == stamps.command_key("check", ["requirements.txt"], "/p", {"PIP_INDEX_URL": "a"})
    assert key != stamps.command_key("check", ["requirements.txt"], "/q", {"PIP_INDEX_URL": "a"})
    assert key != stamps.command_key("check", ["requirements.txt"], "/p", {"PIP_INDEX_URL": "b"})
    assert key != stamps.command_key("sync", ["requirements.txt"], "/p", {"PIP_INDEX_URL": "a"})
    assert key == stamps.command_key(
        "check", ["requirements.txt"], "/p", {"PIP_INDEX_URL": "a", "HOME": "/h"}
    )
