"""Which virtualenv ``sync`` changes, and making it when it is missing.

The order is ``--python``, then ``$VIRTUAL_ENV`` unless it is pre-commit's own hook
environment (a hook runs inside it, and syncing it would wreck the hook), then ``.venv`` at the
repository root.  The interpreter running lockcheck is never chosen by default: a tool
installed with pipx, or a hook environment, must not have its own packages replaced.

Stdlib only and no subprocess: this runs on the no-op fast path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from lockcheck.crashpoint import crash_point
from lockcheck.errors import InputError, InstallFailed

__all__ = [
    "DEFAULT_VENV_NAME",
    "base_python",
    "create_venv",
    "find_repository_root",
    "is_pre_commit_env",
    "is_venv",
    "pre_commit_homes",
    "resolve_target",
    "venv_python",
]

#: The project venv that ``sync`` makes at the repository root when nothing else is named.
DEFAULT_VENV_NAME = ".venv"


#: Written into a venv before sync creates it and removed once it is complete: a venv that
#: still holds it was being made by a sync that was killed, and is made again.
UNFINISHED_MARKER = ".lockcheck-sync-creating"


def is_venv(path: Path) -> bool:
    """A PEP 405 environment: a ``pyvenv.cfg`` at its root (or one sync was creating)."""
    return (path / "pyvenv.cfg").is_file() or is_unfinished_venv(path)


def is_unfinished_venv(path: Path) -> bool:
    """Whether *path* is a venv whose creation by sync never finished."""
    return (path / UNFINISHED_MARKER).exists()


def venv_python(venv: Path) -> Path:
    """The interpreter of *venv* (``bin/python``, ``Scripts/python.exe`` on Windows)."""
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def pre_commit_homes(environ: Mapping[str, str]) -> list[Path]:
    """Where pre-commit keeps hook repositories: ``$PRE_COMMIT_HOME``, else
    ``$XDG_CACHE_HOME/pre-commit``, else ``~/.cache/pre-commit`` (pre-commit's
    ``Store.get_default_directory``); every candidate is returned, the configured one first."""
    homes: list[Path] = []
    if environ.get("PRE_COMMIT_HOME"):
        homes.append(Path(environ["PRE_COMMIT_HOME"]))
    if environ.get("XDG_CACHE_HOME"):
        homes.append(Path(environ["XDG_CACHE_HOME"]) / "pre-commit")
    homes.append(Path("~/.cache/pre-commit").expanduser())
    return homes


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def is_pre_commit_env(venv: Path, environ: Mapping[str, str]) -> bool:
    """Whether *venv* is an environment pre-commit made for a hook repository.

    pre-commit clones each hook repository into ``<home>/repo<random>/`` and makes the hook's
    Python environment ``py_env-<language_version>`` inside it.  Anything under a pre-commit
    home counts, and so does any ``repo*/py_env-*`` pair (a home we cannot see, e.g. a
    ``PRE_COMMIT_HOME`` that was not exported to the hook).
    """
    real = Path(os.path.realpath(venv))
    for home in pre_commit_homes(environ):
        if _inside(real, Path(os.path.realpath(home))):
            return True
    parts = real.parts
    return any(
        part.startswith("py_env-") and index > 0 and parts[index - 1].startswith("repo")
        for index, part in enumerate(parts)
    )


def find_repository_root(cwd: Path, environ: Mapping[str, str]) -> Path | None:
    """The working tree root that holds *cwd* (``$GIT_WORK_TREE`` when git set it), found by
    looking for ``.git`` upwards; git itself is not run (this is on the fast path)."""
    if environ.get("GIT_WORK_TREE"):
        return Path(environ["GIT_WORK_TREE"]).resolve()
    here = cwd.resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _from_python_option(value: str | os.PathLike[str], cwd: Path) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = cwd / path
    path = Path(os.path.abspath(path))
    if not path.exists() and path.name.lower().startswith("python"):
        raise InputError(f"--python {value}: {path} does not exist")
    if path.is_dir() or not path.exists():
        if path.exists() and not is_venv(path):
            raise InputError(f"--python {value}: {path} is not a virtual environment")
        return path
    # An interpreter: <venv>/bin/python or <venv>/Scripts/python.exe.
    venv = path.parent.parent
    if not is_venv(venv):
        raise InputError(
            f"--python {value}: {path} does not belong to a virtual environment",
            hint="sync only changes virtualenvs; give the environment's directory or python",
        )
    return venv


def resolve_target(
    python: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Path:
    """The directory of the venv to sync (it may not exist yet: see :func:`create_venv`)."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    if python:
        return _from_python_option(python, cwd)
    active = environ.get("VIRTUAL_ENV")
    if active:
        venv = Path(os.path.abspath(active))
        if is_venv(venv) and not is_pre_commit_env(venv, environ):
            return venv
    root = find_repository_root(cwd, environ) or cwd.resolve()
    return root / DEFAULT_VENV_NAME


def base_python() -> Path:
    """The interpreter :func:`create_venv` builds on: the base of the running one (not a
    venv's python, not pre-commit's), as the stdlib ``venv`` module picks it."""
    return Path(getattr(sys, "_base_executable", None) or sys.executable)


def create_venv(venv: Path) -> Path:
    """Make *venv* with the stdlib ``venv`` module, without pip; returns its python.

    No pip on purpose: ``sync`` installs with ``installer`` and needs no pip, creation is
    instant instead of seconds, and the lock then decides everything the venv holds (pin pip
    with ``--allow-unsafe`` to get one, or run ``python -m ensurepip``).
    """
    import venv as stdlib_venv  # here: only a new venv needs it, not a no-op sync

    try:
        venv.mkdir(parents=True)
        (venv / UNFINISHED_MARKER).touch()
        builder = stdlib_venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt")
        builder.create(str(venv))
    except Exception as exc:  # venv raises bare Exceptions and OSErrors
        raise InstallFailed(f"cannot create the virtualenv {venv}: {exc}") from exc
    python = venv_python(venv)
    if not python.exists():
        raise InstallFailed(f"cannot create the virtualenv {venv}: {python} is missing")
    crash_point("venv")
    (venv / UNFINISHED_MARKER).unlink()
    return python
