"""resolvelib's resolver, with its per-round pin check and preferences remembered.

At every round resolvelib asks, for each package it has met, whether the current pin still
satisfies every requirement on it: pins x requirements calls each round, a third of a
universal lock's CPU.  A pin and a criterion (which resolvelib never mutates: it builds a
new one for each change) give the same answer every time, so the answer is kept per pair;
a criterion that only adds requirements to the last one checked for the same pin has only
the added ones checked.
Likewise a package's preference, for a provider that declares ``preference_epoch``: its
promise that the preference depends only on the package's criterion and that number.
With the resolvelib release whose round loop it follows (:data:`_LOOP_OF`), the rounds
also skip the method call per package and, after a pin, re-check only the packages whose
criterion that pin replaced.  The rounds, their order and the result are resolvelib's own.
"""

from __future__ import annotations

import collections
import itertools
import operator
from collections.abc import Iterable
from typing import TYPE_CHECKING, Generic

import resolvelib
from resolvelib import BaseReporter, Resolver
from resolvelib.providers import AbstractProvider
from resolvelib.resolvers import RequirementsConflicted, ResolutionImpossible, ResolutionTooDeep
from resolvelib.resolvers.resolution import Resolution
from resolvelib.structs import CT, KT, RT, IteratorMapping, State

from lockcheck.resolve.result_graph import build_result

if TYPE_CHECKING:
    from resolvelib.providers import Preference
    from resolvelib.resolvers import Criterion, Result

__all__ = ["MemoResolver"]

#: The resolvelib release whose round loop :meth:`_MemoResolution.resolve` follows; with any
#: other, resolvelib's own loop runs (the memos above still apply).
_LOOP_OF = "1.2.1"


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

    def _unsatisfied(
        self, criteria: dict[KT, Criterion[RT, CT]], mapping: dict[KT, CT]
    ) -> list[KT]:
        """resolvelib's first pass of a round, the names whose pin fails their criterion
        (or that have none), without a method call per name."""
        checks = self._pin_checks
        found = []
        for key, criterion in criteria.items():
            pin = mapping.get(key)
            if pin is None:
                found.append(key)
                continue
            known = checks.get(criterion)
            if known is None or known[0] is not pin:
                known = checks[criterion] = (pin, self._check_pin(key, pin, criterion))
            if not known[1]:
                found.append(key)
        return found

    def resolve(self, requirements: Iterable[RT], max_rounds: int) -> State[RT, CT, KT]:
        """resolvelib 1.2.1's loop, with its two passes over every criterion made cheaper.

        The first pass (which pins fail) runs without a method call per name.  The second,
        after a successful pin (which names that were satisfied no longer are), asks only
        the names whose criterion the pin replaced: every other satisfied name has the same
        criterion object and the same pin as in the first pass, so the same answer.  The
        rest is resolvelib's, line for line.
        """
        if resolvelib.__version__ != _LOOP_OF:
            return super().resolve(requirements, max_rounds)
        if self._states:
            raise RuntimeError("already resolved")

        self._r.starting()

        # Initialize the root state.
        self._states = [
            State(
                mapping=collections.OrderedDict(),
                criteria={},
                backtrack_causes=[],
            )
        ]
        for r in requirements:
            try:
                self._add_to_criteria(self.state.criteria, r, parent=None)
            except RequirementsConflicted as e:
                raise ResolutionImpossible(e.criterion.information) from e

        self._push_new_state()

        optimistic_rounds_cutoff: int | None = None
        optimistic_backjumping_start_round: int | None = None

        for round_index in range(max_rounds):
            self._r.starting_round(index=round_index)

            if self._optimistic_backjumping_ratio and self._save_states is not None:
                if optimistic_backjumping_start_round is None:
                    optimistic_backjumping_start_round = round_index
                    optimistic_rounds_cutoff = int(
                        (max_rounds - round_index) * self._optimistic_backjumping_ratio
                    )

                    if optimistic_rounds_cutoff <= 0:
                        self._rollback_states()
                        continue
                elif optimistic_rounds_cutoff is not None and (
                    round_index - optimistic_backjumping_start_round >= optimistic_rounds_cutoff
                ):
                    self._rollback_states()
                    continue

            before = self.state.criteria.copy()
            unsatisfied_names = self._unsatisfied(before, self.state.mapping)

            if not unsatisfied_names:
                self._r.ending(state=self.state)
                return self.state

            satisfied_names = set(self.state.criteria.keys()) - set(unsatisfied_names)

            if len(unsatisfied_names) > 1:
                narrowed_unstatisfied_names = list(
                    self._p.narrow_requirement_selection(
                        identifiers=unsatisfied_names,
                        resolutions=self.state.mapping,
                        candidates=IteratorMapping(
                            self.state.criteria,
                            operator.attrgetter("candidates"),
                        ),
                        information=IteratorMapping(
                            self.state.criteria,
                            operator.attrgetter("information"),
                        ),
                        backtrack_causes=self.state.backtrack_causes,
                    )
                )
            else:
                narrowed_unstatisfied_names = unsatisfied_names

            if not narrowed_unstatisfied_names:
                raise RuntimeError("narrow_requirement_selection returned 0 names")

            if len(narrowed_unstatisfied_names) > 1:
                name = min(narrowed_unstatisfied_names, key=self._get_preference)
            else:
                name = narrowed_unstatisfied_names[0]

            failure_criterion = self._attempt_to_pin_criterion(name)

            if failure_criterion:
                causes = self._extract_causes(failure_criterion)
                self._r.resolving_conflicts(causes=causes)

                try:
                    success = self._backjump(causes)
                except ResolutionImpossible:
                    if self._optimistic_backjumping_ratio and self._save_states:
                        failed_optimistic_backjumping = True
                    else:
                        raise
                else:
                    failed_optimistic_backjumping = bool(
                        not success and self._optimistic_backjumping_ratio and self._save_states
                    )

                if failed_optimistic_backjumping and self._save_states:
                    self._rollback_states()
                else:
                    self.state.backtrack_causes[:] = causes

                    if not success:
                        raise ResolutionImpossible(self.state.backtrack_causes)
            else:
                # Only the criteria the pin replaced can have stopped being satisfied (the
                # pinned name was not satisfied, so every satisfied one keeps its pin).  The
                # pin updates the criteria in place, so a name keeps its position and the
                # new ones come last: the replaced ones are found by identity, in C.
                criteria = self.state.criteria
                replaced = itertools.compress(
                    before, map(operator.is_not, before.values(), criteria.values())
                )
                newly_unsatisfied_names = {
                    key
                    for key in replaced
                    if key in satisfied_names
                    and not self._is_current_pin_satisfying(key, criteria[key])
                }
                self._remove_information_from_criteria(self.state.criteria, newly_unsatisfied_names)
                self._push_new_state()

            self._r.ending_round(index=round_index, state=self.state)

        raise ResolutionTooDeep(max_rounds)


class MemoResolver(Resolver[RT, CT, KT]):
    """:class:`resolvelib.Resolver` whose rounds check each (pin, criterion) pair once."""

    # resolvelib's Resolver narrows AbstractResolver.resolve the same way (and ignores it too)
    def resolve(  # type: ignore[override]
        self, requirements: Iterable[RT], max_rounds: int = 100
    ) -> Result[RT, CT, KT]:
        resolution: _MemoResolution[RT, CT, KT] = _MemoResolution(self.provider, self.reporter)
        state = resolution.resolve(requirements, max_rounds=max_rounds)
        return build_result(state)  # not resolvelib's: see result_graph
