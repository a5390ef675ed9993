"""Tool virtualenvs under the cache dir: newest pip + pip-tools, uv, lockcheck from the checkout.

lockcheck is installed from a copy of the checkout (not the checkout itself), so building it
never writes ``build/`` or ``*.egg-info`` into the working tree other people are editing.
It is reinstalled on every run: the numbers must be those of the code as it is now.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .commands import ToolPaths, clean_env

__all__ = [
    "ToolSetupError",
    "command_help",
    "command_summaries",
    "install_tools",
    "parse_click_commands",
    "tool_paths",
    "tool_versions",
]

Log = Callable[[str], None]

#: Top-level entries of the checkout that are not part of the package build.
_SKIP_TOP = frozenset(
    {".git", ".venv", "venv", "build", "dist", "benchmarks", "tests", "examples", ".tox", ".nox"}
)
#: Entries skipped at every depth.
_SKIP_ANY = (".pytest_cache", ".ruff_cache", ".mypy_cache", ".hypothesis", "__pycache__")


class ToolSetupError(RuntimeError):
    """A tool venv could not be created or installed; carries the command's output tail."""


def _bin(venv: Path, name: str) -> Path:
    return venv / "bin" / name


def tool_paths(tools_dir: Path) -> ToolPaths:
    """Where each tool lives once installed (the paths do not depend on what is installed)."""
    return ToolPaths(
        pip_compile=_bin(tools_dir / "pip-tools", "pip-compile"),
        uv=_bin(tools_dir / "uv", "uv"),
        uv_python=_bin(tools_dir / "uv", "python"),
        lockcheck=_bin(tools_dir / "lockcheck", "lockcheck"),
        lockcheck_python=_bin(tools_dir / "lockcheck", "python"),
    )


def _run(argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> str:
    proc = subprocess.run(
        list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ToolSetupError(f"{' '.join(argv)} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout


def _ensure_venv(venv: Path, python: str, env: Mapping[str, str], log: Log) -> bool:
    """Create the venv if missing; True when it was created."""
    if _bin(venv, "python").exists():
        return False
    log(f"creating {venv}")
    _run([python, "-m", "venv", str(venv)], env)
    return True


def _copy_checkout(repo_root: Path, dest: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in _SKIP_ANY or n.endswith(".egg-info")}
        if Path(directory).resolve() == repo_root.resolve():
            skipped |= {n for n in names if n in _SKIP_TOP}
        return skipped

    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(repo_root, dest, ignore=ignore, symlinks=True)


def install_tools(
    tools_dir: Path,
    *,
    python: str,
    repo_root: Path,
    tools: Sequence[str],
    upgrade: bool,
    log: Log,
) -> ToolPaths:
    """Create or refresh the venvs ``tools`` need; lockcheck is always reinstalled."""
    env = clean_env(os.environ, tool="install", cache_dir=tools_dir / "cache")
    paths = tool_paths(tools_dir)
    wanted = {
        "pip-compile": (tools_dir / "pip-tools", ["pip", "pip-tools"]),
        "uv": (tools_dir / "uv", ["pip", "uv"]),
        "lockcheck": (tools_dir / "lockcheck", ["pip"]),
    }
    for tool in tools:
        venv, packages = wanted[tool]
        created = _ensure_venv(venv, python, env, log)
        pip = [str(_bin(venv, "python")), "-m", "pip", "--quiet"]
        if created or upgrade:
            log(f"installing newest {' + '.join(packages)} into {venv.name}/")
            _run([*pip, "install", "--upgrade", *packages], env)
        if tool == "lockcheck":
            source = tools_dir / "lockcheck-src"
            log(f"installing lockcheck from a copy of {repo_root}")
            _copy_checkout(repo_root, source)
            _run([*pip, "uninstall", "--yes", "lockcheck"], env)
            _run([*pip, "install", str(source)], env)
    return paths


def _last_token(text: str) -> str:
    tokens = text.strip().split()
    return tokens[-1] if tokens else "?"


def _git_revision(repo_root: Path) -> str | None:
    try:
        head = subprocess.run(
            ["git", "-C", str(repo_root), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(repo_root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def tool_versions(
    paths: ToolPaths, tools: Sequence[str], tools_dir: Path, repo_root: Path
) -> dict[str, str]:
    """Versions of every tool measured, of pip next to pip-tools, and of the interpreter."""
    env = clean_env(os.environ, tool="versions", cache_dir=tools_dir / "cache")
    versions: dict[str, str] = {}
    python = paths.lockcheck_python if "lockcheck" in tools else paths.uv_python
    if "pip-compile" in tools:
        python = paths.pip_compile.parent / "python"
        versions["pip-compile"] = _last_token(_run([str(paths.pip_compile), "--version"], env))
        pip_out = _run([str(python), "-m", "pip", "--version"], env)
        versions["pip"] = pip_out.split()[1] if len(pip_out.split()) > 1 else "?"
    if "uv" in tools:
        uv_out = _run([str(paths.uv), "--version"], env).split()
        versions["uv"] = uv_out[1] if len(uv_out) > 1 else "?"
    if "lockcheck" in tools:
        version = _last_token(_run([str(paths.lockcheck), "--version"], env))
        revision = _git_revision(repo_root)
        versions["lockcheck"] = f"{version} ({revision})" if revision else version
    probe = "import platform; print(platform.python_version())"
    versions["python"] = _run([str(python), "-c", probe], env).strip()
    versions["runner_python"] = ".".join(map(str, sys.version_info[:3]))
    return versions


#: click indents command names by two spaces; wrapped summaries are indented deeper.
_COMMAND_LINE = re.compile(r"^ {2}(?P<name>[a-z][\w-]*)(?: {2,}(?P<summary>.*))?$")


def parse_click_commands(help_text: str) -> dict[str, str]:
    """Sub-commands and their one-line summaries from a click ``--help`` page."""
    commands: dict[str, str] = {}
    in_section = False
    for line in help_text.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            in_section = line.strip().rstrip(":").lower() == "commands"
            continue
        if in_section:
            match = _COMMAND_LINE.match(line)
            if match:
                commands[match["name"]] = (match["summary"] or "").strip()
            elif commands:  # a wrapped summary continues the previous command's
                last = next(reversed(commands))
                commands[last] = f"{commands[last]} {line.strip()}".strip()
    return commands


def command_summaries(lockcheck: Path, env: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """(sub-commands of ``lockcheck --help``, the full help text)."""
    text = _run([str(lockcheck), "--help"], env)
    return parse_click_commands(text), text


def command_help(lockcheck: Path, command: str, env: Mapping[str, str]) -> str:
    """``lockcheck COMMAND --help``, or "" when it fails."""
    try:
        return _run([str(lockcheck), command, "--help"], env)
    except ToolSetupError:
        return ""
