"""Judge `lockcheck check` on real projects' committed pip-compile locks (issue 12).

For each case: pip-compile re-runs the lock's own command on a copy of the project (did it
leave the lock unchanged?), then `lockcheck check` and `check --offline` run on the untouched
lock; the verdicts and the times of all three are printed as a markdown table.  A lock
pip-compile leaves unchanged must be "up to date"; any other must be drift whose reason
names what pip-compile changed (read the saved diffs under --work to judge that).

    python benchmarks/real_locks.py benchmarks/sets/real_locks.tsv \\
        --projects /tmp/projects --work /tmp/real-locks \\
        --pip-compile 3.11=/tmp/pt311/bin/pip-compile --pip-compile 3.12=/tmp/pt312/bin/pip-compile

--projects holds one folder per project, named as the case file's first column, with the
project's files at the case's commit (`git archive <commit> | tar -x -C <folder>`).  Every
tool runs with PIP_CONFIG_FILE=/dev/null and no PIP_FIND_LINKS, against the public index.
Standard library only.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """One lock: its project folder, the lock's path there, the folder pip-compile runs in
    (relative to the project), the header's Python, the custom command the header names
    (CUSTOM_COMPILE_COMMAND) and pip-compile's arguments."""

    project: str
    lock: str
    cwd: str
    python: str
    custom: str
    args: tuple[str, ...]


def read_cases(path: Path) -> list[Case]:
    """Tab-separated: project, commit, lock, cwd, python, custom command, pip-compile args."""
    cases = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        project, _commit, lock, cwd, python, custom, args = line.split("\t")
        cases.append(Case(project, lock, cwd, python, custom.strip(), tuple(shlex.split(args))))
    return cases


def _environ(custom: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
    env["PIP_CONFIG_FILE"] = os.devnull
    env.pop("CUSTOM_COMPILE_COMMAND", None)
    if custom:
        env["CUSTOM_COMPILE_COMMAND"] = custom
    return env


def _timed(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[int, float]:
    start = time.perf_counter()
    with log.open("w") as out:
        code = subprocess.run(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=900
        ).returncode
    return code, time.perf_counter() - start


def run_case(case: Case, projects: Path, work: Path, compilers: dict[str, str], lockcheck: str):
    """(pip-compile exit, unchanged?, its time, [(check exit, time) full, offline])."""
    name = f"{case.project}-{case.lock.replace('/', '_')}"
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    source = projects / case.project
    shutil.copytree(source, folder / "pip-compile")
    shutil.copytree(source, folder / "lockcheck")
    compiled = folder / "pip-compile" / case.cwd
    lock_there = Path(case.lock).relative_to(case.cwd) if case.cwd != "." else Path(case.lock)
    argv = [compilers[case.python], *case.args]
    code, took = _timed(argv, compiled, _environ(case.custom), folder / "pip-compile.log")
    before = (source / case.lock).read_bytes()
    unchanged = code == 0 and (compiled / lock_there).read_bytes() == before
    checks = []
    for extra in ((), ("--offline",)):  # where pip-compile ran: the header's paths start there
        log = folder / f"check{''.join(extra) or '-full'}.log"
        argv = [lockcheck, "check", str(lock_there), *extra]
        checks.append(_timed(argv, folder / "lockcheck" / case.cwd, _environ(), log))
    return code, unchanged, took, checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", type=Path)
    parser.add_argument("--projects", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument(
        "--pip-compile", action="append", default=[], help="PYTHON=PATH, once per Python"
    )
    parser.add_argument("--lockcheck", default=shutil.which("lockcheck") or "lockcheck")
    options = parser.parse_args(argv)
    compilers = dict(item.split("=", 1) for item in options.pip_compile)
    verdict = {0: "up to date", 1: "drift", 2: "error"}
    print("| project | lock | pip-compile | check | check --offline | pip-compile s | check s |")
    print("|---|---|---|---|---|---|---|")
    for case in read_cases(options.cases):
        if case.python not in compilers:
            print(f"| {case.project} | {case.lock} | no Python {case.python} | | | | |")
            continue
        code, unchanged, took, checks = run_case(
            case, options.projects, options.work, compilers, options.lockcheck
        )
        compiled = "failed" if code else ("unchanged" if unchanged else "changed")
        (full, full_s), (offline, _) = checks
        print(
            f"| {case.project} | {case.lock} | {compiled} | {verdict.get(full, full)} | "
            f"{verdict.get(offline, offline)} | {took:.1f} | {full_s:.1f} |"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
