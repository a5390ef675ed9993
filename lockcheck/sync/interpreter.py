"""What the target venv's interpreter is: marker values, wheel tags and install paths.

The answer must come from that interpreter, not from the one running lockcheck (a hook's
Python, a pipx install): the venv may be another Python version or implementation.  One
subprocess asks it (with this process's ``packaging`` put on its path, so ``sys_tags()`` is
packaging's own algorithm run *there*); the answer is cached on disk per interpreter path,
the real interpreter's modification time and the venv's ``pyvenv.cfg`` content, so later runs
(and a venv made again in the same place) start nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import packaging

from lockcheck.errors import InstallFailed
from lockcheck.resolve.environment import TargetEnvironment

__all__ = ["InterpreterInfo", "query_interpreter"]

_CACHE_FORMAT = 2
_TIMEOUT = 120

# Runs in the target interpreter with -I: Python 3.6+ syntax, stdlib only apart from the
# packaging directory handed in argv[1] (used when it imports; else stdlib fallbacks).
_SCRIPT = r"""
import json, os, platform, sys, sysconfig
sys.path.insert(0, sys.argv[1])
markers = tags = None
try:
    from packaging.markers import default_environment
    from packaging.tags import sys_tags
    markers = dict(default_environment())
    tags = [str(t) for t in sys_tags()]
except Exception:
    pass
if markers is None:
    def fmt(info):
        v = "%d.%d.%d" % (info.major, info.minor, info.micro)
        if info.releaselevel != "final":
            v += info.releaselevel[0] + str(info.serial)
        return v
    markers = {
        "implementation_name": sys.implementation.name,
        "implementation_version": fmt(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }
in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
if in_venv and "venv" in sysconfig.get_scheme_names():
    paths = sysconfig.get_paths("venv")
else:
    prefix_vars = {"base": sys.prefix, "platbase": sys.prefix,
                   "installed_base": sys.prefix, "installed_platbase": sys.prefix}
    paths = sysconfig.get_paths("nt" if os.name == "nt" else "posix_prefix", vars=prefix_vars)
print(json.dumps({
    "markers": markers,
    "tags": tags,
    "paths": paths,
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "executable": sys.executable,
    "version": list(sys.version_info[:3]),
    "implementation": sys.implementation.name,
    "cache_tag": sys.implementation.cache_tag,
}))
"""


@dataclass(frozen=True)
class InterpreterInfo:
    """One interpreter's own account of itself."""

    python: str
    markers: Mapping[str, str]
    #: ``str(Tag)`` most preferred first; empty when the interpreter could not run packaging.
    tags: tuple[str, ...]
    #: sysconfig install paths (purelib, platlib, scripts, data, include, ...).
    paths: Mapping[str, str]
    prefix: str
    base_prefix: str
    version: tuple[int, int, int]
    implementation: str
    cache_tag: str | None = None

    @property
    def python_xy(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def site_packages(self) -> list[Path]:
        """purelib, then platlib when it differs."""
        out: list[Path] = []
        for key in ("purelib", "platlib"):
            path = Path(self.paths[key])
            if not any(os.path.realpath(path) == os.path.realpath(p) for p in out):
                out.append(path)
        return out

    @cached_property
    def environment(self) -> TargetEnvironment:
        """Markers and tags of this interpreter as a TargetEnvironment."""
        if self.tags:
            return TargetEnvironment.from_interpreter(self.markers, self.tags)
        # An interpreter too old for our packaging: tags derived from its version.
        full = TargetEnvironment.for_python(self.markers["python_full_version"])
        return TargetEnvironment(full.python_full_version, dict(self.markers), False)

    def to_json(self) -> dict[str, object]:
        return {
            "python": self.python,
            "markers": dict(self.markers),
            "tags": list(self.tags),
            "paths": dict(self.paths),
            "prefix": self.prefix,
            "base_prefix": self.base_prefix,
            "version": list(self.version),
            "implementation": self.implementation,
            "cache_tag": self.cache_tag,
        }

    @classmethod
    def from_json(cls, python: str, data: Mapping[str, Any]) -> InterpreterInfo:
        """*data* is what the probe script printed (or a cache of it): JSON, so untyped."""
        major, minor, micro = (*(int(v) for v in data["version"]), 0, 0, 0)[:3]
        return cls(
            python=python,
            markers={str(k): str(v) for k, v in dict(data["markers"]).items()},
            tags=tuple(str(t) for t in (data.get("tags") or ())),
            paths={str(k): str(v) for k, v in dict(data["paths"]).items()},
            prefix=str(data["prefix"]),
            base_prefix=str(data.get("base_prefix") or data["prefix"]),
            version=(major, minor, micro),
            implementation=str(data.get("implementation") or "cpython"),
            cache_tag=str(data["cache_tag"]) if data.get("cache_tag") else None,
        )


def _packaging_dir() -> str:
    return str(Path(packaging.__file__).resolve().parent.parent)


def _cache_key(python: Path) -> str | None:
    try:
        stat = python.stat()
    except OSError:
        return None
    parts = [
        str(_CACHE_FORMAT),
        os.path.abspath(python),
        os.path.realpath(python),
        str(stat.st_mtime_ns),
        str(stat.st_size),
        packaging.__version__,
    ]
    # A venv's settings by content, not mtime: a venv made again at the same path from the
    # same base interpreter (a fresh clone's hook, every CI job) answers exactly the same.
    cfg = python.parent.parent / "pyvenv.cfg"
    with contextlib.suppress(OSError):
        parts.append(hashlib.sha256(cfg.read_bytes()).hexdigest())
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def _load(path: Path, python: str) -> InterpreterInfo | None:
    try:
        return InterpreterInfo.from_json(python, json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(path: Path, info: InterpreterInfo) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(info.to_json(), fh)
        os.replace(tmp, path)
    except OSError:  # a cache that cannot be written is only a missed optimisation
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)


def _ask(python: Path) -> dict[str, object]:
    try:
        proc = subprocess.run(
            [str(python), "-I", "-c", _SCRIPT, _packaging_dir()],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise InstallFailed(f"cannot run the target interpreter {python}: {exc}") from exc
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InstallFailed(
            f"the target interpreter {python} failed to describe itself "
            f"(exit {proc.returncode}): {detail}"
        )
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise InstallFailed(f"the target interpreter {python} gave an unreadable answer") from exc
    return data


def query_interpreter(python: Path, cache_root: Path | None = None) -> InterpreterInfo:
    """Describe *python*; with *cache_root*, the answer is cached under
    ``<cache_root>/v1/interpreters/`` keyed as :func:`_cache_key` says."""
    python = Path(os.path.abspath(python))
    key = _cache_key(python)
    if key is None:
        raise InstallFailed(f"the target interpreter {python} does not exist")
    cache_file = cache_root / "v1" / "interpreters" / f"{key}.json" if cache_root else None
    if cache_file is not None:
        cached = _load(cache_file, str(python))
        if cached is not None:
            return cached
    info = InterpreterInfo.from_json(str(python), _ask(python))
    if cache_file is not None:
        _store(cache_file, info)
    return info
