"""The resolver's final state as a result: the pins the roots still lead to, and their graph.

resolvelib's own ``_build_result`` (1.1 and 1.2.1) asks of each package, recursively and
with no record of where it has been, whether some parent leads to the root.  A cycle the
resolve abandoned by backtracking (``b[fast]`` needs ``a``, ``a`` needs ``b[fast]``, and
nothing the roots pin needs either) stays in the state, and that question goes round it
until the interpreter's recursion limit.  Here the packages the roots lead to are found by
one walk from the root, with each package visited once; the result is otherwise
resolvelib's: the same mapping, graph and criteria.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING

from resolvelib.resolvers import Result
from resolvelib.structs import CT, KT, RT, DirectedGraph, State

if TYPE_CHECKING:
    from resolvelib.resolvers import Criterion

__all__ = ["build_result"]


def build_result(state: State[RT, CT, KT]) -> Result[RT, CT, KT]:
    """resolvelib's result of *state*, keeping only the pins the roots lead to."""
    key_of: dict[int, KT | None] = {id(pin): key for key, pin in state.mapping.items()}
    key_of[id(None)] = None  # the parent of every root requirement
    parents = {key: _parent_keys(criterion, key_of) for key, criterion in state.criteria.items()}
    connected = _reached_from_root(parents)

    graph: DirectedGraph[KT | None] = DirectedGraph()
    graph.add(None)
    for key in state.criteria:
        if key not in connected:
            continue
        if key not in graph:
            graph.add(key)
        for parent in parents[key]:
            if parent not in graph:
                graph.add(parent)
            graph.connect(parent, key)
    return Result(
        mapping={key: pin for key, pin in state.mapping.items() if key in connected},
        graph=graph,
        criteria=state.criteria,
    )


def _parent_keys(criterion: Criterion[RT, CT], key_of: dict[int, KT | None]) -> list[KT | None]:
    """The keys of the pins whose dependencies put a requirement in *criterion*, in order
    (a parent that is no longer pinned has no key and is left out, as resolvelib does)."""
    return [key_of[id(parent)] for parent in criterion.iter_parent() if id(parent) in key_of]


def _reached_from_root(parents: dict[KT, list[KT | None]]) -> set[KT | None]:
    """Every key with a chain of parents up to the root (``None``), the root included."""
    children: dict[KT | None, list[KT]] = collections.defaultdict(list)
    for key, its_parents in parents.items():
        for parent in its_parents:
            children[parent].append(key)
    reached: set[KT | None] = {None}
    waiting: list[KT | None] = [None]
    while waiting:
        for child in children.get(waiting.pop(), ()):
            if child not in reached:
                reached.add(child)
                waiting.append(child)
    return reached
