"""Marker helpers that packaging does not offer.

pip-compile writes the marker of a top-level input on its pin, minus any ``extra == "..."``
clause (those only select which optional dependencies were asked for).
"""

from __future__ import annotations

import copy

from packaging.markers import Marker

__all__ = ["without_extra_markers"]


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
