"""Marker helpers that packaging does not offer.

pip-compile writes the marker of a top-level input on its pin, minus any ``extra == "..."``
clause (those only select which optional dependencies were asked for).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Generic, TypeVar

from packaging.markers import Marker
from packaging.utils import canonicalize_name

__all__ = ["MarkerMemo", "extras_named", "marker_variables", "without_extra_markers"]

K = TypeVar("K")
V = TypeVar("V")


class MarkerMemo(Generic[K, V]):
    """Answers about markers, by the marker's identity: the metadata of a run holds a few
    thousand Marker objects, asked about again by every environment of a universal lock,
    and a marker's text (its hash) costs more than most answers.  The marker is kept
    beside its answer so its id stays its own; past *limit* entries the memo starts over.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._known: dict[tuple[int, K], tuple[V, Marker]] = {}
        self._limit = limit

    def get(self, marker: Marker, key: K, compute: Callable[[], V]) -> V:
        known = self._known.get((id(marker), key))
        if known is None:
            answer = compute()
            if len(self._known) >= self._limit:
                self._known.clear()
            self._known[id(marker), key] = (answer, marker)
            return answer
        return known[0]


def _drop_extras(items: list) -> list:
    kept: list = []
    for item in items:
        if isinstance(item, list):
            inner = _drop_extras(item)
            if inner:
                kept.append(inner)
            elif kept and isinstance(kept[-1], str):
                kept.pop()
            continue
        if isinstance(item, tuple):
            if any(
                getattr(part, "value", None) == "extra" and type(part).__name__ == "Variable"
                for part in item
            ):
                if kept and isinstance(kept[-1], str):
                    kept.pop()  # the "and"/"or" before it
                continue
        elif isinstance(item, str) and not kept:
            continue  # a leading "and"/"or" left by a dropped clause
        kept.append(item)
    return kept


def without_extra_markers(marker: Marker | None) -> Marker | None:
    """*marker* with its ``extra`` comparisons removed (None when nothing is left)."""
    if marker is None:
        return None
    clone = copy.deepcopy(marker)
    clone._markers = _drop_extras(list(clone._markers))  # packaging keeps the parse here
    if not clone._markers:
        return None
    return Marker(str(clone))


_VARIABLES: MarkerMemo[None, tuple[str, ...] | None] = MarkerMemo()
_EXTRAS: MarkerMemo[None, frozenset[str]] = MarkerMemo()


def marker_variables(marker: Marker) -> tuple[str, ...] | None:
    """The environment names *marker* reads (``extra`` among them), or None when its
    parse is not the shape this reads (the caller then must not rely on it)."""
    return _VARIABLES.get(marker, None, lambda: _variables(marker))


def _variables(marker: Marker) -> tuple[str, ...] | None:
    names: set[str] = set()

    def walk(items: object) -> bool:
        if not isinstance(items, list):
            return False
        for item in items:
            if isinstance(item, list):
                if not walk(item):
                    return False
            elif isinstance(item, tuple):
                if len(item) != 3:
                    return False
                for part in item:
                    kind = type(part).__name__
                    if kind == "Variable":
                        names.add(str(part.value))
                    elif kind not in ("Value", "Op"):
                        return False
            elif not isinstance(item, str):
                return False
        return True

    return tuple(sorted(names)) if walk(getattr(marker, "_markers", None)) else None


def extras_named(marker: Marker | None) -> frozenset[str]:
    """The extras *marker* compares ``extra`` with (``extra == "socks"``), normalized."""
    if marker is None:
        return frozenset()
    return _EXTRAS.get(marker, None, lambda: _extras_named(marker))


def _extras_named(marker: Marker) -> frozenset[str]:

    def walk(items: list) -> set[str]:
        found: set[str] = set()
        for item in items:
            if isinstance(item, list):
                found |= walk(item)
            elif isinstance(item, tuple):
                names = [getattr(part, "value", "") for part in item]
                kinds = [type(part).__name__ for part in item]
                if "Variable" in kinds and "extra" in names:
                    found.add(str(names[2] if kinds[0] == "Variable" else names[0]))
        return found

    return frozenset(canonicalize_name(e) for e in walk(list(marker._markers)))
