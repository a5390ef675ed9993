"""resolvelib's resolver, with its per-round pin check and preferences remembered.

At every round resolvelib asks, for each package it has met, whether the current pin still
satisfies every requirement on it: pins x requirements calls each round, a third of a
universal lock's CPU.  A pin and a criterion (which resolvelib never mutates: it builds a
new one for each change) give the same answer every time, so the answer is kept per pair;
a criterion that only adds requirements to the last one checked for the same pin has only
the added ones checked.
Likewise a package's preference, for a provider that declares ``preference_epoch``: its
promise that the preference depends only on the package's criterion and that number.
The rounds, their order and the result are resolvelib's own.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import TYPE_CHECKING, Generic

from resolvelib import BaseReporter, Resolver
from resolvelib.providers import AbstractProvider
from resolvelib.resolvers.resolution import Resolution, _build_result
from resolvelib.structs import CT, KT, RT

if TYPE_CHECKING:
    from resolvelib.providers import Preference
    from resolvelib.resolvers import Criterion, Result

__all__ = ["MemoResolver"]


class _MemoResolution(Resolution[RT, CT, KT], Generic[RT, CT, KT]):
    def __init__(
        self, provider: AbstractProvider[RT, CT, KT], reporter: BaseReporter[RT, CT, KT]
    ) -> None:
        super().__init__(provider, reporter)
        # criterion (hashed by identity) -> (pin, answer): the answer for that pin (a
        # criterion is almost always checked against one pin), compared by identity.
        self._pin_checks: dict[object, tuple[object, bool]] = {}
        # (name, criterion, epoch) -> preference; the criterion is hashed by identity
        self._preferences: dict[tuple[KT, object, object], Preference] = {}
        # name -> (pin, the criterion's information, answer) of the last check computed
        self._last_checks: dict[KT, tuple[CT, tuple[object, ...], bool]] = {}

    def _get_preference(self, name: KT) -> Preference:
        epoch = getattr(self._p, "preference_epoch", None)
        if epoch is None:
            return super()._get_preference(name)
        key = (name, self._states[-1].criteria[name], epoch)
        known = self._preferences.get(key)
        if known is None:
            known = self._preferences[key] = super()._get_preference(name)
        return known

    def _is_current_pin_satisfying(self, name: KT, criterion: Criterion[RT, CT]) -> bool:
        pin = self._states[-1].mapping.get(name)
        if pin is None:
            return False
        known = self._pin_checks.get(criterion)
        if known is None or known[0] is not pin:
            known = self._pin_checks[criterion] = (pin, self._check_pin(name, pin, criterion))
        return known[1]

    def _check_pin(self, name: KT, pin: CT, criterion: Criterion[RT, CT]) -> bool:
        """resolvelib's check, over only the requirements added since the last check of
        *name* against *pin* when that criterion's requirements start this one's.

        resolvelib adds a requirement by copying the list and appending to it, so the
        Requires-Python criterion (one requirement per pinned package) grows by one at a
        time: checked in full each time, that was nine in ten of all the checks.  A pin
        that failed a requirement fails every list that includes it.
        """
        information = tuple(criterion.information)
        last = self._last_checks.get(name)
        if (
            last is not None
            and last[0] is pin
            and len(information) >= len(last[1])
            and all(map(operator.is_, information, last[1]))
        ):
            answer = last[2] and all(
                self._p.is_satisfied_by(requirement=info.requirement, candidate=pin)
                for info in information[len(last[1]) :]
            )
        else:
            answer = super()._is_current_pin_satisfying(name, criterion)
        self._last_checks[name] = (pin, information, answer)
        return answer


class MemoResolver(Resolver[RT, CT, KT]):
    """:class:`resolvelib.Resolver` whose rounds check each (pin, criterion) pair once."""

    # resolvelib's Resolver narrows AbstractResolver.resolve the same way (and ignores it too)
    def resolve(  # type: ignore[override]
        self, requirements: Iterable[RT], max_rounds: int = 100
    ) -> Result[RT, CT, KT]:
        resolution: _MemoResolution[RT, CT, KT] = _MemoResolution(self.provider, self.reporter)
        state = resolution.resolve(requirements, max_rounds=max_rounds)
        return _build_result(state)
