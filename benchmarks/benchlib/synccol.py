"""The sync column: ``lockcheck sync`` against ``uv pip sync`` and ``pip-sync`` (issue 17).

Two scenarios per set, every tool syncing the same lock files with a warm cache of its own:

* **new venv**: an empty venv (made unmeasured, ``--without-pip``; pip-sync's with pip, which
  it needs) synced from the set's lock;
* **switch**: a venv holding lock A synced to lock B, which changes a few pins (what a
  post-checkout hook does after a branch switch); the venv is put back on A, unmeasured,
  before each run.

Lock A is the set's lock (lockcheck's cold output); lock B is compiled by uv (unmeasured) with
every pin of A as a constraint except a few packages held below their pin, so exactly those
pins change, plus whatever their older versions need.  Byte-compiling is the same on all
sides (``--bytecode``: lockcheck ``--compile``, uv ``--compile-bytecode``; otherwise pip-sync
gets ``--no-compile``).  Runs are interleaved across tools, after one unmeasured warm-up
sync per tool that fills its cache.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .commands import ToolPaths, clean_env
from .stats import Sample, summarize

__all__ = ["SYNC_TOOLS", "SyncRun", "switch_lock", "sync_tool_command"]

#: Tools of the sync column, in the order the tables show them.
SYNC_TOOLS = ("pip-sync", "uv", "lockcheck")
#: How many pins lock B changes.
CHANGED_PINS = 3
LOCK_A = "sync-a.txt"
LOCK_B = "sync-b.txt"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")

Measure = Callable[..., Sample]


def sync_tool_command(
    tool: str, paths: ToolPaths, target: Path, cache: Path, lock: str, *, bytecode: bool
) -> list[str]:
    """argv of one sync of *target* (a venv directory) from *lock*."""
    python = str(target / "bin" / "python")
    if tool == "lockcheck":
        argv = [str(paths.lockcheck), "sync", "--quiet", "--python", str(target)]
        argv += ["--cache-dir", str(cache), "--compile" if bytecode else "--no-compile"]
        return [*argv, lock]
    if tool == "uv":
        argv = [str(paths.uv), "pip", "sync", "--quiet", "--no-config", "--python", python]
        argv += ["--cache-dir", str(cache)]
        return [*argv, *(["--compile-bytecode"] if bytecode else []), lock]
    if tool == "pip-sync":
        pip_sync = paths.pip_compile.parent / "pip-sync"
        argv = [str(pip_sync), "--quiet", "--python-executable", python]
        return [*argv, *([] if bytecode else ["--pip-args", "--no-compile"]), lock]
    raise ValueError(f"unknown sync tool {tool!r}; expected one of {', '.join(SYNC_TOOLS)}")


def _pins(text: str) -> list[tuple[str, str]]:
    return [(m[1], m[2]) for line in text.splitlines() if (m := _PIN.match(line))]


def switch_lock(
    lock_a: Path, infile: Path, out: Path, paths: ToolPaths, env: dict[str, str], cache: Path
) -> list[str]:
    """Write lock B next to *lock_a*: CHANGED_PINS packages held below their pin, every other
    pin of A kept as a constraint; returns the changed pins as ``name a -> b``."""
    pins = _pins(lock_a.read_text(encoding="utf-8"))
    held: list[tuple[str, str]] = []
    for name, version in pins:
        if len(held) == CHANGED_PINS:
            break
        trial = [*held, (name, version)]
        below = {n for n, _ in trial}
        constraints = [f"{n}<{v}" for n, v in trial]
        constraints += [f"{n}=={v}" for n, v in pins if n not in below]
        cfile = out.with_suffix(".constraints")
        cfile.write_text("\n".join(constraints) + "\n", encoding="utf-8")
        proc = subprocess.run(
            [str(paths.uv), "pip", "compile", "--quiet", "--no-config",
             "--python", str(paths.uv_python), "--cache-dir", str(cache),
             "-c", str(cfile), "-o", str(out), str(infile)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode == 0:
            held = trial
    if len(held) < CHANGED_PINS:
        raise RuntimeError(f"could not change {CHANGED_PINS} pins of {lock_a.name}")
    before = dict(pins)
    after = dict(_pins(out.read_text(encoding="utf-8")))
    return [
        f"{n} {before.get(n, '-')} -> {after.get(n, '-')}"
        for n in sorted(set(before) | set(after))
        if before.get(n) != after.get(n)
    ]


@dataclass
class SyncRun:
    """The sync column of one set; ``root`` is that set's work directory."""

    root: Path
    paths: ToolPaths
    tools: Sequence[str]
    python: str
    runs: int
    bytecode: bool
    measure: Measure
    log: Callable[[str], None]
    #: How a replaced venv is put away (the run's trash: see trash.py).
    discard: Callable[[Path], None]

    def cache(self, tool: str) -> Path:
        return self.root / "sync" / tool / "cache"

    def target(self, tool: str) -> Path:
        return self.root / "sync" / tool / "venv"

    def env(self, tool: str) -> dict[str, str]:
        import os

        bin_dir = self.paths.executable("pip-compile" if tool == "pip-sync" else tool).parent
        return clean_env(os.environ, tool=tool, cache_dir=self.cache(tool), bin_dir=bin_dir)

    def new_venv(self, tool: str) -> None:
        """An empty venv (with pip for pip-sync, which runs the target's pip)."""
        target = self.target(tool)
        self.discard(target)
        argv = [self.python, "-m", "venv", str(target)]
        if tool != "pip-sync":
            argv.insert(3, "--without-pip")
        subprocess.run(argv, check=True, capture_output=True)

    def sync(self, tool: str, lock: str, label: str) -> Sample:
        argv = sync_tool_command(
            tool, self.paths, self.target(tool), self.cache(tool), lock, bytecode=self.bytecode
        )
        workdir = self.root / "sync"
        return self.measure(label, argv, tool=tool, env=self.env(tool), cwd=workdir)

    def run(self, lock_a: Path, infile: Path) -> dict[str, Any]:
        work = self.root / "sync"
        work.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lock_a, work / LOCK_A)
        shutil.copyfile(infile, work / "sync.in")
        changed = switch_lock(
            work / LOCK_A, work / "sync.in", work / LOCK_B, self.paths, self.env("uv"),
            self.cache("uv"),
        )  # fmt: skip
        self.log(f"sync: lock B changes {', '.join(changed)}")
        tools = list(self.tools)
        for tool in list(tools):  # warm-up: fills each tool's cache
            self.new_venv(tool)
            if not self.sync(tool, LOCK_A, f"sync {tool} warm-up").ok:
                tools.remove(tool)
        new: dict[str, list[Sample]] = {t: [] for t in tools}
        switch: dict[str, list[Sample]] = {t: [] for t in tools}
        for rep in range(self.runs):
            for tool in tools:
                self.new_venv(tool)
                new[tool].append(self.sync(tool, LOCK_A, f"sync {tool} new venv {rep + 1}"))
            for tool in tools:
                self.sync(tool, LOCK_A, f"sync {tool} back to A {rep + 1}")
                switch[tool].append(self.sync(tool, LOCK_B, f"sync {tool} switch {rep + 1}"))
        result: dict[str, Any] = {"bytecode": self.bytecode, "changed": changed}
        for key, samples in (("new_venv", new), ("switch", switch)):
            result[key] = {
                tool: summarize(samples[tool], " ".join(self._shown(tool, key))).to_dict()
                for tool in tools
            }
        return result

    def _shown(self, tool: str, key: str) -> list[str]:
        lock = LOCK_A if key == "new_venv" else LOCK_B
        argv = sync_tool_command(
            tool, self.paths, Path("TARGET"), Path("CACHE"), lock, bytecode=self.bytecode
        )
        return [Path(argv[0]).name, *argv[1:]]
