"""The chain from an input line to a requirement, for failure messages.

``-r requirements.in (line 1): a==1.0.0 requires b>=2 -> b 2.0.0 requires c<1.5``: the line
that asked, then each package version the resolver read and the requirement it added.  The
chains are found in what the resolver actually read (the provider's ``asked_by``), never by
fetching more, so explaining a failure costs no network.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from lockcheck.resolve.provider import (
    AnyRequirement,
    Candidate,
    ExplicitRequirement,
    PythonRequirement,
    SpecRequirement,
)

__all__ = ["MAX_CHAIN_PARTS", "Chains", "allows"]

#: A longer chain keeps its first two and last two parts and says how many it skipped.
MAX_CHAIN_PARTS = 6

Root = SpecRequirement | ExplicitRequirement
Hop = tuple[Candidate, AnyRequirement]


def allows(req: AnyRequirement, name: NormalizedName, version: Version | None) -> bool:
    """Whether *req* asks for *name* and (when given) lets *version* satisfy it."""
    if isinstance(req, PythonRequirement) or req.name != name:
        return False
    if version is None:
        return True
    if isinstance(req, ExplicitRequirement):
        return req.candidate.version == version
    return req.specifier.contains(version, prereleases=True)


def _pins_exactly(req: AnyRequirement, candidate: Candidate) -> bool:
    """``a==1.0.0`` read by a 1.0.0: the candidate needs no words of its own."""
    if not isinstance(req, SpecRequirement) or req.name != candidate.name:
        return False
    specs = list(req.specifier)
    if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return False
    try:
        return Version(specs[0].version) == candidate.version
    except InvalidVersion:
        return False


@dataclass(frozen=True)
class Chains:
    """Shortest chains from the root requirements through what the resolver read."""

    roots: Sequence[Root]
    # Where each root was asked for (by id), e.g. "-r requirements.in (line 3)".
    asked_at: Mapping[int, str]
    # The provider's record: parent name -> (identifier, version) -> (parent, its requirements).
    asked_by: Mapping[NormalizedName, Mapping[tuple[str, Version], tuple[Candidate, list]]]
    _found: dict[tuple[NormalizedName, Version | None], tuple[Root, tuple[Hop, ...]] | None] = (
        field(default_factory=dict, compare=False, repr=False)
    )

    def _read(self, name: NormalizedName) -> Iterator[tuple[Candidate, list]]:
        """What the resolver read of *name*, newest version first."""
        entries = self.asked_by.get(name, {}).values()
        return iter(sorted(entries, key=lambda e: e[0].version, reverse=True))

    def find(
        self, name: NormalizedName, version: Version | None
    ) -> tuple[Root, tuple[Hop, ...]] | None:
        """The shortest chain ending in a requirement that *name* (at *version*) satisfies."""
        key = (name, version)
        if key not in self._found:
            self._found[key] = self._search(name, version)
        return self._found[key]

    def _search(
        self, name: NormalizedName, version: Version | None
    ) -> tuple[Root, tuple[Hop, ...]] | None:
        queue: deque[tuple[Root, tuple[Hop, ...]]] = deque((r, ()) for r in self.roots)
        seen: set[tuple[str, Version]] = set()
        while queue:
            root, hops = queue.popleft()
            last = hops[-1][1] if hops else root
            if allows(last, name, version):
                return root, hops
            if isinstance(last, PythonRequirement):
                continue
            for parent, deps in self._read(last.name):
                key = (parent.identifier, parent.version)
                if key in seen or not allows(last, parent.name, parent.version):
                    continue
                seen.add(key)
                queue.extend((root, (*hops, (parent, dep))) for dep in deps)
        return None

    def where(self, root: Root) -> str:
        return self.asked_at.get(id(root), "the input")

    def render(self, root: Root, hops: Sequence[Hop], last: str | None = None) -> str:
        """``<where> requires <root>`` alone, else ``<where>: <root> -> <parent> <version>
        requires <req> -> ...``, shortened past :data:`MAX_CHAIN_PARTS`; *last*, when given,
        replaces the words of the last step (``a 1.0.0, 2.0.0 require b==1``)."""
        if not hops:
            return f"{self.where(root)} requires {root}"
        parts = [str(root)]
        previous: AnyRequirement = root
        for parent, req in hops:
            if _pins_exactly(previous, parent):
                parts[-1] += f" requires {req}"
            else:
                parts.append(f"{parent.identifier} {parent.version} requires {req}")
            previous = req
        if last is not None:
            parts[-1] = last
        if len(parts) > MAX_CHAIN_PARTS:
            parts = [*parts[:2], f"({len(parts) - 4} more)", *parts[-2:]]
        return f"{self.where(root)}: " + " -> ".join(parts)

    def to_requirement(
        self, parent: Candidate | None, req: AnyRequirement, last: str | None = None
    ) -> str | None:
        """The chain that ends in *parent* asking for *req* (None: no chain was read)."""
        if parent is None:
            return self.render(req, ()) if isinstance(req, Root) else None
        found = self.find(parent.name, parent.version)
        if found is None:
            return None
        root, hops = found
        return self.render(root, (*hops, (parent, req)), last)

    def to_package(self, name: NormalizedName) -> str | None:
        """The chain that asks for *name* at all."""
        found = self.find(name, None)
        return None if found is None else self.render(*found)
