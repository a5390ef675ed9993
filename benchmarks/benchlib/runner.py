"""One benchmark run: every set x tool cold and warm, then lockcheck's start-up commands.

Repetitions are interleaved across tools (run 1 of each tool, then run 2 of each ...), so a
slow minute of the network or the machine hits every tool alike instead of one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .commands import (
    INPUT_NAME,
    OUTPUT_NAME,
    STARTUP_MIN_RUNS,
    ToolPaths,
    bare_command,
    blocked_network_env,
    check_command,
    clean_env,
    compile_command,
    display_command,
    sync_command,
)
from .indexprobe import describe_index, probe_index
from .lockdiff import compare_locks, count_pins, hook_line
from .machine import describe_machine
from .measure import run_measured
from .stats import Sample, Summary, summarize
from .synccol import SYNC_TOOLS, SyncRun
from .tools import command_help, command_summaries, install_tools, tool_versions
from .trash import Trash, settle

__all__ = ["COLUMNS", "Capabilities", "RunOptions", "detect_capabilities", "run_benchmarks"]

#: What a run can measure, each selectable alone (``run.py --cold --hook``...):
#: cold and warm compiles of every tool (warm: lockcheck may answer from its stamp), lockcheck's
#: warm compile that resolves (stamps removed) next to uv's warm, the commit-hook workload
#: (warm cache, lock present, one input line added), a cold universal lock (lockcheck and uv),
#: lockcheck's start-up commands, and the sync column.
COLUMNS = ("cold", "warm", "resolve", "hook", "universal", "startup", "sync")
#: Tools of the columns that compare lockcheck with uv alone.
UV_PAIR = ("uv", "lockcheck")
UNIVERSAL_OUTPUT = "universal.txt"

Log = Callable[[str], None]


@dataclass(frozen=True)
class RunOptions:
    """Everything a run needs; built by ``run.py`` from its command line."""

    sets: tuple[str, ...]
    tools: tuple[str, ...]
    cold_runs: int
    warm_runs: int
    sets_dir: Path
    tools_dir: Path
    work_dir: Path
    repo_root: Path
    python: str
    timeout: float = 1200.0
    upgrade_tools: bool = True
    startup: bool = True
    sync: bool = True
    mode: str = "full"
    #: The sync column (new venv and branch switch against uv pip sync and pip-sync).
    sync_column: bool = True
    #: Only the sync column: the set's lock is compiled once, unmeasured.
    sync_only: bool = False
    #: Byte-compile in the sync column (on every side alike).
    sync_bytecode: bool = False
    #: Which of COLUMNS to measure.
    columns: tuple[str, ...] = COLUMNS


@dataclass
class Capabilities:
    """Which lockcheck start-up commands this checkout has, and the flags they accept."""

    check: bool = False
    check_cache_dir: bool = False
    check_offline: bool = False
    sync: bool = False
    sync_cache_dir: bool = False
    notes: list[str] = field(default_factory=list)


def detect_capabilities(commands: dict[str, str], check_help: str, sync_help: str) -> Capabilities:
    """Decide from ``lockcheck --help`` and the commands' own help what can be measured."""
    caps = Capabilities()
    if "check" in commands and "not implemented" not in commands["check"].lower():
        caps.check = True
        caps.check_cache_dir = "--cache-dir" in check_help
        caps.check_offline = "--offline" in check_help
        if not caps.check_cache_dir:
            caps.notes.append(
                "`lockcheck check` takes no `--cache-dir`: it used its default cache (under "
                "XDG_CACHE_HOME, inside the set's cache dir), primed by an unmeasured warm-up run."
            )
    else:
        caps.notes.append(
            "`lockcheck check` skipped: this checkout has no working `check` command."
        )
    sync_summary = commands.get("sync")
    if sync_summary is None or "not implemented" in sync_summary.lower():
        caps.notes.append(
            "`lockcheck sync` skipped: "
            + ("not implemented yet in this checkout." if sync_summary else "no `sync` command.")
        )
    elif not all(flag in sync_help for flag in ("--python", "--dry-run")):
        caps.notes.append("`lockcheck sync` skipped: it takes no `--python`/`--dry-run` option.")
    else:
        caps.sync = True
        caps.sync_cache_dir = "--cache-dir" in sync_help
    return caps


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


class _SetRun:
    """Measurements of one input set; the work tree is ``work_dir/<set>/<tool>/``."""

    def __init__(
        self, name: str, options: RunOptions, paths: ToolPaths, log: Log, trash: Trash
    ) -> None:
        self.name = name
        self.options = options
        self.paths = paths
        self.log = log
        #: Where replaced work directories go: deleted only once the run is over (trash.py).
        self.trash = trash
        self.root = options.work_dir / name
        self.notes: list[str] = []

    def tool_dir(self, tool: str) -> Path:
        return self.root / tool

    def cache_dir(self, tool: str) -> Path:
        return self.tool_dir(tool) / "cache"

    def env(self, tool: str) -> dict[str, str]:
        bin_dir = self.paths.executable(tool).parent
        return clean_env(os.environ, tool=tool, cache_dir=self.cache_dir(tool), bin_dir=bin_dir)

    def prepare(self) -> None:
        self.trash.discard(self.root)
        source = self.options.sets_dir / f"{self.name}.in"
        for tool in self.options.tools:
            self.tool_dir(tool).mkdir(parents=True)
            shutil.copyfile(source, self.tool_dir(tool) / INPUT_NAME)

    def measure(
        self,
        label: str,
        argv: Sequence[str],
        *,
        tool: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Sample:
        cwd = cwd or self.tool_dir(tool)
        log_path = self.root / "logs" / f"{label.replace(' ', '_').replace('/', '_')}.log"
        sample = run_measured(
            argv,
            cwd=cwd,
            env=env if env is not None else self.env(tool),
            timeout=self.options.timeout,
            log_path=log_path,
        )
        status = (
            "ok"
            if sample.ok
            else ("timed out" if sample.timed_out else f"exit {sample.returncode}")
        )
        self.log(
            f"[{self.name}] {label}: {sample.seconds:.3f} s, "
            f"{sample.max_rss_kib / 1024:.0f} MiB, {status}"
        )
        if not sample.ok:
            self.notes.append(f"{self.name}: {label} failed ({status}): {_log_tail(log_path)}")
        return sample

    def compile_all(self) -> dict[str, dict[str, Any]]:
        columns = self.options.columns
        tools = self.options.tools
        samples: dict[str, dict[str, list[Sample]]] = {
            state: {t: [] for t in tools}
            for state in ("cold", "warm", "resolve", "hook", "hook_stale")
        }
        failed: set[str] = set()
        if "cold" in columns:
            for rep in range(self.options.cold_runs):
                for tool in tools:
                    if tool not in failed:
                        samples["cold"][tool].append(self._cold(tool, f"{tool} cold {rep + 1}"))
                        if not samples["cold"][tool][-1].ok:
                            failed.add(tool)
        else:  # the other columns need a warm cache and a lock: one unmeasured cold compile
            for tool in tools:
                if not self._cold(tool, f"{tool} cold (priming)").ok:
                    failed.add(tool)
        if "warm" in columns:
            self._repeat_warm("warm", [t for t in tools if t not in failed], samples["warm"])
        pair = [t for t in UV_PAIR if t in tools and t not in failed]
        if "resolve" in columns:
            self._repeat_warm("resolve", pair, samples["resolve"], forget_stamps=True)
        if "hook" in columns:
            self._hook(pair, samples["hook"], samples["hook_stale"])
        results = {
            tool: self._compile_result(tool, *(samples[s][tool] for s in samples)) for tool in tools
        }
        if "universal" in columns:
            for tool, summary in self._universal(pair).items():
                results[tool]["universal"] = summary
        return results

    def _cold(self, tool: str, label: str) -> Sample:
        """One compile with an empty cache and no output; its lock kept as cold-output.txt."""
        cache, output = self.cache_dir(tool), self.tool_dir(tool) / OUTPUT_NAME
        self.trash.discard(cache)
        cache.mkdir()
        output.unlink(missing_ok=True)
        sample = self.measure(label, compile_command(tool, self.paths, cache), tool=tool)
        if sample.ok:
            shutil.copyfile(output, self.tool_dir(tool) / "cold-output.txt")
        return sample

    def _forget_stamps(self, tool: str) -> None:
        """Remove lockcheck's unchanged-inputs stamps (under XDG_CACHE_HOME), cache kept."""
        if tool == "lockcheck":
            self.trash.discard(self.cache_dir(tool) / "xdg" / "lockcheck" / "stamps")

    def _repeat_warm(
        self,
        state: str,
        tools: Sequence[str],
        into: dict[str, list[Sample]],
        *,
        forget_stamps: bool = False,
    ) -> None:
        """Warm compiles (cache kept, previous output present), interleaved across tools."""
        failed: set[str] = set()
        for rep in range(self.options.warm_runs):
            for tool in tools:
                if tool in failed:
                    continue
                if forget_stamps:
                    self._forget_stamps(tool)
                argv = compile_command(tool, self.paths, self.cache_dir(tool))
                sample = self.measure(f"{tool} {state} {rep + 1}", argv, tool=tool)
                into[tool].append(sample)
                if not sample.ok:
                    failed.add(tool)

    def _hook(
        self,
        tools: Sequence[str],
        into: dict[str, list[Sample]],
        stale_into: dict[str, list[Sample]],
    ) -> None:
        """The commit-hook workload: warm cache, the cold lock present, one input line added;
        then the same with a stale cache (a commit made long after the last compile).

        Before each run the input gets the line again and the lock is put back, so every run
        adds the same pin to the same lock; the input is restored afterwards.  For the stale
        runs lockcheck's page entries are made an hour old (past its ten minutes of
        freshness); uv gets no cache headers from an index that sends none, so it asks again
        on every run anyway.
        """
        reference = self.tool_dir(tools[0]) / "cold-output.txt" if tools else None
        if reference is None or not reference.exists():
            return
        line = hook_line(reference.read_text(encoding="utf-8"))
        self.notes.append(f"{self.name}: the hook workload adds `{line}` to the input.")
        source = (self.options.sets_dir / f"{self.name}.in").read_text(encoding="utf-8")
        for stale, samples in ((False, into), (True, stale_into)):
            for rep in range(self.options.warm_runs):
                for tool in tools:
                    work = self.tool_dir(tool)
                    (work / INPUT_NAME).write_text(source.rstrip("\n") + f"\n{line}\n", "utf-8")
                    shutil.copyfile(work / "cold-output.txt", work / OUTPUT_NAME)
                    self._forget_stamps(tool)
                    if stale:
                        self._age_pages(tool)
                    argv = compile_command(tool, self.paths, self.cache_dir(tool))
                    label = f"{tool} hook{' stale' if stale else ''} {rep + 1}"
                    samples[tool].append(self.measure(label, argv, tool=tool))
        for tool in tools:
            shutil.copyfile(
                self.options.sets_dir / f"{self.name}.in", self.tool_dir(tool) / INPUT_NAME
            )
            shutil.copyfile(
                self.tool_dir(tool) / "cold-output.txt", self.tool_dir(tool) / OUTPUT_NAME
            )

    def _age_pages(self, tool: str) -> None:
        """Make lockcheck's cached index pages an hour old (uv's cache has no such age)."""
        if tool != "lockcheck":
            return
        then = time.time() - 3600
        for page in (self.cache_dir(tool) / "v1" / "index-pages").glob("*.page"):
            os.utime(page, (then, then))

    def _universal(self, tools: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Cold universal locks (empty cache of their own, so the warm cache stays for later)."""
        runs: dict[str, list[Sample]] = {t: [] for t in tools}
        for rep in range(self.options.cold_runs):
            for tool in tools:
                cache = self.tool_dir(tool) / "universal-cache"
                self.trash.discard(cache)
                cache.mkdir()
                (self.tool_dir(tool) / UNIVERSAL_OUTPUT).unlink(missing_ok=True)
                argv = compile_command(
                    tool, self.paths, cache, outfile=UNIVERSAL_OUTPUT, universal=True
                )
                runs[tool].append(self.measure(f"{tool} universal {rep + 1}", argv, tool=tool))
        out: dict[str, dict[str, Any]] = {}
        for tool in tools:
            argv = compile_command(
                tool, self.paths, self.tool_dir(tool) / "universal-cache",
                outfile=UNIVERSAL_OUTPUT, universal=True,
            )  # fmt: skip
            summary = summarize(runs[tool], self.display(argv, tool)).to_dict()
            output = self.tool_dir(tool) / UNIVERSAL_OUTPUT
            summary["pins"] = (
                count_pins(output.read_text(encoding="utf-8")) if output.exists() else None
            )
            out[tool] = summary
        return out

    def _compile_result(
        self,
        tool: str,
        cold: list[Sample],
        warm: list[Sample],
        resolve: list[Sample],
        hook: list[Sample],
        hook_stale: list[Sample],
    ) -> dict[str, Any]:
        command = self.display(compile_command(tool, self.paths, self.cache_dir(tool)), tool)

        def summary(samples: list[Sample]) -> dict[str, Any] | None:
            return summarize(samples, command).to_dict() if samples else None

        result: dict[str, Any] = {
            "cold": summary(cold),
            "warm": summary(warm),
            "warm_resolve": summary(resolve),
            "hook": summary(hook),
            "hook_stale": summary(hook_stale),
            "pins": None,
            "same_as_pip_compile": None,
            "changed_lines": 0,
            "diff": "",
        }
        output = self.tool_dir(tool) / "cold-output.txt"
        if output.exists():
            result["pins"] = count_pins(output.read_text(encoding="utf-8"))
        reference = self.tool_dir("pip-compile") / "cold-output.txt"
        if tool != "pip-compile" and output.exists() and reference.exists():
            comparison = compare_locks(
                reference.read_text(encoding="utf-8"),
                output.read_text(encoding="utf-8"),
                names=("pip-compile", tool),
            )
            result["same_as_pip_compile"] = comparison.same
            result["changed_lines"] = comparison.changed_lines
            result["diff"] = comparison.diff
        return result

    def lock_for_sync(self) -> Path | None:
        """The set's lock for the sync column: lockcheck's cold output, else one unmeasured
        compile (``--sync-only``)."""
        lock = self.tool_dir("lockcheck") / "cold-output.txt"
        if lock.exists():
            return lock
        self.tool_dir("lockcheck").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(
            self.options.sets_dir / f"{self.name}.in", self.tool_dir("lockcheck") / INPUT_NAME
        )
        argv = compile_command("lockcheck", self.paths, self.cache_dir("lockcheck"))
        if not self.measure("lockcheck compile (lock for sync)", argv, tool="lockcheck").ok:
            return None
        return self.tool_dir("lockcheck") / OUTPUT_NAME

    def sync_column(self) -> dict[str, Any] | None:
        lock = self.lock_for_sync()
        if lock is None:
            self.notes.append(f"{self.name}: sync column skipped (no lock).")
            return None
        tools = [
            t for t in SYNC_TOOLS if (t if t != "pip-sync" else "pip-compile") in self.options.tools
        ]
        column = SyncRun(
            root=self.root,
            paths=self.paths,
            tools=tools,
            python=self.options.python,
            runs=self.options.cold_runs,
            bytecode=self.options.sync_bytecode,
            measure=self.measure,
            log=self.log,
            discard=self.trash.discard,
        )
        try:
            return column.run(lock, self.options.sets_dir / f"{self.name}.in")
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            self.notes.append(f"{self.name}: sync column failed: {exc}")
            return None

    def display(self, argv: Sequence[str], tool: str) -> str:
        replacements = {
            str(self.cache_dir(tool)): "CACHE",
            str(self.tool_dir(tool) / "universal-cache"): "CACHE",
            str(self.root / "target-venv"): "TARGET",
            str(self.paths.uv_python): "python",
            str(self.paths.lockcheck_python): "python",
        }
        return display_command(argv, replacements)

    def repeat(self, label: str, argv: Sequence[str], runs: int) -> Summary:
        """One unmeasured warm-up (page cache, .pyc), then ``runs`` measured runs."""
        warmup = self.measure(f"{label} warm-up", argv, tool="lockcheck")
        command = self.display(argv, "lockcheck")
        if not warmup.ok:
            summary = summarize([warmup], command)
            summary.note = "warm-up run failed; not repeated"
            return summary
        samples = [self.measure(f"{label} {i + 1}", argv, tool="lockcheck") for i in range(runs)]
        return summarize(samples, command)

    def no_network_ok(self, label: str, argv: Sequence[str]) -> bool:
        env = blocked_network_env(self.env("lockcheck"))
        return self.measure(f"{label} network-blocked", argv, tool="lockcheck", env=env).ok

    def startup(self, caps: Capabilities) -> dict[str, Any]:
        # These commands take 15-50 ms: a median of 3 is at the mercy of one slow start.
        runs = max(self.options.warm_runs, STARTUP_MIN_RUNS)
        lockcheck = self.paths.lockcheck
        cache = self.cache_dir("lockcheck")
        result: dict[str, Any] = {
            "bare": self.repeat(
                "bare python", bare_command(self.paths.lockcheck_python), runs
            ).to_dict()
        }
        if caps.check:
            argv = check_command(lockcheck, cache if caps.check_cache_dir else None)
            result["check"] = self.repeat("check", argv, runs).to_dict()
            result["check_no_network"] = self.no_network_ok("check", argv)
            if caps.check_offline:
                offline = [*argv[:-1], "--offline", argv[-1]]
                result["check_offline"] = self.repeat("check --offline", offline, runs).to_dict()
        if caps.sync and self.options.sync:
            target = self.root / "target-venv"
            subprocess.run(
                [str(self.paths.lockcheck_python), "-m", "venv", "--without-pip", str(target)],
                check=True,
            )
            target_python = target / "bin" / "python"
            sync_cache = cache if caps.sync_cache_dir else None
            install = sync_command(lockcheck, target_python, dry_run=False, cache_dir=sync_cache)
            first = self.measure("sync (install)", install, tool="lockcheck")
            result["first_sync"] = summarize([first], self.display(install, "lockcheck")).to_dict()
            if first.ok:
                dry = sync_command(lockcheck, target_python, dry_run=True, cache_dir=sync_cache)
                result["sync_dry_run"] = self.repeat("sync --dry-run", dry, runs).to_dict()
                result["sync_noop"] = self.repeat("sync no-op", install, runs).to_dict()
                result["sync_no_network"] = self.no_network_ok("sync no-op", install)
        return result


def run_benchmarks(options: RunOptions, log: Log) -> dict[str, Any]:
    """Install the tools, measure every set, and return the results in their JSON form."""
    paths = install_tools(
        options.tools_dir,
        python=options.python,
        repo_root=options.repo_root,
        tools=options.tools,
        upgrade=options.upgrade_tools,
        log=log,
    )
    versions = tool_versions(paths, options.tools, options.tools_dir, options.repo_root)
    log("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    index = probe_index()
    notes: list[str] = [describe_index(index)]
    log(notes[0])
    caps = Capabilities()
    startup = (
        options.startup
        and "startup" in options.columns
        and "lockcheck" in options.tools
        and not options.sync_only
    )
    if startup:
        env = clean_env(os.environ, tool="lockcheck", cache_dir=options.tools_dir / "cache")
        commands, _ = command_summaries(paths.lockcheck, env)
        caps = detect_capabilities(
            commands,
            command_help(paths.lockcheck, "check", env) if "check" in commands else "",
            command_help(paths.lockcheck, "sync", env) if "sync" in commands else "",
        )
        notes += caps.notes
        if caps.sync and not options.sync:
            notes.append("`lockcheck sync` skipped (--skip-sync or --quick).")
    results: dict[str, Any] = {
        "schema": 1,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": options.mode,
        "options": {
            "sets": list(options.sets),
            "tools": list(options.tools),
            "cold_runs": options.cold_runs,
            "warm_runs": options.warm_runs,
            "sync_bytecode": options.sync_bytecode,
            "columns": list(options.columns),
        },
        "machine": describe_machine(),
        "index": index,
        "versions": versions,
        "commands": {},
        "notes": notes,
        "sets": [],
    }
    # Nothing freed lately: a killed run's trash goes, then the tools' own installs settle.
    trash = Trash(options.work_dir / ".trash")
    trash.empty()
    settle()
    try:
        _measure_sets(options, paths, log, trash, caps, startup, results)
    finally:
        trash.empty()
    return results


def _measure_sets(
    options: RunOptions,
    paths: ToolPaths,
    log: Log,
    trash: Trash,
    caps: Capabilities,
    startup: bool,
    results: dict[str, Any],
) -> None:
    notes: list[str] = results["notes"]
    for name in options.sets:
        run = _SetRun(name, options, paths, log, trash)
        run.prepare()
        entry: dict[str, Any] = {"name": name, "file": f"sets/{name}.in"}
        if options.sync_only:
            entry["compile"] = {}
            entry["sync"] = run.sync_column()
            notes += run.notes
            results["sets"].append(entry)
            continue
        entry["compile"] = run.compile_all()
        if options.sync_column and "lockcheck" in options.tools and "sync" in options.columns:
            entry["sync"] = run.sync_column()
        lockcheck_ok = (entry["compile"].get("lockcheck") or {}).get("pins") is not None
        if startup and lockcheck_ok:
            entry["startup"] = run.startup(caps)
        elif startup:
            run.notes.append(f"{name}: start-up commands skipped (lockcheck compile failed).")
        for tool, result in entry["compile"].items():
            shown = result.get("cold") or result.get("warm") or result.get("warm_resolve")
            if shown:
                results["commands"].setdefault(tool, shown["command"])
            if result.get("universal"):
                results["commands"].setdefault(
                    f"{tool} --universal", result["universal"]["command"]
                )
        startup_labels = (
            ("bare", "bare"),
            ("check", "check"),
            ("check_offline", "check --offline"),
            ("sync_dry_run", "sync --dry-run"),
            ("sync_noop", "sync"),
        )
        for key, label in startup_labels:
            summary = (entry.get("startup") or {}).get(key)
            if summary:
                results["commands"].setdefault(label, summary["command"])
        notes += run.notes
        results["sets"].append(entry)
