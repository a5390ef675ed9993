"""Fast path for unchanged inputs: a stamp says "this exact command, on these exact files,
already succeeded", so a repeated ``compile`` or ``check`` answers without resolving.

With every existing pin kept, compiling unchanged inputs over an unchanged lock gives the same
lock, so the answer is known without the network.  A stamp records the command (argv, working
directory, the environment variables that steer it, lockcheck's version) and every file the
run read or wrote, by size, mtime and sha256; any difference, or ``--refresh``, means a real
run.  Imports stay minimal: this runs before anything heavy is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from lockcheck import __version__
from lockcheck.cachedir import default_cache_dir

__all__ = ["argv_key", "command_key", "fast_answer", "load_fresh", "stamp_dir", "write_stamp"]

_ENV_PREFIXES = (
    "PIP_",
    "LOCKCHECK_",
    "CUSTOM_COMPILE_COMMAND",
    "XDG_CACHE_HOME",
    "NETRC",
    "VIRTUAL_ENV",
    "GITHUB_ACTIONS",
    "CI",
    "TERM",
)


def stamp_dir(environ: Mapping[str, str] | None = None) -> Path:
    return default_cache_dir(environ) / "stamps"


def command_key(
    kind: str, argv: Sequence[str], cwd: Path, environ: Mapping[str, str] | None = None
) -> str:
    env = os.environ if environ is None else environ
    steering = sorted((k, v) for k, v in env.items() if k.startswith(_ENV_PREFIXES))
    payload = json.dumps([__version__, kind, str(cwd), list(argv), steering])
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _state(path: Path) -> list[object] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, _digest(path)]


def load_fresh(key: str, environ: Mapping[str, str] | None = None) -> dict | None:
    """The stamp's payload when every recorded file is as it was, else None."""
    path = stamp_dir(environ) / f"{key}.json"
    try:
        stamp = json.loads(path.read_text(encoding="utf-8"))
        files = stamp["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    expires = stamp.get("expires")
    if isinstance(expires, (int, float)) and not time.time() < expires:
        return None  # the answer rested on the index, and that answer is too old now
    # Plain os.stat on the recorded strings: a sync stamp lists every installed package's
    # files, and a Path per entry cost more than the stat itself (issue 17).
    for name, recorded in files.items():
        try:
            st = os.stat(name)
        except OSError:
            st = None
        if recorded is None:
            if st is not None:
                return None
            continue
        if st is None:
            return None
        size, mtime_ns, digest = recorded
        if st.st_size != size:
            return None
        if st.st_mtime_ns != mtime_ns and (digest is None or _digest(Path(name)) != digest):
            return None  # a directory (no digest) must keep its mtime: entries came or went
    return stamp


def write_stamp(
    key: str,
    files: Iterable[Path],
    payload: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Record *files* (absent ones too: their appearance must invalidate the stamp)."""
    directory = stamp_dir(environ)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        record = {str(Path(f).resolve()): _state(Path(f)) for f in files}
        data = json.dumps({"files": record, **(payload or {})}, sort_keys=True)
        tmp = directory / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, directory / f"{key}.json")
    except OSError:
        pass  # a stamp is an optimisation; failing to write one is not an error


def argv_key(args: Sequence[str], cwd: Path | None = None) -> str:
    """The key of a command line as typed (what the click-free fast path can compute)."""
    return command_key("argv", list(args), cwd or Path.cwd())


def fast_answer(args: Sequence[str]) -> int | None:
    """Answer a repeated ``check`` or no-op ``sync`` from its stamp, before click loads.

    Returns the exit code when the stamp answered (its recorded output is printed), else
    None and the command runs normally.
    """
    if (
        not args
        or args[0] not in ("check", "sync")
        or any(a in ("-h", "--help", "--force", "--refresh") for a in args)
    ):
        return None
    stamp = load_fresh(argv_key(args))
    if stamp is None:
        return None
    stream = sys.stderr if stamp.get("stream") == "stderr" else sys.stdout
    stream.write(str(stamp.get("output", "")))
    stream.flush()
    return 0
