"""Metadata of direct references: a local directory, a local or remote wheel or sdist (path,
``file://`` or ``http(s)://`` URL), or ``git+<url>[@ref][#subdirectory=...]``."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import Version

from lockcheck.errors import MetadataError, redact_url
from lockcheck.index.building import Builds
from lockcheck.index.cache import Cache
from lockcheck.index.downloads import Downloads, digests_of, verify
from lockcheck.index.filenames import is_archive, parse_filename
from lockcheck.index.metadata import check_identity, parse_metadata
from lockcheck.index.metadatachain import wheel_metadata
from lockcheck.index.pages import filename_of, link_from_url
from lockcheck.index.settings import IndexSettings
from lockcheck.index.urls import (
    split_credentials,
    strip_fragment,
    url_to_path,
)
from lockcheck.models import CoreMetadata, DistFile
from lockcheck.references import DirectReference

if TYPE_CHECKING:
    from lockcheck.index.vcs import GitCheckouts

__all__ = ["DirectReferences"]


class DirectReferences:
    """Reads direct references for one run (the finder memoises per link)."""

    def __init__(
        self, settings: IndexSettings, cache: Cache, downloads: Downloads, builds: Builds
    ) -> None:
        self.settings = settings
        self.cache = cache
        self._downloads = downloads
        self._builds = builds
        self._git: GitCheckouts | None = None
        self._git_lock = threading.Lock()

    def load(
        self, link: str, base_dir: Path, editable: bool
    ) -> tuple[CoreMetadata, DistFile | None]:
        reference = DirectReference.parse(link)
        if reference.vcs == "git":
            return self._git_metadata(link), None
        if reference.vcs:
            raise MetadataError(f"{link}: only git VCS references are supported")
        if reference.is_remote:
            if editable:
                raise MetadataError(f"{link}: an editable requirement must be a local directory")
            return self._remote_archive(link)
        path = reference.local_path(base_dir)
        if reference.subdirectory:
            path = path / reference.subdirectory
        if path.is_dir():
            meta, _raw = self._builds.prepare(path, str(path))
            return meta, None
        if path.is_file():
            if editable:
                raise MetadataError(f"{link}: an editable requirement must be a local directory")
            return self._archive_direct(path, path.as_uri(), link_from_url(link).hashes)
        raise MetadataError(f"{link}: no such file or directory ({path})")

    def _remote_archive(self, link: str) -> tuple[CoreMetadata, DistFile]:
        base, _fragment = strip_fragment(link)
        clean = split_credentials(base)[0]
        filename = filename_of(clean)
        if not is_archive(filename):
            raise MetadataError(f"{clean} is not a wheel or sdist URL")
        parsed = parse_filename(filename)
        provisional = DistFile(
            filename=filename,
            url=base,
            name=parsed.name if parsed else canonicalize_name(filename),
            version=parsed.version if parsed else Version("0"),
            is_wheel=filename.lower().endswith(".whl"),
            hashes=link_from_url(link).hashes,
        )
        path = self._downloads.fetch(provisional)
        return self._archive_direct(path, clean, provisional.hashes)

    def _archive_direct(
        self, path: Path, url: str, expected: Mapping[str, str]
    ) -> tuple[CoreMetadata, DistFile]:
        filename = url_to_path(url).name if url.startswith("file:") else filename_of(url)
        if not is_archive(filename):
            raise MetadataError(f"{path} is not a wheel or an sdist")
        digests = digests_of(path, {"sha256", *expected})
        digest = digests["sha256"]
        probe = DistFile(filename, url, canonicalize_name("x"), Version("0"), False, expected)
        verify(probe, digests, redact_url(url))
        parsed = parse_filename(filename)
        is_wheel = filename.lower().endswith(".whl")
        if is_wheel:
            raw = wheel_metadata(path, parsed.name if parsed else None)
            meta = parse_metadata(raw, redact_url(url))
            if parsed is not None:
                check_identity(meta, parsed.name, parsed.version, redact_url(url))
        else:
            key = Cache.metadata_key(sha256=digest)
            raw = self.cache.load_metadata(key) or b""
            try:
                meta = parse_metadata(raw, redact_url(url))
            except MetadataError:
                meta, raw = self._builds.prepare(path, redact_url(url))
                self.cache.store_metadata(key, raw)
        dist = DistFile(
            filename=filename,
            url=url,
            name=canonicalize_name(meta.name),
            version=meta.version,
            is_wheel=is_wheel,
            hashes={"sha256": digest},
            requires_python=meta.requires_python,
            tags=parsed.tags if parsed else frozenset(),
        )
        return meta, dist

    def _git_metadata(self, link: str) -> CoreMetadata:
        from lockcheck.index.vcs import GitCheckouts, parse_git_link  # only a git reference

        with self._git_lock:
            if self._git is None:
                self._git = GitCheckouts(self.cache.git_dir(), offline=self.settings.offline)
            git = self._git
        parsed = parse_git_link(link)
        tree, commit = git.checkout(parsed)
        key = Cache.metadata_key(url=f"git:{commit}:{parsed.subdirectory or ''}")
        raw = self.cache.load_metadata(key)
        if raw is not None:
            try:
                return parse_metadata(raw, redact_url(link))
            except MetadataError:
                self.cache.drop_metadata(key)
        meta, raw = self._builds.prepare(tree, redact_url(link))
        self.cache.store_metadata(key, raw)
        return meta
