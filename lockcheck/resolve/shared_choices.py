"""A project's versions under a specifier, worked out once and replayed.

The resolver asks for a package's candidates several times in one resolution (each new
requirement on it narrows the specifier), and a universal lock resolves the same projects
again in every environment of its grid.  The answer, the versions a specifier admits with
the file taken for each, best first, depends only on the project's files (fixed for the
run), the specifier and the target's Python version and wheel tags (with the format rules
of the run).  So the environments of one Python version and platform share the answers,
each computed lazily (usually only the newest version is ever looked at).  The first step
of each answer, the project's versions the specifier admits, newest first, depends on
nothing of the environment: every environment of the run shares it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from packaging.utils import NormalizedName
from packaging.version import Version

__all__ = ["AdmittedVersions", "Replay", "SharedChoices"]

T = TypeVar("T")


class Replay(Generic[T]):
    """An iterator's items, taken from it only as far as some reader has gone."""

    def __init__(self, source: Iterator[T], owner: object) -> None:
        self._source: Iterator[T] | None = source
        self._items: list[T] = []
        self.owner = owner

    def __iter__(self) -> Iterator[T]:
        i = 0
        while True:
            if i < len(self._items):
                yield self._items[i]
            elif self._source is None:
                return
            else:
                try:
                    item = next(self._source)
                except StopIteration:
                    self._source = None
                    return
                self._items.append(item)
                yield item
            i += 1


#: (project, specifier text, pre-releases allowed) -> the versions admitted, newest first.
AdmittedVersions = dict[tuple[NormalizedName, str, bool], list[Version]]


class SharedChoices(Generic[T]):
    """Replays by (project, specifier text), for resolutions of one Python and platform.

    ``owner`` names the resolution running now; ``reused`` says whether it took an answer
    that another resolution worked out (the universal grid then cannot rely on that
    resolution's own record of the Requires-Python values it compared).
    """

    def __init__(self, admitted: AdmittedVersions | None = None) -> None:
        self._replays: dict[tuple[NormalizedName, str], Replay[T]] = {}
        # Shared with the other Pythons and platforms of the run (see the module's doc).
        self.admitted: AdmittedVersions = {} if admitted is None else admitted
        self.owner: object = None
        self.reused = False

    def start(self, owner: object) -> None:
        self.owner, self.reused = owner, False

    def get(
        self, name: NormalizedName, specifier: str, compute: Callable[[], Iterator[T]]
    ) -> Iterator[T]:
        key = (name, specifier)
        replay = self._replays.get(key)
        if replay is None:
            replay = self._replays[key] = Replay(compute(), self.owner)
        elif replay.owner is not self.owner:
            self.reused = True
        return iter(replay)
