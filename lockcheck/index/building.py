"""The index layer's one door into PEP 517 builds (``lockcheck.build.prepare_metadata``).

Kept apart so the finder never imports the build machinery until an sdist, a source tree or
a VCS checkout actually needs it, and so tests can replace :data:`prepare_hook`.  Whatever
the build module returns (a CoreMetadata, METADATA text, or the path of a METADATA file or
``.dist-info`` directory) becomes a CoreMetadata plus the raw METADATA bytes for the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from lockcheck.errors import MetadataError
from lockcheck.index.metadata import parse_metadata
from lockcheck.index.settings import IndexSettings
from lockcheck.models import CoreMetadata

__all__ = ["Builds", "prepare", "prepare_hook", "render_metadata"]


def _default_hook(path: Path, *, isolation: bool, index_env: Mapping[str, str]) -> object:
    from lockcheck.build import prepare_metadata

    return prepare_metadata(path, isolation=isolation, index_env=index_env)


#: Called as ``prepare_hook(path, isolation=..., index_env=...)``; tests may replace it.
prepare_hook: Callable[..., object] = _default_hook


def render_metadata(meta: CoreMetadata) -> bytes:
    """Minimal METADATA text holding exactly the fields a CoreMetadata carries."""
    lines = ["Metadata-Version: 2.1", f"Name: {meta.name}", f"Version: {meta.version}"]
    if meta.requires_python is not None:
        lines.append(f"Requires-Python: {meta.requires_python}")
    lines += [f"Provides-Extra: {extra}" for extra in sorted(meta.provides_extra)]
    lines += [f"Requires-Dist: {req}" for req in meta.requires_dist]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def _coerce(result: object, source: str) -> tuple[CoreMetadata, bytes]:
    if isinstance(result, CoreMetadata):
        return result, render_metadata(result)
    if isinstance(result, (bytes, str)) and not (isinstance(result, str) and "\n" not in result):
        raw = result.encode("utf-8") if isinstance(result, str) else result
        return parse_metadata(raw, source), raw
    if isinstance(result, (str, Path)):
        path = Path(result)
        if path.is_dir():
            path = path / "METADATA"
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise MetadataError(f"the build of {source} left no readable metadata: {exc}") from exc
        return parse_metadata(raw, source), raw
    raise MetadataError(f"the build of {source} returned no metadata ({type(result).__name__})")


def prepare(path: Path, settings: IndexSettings, source: str) -> tuple[CoreMetadata, bytes]:
    """Metadata of an sdist or source tree through a PEP 517 build (raises BuildError)."""
    result = prepare_hook(path, isolation=settings.build_isolation, index_env=settings.pip_env())
    return _coerce(result, source)


class Builds:
    """The PEP 517 metadata preparations of one run, at most *slots* at a time (prefetch may
    ask for many sdists at once; each build can spawn a pip and a backend)."""

    def __init__(self, settings: IndexSettings, slots: int = 2) -> None:
        self._settings = settings
        self._slots = threading.BoundedSemaphore(slots)

    def prepare(self, path: Path, source: str) -> tuple[CoreMetadata, bytes]:
        with self._slots:
            return prepare(path, self._settings, source)
