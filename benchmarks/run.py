"""Benchmark lockcheck against pip-compile and uv on real input sets (Linux, stdlib only).

    python benchmarks/run.py                     # every set, 3 cold + 5 warm runs per cell
    python benchmarks/run.py --quick             # web + datascience, 1 cold + 2 warm, no sync
    python benchmarks/run.py --sets web --tools lockcheck,uv --repeat 3
    python benchmarks/run.py --sets datascience --hook --universal   # only those columns
    python benchmarks/run.py --sync-only --sets datascience   # the sync column alone
    python benchmarks/run.py --render benchmarks/results/latest.json   # re-print a table
    python benchmarks/run.py --render benchmarks/results/latest.json --readme  # README part

Tool virtualenvs go to benchmarks/.tools/ (newest pip + pip-tools, uv, lockcheck from this
checkout), per-run caches and outputs to benchmarks/.work/; results to benchmarks/results/
(latest.md + latest.json; quick.md + quick.json for --quick).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
# Appended, not prepended: stdlib modules must win over files in this folder (profile.py).
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))

from benchlib.commands import COMPILE_TOOLS  # noqa: E402
from benchlib.report import render_markdown, render_readme_section  # noqa: E402
from benchlib.runner import COLUMNS, RunOptions, run_benchmarks  # noqa: E402
from benchlib.tools import ToolSetupError  # noqa: E402

SETS = ("web", "django", "datascience", "large")
QUICK_SETS = ("web", "datascience")


def _csv(value: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [v for v in items if v not in allowed]
    if unknown or not items:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown) or '(none)'}; choose from {', '.join(allowed)}"
        )
    return items


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Time lockcheck, pip-compile and uv pip compile side by side.",
    )
    parser.add_argument(
        "--sets",
        type=lambda v: _csv(v, SETS, "set"),
        default=None,
        help=f"comma-separated input sets (default: all; {', '.join(SETS)})",
    )
    parser.add_argument(
        "--tools",
        type=lambda v: _csv(v, COMPILE_TOOLS, "tool"),
        default=COMPILE_TOOLS,
        help="comma-separated tools (default: all)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        metavar="N",
        help="runs per warm and per cold cell (default: 5 warm, 3 cold)",
    )
    parser.add_argument(
        "--cold-repeat",
        type=int,
        default=None,
        metavar="N",
        help="runs per cold cell, overriding --repeat",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "results",
        help="directory for the .md and .json results (default: %(default)s)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="web + datascience sets, 1 cold and 2 warm runs, no sync, "
        "tools not upgraded; writes quick.md/quick.json",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter the tool venvs are created from (default: this one)",
    )
    parser.add_argument("--tools-dir", type=Path, default=HERE / ".tools")
    parser.add_argument("--work-dir", type=Path, default=HERE / ".work")
    parser.add_argument(
        "--timeout", type=float, default=1200.0, help="seconds before one measured run is killed"
    )
    parser.add_argument(
        "--no-upgrade-tools",
        dest="upgrade_tools",
        action="store_false",
        help="keep existing pip-tools and uv venvs as they are",
    )
    parser.add_argument(
        "--skip-startup", action="store_true", help="do not measure lockcheck check / sync"
    )
    parser.add_argument("--skip-sync", action="store_true", help="do not measure lockcheck sync")
    parser.add_argument(
        "--sync-only",
        action="store_true",
        help="only the sync column (new venv, branch switch; against uv pip sync and "
        "pip-sync); each set's lock compiled once, unmeasured; writes sync.md/sync.json",
    )
    parser.add_argument(
        "--sync-bytecode",
        action="store_true",
        help="byte-compile in the sync column (lockcheck --compile, uv --compile-bytecode, "
        "pip-sync as pip does); default: off on every side",
    )
    column_help = {
        "cold": "cold compiles (empty cache, no output)",
        "warm": "warm compiles (cache and output kept; lockcheck may answer from its stamp)",
        "resolve": "warm compiles that resolve: lockcheck's stamps removed, against uv's warm",
        "hook": "the commit-hook workload: warm cache, lock present, one input line added, "
        "then the same with lockcheck's cached pages an hour old (lockcheck and uv)",
        "universal": "cold universal locks: --universal against uv pip compile --universal",
        "startup": "lockcheck check / sync on an unchanged lock against a bare interpreter",
        "sync": "the sync column (new venv, branch switch)",
    }
    columns = parser.add_argument_group(
        "columns",
        "measure only the columns named (default: every one; a column that needs a "
        "warm cache and a lock gets one unmeasured cold compile first)",
    )
    for name in COLUMNS:
        columns.add_argument(f"--{name}", dest=f"column_{name}", action="store_true",
                             help=column_help[name])  # fmt: skip
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="print the markdown of a saved results file and exit",
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="with --render: print the short README section instead",
    )
    return parser


def options_from_args(args: argparse.Namespace) -> RunOptions:
    """RunOptions from parsed arguments, applying --quick's defaults."""
    if args.quick:
        cold, warm = 1, 2
    else:
        cold, warm = 3, 5
    if args.repeat is not None:
        cold = warm = args.repeat
    if args.cold_repeat is not None:
        cold = args.cold_repeat
    if cold < 1 or warm < 1:
        raise SystemExit("run.py: --repeat and --cold-repeat must be at least 1")
    sets = args.sets or (QUICK_SETS if args.quick else SETS)
    chosen = tuple(c for c in COLUMNS if getattr(args, f"column_{c}", False))
    columns = chosen or tuple(c for c in COLUMNS if not (args.quick and c == "sync"))
    return RunOptions(
        sets=tuple(sets),
        tools=tuple(t for t in COMPILE_TOOLS if t in args.tools),
        cold_runs=cold,
        warm_runs=warm,
        sets_dir=HERE / "sets",
        tools_dir=args.tools_dir.resolve(),
        work_dir=args.work_dir.resolve(),
        repo_root=REPO_ROOT,
        python=args.python,
        timeout=args.timeout,
        upgrade_tools=args.upgrade_tools and not args.quick,
        startup=not args.skip_startup,
        sync=not (args.skip_sync or args.quick),
        mode="sync" if args.sync_only else ("quick" if args.quick else "full"),
        sync_column=not (args.skip_sync or args.quick),
        sync_only=args.sync_only,
        sync_bytecode=args.sync_bytecode,
        columns=columns,
    )


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")
    if args.render:
        saved = json.loads(args.render.read_text(encoding="utf-8"))
        print(render_readme_section(saved) if args.readme else render_markdown(saved))
        return 0
    if sys.platform != "linux":
        print("run.py: peak memory comes from Linux wait4(); run on Linux", file=sys.stderr)
        return 2
    options = options_from_args(args)
    try:
        results = run_benchmarks(options, _log)
    except ToolSetupError as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    stem = "sync" if args.sync_only else ("quick" if args.quick else "latest")
    args.out.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(results)
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / f"{stem}.md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)
    _log(f"wrote {args.out / stem}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
