"""Git direct references (``git+https://host/repo@ref#egg=name&subdirectory=sub``).

Each repository is mirrored once into the cache (``git clone --mirror``) and updated with
``git fetch`` when a run needs a ref that may have moved; each commit is checked out once
into ``checkouts/<commit>`` (a ``--shared`` clone, so ``.git`` is there for setuptools-scm).
A full commit id already present is never fetched again; ``--offline`` uses only what is
there.  git runs non-interactively (``GIT_TERMINAL_PROMPT=0``) so a missing credential fails
instead of hanging, and each git command has a bound (``LOCKCHECK_GIT_TIMEOUT``, 600 s by
default): a server that stops answering is an error naming the command, not a wait forever.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from lockcheck.errors import IndexUnavailable, MetadataError
from lockcheck.references import DirectReference
from lockcheck.subprocs import bound_from, run_bounded

__all__ = ["GitCheckouts", "GitLink", "parse_git_link"]

#: Seconds one git command may run (a clone of a big repository over a slow link included).
GIT_TIMEOUT = 600.0
TIMEOUT_VAR = "LOCKCHECK_GIT_TIMEOUT"

_FULL_SHA = re.compile(r"^[0-9a-fA-F]{40}$")
_HEX = re.compile(r"^[0-9a-fA-F]{7,40}$")


@dataclass(frozen=True)
class GitLink:
    url: str
    ref: str | None = None
    subdirectory: str | None = None


def parse_git_link(link: str) -> GitLink:
    """Split a pip-style git URL into repository URL, ref and subdirectory."""
    reference = DirectReference.parse(link)
    if reference.vcs != "git":
        raise MetadataError(f"not a git URL: {link}")
    url, ref = reference.repository
    return GitLink(url=url, ref=ref, subdirectory=reference.subdirectory)


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class GitCheckouts:
    """Mirrors and per-commit checkouts under *root* (thread-safe per repository)."""

    def __init__(self, root: Path, *, offline: bool = False) -> None:
        self.root = root
        self.offline = offline
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._fetched: set[str] = set()
        self._timeout = bound_from(os.environ, TIMEOUT_VAR, GIT_TIMEOUT)

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _git(self, *args: str, cwd: Path | None = None, check: bool = True) -> str:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        try:
            proc = run_bounded(
                ["git", *args],
                timeout=self._timeout,
                cwd=cwd,
                env=env,
                text=True,
                merge_stderr=False,
            )
        except subprocess.TimeoutExpired:
            raise _GitFailed(
                f"git {args[0]} did not finish within {self._timeout:g} s "
                f"(the bound {TIMEOUT_VAR} sets)"
            ) from None
        except OSError as exc:
            raise MetadataError(f"cannot run git: {exc}") from exc
        if check and proc.returncode != 0:
            detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise _GitFailed(f"git {args[0]} failed: {detail}")
        return proc.stdout.strip() if proc.returncode == 0 else ""

    def _mirror(self, link: GitLink) -> tuple[Path, bool]:
        mirror = self.root / f"{_key(link.url)}.git"
        if mirror.is_dir():
            return mirror, False
        if self.offline:
            raise IndexUnavailable(
                f"offline mode: {link.url} has never been cloned into the cache", url=link.url
            )
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=".clone-"))
        try:
            self._git("clone", "--mirror", "--quiet", "--", link.url, str(tmp / "m"))
        except _GitFailed as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise IndexUnavailable(f"cannot clone {link.url}: {exc}", url=link.url) from None
        # Losing a race to another process is fine: its mirror is as good.
        with contextlib.suppress(OSError):
            os.rename(tmp / "m", mirror)
        shutil.rmtree(tmp, ignore_errors=True)
        return mirror, True

    def _resolve(self, mirror: Path, ref: str | None) -> str | None:
        spec = f"{ref or 'HEAD'}^{{commit}}"
        out = self._git("rev-parse", "--verify", "--quiet", spec, cwd=mirror, check=False)
        return out or None

    def _fetch(self, mirror: Path, link: GitLink, *extra: str) -> None:
        try:
            self._git("fetch", "--quiet", "--prune", "--tags", "origin", *extra, cwd=mirror)
        except _GitFailed as exc:
            raise IndexUnavailable(f"cannot fetch {link.url}: {exc}", url=link.url) from None

    def commit_for(self, link: GitLink) -> tuple[Path, str]:
        """(mirror, commit id) of *link*'s ref, fetching when the ref may have moved."""
        with self._lock(link.url):
            mirror, fresh = self._mirror(link)
            ref = link.ref
            known = self._resolve(mirror, ref)
            pinned = ref is not None and _FULL_SHA.match(ref) is not None and known is not None
            if not (fresh or pinned or self.offline or link.url in self._fetched):
                self._fetch(mirror, link)
                self._fetched.add(link.url)
                known = self._resolve(mirror, ref)
            if known is None and ref and _HEX.match(ref) and not self.offline:
                # A commit no branch or tag points to: ask for it by id.
                with contextlib.suppress(IndexUnavailable):
                    self._fetch(mirror, link, ref)
                known = self._resolve(mirror, ref)
            if known is None:
                where = " (offline: only cached refs are known)" if self.offline else ""
                raise MetadataError(f"{link.url} has no ref {ref or 'HEAD'!r}{where}")
            return mirror, known

    def checkout(self, link: GitLink) -> tuple[Path, str]:
        """A working tree of *link* at its ref (subdirectory applied) and the commit id."""
        mirror, commit = self.commit_for(link)
        checkouts = self.root / "checkouts"
        target = checkouts / commit
        with self._lock(commit):
            if not target.is_dir():
                checkouts.mkdir(parents=True, exist_ok=True)
                tmp = Path(tempfile.mkdtemp(dir=checkouts, prefix=".tmp-"))
                work = tmp / "src"
                try:
                    self._git(
                        "clone", "--quiet", "--shared", "--no-checkout", str(mirror), str(work)
                    )
                    self._git(
                        "-c", "advice.detachedHead=false", "checkout", "--quiet", commit, cwd=work
                    )
                    if (work / ".gitmodules").exists() and not self.offline:
                        self._git(
                            "submodule", "update", "--init", "--recursive", "--quiet", cwd=work
                        )
                    os.rename(work, target)
                except _GitFailed as exc:
                    raise MetadataError(f"cannot check out {link.url} at {commit}: {exc}") from None
                except OSError:
                    if not target.is_dir():
                        raise
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
        tree = target / link.subdirectory if link.subdirectory else target
        if not tree.is_dir():
            raise MetadataError(f"{link.url}@{commit} has no subdirectory {link.subdirectory!r}")
        return tree, commit


class _GitFailed(Exception):
    pass
