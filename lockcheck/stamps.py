"""Fast path for unchanged inputs: a stamp says "this exact command, on these exact files,
already succeeded", so a repeated ``compile`` or ``check`` answers without resolving.

With every existing pin kept, compiling unchanged inputs over an unchanged lock gives the same
lock, so the answer is known without the network.  A stamp records the command (argv, working
directory, the environment variables that steer it, lockcheck's version) and every file the
run read or wrote, by size, mtime and sha256; any difference, or ``--refresh``, means a real
run.  Imports stay minimal: this runs before anything heavy is loaded.
"""

from __future__ import annotations

import marshal
import os
import sys
import time

from lockcheck import __version__
from lockcheck.cachedir import cache_root

TYPE_CHECKING = False  # typing itself costs the fast path 2 ms

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

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

#: A stamp file's name ends so: its content is :mod:`marshal` data (one dict of strings,
#: numbers and lists).  The fast path answers in about a bare interpreter's start (10 ms);
#: ``json`` would add 7 ms to that (it loads ``re`` and ``enum``), so stamps are not JSON.
#: marshal reads data written by any earlier Python 3.
_SUFFIX = ".stamp"


def _sha256_hex(data: bytes) -> str:
    """sha256 without :mod:`hashlib`, which loads OpenSSL (about 3 ms) to offer every
    algorithm; CPython's own sha256 module gives the same digest."""
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]  # CPython >= 3.12
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found]  # CPython < 3.12
        except ImportError:  # another interpreter, or a build without it
            from hashlib import sha256
    return str(sha256(data).hexdigest())


def stamp_dir(environ: Mapping[str, str] | None = None) -> Path:
    from pathlib import Path

    return Path(_stamp_root(environ))


def _stamp_root(environ: Mapping[str, str] | None) -> str:
    return os.path.join(cache_root(environ), "stamps")


def command_key(
    kind: str, argv: Sequence[str], cwd: Path | str, environ: Mapping[str, str] | None = None
) -> str:
    env = os.environ if environ is None else environ
    steering = sorted((k, v) for k, v in env.items() if k.startswith(_ENV_PREFIXES))
    payload = repr((__version__, kind, str(cwd), list(argv), steering))
    return _sha256_hex(payload.encode("utf-8", "surrogateescape"))[:32]


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as file:
            return _sha256_hex(file.read())
    except OSError:
        return None


def _state(path: str) -> list[object] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, _digest(path)]


def load_fresh(key: str, environ: Mapping[str, str] | None = None) -> dict | None:
    """The stamp's payload when every recorded file is as it was, else None."""
    path = os.path.join(_stamp_root(environ), key + _SUFFIX)
    try:
        with open(path, "rb") as file:
            stamp = marshal.loads(file.read())
        files = stamp["files"]
        items = files.items()
    except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError):
        return None
    expires = stamp.get("expires")
    if isinstance(expires, (int, float)) and not time.time() < expires:
        return None  # the answer rested on the index, and that answer is too old now
    # Plain os.stat on the recorded strings: a sync stamp lists every installed package's
    # files, and a Path per entry cost more than the stat itself (issue 17).
    for name, recorded in items:
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
        try:
            size, mtime_ns, digest = recorded
        except (TypeError, ValueError):
            return None
        if st.st_size != size:
            return None
        if st.st_mtime_ns != mtime_ns and (digest is None or _digest(name) != digest):
            return None  # a directory (no digest) must keep its mtime: entries came or went
    return stamp


def write_stamp(
    key: str,
    files: Iterable[Path],
    payload: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Record *files* (absent ones too: their appearance must invalidate the stamp)."""
    from pathlib import Path

    directory = _stamp_root(environ)
    try:
        os.makedirs(directory, exist_ok=True)
        record = {str(Path(f).resolve()): _state(str(f)) for f in files}
        data = marshal.dumps({**(payload or {}), "files": record})
        tmp = os.path.join(directory, f".{key}.{os.getpid()}.tmp")
        with open(tmp, "wb") as file:
            file.write(data)
        os.replace(tmp, os.path.join(directory, key + _SUFFIX))
    except (OSError, ValueError):  # ValueError: a payload marshal cannot write (a bug)
        pass  # a stamp is an optimisation; failing to write one is not an error


def argv_key(args: Sequence[str], cwd: Path | None = None) -> str:
    """The key of a command line as typed (what the click-free fast path can compute)."""
    return command_key("argv", list(args), cwd or os.getcwd())


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
