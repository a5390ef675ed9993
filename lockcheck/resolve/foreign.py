"""Marker values the universal grid lacks, and the environments added for them.

The default grid knows three operating systems on CPython.  A requirement whose marker names
another value (``sys_platform == "os1"``, ``platform_machine == "riscv64"``,
``implementation_name == "graalpy"``) is false on all of them and would vanish from the lock.
So the grid grows: the environments on which the marker can hold are cloned with that value
set, resolved like the others, and the lock line carries the value's clause
(``a==1.0 ; sys_platform == "os1"``), as uv writes it.  Markers in the inputs are read before
the first resolution; those in dependency metadata as resolutions reveal them.

Each added environment costs one resolution, so the growth is bounded by
:data:`MAX_EXTRA_ENVIRONMENTS`.  A marker that no clone can make true (an ordering of a
platform string, ``platform_release >= "6"``), or one past the bound, stops the compile with
one error naming the requirement: a requirement is never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from packaging.markers import Marker
from packaging.requirements import Requirement

from lockcheck.errors import InputError, LockcheckError, ResolutionFailed
from lockcheck.resolve.markers import without_extra_markers

if TYPE_CHECKING:
    from pathlib import Path

    # Only to name the parse's atoms (Variable, Value, Op all carry a str ``value``).
    from packaging._parser import Node

    from lockcheck.resolve.grid import GridEnv

__all__ = ["MAX_EXTRA_ENVIRONMENTS", "GridGrowth", "Trigger"]

#: Environments the grid may gain.  Each is one more resolution; a value the default
#: platforms lack takes one per Python version of the range (8 for 3.8 to 3.15), so this
#: carries about four such values, which covers what real dependency trees name (PyPy,
#: Cygwin, an odd architecture) while keeping the compile within a few times its cost.
MAX_EXTRA_ENVIRONMENTS = 32

#: Variables the grid decides itself (one environment per Python version), and ``extra``.
_DECIDED = frozenset({"python_version", "python_full_version", "implementation_version", "extra"})
_ORDERINGS = frozenset({"<", "<=", ">", ">=", "~="})

Override = tuple[tuple[str, str], ...]
#: A GridGrowth's state: clones and triggers kept, what each clone stands for, keys seen.
_Saved = tuple[int, dict[tuple, set[tuple]], int, set[tuple[str, str]]]


@dataclass(frozen=True)
class Trigger:
    """A requirement with a marker, and who asked for it (an input line or a package)."""

    requirement: Requirement
    asked_by: str  # "requirements.in:3" for an input line, "d==1.0.0" for a dependency
    file: Path | str | None = None
    line: int | None = None

    def error(self, why: str) -> LockcheckError:
        marker = without_extra_markers(self.requirement.marker)
        text = f"cannot carry the marker '{marker}' of '{self.requirement}' into a universal lock"
        if self.file is not None:
            return InputError(f"{text}: {why}", file=self.file, line=self.line)
        return ResolutionFailed(f"{self.asked_by} depends on '{self.requirement}': {text}: {why}")


def _atoms(items: Iterable[object]) -> Iterator[tuple[Node, str, Node]]:
    """The (left, operator, right) comparisons of a marker's parse, its nesting flattened."""
    for item in items:
        if isinstance(item, list):
            yield from _atoms(item)
        elif isinstance(item, tuple):
            lhs, op, rhs = item
            yield lhs, str(op.value), rhs


def _is_variable(part: Node) -> bool:
    return type(part).__name__ == "Variable"


def _values_wanted(marker: Marker, known: dict[str, set[str]]) -> tuple[list[Override], bool]:
    """The (variable, value) settings *marker* names that no grid environment has, and
    whether it also holds a comparison no setting can decide."""
    wanted: list[Override] = []
    undecidable = False
    for lhs, op, rhs in _atoms(marker._markers):  # packaging keeps the parse here
        if _is_variable(lhs) == _is_variable(rhs):
            continue
        var_left = _is_variable(lhs)
        var, value = (lhs.value, rhs.value) if var_left else (rhs.value, lhs.value)
        if var in _DECIDED:
            continue
        have = known.get(var, set())
        if op in ("==", "==="):
            values = [] if value in have else [value]
        elif op == "in" and var_left:  # platform_machine in "x86_64 riscv64"
            values = [] if any(h in value for h in have) else re.split(r"[\s,]+", value.strip())
        elif op == "in":  # "riscv" in platform_machine
            values = [] if any(value in h for h in have) else [value]
        elif op in _ORDERINGS:
            undecidable = True
            values = []
        else:  # != and not in are true on the grid already
            values = []
        wanted.extend(((var, v),) for v in values if v)
    return wanted, undecidable


class GridGrowth:
    """The environments added to a universal grid for marker values it lacks."""

    def __init__(self, base: Sequence[GridEnv]) -> None:
        self.base = list(base)
        self.clones: list[GridEnv] = []
        # The base environments each added one stands for (it grows as markers need more).
        self.stands_for: dict[tuple, set[tuple]] = {}
        self.triggers: list[Trigger] = []
        self._seen: set[tuple[str, str]] = set()
        self._known: dict[str, set[str]] = {}
        for g in self.base:
            for var, value in g.env.markers.items():
                self._known.setdefault(var, set()).add(value)

    def saved(self) -> _Saved:
        """What :meth:`restore` puts back: an :meth:`add` that raised is undone."""
        stands_for = {key: set(keys) for key, keys in self.stands_for.items()}
        return len(self.clones), stands_for, len(self.triggers), set(self._seen)

    def restore(self, saved: _Saved) -> None:
        """Put back what :meth:`saved` gave (once)."""
        clones, self.stands_for, triggers, self._seen = saved
        del self.clones[clones:], self.triggers[triggers:]

    def add(self, triggers: Iterable[Trigger]) -> list[GridEnv]:
        """Clone environments for the values *triggers* name that the grid lacks; returns
        the new ones (to be resolved).  Raises when the bound would be passed."""
        added: list[GridEnv] = []
        for trigger in triggers:
            key = (str(trigger.requirement), trigger.asked_by)
            if key in self._seen:
                continue
            self._seen.add(key)
            self.triggers.append(trigger)
            marker = without_extra_markers(trigger.requirement.marker)
            if marker is None:
                continue
            wanted, _ = _values_wanted(marker, self._known)
            if len({var for ((var, _),) in wanted}) > 1:  # os1 and riscv64 together
                combined: dict[str, str] = {}
                for ((var, value),) in wanted:
                    combined.setdefault(var, value)
                wanted.append(tuple(sorted(combined.items())))
            for override in wanted:
                new = []
                for clone in self._clones_for(marker, override):
                    if clone.key in self.stands_for:
                        self.stands_for[clone.key].update(clone.stands_for)
                    else:
                        new.append(clone)
                if len(self.clones) + len(new) > MAX_EXTRA_ENVIRONMENTS:
                    raise trigger.error(
                        f"it needs more than {MAX_EXTRA_ENVIRONMENTS} extra environments "
                        "(one per Python version for each marker value the default "
                        "platforms lack)"
                    )
                for clone in new:
                    self.stands_for[clone.key] = set(clone.stands_for)
                self.clones.extend(new)
                added.extend(new)
        return added

    def _clones_for(self, marker: Marker, override: Override) -> list[GridEnv]:
        """Copies of the base environments on which *marker* holds once *override* is set:
        one per Python version when it holds on every platform (the first platform stands
        for all), else one per environment it holds on."""
        holds = [g for g in self.base if marker.evaluate({**_with(g, override), "extra": ""})]
        by_minor: dict[int, list[GridEnv]] = {}
        for g in self.base:
            by_minor.setdefault(g.minor, []).append(g)
        clones: list[GridEnv] = []
        for _minor, column in sorted(by_minor.items()):
            here = [g for g in column if g in holds]
            if not here:
                continue
            if len(here) == len(column):
                clones.append(_clone(here[0], override, tuple(g.key for g in column)))
            else:
                clones.extend(_clone(g, override, (g.key,)) for g in here)
        return clones

    def check_carried(self) -> None:
        """Raise for a requirement false everywhere only because its marker holds a
        comparison no environment was made for."""
        envs = [*self.base, *self.clones]
        for trigger in self.triggers:
            marker = without_extra_markers(trigger.requirement.marker)
            if marker is None:
                continue
            _, undecidable = _values_wanted(marker, self._known)
            if undecidable and not any(g.env.evaluate(marker) for g in envs):
                raise trigger.error(
                    "no environment can be made for it (only ==, != and in comparisons of "
                    "platform values are)"
                )


def _with(g: GridEnv, override: Override) -> dict[str, str]:
    return {**g.env.markers, **dict(override)}


def _clone(g: GridEnv, override: Override, stands_for: tuple) -> GridEnv:
    env = replace(g.env, markers=_with(g, override))
    return replace(g, env=env, override=override, stands_for=stands_for)


def selector(override: Override) -> str:
    """The clause an added environment answers to: ``sys_platform == "os1"``."""
    return " and ".join(f'{var} == "{value}"' for var, value in override)
