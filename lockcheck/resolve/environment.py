"""The target environment a lock is compiled for.

The lock must not depend on the interpreter that happens to run the hook: markers,
``requires-python`` filtering, wheel tags and the header all come from this object, built once
from ``--python-version`` (or the config), else the running interpreter.
"""

from __future__ import annotations

import itertools
import platform
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from packaging import tags
from packaging.markers import Marker, default_environment
from packaging.version import Version

from lockcheck.errors import InputError
from lockcheck.resolve.markers import MarkerMemo, marker_variables

__all__ = ["TargetEnvironment"]

# A marker's answer depends only on the values of the names it reads (the rest of what
# Marker.evaluate looks at is the running interpreter's, fixed for the process): shared by
# every environment that gives those names the same values.
_ANSWERS: MarkerMemo[tuple, bool] = MarkerMemo()


@dataclass(frozen=True)
class TargetEnvironment:
    """Marker values and wheel tags of the Python a lock is meant for."""

    python_full_version: str
    markers: dict[str, str] = field(hash=False, compare=False)
    # True when the target is the running interpreter: use its exact tags.
    is_running_interpreter: bool = True
    # The exact tags of another interpreter (most preferred first), as that interpreter
    # reported them (see from_interpreter); empty: derived from the version.
    explicit_tags: tuple[tags.Tag, ...] = field(default=(), hash=False, compare=False)
    # The target as the user gave it ("3.11"); empty when none was given.
    requested: str = field(default="", hash=False, compare=False)

    @classmethod
    def current(cls) -> TargetEnvironment:
        env = {key: str(value) for key, value in default_environment().items()}
        return cls(env["python_full_version"], env, True)

    @classmethod
    def for_python(cls, python_version: str | None) -> TargetEnvironment:
        """``"3.11"`` or ``"3.11.4"``; ``None`` means the running interpreter.

        A bare ``X.Y`` that matches the running interpreter keeps its patch level (what
        pip-compile would see); any other ``X.Y`` is taken as ``X.Y.0`` so the result never
        depends on which patch release runs lockcheck.
        """
        current = cls.current()
        if not python_version:
            return current
        try:
            parts = [int(p) for p in python_version.strip().split(".")]
        except ValueError as exc:
            raise InputError(f"invalid Python version {python_version!r}") from exc
        if len(parts) not in (2, 3) or parts[0] < 2:
            raise InputError(f"invalid Python version {python_version!r}; expected X.Y")
        running = sys.version_info[:2]
        requested = ".".join(str(p) for p in parts)
        if len(parts) == 2 and tuple(parts) == running:
            return replace(current, requested=requested)
        full = ".".join(str(p) for p in ([*parts, 0])[:3])
        env = dict(current.markers)
        env["python_version"] = f"{parts[0]}.{parts[1]}"
        env["python_full_version"] = full
        env["implementation_version"] = full
        same = tuple(parts[:2]) == running and full == current.python_full_version
        return cls(full, env, same, requested=requested)

    @classmethod
    def from_interpreter(
        cls, markers: Mapping[str, str], supported_tags: Iterable[str | tags.Tag]
    ) -> TargetEnvironment:
        """The environment another interpreter reported about itself (``sync`` asks the
        target venv's python for ``default_environment()`` and ``sys_tags()``)."""
        parsed: list[tags.Tag] = []
        for tag in supported_tags:
            parsed.extend([tag] if isinstance(tag, tags.Tag) else tags.parse_tag(tag))
        env = dict(markers)
        return cls(env["python_full_version"], env, False, tuple(parsed))

    @property
    def shown_version(self) -> str:
        """The target for messages, as the user gave it: ``--python-version 3.11`` reads
        "Python 3.11", never the patch level of the interpreter that runs lockcheck."""
        return self.requested or self.python_full_version

    @property
    def python_version(self) -> str:
        """``X.Y``, as written in the lock's header."""
        return self.markers["python_version"]

    @cached_property
    def version(self) -> Version:
        return Version(self.python_full_version)

    def evaluate(self, marker: Marker | None, extras: frozenset[str] | None = None) -> bool:
        """Whether *marker* holds here, for the given extras (any of them)."""
        if marker is None:
            return True
        names = marker_variables(marker)
        if names is None:
            return self._evaluate(marker, extras)
        values = self.markers
        key = (frozenset(extras) if extras else None, tuple([values.get(n) for n in names]))
        return _ANSWERS.get(marker, key, lambda: self._evaluate(marker, extras))

    def _evaluate(self, marker: Marker, extras: frozenset[str] | None) -> bool:
        if not extras:
            return marker.evaluate({**self.markers, "extra": ""})
        return any(marker.evaluate({**self.markers, "extra": e}) for e in extras)

    @cached_property
    def supported_tags(self) -> list[tags.Tag]:
        """Most preferred first, as pip orders them."""
        if self.explicit_tags:
            return list(self.explicit_tags)
        if self.is_running_interpreter:
            return list(tags.sys_tags())
        major, minor = (int(x) for x in self.python_version.split("."))
        interpreter = f"cp{major}{minor}"
        platforms = list(tags.platform_tags())
        impl = platform.python_implementation()
        result: list[tags.Tag] = []
        if impl == "CPython":
            result.extend(tags.cpython_tags((major, minor), platforms=platforms))
        else:  # pragma: no cover - other implementations target their own tags
            result.extend(tags.generic_tags(platforms=platforms))
        result.extend(tags.compatible_tags((major, minor), interpreter, platforms))
        return result

    @cached_property
    def tag_priority(self) -> dict[tags.Tag, int]:
        """Tag -> rank (0 is best)."""
        ranks: dict[tags.Tag, int] = {}
        for i, tag in enumerate(self.supported_tags):
            ranks.setdefault(tag, i)
        return ranks

    def best_tag_rank(self, wheel_tags: frozenset[tags.Tag]) -> int:
        """The rank of the best of *wheel_tags* here (``len(tag_priority)``: none is
        supported), kept per tag set: most wheels share a few (``py3-none-any``)."""
        known = self._tag_ranks.get(wheel_tags)
        if known is None:
            priority = self.tag_priority
            unknown = len(priority)
            known = min(map(priority.get, wheel_tags, itertools.repeat(unknown)), default=unknown)
            self._tag_ranks[wheel_tags] = known
        return known

    @cached_property
    def _tag_ranks(self) -> dict[frozenset[tags.Tag], int]:
        return {}

    @cached_property
    def wheel_name_check(self) -> Callable[[str], bool]:
        """Whether a wheel's file name may carry a tag this environment supports, from the
        name alone (a name it cannot read is not refused: the full parse decides).  One
        function per environment, answering once per tag triple: the files of a version
        need no decoding for the wheels it refuses."""
        priority = self.tag_priority
        answers: dict[str, bool] = {}

        def check(filename: str) -> bool:
            parts = filename[:-4].split("-")
            if len(parts) not in (5, 6):
                return True
            triple = "-".join(parts[-3:])
            known = answers.get(triple)
            if known is None:
                try:
                    known = any(tag in priority for tag in tags.parse_tag(triple))
                except tags.InvalidTag:
                    known = True
                answers[triple] = known
            return known

        return check
