"""Profile one lockcheck command under cProfile and print the top entries.

Runs in the interpreter that starts it (use the dev venv, where lockcheck is installed
editable, so the profile is of the working tree), against the public index with the same
environment hygiene as run.py. The import of ``lockcheck.cli`` is inside the profile:
start-up cost is part of what is being optimised.

    /work/venv-dev/bin/python benchmarks/profile.py --set datascience          # warm compile
    /work/venv-dev/bin/python benchmarks/profile.py --set web --cold
    /work/venv-dev/bin/python benchmarks/profile.py --set web --command check
    /work/venv-dev/bin/python benchmarks/profile.py --in my.in --save out.prof --sort tottime
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This file is named like the stdlib's `profile`, which cProfile imports: drop this folder
# from the front of sys.path (where `python benchmarks/profile.py` puts it) before importing
# cProfile, and append it so benchlib stays importable.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.append(str(HERE))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

from benchlib.commands import INPUT_NAME, OUTPUT_NAME, clean_env  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--set", default="web", help="input set under benchmarks/sets/")
    source.add_argument("--in", dest="infile", type=Path, help="any requirements input file")
    parser.add_argument("--command", choices=("compile", "check"), default="compile")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="empty cache and no output file (default: warm, primed first)",
    )
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    parser.add_argument("--limit", type=int, default=30, help="entries to print")
    parser.add_argument("--save", type=Path, help="also write the raw profile (snakeviz, ...)")
    parser.add_argument("--work-dir", type=Path, default=HERE / ".work" / "profile")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    source = args.infile or HERE / "sets" / f"{args.set}.in"
    if not source.is_file():
        print(f"profile.py: no input file {source}", file=sys.stderr)
        return 2
    save = args.save.resolve() if args.save else None
    work = (args.work_dir / (args.infile.stem if args.infile else args.set)).resolve()
    cache = work / "cache"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, work / INPUT_NAME)
    env = clean_env(os.environ, tool="lockcheck", cache_dir=cache)
    compile_args = ["compile", "--quiet", "--cache-dir", str(cache), "-o", OUTPUT_NAME, INPUT_NAME]
    if args.cold:
        shutil.rmtree(cache, ignore_errors=True)
        (work / OUTPUT_NAME).unlink(missing_ok=True)
    if args.command == "check" or not args.cold:
        # Prime in a separate process so the profiled one starts with nothing imported.
        print(f"priming: lockcheck {' '.join(compile_args)}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "lockcheck", *compile_args],
                       cwd=work, env=env, check=True)  # fmt: skip
    command = compile_args if args.command == "compile" else ["check", OUTPUT_NAME]

    os.environ.clear()
    os.environ.update(env)
    os.chdir(work)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    try:
        from lockcheck.cli import main as lockcheck_main

        code = lockcheck_main(command)
    finally:
        profiler.disable()
    elapsed = time.perf_counter() - start
    print(f"lockcheck {' '.join(command)}: exit {code}, {elapsed:.3f} s (under cProfile)")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats(args.sort).print_stats(args.limit)
    if save:
        stats.dump_stats(str(save))
        print(f"saved {save}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
