"""Prove the declared dependency floors: install lockcheck with every direct dependency at the
lowest version pyproject.toml allows, then run the smoke tests on that install.

A floor that is not true (an API used that the lowest allowed release lacks) shows up here,
not on a user's machine that happens to hold that release already.

    python .ci/floors.py constraints          # print the floor constraints
    python .ci/floors.py run [VENV]           # make VENV (default .venv-floors), install, test

Every runtime dependency must name a lower bound (``>=`` or ``==``): one without is an error,
because "any version" is a floor nobody tested.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent

#: The smoke set run on the floor install: compile, check and sync end to end, both lock
#: formats, the parsers, universal locks and the index client.
SMOKE_TESTS = (
    "tests/test_cli_compile.py",
    "tests/test_check.py",
    "tests/test_sync_engine.py",
    "tests/test_pylock.py",
    "tests/test_universal.py",
    "tests/test_inputs_reqfile.py",
    "tests/test_index_finder.py",
)


def floor_constraints(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """``name==floor`` for every runtime dependency that applies to this interpreter."""
    from packaging.requirements import Requirement

    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    lines = []
    for text in data["project"]["dependencies"]:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        floors = [s.version for s in requirement.specifier if s.operator in (">=", "==", "~=")]
        if not floors:
            raise SystemExit(f"pyproject.toml: dependency {text!r} declares no lower bound")
        lines.append(f"{requirement.name}=={max(floors, key=_version)}")
    return lines


def _version(text: str) -> object:
    from packaging.version import Version

    return Version(text)


def _key(pin: str) -> tuple[str, object]:
    """(normalised name, Version) of ``name==version``, to compare pins whatever the spelling."""
    from packaging.utils import canonicalize_name

    name, _, version = pin.partition("==")
    return canonicalize_name(name), _version(version)


def _run(*args: str | Path) -> None:
    print("+", " ".join(map(str, args)), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def run(venv: Path) -> None:
    """Install at the floors into *venv* and run the smoke tests there."""
    constraints = floor_constraints()
    print("floors:", ", ".join(constraints), flush=True)
    python = venv / "bin" / "python"
    if not python.exists():
        _run(sys.executable, "-m", "venv", venv)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(constraints) + "\n")
    _run(python, "-m", "pip", "install", "-q", "-U", "pip")
    _run(python, "-m", "pip", "install", "-q", "-c", handle.name, "-e", ".[test]")
    frozen = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {_key(line) for line in frozen.splitlines()}
    missing = [line for line in constraints if _key(line) not in installed]
    if missing:
        raise SystemExit(f"not installed at their floors: {', '.join(missing)}")
    _run(python, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", *SMOKE_TESTS)


def main(argv: list[str]) -> None:
    if argv[:1] == ["constraints"]:
        print("\n".join(floor_constraints()))
    elif argv[:1] == ["run"]:
        run(Path(argv[1]) if len(argv) > 1 else ROOT / ".venv-floors")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
