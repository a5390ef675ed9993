"""Direct references in a lock (editables, local trees, archive URLs, git) and PEP 610.

A direct reference is "up to date" when the venv's ``direct_url.json`` for that project says
it was installed from the same place: same directory and editable flag, same archive URL
(and hash when the lock gives one), same git repository, subdirectory and commit.  That is
what lets a sync skip an editable on every checkout instead of rebuilding it each time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lockcheck.errors import InputError
from lockcheck.index.urls import split_credentials, url_to_path
from lockcheck.index.vcs import parse_git_link
from lockcheck.references import DirectReference, url_scheme

__all__ = ["LinkTarget", "direct_url_matches", "parse_link", "with_commit"]


@dataclass(frozen=True)
class LinkTarget:
    """Where a direct reference installs from."""

    #: ``"dir"`` (a source tree), ``"archive"`` (a wheel or sdist) or ``"vcs"`` (git).
    kind: str
    #: URL for ``direct_url.json``: ``file://`` for local paths, the clean remote URL, or the
    #: repository URL (without ``git+`` and ``@ref``) for VCS.
    url: str
    editable: bool = False
    #: Local source tree or archive.
    path: Path | None = None
    #: The link as written (with credentials and fragment), what to fetch or clone.
    link: str = ""
    subdirectory: str | None = None
    #: Requested VCS revision, and the commit it resolved to (None until resolved).
    ref: str | None = None
    commit: str | None = None
    #: Hashes the lock gives for an archive (``--hash`` or a ``#sha256=`` fragment).
    hashes: Mapping[str, str] = field(default_factory=dict)

    def direct_url(self, archive_sha256: str | None = None) -> dict[str, Any]:
        """PEP 610 ``direct_url.json`` content for an install from here."""
        data: dict[str, Any] = {"url": self.url}
        if self.kind == "dir":
            data["dir_info"] = {"editable": True} if self.editable else {}
        elif self.kind == "archive":
            info: dict[str, Any] = {}
            if archive_sha256:
                info = {"hash": f"sha256={archive_sha256}", "hashes": {"sha256": archive_sha256}}
            data["archive_info"] = info
        else:
            vcs: dict[str, Any] = {"vcs": "git", "commit_id": self.commit}
            if self.ref:
                vcs["requested_revision"] = self.ref
            data["vcs_info"] = vcs
        if self.subdirectory:
            data["subdirectory"] = self.subdirectory
        return data

    def show(self) -> str:
        prefix = "-e " if self.editable else ""
        return f"{prefix}{split_credentials(self.link)[0] if self.link else self.url}"


def parse_link(
    link: str, *, base_dir: Path, editable: bool = False, hashes: tuple[str, ...] = ()
) -> LinkTarget:
    """Classify a lock's link (no I/O beyond checking whether a local path is a directory)."""
    lock_hashes = dict(h.split(":", 1) for h in hashes if ":" in h)
    reference = DirectReference.parse(link)
    if reference.kind == "vcs":
        if reference.vcs != "git":
            raise InputError(f"{link}: only git VCS references are supported")
        if editable:
            raise InputError(
                f"-e {link}: editable VCS checkouts are not supported by sync",
                hint="clone it and use -e ./path, or drop -e to install the commit",
            )
        parsed = parse_git_link(link)
        clean = split_credentials(parsed.url)[0]
        ref = parsed.ref
        commit = (
            ref if ref and len(ref) == 40 and all(c in "0123456789abcdef" for c in ref) else None
        )
        return LinkTarget(
            "vcs", clean, link=link, subdirectory=parsed.subdirectory, ref=ref, commit=commit
        )
    base, subdirectory = reference.location, reference.subdirectory
    for algorithm, digest in reference.hashes.items():
        lock_hashes.setdefault(algorithm, digest)
    if reference.is_remote:
        if editable:
            raise InputError(f"-e {link}: an editable requirement must be a local directory")
        return LinkTarget("archive", split_credentials(base)[0], link=link, hashes=lock_hashes)
    path = reference.local_path(base_dir)
    tree = path / subdirectory if subdirectory else path
    if path.is_dir():
        return LinkTarget(
            "dir",
            path.as_uri(),
            editable=editable,
            path=tree,
            link=link,
            subdirectory=subdirectory,
        )
    if editable:
        raise InputError(f"-e {link}: an editable requirement must be a local directory ({path})")
    return LinkTarget("archive", path.as_uri(), path=path, link=link, hashes=lock_hashes)


def _same_url(a: str, b: str) -> bool:
    if url_scheme(a) == "file" and url_scheme(b) == "file":
        return os.path.realpath(url_to_path(a)) == os.path.realpath(url_to_path(b))
    return split_credentials(a)[0].rstrip("/") == split_credentials(b)[0].rstrip("/")


def direct_url_matches(target: LinkTarget, installed: Mapping[str, Any] | None) -> bool:
    """Whether an install described by *installed* (a ``direct_url.json``) came from
    *target*; a VCS target whose commit is not resolved never matches."""
    if not installed or not isinstance(installed.get("url"), str):
        return False
    if not _same_url(target.url, installed["url"]):
        return False
    if (installed.get("subdirectory") or None) != target.subdirectory:
        return False
    if target.kind == "dir":
        info = installed.get("dir_info")
        return isinstance(info, Mapping) and bool(info.get("editable")) == target.editable
    if target.kind == "archive":
        info = installed.get("archive_info")
        if not isinstance(info, Mapping):
            return False
        if not target.hashes:
            return True
        known = dict(info.get("hashes") or {})
        legacy = info.get("hash")
        if isinstance(legacy, str) and "=" in legacy:
            algorithm, _, value = legacy.partition("=")
            known.setdefault(algorithm, value)
        return any(known.get(a) == v for a, v in target.hashes.items())
    info = installed.get("vcs_info")
    return (
        isinstance(info, Mapping)
        and info.get("vcs") == "git"
        and target.commit is not None
        and info.get("commit_id") == target.commit
    )


def with_commit(target: LinkTarget, commit: str) -> LinkTarget:
    return replace(target, commit=commit)
