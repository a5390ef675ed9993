"""Which staged files start the hooks: pre-commit matches ``files`` and ``exclude`` with
``re.search`` on the path from the repository root."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

HOOKS = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text())
GATED = [h for h in HOOKS if h["id"] in ("lockcheck", "lockcheck-check")]

STARTS = [
    "requirements.in",
    "requirements.txt",
    "requirements/dev.in",
    "requirements/dev.txt",
    "services/api/requirements.in",
    "constraints.txt",  # a -c file not named *requirements*
    "deps/pins.txt",
    "pylock.toml",
    "pylock.dev.toml",
    "pyproject.toml",
    "services/api/pyproject.toml",
    "setup.cfg",
    "setup.py",
    ".lockcheck.toml",
    ".pip-tools.toml",
]
IGNORED = ["MANIFEST.in", "src/MANIFEST.in", "README.md", "app.py", "pylock.toml.bak", "a/b.toml"]


def _runs(hook: dict, path: str) -> bool:
    if not re.search(hook["files"], path):
        return False
    return not (hook.get("exclude") and re.search(hook["exclude"], path))


@pytest.mark.parametrize("hook", GATED, ids=lambda h: h["id"])
def test_every_file_a_lock_depends_on_starts_the_hook(hook: dict) -> None:
    assert [p for p in STARTS if not _runs(hook, p)] == []
    assert [p for p in IGNORED if _runs(hook, p)] == []
