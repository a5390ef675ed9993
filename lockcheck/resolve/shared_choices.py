"""A project's versions under a specifier, worked out once and replayed.

The resolver asks for a package's candidates several times in one resolution (each new
requirement on it narrows the specifier), and a universal lock resolves the same projects
again in every environment of its grid.  The answer, the versions a specifier admits with
the file taken for each, best first, depends only on the project's files (fixed for the
run), the specifier and the target's Python version and wheel tags (with the format rules
of the run).  So the environments of one Python version and platform share the answers,
each computed lazily (usually only the newest version is ever looked at).  The first step
of each answer, the project's versions the specifier admits, newest first, depends on
nothing of the environment: every environment of the run shares it, as it shares the
specifier each combination of requirements gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from lockcheck.resolve.candidates import InstallableMemo

__all__ = ["Replay", "RunShared", "SharedChoices"]

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


class RunShared:
    """What every environment of a run shares: nothing of it depends on the environment."""

    def __init__(self) -> None:
        #: (project, specifier text, pre-releases allowed) -> versions admitted, newest first
        self.admitted: dict[tuple[NormalizedName, str, bool], list[Version]] = {}
        #: a version's installable files, by Python version (candidates.InstallableMemo)
        self.installable: InstallableMemo = {}
        #: (id of a metadata requirement, parent label) -> (what the provider made of it,
        #: the requirement kept so its id stays its own)
        self.requirements: dict[tuple[int, str | None], tuple[object, object]] = {}
        # ids of the specifiers combined -> (their intersection, its text, the specifiers
        # kept so the ids stay theirs): the requirements on a package are the metadata's
        # own objects, met again in every environment.
        self._combined: dict[tuple[int, ...], tuple[SpecifierSet, str, tuple[object, ...]]] = {}

    def combined(self, specifiers: Sequence[SpecifierSet]) -> tuple[SpecifierSet, str]:
        """The intersection of *specifiers*, taken in order, and its text."""
        key = tuple(map(id, specifiers))
        known = self._combined.get(key)
        if known is None:
            combined = SpecifierSet()
            for specifier in specifiers:
                combined &= specifier
            known = self._combined[key] = (combined, str(combined), tuple(specifiers))
        return known[0], known[1]


class SharedChoices(Generic[T]):
    """Replays by (project, specifier text), for resolutions of one Python and platform.

    ``owner`` names the resolution running now; ``reused`` says whether it took an answer
    that another resolution worked out (the universal grid then cannot rely on that
    resolution's own record of the Requires-Python values it compared).
    """

    def __init__(self, run: RunShared | None = None) -> None:
        self._replays: dict[tuple[NormalizedName, str], Replay[T]] = {}
        # Shared with the other Pythons and platforms of the run (see the module's doc).
        self.run = RunShared() if run is None else run
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
