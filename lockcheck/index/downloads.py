"""Distribution files on disk: each downloaded at most once per run, into the cache, and
verified against its hashes (a download the cache's disk cannot hold is made again in the
scratch directory)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from lockcheck.errors import HashMismatch, IndexUnavailable, LockcheckError, redact_url
from lockcheck.index.cache import Cache, file_sha256
from lockcheck.index.once import OnceMap
from lockcheck.index.urls import url_to_path
from lockcheck.models import DistFile

if TYPE_CHECKING:
    import httpx

    from lockcheck.index.http import HttpSession

__all__ = ["NO_ENCODING", "Downloads", "digests_of", "verify"]

T = TypeVar("T")

#: Files are hashed as served: no Content-Encoding.
NO_ENCODING = {"Accept-Encoding": "identity"}


class _CacheWriteFailed(Exception):
    """The cache's disk failed while a download was saved into it (the cache is given up
    for the run: the download is made again elsewhere)."""


def _file_key(file: DistFile) -> tuple[str, tuple[tuple[str, str], ...]]:
    return file.url, tuple(sorted(file.hashes.items()))


class Downloads:
    """The files of one run (thread-safe: each file is fetched once, whoever asks first)."""

    def __init__(self, session: HttpSession, cache: Cache) -> None:
        self._session = session
        self.cache = cache
        self._files: OnceMap[tuple[str, tuple[tuple[str, str], ...]], Path] = OnceMap()
        self._digests: OnceMap[str, str] = OnceMap()

    def sha256(self, file: DistFile) -> str:
        """Hex sha256 of *file*: from the index when given, else by hashing the file."""
        if file.hashes.get("sha256"):
            return file.hashes["sha256"]
        return self._digests.get(file.url, lambda: file_sha256(self.fetch(file)))

    def remember(self, file: DistFile, path: Path) -> None:
        """*path* holds *file*, verified (saved on the way by another reader)."""
        self._files.put(_file_key(file), path)

    def save_download(self, response: httpx.Response, file: DistFile) -> Path:
        """Stream a 200 response into the cache, verifying length and hashes."""
        if response.status_code >= 300:  # 404 and friends: no file to save
            phrase = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
            url = redact_url(file.url)
            raise IndexUnavailable(f"cannot download {url}: {phrase}", url=url)
        hashers = self._hashers(file)
        directory = None
        try:
            directory = self.cache.tmp_dir()
            fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".download-")
        except OSError as exc:
            raise self._disk_failed(file, directory, exc) from exc
        tmp = Path(tmp_name)
        try:
            size = 0
            try:
                with os.fdopen(fd, "wb") as out:
                    # Raw bytes (no Content-Encoding decoding): the hash is of the file as
                    # served.  A response already read (httpx.MockTransport) only has its
                    # content.  Network errors arrive as httpx errors: an OSError is the disk.
                    chunks = [response.content] if response.is_stream_consumed else None
                    for chunk in chunks or response.iter_raw():
                        out.write(chunk)
                        size += len(chunk)
                        for hasher in hashers.values():
                            hasher.update(chunk)
            except OSError as exc:
                raise self._disk_failed(file, directory, exc) from exc
            expected = response.headers.get("content-length")
            if expected is not None and expected.isdigit() and int(expected) != size:
                from lockcheck.index._httpx import httpx

                raise httpx.RemoteProtocolError(
                    f"incomplete body ({size} of {expected} bytes)", request=response.request
                )
            digests = {name: h.hexdigest() for name, h in hashers.items()}
            verify(file, digests, redact_url(file.url))
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
        return self.cache.store_file(tmp, digests["sha256"], file.filename)

    def _disk_failed(self, file: DistFile, directory: Path | None, exc: OSError) -> Exception:
        """What to raise when saving a download failed on disk: in the cache, a signal to
        download again into the scratch directory; in the scratch directory (or while making
        it: *directory* None), a clean error."""
        if directory is not None and not self.cache.is_scratch(directory):
            self.cache.give_up_writing(exc)
            return _CacheWriteFailed()
        directory = directory or Path(tempfile.gettempdir())
        return LockcheckError(
            f"cannot save {redact_url(file.url)} in {directory}: {exc.strerror or exc}"
        )

    def stream_saving(
        self, url: str, handle: Callable[[httpx.Response], T], headers: Mapping[str, str]
    ) -> T:
        """``session.stream`` with a handler that may save the body: when the cache's disk
        fails on the way, the download starts once more, into the scratch directory."""
        try:
            return self._session.stream(url, handle, headers=headers)
        except _CacheWriteFailed:
            return self._session.stream(url, handle, headers=headers)

    def fetch(self, file: DistFile) -> Path:
        # Keyed by URL *and* expected hashes: the same URL asked with other hashes is
        # verified again, never served from the memo unchecked.
        return self._files.get(_file_key(file), lambda: self._fetch_once(file))

    def _fetch_once(self, file: DistFile) -> Path:
        if file.url.lower().startswith("file:"):
            path = url_to_path(file.url)
            if not path.is_file():
                raise IndexUnavailable(f"{path} does not exist", url=file.url)
            if file.hashes:
                verify(file, digests_of(path, file.hashes), str(path))
            return path
        sha = file.hashes.get("sha256")
        if sha:
            cached = self.cache.cached_file(sha, file.filename)
            if cached is not None:
                return cached
        return self.stream_saving(
            file.url, lambda response: self.save_download(response, file), NO_ENCODING
        )

    def _hashers(self, file: DistFile) -> dict[str, hashlib._Hash]:
        names = {"sha256", *(a for a in file.hashes if a in hashlib.algorithms_available)}
        return {name: hashlib.new(name) for name in names}


def verify(file: DistFile, digests: Mapping[str, str], source: str) -> None:
    """Raise HashMismatch unless each of *file*'s expected hashes that *digests* has agrees."""
    for algorithm, expected in file.hashes.items():
        got = digests.get(algorithm)
        if got is not None and got != expected.lower():
            raise HashMismatch(
                f"{file.filename} from {source} does not match its hash: expected "
                f"{algorithm}:{expected}, got {algorithm}:{got}"
            )


def digests_of(path: Path, algorithms: Iterable[str]) -> dict[str, str]:
    """Hex digests of the file at *path*, in one read, for the *algorithms* hashlib has."""
    hashers = {a: hashlib.new(a) for a in algorithms if a in hashlib.algorithms_available}
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            for hasher in hashers.values():
                hasher.update(block)
    return {a: h.hexdigest() for a, h in hashers.items()}
