"""Marker helpers that packaging does not offer.

pip-compile writes the marker of a top-level input on its pin, minus any ``extra == "..."``
clause (those only select which optional dependencies were asked for).
"""

from __future__ import annotations

import copy

from packaging.markers import Marker
from packaging.utils import canonicalize_name

__all__ = ["extras_named", "without_extra_markers"]


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


def extras_named(marker: Marker | None) -> frozenset[str]:
    """The extras *marker* compares ``extra`` with (``extra == "socks"``), normalized."""
    if marker is None:
        return frozenset()

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
