"""The target interpreter's description is cached: a venv made again costs no subprocess."""

from __future__ import annotations

import os
import shutil
import venv as stdlib_venv
from pathlib import Path

import pytest

from lockcheck.sync import interpreter
from lockcheck.sync.interpreter import query_interpreter
from lockcheck.sync.target import venv_python


def _make_venv(path: Path, *, system_site_packages: bool = False) -> Path:
    stdlib_venv.EnvBuilder(
        with_pip=False, symlinks=os.name != "nt", system_site_packages=system_site_packages
    ).create(path)
    return venv_python(path)


def _no_subprocess(python: Path) -> dict[str, object]:
    raise AssertionError(f"asked {python} again although its description is cached")


def test_a_venv_made_again_at_the_same_path_is_described_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The post-checkout hook on a fresh clone, and CI, make the venv anew each time: the
    same base interpreter at the same path answers the same, so no probe runs."""
    cache = tmp_path / "cache"
    python = _make_venv(tmp_path / "venv")
    first = query_interpreter(python, cache)
    shutil.rmtree(tmp_path / "venv")
    python = _make_venv(tmp_path / "venv")
    monkeypatch.setattr(interpreter, "_ask", _no_subprocess)
    again = query_interpreter(python, cache)
    assert again == first
    assert again.paths["purelib"].startswith(str(tmp_path / "venv"))


def test_a_venv_made_again_with_other_settings_is_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    python = _make_venv(tmp_path / "venv")
    query_interpreter(python, cache)
    shutil.rmtree(tmp_path / "venv")
    python = _make_venv(tmp_path / "venv", system_site_packages=True)
    asked: list[Path] = []
    real_ask = interpreter._ask

    def counting_ask(target: Path) -> dict[str, object]:
        asked.append(target)
        return real_ask(target)

    monkeypatch.setattr(interpreter, "_ask", counting_ask)
    query_interpreter(python, cache)
    assert asked == [python]


def test_another_venv_path_is_asked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    query_interpreter(_make_venv(tmp_path / "one"), cache)
    other = _make_venv(tmp_path / "two")
    asked: list[Path] = []
    real_ask = interpreter._ask
    monkeypatch.setattr(interpreter, "_ask", lambda p: asked.append(p) or real_ask(p))
    info = query_interpreter(other, cache)
    assert asked == [other]
    assert info.paths["purelib"].startswith(str(tmp_path / "two"))
