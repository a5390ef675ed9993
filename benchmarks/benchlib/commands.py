"""Command lines and environments of every measured run, built in one place.

Each tool gets the public index only: pip's configuration file is disabled, index and
find-links variables are dropped, uv's variables are dropped and uv is given ``--no-config``.
Each tool writes only into its own cache directory (``XDG_CACHE_HOME`` too, and pip's HTTP
cache through ``PIP_CACHE_DIR`` for pip-compile, whose ``--cache-dir`` covers only pip-tools'
own dependency cache).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "COMPILE_TOOLS",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "ToolPaths",
    "bare_command",
    "blocked_network_env",
    "check_command",
    "clean_env",
    "compile_command",
    "display_command",
    "sync_command",
]

#: Tools that compile, in the order the tables show them.
COMPILE_TOOLS = ("pip-compile", "uv", "lockcheck")
#: File names inside each work directory (pip-compile's convention, so `check` finds the pair).
INPUT_NAME = "requirements.in"
OUTPUT_NAME = "requirements.txt"

#: pip variables kept: they configure TLS and timeouts, not where packages come from.
_PIP_ENV_KEPT = frozenset(
    {"PIP_CERT", "PIP_CLIENT_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_TIMEOUT", "PIP_RETRIES"}
)
#: Other variables that would change what a tool resolves, writes or which venv it sees.
_ENV_DROPPED = frozenset({"CUSTOM_COMPILE_COMMAND", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"})


@dataclass(frozen=True)
class ToolPaths:
    """Executables of the tool virtualenvs (each venv's own ``bin`` directory)."""

    pip_compile: Path
    uv: Path
    uv_python: Path
    lockcheck: Path
    lockcheck_python: Path

    def executable(self, tool: str) -> Path:
        return {"pip-compile": self.pip_compile, "uv": self.uv, "lockcheck": self.lockcheck}[tool]


def clean_env(
    base: Mapping[str, str],
    *,
    tool: str,
    cache_dir: Path,
    bin_dir: Path | None = None,
) -> dict[str, str]:
    """Environment for one run of ``tool``: public index only, caches under ``cache_dir``."""
    env = {
        key: value
        for key, value in base.items()
        if not (key.startswith("PIP_") and key not in _PIP_ENV_KEPT)
        and not key.startswith(("UV_", "LOCKCHECK_"))
        and key not in _ENV_DROPPED
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["XDG_CACHE_HOME"] = str(cache_dir / "xdg")
    if tool == "pip-compile":
        env["PIP_CACHE_DIR"] = str(cache_dir / "pip")
    if bin_dir is not None:
        env["PATH"] = os.pathsep.join([str(bin_dir), base.get("PATH", os.defpath)])
    return env


def blocked_network_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with every proxy variable pointing at a closed local port.

    A command that still succeeds did not need the network, as far as clients that honour
    proxy variables (httpx, pip, uv) can tell; a client that ignores them is not caught.
    """
    blocked = {k: v for k, v in env.items() if k.lower() != "no_proxy"}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        blocked[name] = blocked[name.lower()] = "http://127.0.0.1:9"
    return blocked


def compile_command(
    tool: str,
    paths: ToolPaths,
    cache_dir: Path,
    infile: str = INPUT_NAME,
    outfile: str = OUTPUT_NAME,
    *,
    universal: bool = False,
) -> list[str]:
    """argv of one compile; run with the work directory as cwd.

    ``universal``: one lock for every platform and Python (lockcheck and uv only; pip-compile
    has no such mode).
    """
    cache = str(cache_dir)
    if universal:
        if tool == "pip-compile":
            raise ValueError("pip-compile has no universal mode")
        argv = compile_command(tool, paths, cache_dir, infile, outfile)
        return [*argv[:-1], "--universal", argv[-1]]
    if tool == "pip-compile":
        return [
            str(paths.pip_compile), "--quiet", "--strip-extras",
            "--cache-dir", cache, "-o", outfile, infile,
        ]  # fmt: skip
    if tool == "uv":
        # --python: the same interpreter as the others, found without a PATH search (which would
        # hit a slow pyenv shim on some machines); --no-config: no uv.toml from the user.
        return [
            str(paths.uv), "pip", "compile", "--quiet", "--no-config",
            "--python", str(paths.uv_python),
            "--cache-dir", cache, "-o", outfile, infile,
        ]  # fmt: skip
    if tool == "lockcheck":
        return [
            str(paths.lockcheck), "compile", "--quiet",
            "--cache-dir", cache, "-o", outfile, infile,
        ]  # fmt: skip
    raise ValueError(f"unknown tool {tool!r}; expected one of {', '.join(COMPILE_TOOLS)}")


def check_command(
    lockcheck: Path, cache_dir: Path | None, lockfile: str = OUTPUT_NAME
) -> list[str]:
    """``lockcheck check`` of one lock; ``cache_dir`` only when the command accepts it."""
    argv = [str(lockcheck), "check"]
    if cache_dir is not None:
        argv += ["--cache-dir", str(cache_dir)]
    return [*argv, lockfile]


def sync_command(
    lockcheck: Path,
    target_python: Path,
    *,
    dry_run: bool,
    cache_dir: Path | None,
    lockfile: str = OUTPUT_NAME,
) -> list[str]:
    """``lockcheck sync`` of one lock into the venv of ``target_python``."""
    argv = [str(lockcheck), "sync", "--python", str(target_python)]
    if cache_dir is not None:
        argv += ["--cache-dir", str(cache_dir)]
    if dry_run:
        argv.append("--dry-run")
    return [*argv, lockfile]


#: Runs of each start-up command at least, whatever --repeat says (they take 15-50 ms).
STARTUP_MIN_RUNS = 11


def bare_command(python: Path) -> list[str]:
    """The floor every start-up ratio is measured against."""
    return [str(python), "-c", "pass"]


def display_command(argv: Sequence[str], replacements: Mapping[str, str]) -> str:
    """argv as a short, machine-independent string: tools by name, long paths by placeholder.

    ``replacements`` maps a path prefix to its placeholder (e.g. the cache dir to ``CACHE``);
    the first argument is shown by its file name.
    """
    shown: list[str] = []
    for index, arg in enumerate(argv):
        text = Path(arg).name if index == 0 else arg
        for prefix, placeholder in sorted(replacements.items(), key=lambda kv: -len(kv[0])):
            if prefix and text.startswith(prefix):
                text = placeholder + text[len(prefix) :]
        shown.append(text)
    return " ".join(shown)
