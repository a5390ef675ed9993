"""main stays lint-clean: ruff's checks and formatting, as the README asks of every change."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> list[str]:
    beside = Path(sys.executable).with_name("ruff")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed (it comes with the test extra)")
    return [found]


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff(command: list[str]) -> None:
    result = subprocess.run(
        [*_ruff(), *command], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_passes_after_pip_install_leaves_build_folder(tmp_path: Path) -> None:
    """The README's install command (`pip install .`) leaves build/ in the tree; the README's
    test command that follows must still pass, so ruff may not take pypa's `build` (imported
    by lockcheck/build.py) for a first-party module because a folder of that name exists."""
    # benchmarks/.tools and .work are git-ignored (ruff skips them in the checkout, not in a
    # copy outside git); after a harness run .work holds the unpacked wheels of sync's cache.
    skipped = shutil.ignore_patterns("__pycache__", ".tools", ".work")
    for part in ("lockcheck", "tests", "benchmarks"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=skipped)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "build" / "lib" / "lockcheck").mkdir(parents=True)
    result = subprocess.run(
        [*_ruff(), "check", "--no-cache", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
