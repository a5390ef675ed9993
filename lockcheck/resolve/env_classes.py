"""Which environments of a universal grid resolve alike.

A resolution asks its environment only two kinds of question: does this marker hold (input
lines, dependency metadata), and does this Python version satisfy this ``Requires-Python``
(of a file on the index, or of a release's metadata).  Everything else it does is a
deterministic function of the index's answers, which are shared by the whole run.  So an
environment that answers every question a finished resolution asked exactly as that
resolution's environment did would make the very same run, and takes its result without
resolving again.

:class:`RecordingEnvironment` and :class:`RecordingIndex` write the questions down as the
resolution asks them; :meth:`Questions.same_answers` replays them on another environment.
Recording more than the resolution used (the index's prefetch threads ask too) only makes
the test stricter, never wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from lockcheck.models import CoreMetadata, DistFile
from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.resolve.markers import MarkerMemo, marker_variables
from lockcheck.resolve.protocol import Index

__all__ = ["EnvironmentAnswers", "Questions", "RecordingEnvironment", "RecordingIndex"]

_MarkerKey = tuple[str, "frozenset[str] | None"]
#: Each marker's text, by the marker's identity: a question is keyed by it (equal markers of
#: different metadata are one question), and ``str()`` builds it anew each time.
_TEXT: MarkerMemo[None, str] = MarkerMemo()


def _python_fits(spec: SpecifierSet, version: Version) -> bool:
    """Requires-Python as the resolver decides it (an invalid value lets every Python in)."""
    try:
        return spec.contains(version, prereleases=True)
    except InvalidSpecifier:  # pragma: no cover - pip ignores invalid values
        return True


class EnvironmentAnswers:
    """One environment's answers, each computed once however many classes ask it."""

    def __init__(self, env: TargetEnvironment) -> None:
        self.env = env
        self._markers: dict[_MarkerKey, bool] = {}
        self._pythons: dict[int, bool] = {}  # by the specifier's id (Questions keeps it)

    def marker(self, key: _MarkerKey, marker: Marker) -> bool:
        known = self._markers.get(key)
        if known is None:
            known = self._markers[key] = self.env.evaluate(marker, key[1])
        return known

    def python(self, spec: SpecifierSet) -> bool:
        key = id(spec)
        known = self._pythons.get(key)
        if known is None:
            known = self._pythons[key] = _python_fits(spec, self.env.version)
        return known


@dataclass
class Questions:
    """What one resolution asked its environment, with the answers it got."""

    markers: dict[_MarkerKey, tuple[Marker, bool]] = field(default_factory=dict)
    # By the specifier's id (thousands of files share a few objects; str() of each would
    # cost more than the resolution saves); the object is kept so the id stays its own.
    pythons: dict[int, tuple[SpecifierSet, bool]] = field(default_factory=dict)
    version: Version | None = None
    # Set when the resolution took candidate lists another one worked out (see
    # shared_choices): the Requires-Python values behind them are not all written down
    # here, so only an environment of the very same Python version may share the result.
    same_python_only: bool = False
    # The index's prefetch threads evaluate markers too.
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Ids of the file lists already looked at (kept alive in the list beside).
    _seen_files: set[int] = field(default_factory=set)
    _kept: list[object] = field(default_factory=list)

    def marker_asked(self, marker: Marker, extras: frozenset[str] | None, answer: bool) -> None:
        key = (_TEXT.get(marker, None, lambda: str(marker)), frozenset(extras) if extras else None)
        with self.lock:
            self.markers.setdefault(key, (marker, answer))

    def python_asked(self, spec: SpecifierSet | None) -> None:
        if spec is None or self.version is None or id(spec) in self.pythons:
            return
        answer = _python_fits(spec, self.version)
        with self.lock:
            self.pythons.setdefault(id(spec), (spec, answer))

    def files_seen(self, files: Sequence[DistFile]) -> None:
        """Each file's Requires-Python is a question (the resolver filters files by it)."""
        if id(files) in self._seen_files:
            return
        self._seen_files.add(id(files))
        self._kept.append(files)
        # Files share a few specifier objects: each is asked about once.
        for spec in {id(f.requires_python): f.requires_python for f in files}.values():
            self.python_asked(spec)

    def same_answers(self, other: EnvironmentAnswers) -> bool:
        """Whether *other* answers every question asked here as it was answered."""
        if self.same_python_only and other.env.version != self.version:
            return False
        with self.lock:
            pythons = list(self.pythons.values())
            markers = list(self.markers.items())
        if any(other.python(spec) != answer for spec, answer in pythons):
            return False
        return all(other.marker(key, marker) == answer for key, (marker, answer) in markers)


@dataclass(frozen=True)
class RecordingEnvironment(TargetEnvironment):
    """A target environment that writes down each marker it is asked to evaluate."""

    questions: Questions = field(default_factory=Questions, hash=False, compare=False)

    @classmethod
    def of(cls, env: TargetEnvironment, questions: Questions) -> RecordingEnvironment:
        questions.version = env.version
        recording = cls(
            env.python_full_version,
            env.markers,
            env.is_running_interpreter,
            env.explicit_tags,
            env.requested,
            questions,
        )
        # The same target's tag tables: worked out once, not again for each resolution.
        for table in ("supported_tags", "tag_priority", "_tag_ranks"):
            recording.__dict__[table] = getattr(env, table)
        return recording

    def evaluate(self, marker: Marker | None, extras: frozenset[str] | None = None) -> bool:
        answer = super().evaluate(marker, extras)
        # A marker of extras alone answers alike in every environment: no question.
        if marker is not None and marker_variables(marker) != ("extra",):
            self.questions.marker_asked(marker, extras, answer)
        return answer


class _RecordingVersions(Mapping[Version, Sequence[DistFile]]):
    """A project's files by version; each version looked up has its files' Requires-Python
    written down (the resolver filters files by them)."""

    def __init__(self, inner: Mapping[Version, Sequence[DistFile]], questions: Questions):
        self._inner = inner
        self._questions = questions

    def __getitem__(self, version: Version) -> Sequence[DistFile]:
        files = self._inner[version]
        self._questions.files_seen(files)
        return files

    def __iter__(self) -> Iterator[Version]:
        return iter(self._inner)

    def __len__(self) -> int:
        return len(self._inner)

    def __contains__(self, version: object) -> bool:
        return version in self._inner

    def newest_first(self) -> list[Version]:
        """The versions newest first, when the wrapped listing keeps them so (no file is
        looked at: no question)."""
        newest_first = getattr(self._inner, "newest_first", None)
        return newest_first() if newest_first is not None else sorted(self._inner, reverse=True)


class RecordingIndex:
    """An :class:`~lockcheck.resolve.protocol.Index` that writes down every Requires-Python
    the resolver may compare the target with: of the files it looks at, and of the metadata
    it reads.  Everything else is the wrapped index's."""

    def __init__(self, inner: Index, questions: Questions) -> None:
        self._inner = inner
        self._questions = questions

    def project_versions(self, name: NormalizedName) -> Mapping[Version, Sequence[DistFile]]:
        return _RecordingVersions(self._inner.project_versions(name), self._questions)

    def metadata(self, file: DistFile) -> CoreMetadata:
        meta = self._inner.metadata(file)
        self._questions.python_asked(meta.requires_python)
        return meta

    def direct_metadata(
        self, link: str, *, base_dir: Path, editable: bool = False
    ) -> tuple[CoreMetadata, DistFile | None]:
        meta, file = self._inner.direct_metadata(link, base_dir=base_dir, editable=editable)
        self._questions.python_asked(meta.requires_python)
        if file is not None:
            self._questions.python_asked(file.requires_python)
        return meta, file

    def __getattr__(self, name: str) -> Any:
        # project_files, sha256, prefetch hints, cutoff_note: nothing the resolution's
        # choices depend on.
        return getattr(self._inner, name)
