"""The resolver's result builder: resolvelib's answer, without its recursion on cycles."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from resolvelib.resolvers import Criterion
from resolvelib.resolvers.resolution import _build_result
from resolvelib.structs import RequirementInformation, State

from lockcheck.resolve.result_graph import build_result


@dataclass(frozen=True, eq=False)
class Pin:
    """A candidate: compared by identity, as resolvelib finds a parent's key."""

    key: str


def _state(parents: dict[str, list[str | None]], pinned: set[str]) -> State:
    """A final state: the keys in *pinned* have a pin; each key's requirements come from the
    named parents (``None`` is the root; a parent that is not pinned is a stale candidate)."""
    pins = {key: Pin(key) for key in pinned}
    stale = {key: Pin(key) for key in parents}

    def candidate(key: str | None) -> Pin | None:
        return None if key is None else pins.get(key, stale[key])

    criteria = {
        key: Criterion(
            candidates=[],
            information=[RequirementInformation(f"{key} from {p}", candidate(p)) for p in ps],
            incompatibilities=[],
        )
        for key, ps in parents.items()
    }
    return State(
        mapping={key: pins[key] for key in sorted(pinned)}, criteria=criteria, backtrack_causes=[]
    )


def _edges(graph) -> set[tuple[str | None, str | None]]:
    return set(graph.iter_edges())


def test_a_cycle_the_roots_do_not_reach_is_left_out() -> None:
    """b[fast] and a need each other and nothing pinned needs either: resolvelib recursed."""
    state = _state(
        {"b": [None], "b[fast]": ["a"], "a": ["b[fast]"]},
        pinned={"b", "b[fast]", "a"},
    )
    result = build_result(state)
    assert set(result.mapping) == {"b"}
    assert _edges(result.graph) == {(None, "b")}


def test_a_cycle_the_roots_reach_is_kept_whole() -> None:
    state = _state(
        {"a": [None, "b"], "b": ["a"], "c": ["d"], "d": ["c"]}, pinned={"a", "b", "c", "d"}
    )
    result = build_result(state)
    assert set(result.mapping) == {"a", "b"}
    assert _edges(result.graph) == {(None, "a"), ("a", "b"), ("b", "a")}


_KEYS = ["a", "b", "c", "d", "e", "f"]


@st.composite
def _states(draw: st.DrawFn) -> State:
    keys = draw(st.lists(st.sampled_from(_KEYS), min_size=1, unique=True))
    parents = {
        key: draw(st.lists(st.sampled_from([None, *keys]), max_size=4, unique=True)) for key in keys
    }
    pinned = draw(st.sets(st.sampled_from(keys)))
    return _state(parents, pinned)


@settings(max_examples=500, deadline=None)
@given(_states())
def test_the_result_is_resolvelibs_wherever_resolvelib_ends(state: State) -> None:
    """Same mapping (and order), graph and criteria as resolvelib's own builder, on every
    state where that builder does not recurse for ever; and where it does, this one ends."""
    ours = build_result(state)
    try:
        theirs = _build_result(state)
    except RecursionError:
        assert set(ours.mapping) <= set(state.mapping)
        return
    assert list(ours.mapping.items()) == list(theirs.mapping.items())
    assert list(ours.graph) == list(theirs.graph)
    assert _edges(ours.graph) == _edges(theirs.graph)
    assert ours.criteria is theirs.criteria
