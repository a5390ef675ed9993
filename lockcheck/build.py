"""PEP 517 builds: core metadata, build requirements and wheels of source trees and sdists.

Uses pypa ``build`` (``ProjectBuilder`` + ``DefaultIsolatedEnv``) but installs the build
requirements itself, so the user's index settings (``index_env``: ``PIP_INDEX_URL``,
``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``, ``PIP_TRUSTED_HOST``) reach
that pip subprocess and the backend hooks without touching this process's ``os.environ``
(builds may run in parallel threads).  Backend output is captured; a failed build raises
:class:`BuildError` whose first line is the summary and whose tail is the last lines of the
output.

Every process a build starts (the build requirements' pip, each backend hook) has a bound,
:data:`STEP_TIMEOUT` seconds unless ``LOCKCHECK_BUILD_TIMEOUT`` says otherwise: a backend
that hangs is a :class:`BuildError` naming the step, and nothing of it is left running
(:mod:`lockcheck.subprocs`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

from lockcheck.errors import BuildError
from lockcheck.metadata import parse_core_metadata
from lockcheck.models import CoreMetadata

if TYPE_CHECKING:
    import build
    import build.env

__all__ = [
    "INDEX_ENV_KEYS",
    "SDIST_SUFFIXES",
    "BuildSession",
    "build_wheel",
    "open_build",
    "prepare_metadata",
    "unpack_sdist",
]

#: The pip settings that decide where build requirements come from.  When ``index_env`` is
#: given, these keys are taken from it alone (the inherited environment's are dropped), so
#: the build environment sees exactly the indexes the user configured for lockcheck.
INDEX_ENV_KEYS = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "PIP_TRUSTED_HOST",
)
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")
_TAIL_LINES = 25
#: Seconds each process of a build may run (the build requirements' pip install, one backend
#: hook): long enough for a backend that compiles code, short of a CI job's own limit.
STEP_TIMEOUT = 900.0
#: The variable that replaces STEP_TIMEOUT (seconds).
TIMEOUT_VAR = "LOCKCHECK_BUILD_TIMEOUT"
#: The build targets the PEP 517 ``get_requires_for_build_*`` hooks are named after.
_BUILD_TARGETS: dict[str, Literal["sdist", "wheel", "editable"]] = {
    "sdist": "sdist",
    "wheel": "wheel",
    "editable": "editable",
}


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------


def prepare_metadata(
    source: Path,
    *,
    isolation: bool = True,
    index_env: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> CoreMetadata:
    """Core metadata of a source tree or an sdist archive, through
    ``prepare_metadata_for_build_wheel`` (``build`` falls back to building a wheel when the
    backend lacks that hook).

    With *cache_dir*, the metadata of an archive is cached under its sha256: a released file
    never changes.  Source directories are never cached (they are edited).
    """
    source = Path(source)
    cache_file: Path | None = None
    if cache_dir is not None and source.is_file():
        cache_file = Path(cache_dir) / f"{_sha256(source)}.METADATA"
        with contextlib.suppress(OSError):
            return parse_core_metadata(cache_file.read_bytes(), origin=str(source))

    with open_build(source, isolation=isolation, index_env=index_env) as session:
        data = session.metadata_bytes()

    metadata = parse_core_metadata(data, origin=str(source))
    if cache_file is not None:
        _atomic_write(cache_file, data)
    return metadata


class BuildSession:
    """One source tree with its build environment ready: the backend's hooks, asked in it.

    Made by :func:`open_build`; every hook's failure is a :class:`BuildError`.
    """

    def __init__(self, builder: build.ProjectBuilder, source: Path) -> None:
        self._builder = builder
        self._source = source

    @property
    def system_requires(self) -> tuple[str, ...]:
        """``[build-system] requires`` (build's setuptools default without one), sorted."""
        return tuple(sorted(self._builder.build_system_requires))

    def requires_for(self, target: str) -> tuple[str, ...]:
        """What ``get_requires_for_build_<target>`` returns (wheel, sdist, editable), sorted."""
        hook = _BUILD_TARGETS.get(target)
        if hook is None:
            raise BuildError(f"no build target {target!r} (wheel, sdist or editable)")
        with _translate_errors(f"failed to get the requirements to build a {target}", self._source):
            return tuple(sorted(self._builder.get_requires_for_build(hook)))

    def metadata_bytes(self) -> bytes:
        """The ``METADATA`` ``prepare_metadata_for_build_wheel`` writes (or a built wheel's)."""
        with tempfile.TemporaryDirectory(prefix="lockcheck-meta-") as out:
            with _translate_errors("failed to prepare metadata", self._source):
                dist_info = Path(self._builder.metadata_path(out))
            try:
                return (dist_info / "METADATA").read_bytes()
            except OSError as exc:
                raise BuildError("the build backend wrote no METADATA", file=self._source) from exc

    def metadata(self) -> CoreMetadata:
        return parse_core_metadata(self.metadata_bytes(), origin=str(self._source))


@contextlib.contextmanager
def open_build(
    source: Path,
    *,
    isolation: bool = True,
    index_env: Mapping[str, str] | None = None,
    shown: Path | str | None = None,
) -> Iterator[BuildSession]:
    """A :class:`BuildSession` of a source tree or sdist archive: with *isolation*, a fresh
    environment holding ``[build-system] requires`` and what building a wheel needs (the
    environment pip-compile asks its hooks in), removed on exit.  Errors name *shown* (the
    input as the user gave it) instead of *source*."""
    source = Path(source)
    with contextlib.ExitStack() as stack:
        tree = _source_tree(source, stack)
        named = Path(shown) if shown is not None else source
        builder = _make_builder(tree, named, isolation, index_env, stack)
        yield BuildSession(builder, named)


def build_wheel(
    source: Path,
    out_dir: Path,
    *,
    isolation: bool = True,
    index_env: Mapping[str, str] | None = None,
) -> Path:
    """Build a wheel of a source tree or sdist archive into *out_dir*; returns its path."""
    source = Path(source)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        tree = _source_tree(source, stack)
        builder = _make_builder(tree, source, isolation, index_env, stack)
        with _translate_errors("failed to build a wheel", source):
            return Path(builder.build("wheel", os.fspath(out_dir)))


def unpack_sdist(archive: Path, dest: Path) -> Path:
    """Unpack an sdist archive into *dest* and return the project folder inside it.

    Members that would land outside *dest* (absolute names, ``..``, links pointing out,
    device files) are refused with :class:`BuildError` before anything is written.
    """
    archive = Path(archive)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    name = archive.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():
                    _check_member_name(member, archive)
                zf.extractall(dest)
        elif name.endswith(SDIST_SUFFIXES):
            with tarfile.open(archive, "r:*") as tf:
                members = tf.getmembers()
                for tar_member in members:
                    _check_tar_member(tar_member, archive)
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(dest, members=members, filter="data")
                else:  # pragma: no cover - Pythons without extraction filters
                    tf.extractall(dest, members=members)
        else:
            raise BuildError(f"not an sdist archive: {archive.name}", file=archive)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise BuildError(f"cannot unpack {archive.name}: {exc}", file=archive) from exc

    if _is_project(dest):
        return dest
    entries = [p for p in dest.iterdir() if p.is_dir()]
    if len(entries) == 1 and _is_project(entries[0]):
        return entries[0]
    raise BuildError(
        f"{archive.name} is not an sdist: no pyproject.toml or setup.py at its top level",
        file=archive,
    )


# --------------------------------------------------------------------------------------
# source trees
# --------------------------------------------------------------------------------------


def _is_project(path: Path) -> bool:
    return (path / "pyproject.toml").is_file() or (path / "setup.py").is_file()


def _source_tree(source: Path, stack: contextlib.ExitStack) -> Path:
    if source.is_dir():
        return source
    if source.is_file():
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lockcheck-sdist-")))
        return unpack_sdist(source, tmp)
    raise BuildError(f"no such file or directory: {source}", file=source)


def _check_member_name(member: str, archive: Path) -> None:
    pure = PurePosixPath(member.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
        raise BuildError(
            f"refusing to unpack {archive.name}: member {member!r} points outside the archive",
            file=archive,
        )


def _check_tar_member(member: tarfile.TarInfo, archive: Path) -> None:
    _check_member_name(member.name, archive)
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise BuildError(
            f"refusing to unpack {archive.name}: member {member.name!r} is not a regular file",
            file=archive,
        )
    if member.issym() or member.islnk():
        # symlink targets are relative to the link's folder, hard links to the archive root
        base = os.path.dirname(member.name) if member.issym() else ""
        target = os.path.normpath(os.path.join(base, member.linkname))
        if os.path.isabs(member.linkname) or target == ".." or target.startswith("../"):
            raise BuildError(
                f"refusing to unpack {archive.name}: link {member.name!r} points outside "
                "the archive",
                file=archive,
            )


# --------------------------------------------------------------------------------------
# builders and subprocesses
# --------------------------------------------------------------------------------------


def step_timeout() -> float:
    """The bound of one build process: ``$LOCKCHECK_BUILD_TIMEOUT`` or STEP_TIMEOUT."""
    from lockcheck.subprocs import bound_from

    return bound_from(os.environ, TIMEOUT_VAR, STEP_TIMEOUT)


def _timed_out(what: str, seconds: float) -> str:
    return f"{what} did not finish within {seconds:g} s (the bound {TIMEOUT_VAR} sets)"


def _subprocess_env(index_env: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    if index_env is not None:
        for key in INDEX_ENV_KEYS:
            env.pop(key, None)
        env.update(index_env)
    return env


class _Runner:
    """pyproject_hooks runner: captures output, carries the index environment, and ends a
    hook that runs past *timeout* seconds."""

    def __init__(self, index_env: Mapping[str, str] | None, timeout: float) -> None:
        self._index_env = index_env
        self._timeout = timeout

    def __call__(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        from lockcheck.subprocs import run_bounded

        env = _subprocess_env(self._index_env)
        env.update(extra_environ or {})
        proc = run_bounded(cmd, timeout=self._timeout, cwd=cwd, env=env)
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, list(cmd), output=proc.stdout)


@functools.cache
def _quiet_backend_warnings() -> None:
    """pyproject-hooks raises a backend's warnings again in this process (an old sdist's
    setuptools deprecations, say), where they would reach the terminal.  pip and
    pip-compile show none of a build's output unless it fails; neither does lockcheck (a
    failed build's output is in its error).  Once per process: the filter is global."""
    import warnings

    import pyproject_hooks

    category = getattr(pyproject_hooks, "BuildBackendWarning", None)
    if category is not None:
        warnings.filterwarnings("ignore", category=category)


def _make_builder(
    tree: Path,
    source: Path,
    isolation: bool,
    index_env: Mapping[str, str] | None,
    stack: contextlib.ExitStack,
) -> build.ProjectBuilder:
    import build
    import build.env

    _quiet_backend_warnings()
    runner = _Runner(index_env, step_timeout())  # (a bad bound: an error before any build)
    with _translate_errors("cannot set up the build", source):
        if not isolation:
            return build.ProjectBuilder(tree, python_executable=sys.executable, runner=runner)
        env = stack.enter_context(build.env.DefaultIsolatedEnv())
        builder = build.ProjectBuilder.from_isolated_env(env, tree, runner=runner)
    _install(env, builder.build_system_requires, index_env, source)
    with _translate_errors("cannot set up the build", source):
        extra = builder.get_requires_for_build("wheel")
    _install(env, extra, index_env, source)
    return builder


def _env_has_pip(env: build.env.DefaultIsolatedEnv) -> bool:
    root = Path(env.path)
    patterns = ("lib/*/site-packages/pip", "Lib/site-packages/pip")
    return any(any(root.glob(p)) for p in patterns)


def _install(
    env: build.env.DefaultIsolatedEnv,
    requirements: Iterable[str],
    index_env: Mapping[str, str] | None,
    source: Path,
) -> None:
    """Install build requirements into the isolated env with pip, under *index_env*."""
    reqs = sorted(set(requirements))
    if not reqs:
        return
    if _env_has_pip(env) or importlib.util.find_spec("pip") is None:
        cmd = [env.python_executable, "-Im", "pip"]
    else:  # build made the venv without pip because the outer pip can target it
        cmd = [sys.executable, "-m", "pip", "--python", env.python_executable]
    with tempfile.NamedTemporaryFile(
        "w", prefix="lockcheck-build-reqs-", suffix=".txt", delete=False, encoding="utf-8"
    ) as fh:
        fh.write("\n".join(reqs) + "\n")
    from lockcheck.subprocs import run_bounded

    summary = f"cannot install build requirements ({', '.join(reqs)})"
    timeout = step_timeout()
    try:
        cmd += ["install", "--no-warn-script-location", "--no-compile", "--no-input"]
        cmd += ["-r", fh.name]
        env_vars = _subprocess_env(index_env)
        env_vars.update(env.make_extra_environ() or {})
        proc = run_bounded(cmd, timeout=timeout, env=env_vars)
    except subprocess.TimeoutExpired as exc:
        raise _build_error(f"{summary}: {_timed_out('pip', timeout)}", exc.output, source) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(fh.name)
    if proc.returncode:
        raise _build_error(f"{summary}: pip exited with {proc.returncode}", proc.stdout, source)


@contextlib.contextmanager
def _translate_errors(summary: str, source: Path) -> Iterator[None]:
    import build
    import pyproject_hooks

    try:
        yield
    except build.BuildBackendException as exc:
        inner = exc.exception
        output: bytes | str | None = None
        if isinstance(inner, subprocess.TimeoutExpired):
            raise _hook_timed_out(summary, inner, source) from None
        if isinstance(inner, subprocess.CalledProcessError):
            output = inner.output
        elif isinstance(inner, pyproject_hooks.BackendUnavailable):
            output = inner.traceback
        raise _build_error(f"{summary}: {exc}", output, source) from exc
    except build.BuildException as exc:
        raise _build_error(f"{summary}: {exc}", None, source) from exc
    except subprocess.TimeoutExpired as exc:
        raise _hook_timed_out(summary, exc, source) from None
    except (subprocess.CalledProcessError, OSError) as exc:
        output = getattr(exc, "output", None)
        raise _build_error(f"{summary}: {exc}", output, source) from exc
    except Exception as exc:
        # build's FailedProcessError (venv creation) and similar
        if type(exc).__module__.startswith("build"):
            cause = getattr(exc, "exception", None)
            raise _build_error(f"{summary}: {exc}", getattr(cause, "output", None), source) from exc
        raise


def _hook_timed_out(summary: str, exc: subprocess.TimeoutExpired, source: Path) -> BuildError:
    reason = _timed_out("the build backend", float(exc.timeout))
    return _build_error(f"{summary}: {reason}", exc.output, source)


def _build_error(summary: str, output: bytes | str | None, source: Path) -> BuildError:
    if isinstance(output, bytes):
        output = output.decode("utf-8", "replace")
    lines = [line.rstrip() for line in (output or "").splitlines() if line.strip()]
    tail = lines[-_TAIL_LINES:]
    message = summary if not tail else summary + "\n" + "\n".join(f"  {ln}" for ln in tail)
    error = BuildError(message, file=source)
    error.output_tail = tail
    return error


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:  # a cache that cannot be written is only a missed optimisation
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)
