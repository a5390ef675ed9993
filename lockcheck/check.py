"""Drift detection: is each lock still what ``compile`` would write from its inputs?

Drift is data: :func:`check_lock` returns typed :class:`Drift` reasons and renderers (text,
GitHub workflow commands, JSON) only format them.  Two levels:

* structural (offline, milliseconds): every applicable input has a satisfying pin, no pin is
  orphaned, hashes are there when configured, the header agrees with the settings, no
  credentials are written in the file;
* full (default): resolve again with every existing pin preferred and compare the bytes,
  reporting pins added, removed and changed, and why.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections import defaultdict, deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from packaging.utils import NormalizedName, canonicalize_name

from lockcheck.compile import compile_lock, expected_options_block
from lockcheck.errors import IndexUnavailable, InputError, LockcheckError, redact_url
from lockcheck.index.remotefiles import RemoteFileFetcher
from lockcheck.index.settings import merge_index_options
from lockcheck.inputs.builddeps import build_targets
from lockcheck.inputs.reqfile import split_link_extras
from lockcheck.inputs.selection import inputs_are_static, read_settings_inputs
from lockcheck.lockfile.existing import read_any_lock
from lockcheck.lockfile.reader import LockEntry, LockHeader, ParsedLock
from lockcheck.models import DistFile, IndexOptions, LockedPackage, ParsedInputs, Resolution
from lockcheck.options import command_options
from lockcheck.references import DirectReference
from lockcheck.resolve.candidates import is_pinned
from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.settings import target_python
from lockcheck.yanked import yanked_release

if TYPE_CHECKING:
    from lockcheck.index.finder import PackageFinder
    from lockcheck.settings import CompileSettings

__all__ = [
    "CredentialsInLock",
    "Drift",
    "ForeignHash",
    "HeaderMismatch",
    "IndexOptionDrift",
    "LockMissing",
    "LockReport",
    "MissingHashes",
    "MissingPin",
    "OrphanPin",
    "PinAdded",
    "PinChanged",
    "PinRemoved",
    "PythonMismatch",
    "StaleVia",
    "TextDrift",
    "UnsatisfiedPin",
    "YankedPin",
    "check_lock",
    "foreign_hashes",
    "pin_changes",
    "render_github",
    "render_json",
    "render_text",
]


@dataclass(frozen=True)
class Drift:
    """One reason a lock does not match its inputs."""

    kind: ClassVar[str] = "drift"
    lock: str
    line: int | None

    def message(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def done(self) -> str:
        """The reason as a change already made (the compile hook's message)."""
        return self.message()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message(), **asdict(self)}


@dataclass(frozen=True)
class LockMissing(Drift):
    kind: ClassVar[str] = "lock-missing"

    def message(self) -> str:
        return f"{self.lock} does not exist"


@dataclass(frozen=True)
class MissingPin(Drift):
    kind: ClassVar[str] = "missing-pin"
    name: str = ""
    requirement: str = ""
    source: str = ""

    def message(self) -> str:
        return f"{self.requirement} ({self.source}) has no pin in {self.lock}"


@dataclass(frozen=True)
class UnsatisfiedPin(Drift):
    kind: ClassVar[str] = "unsatisfied-pin"
    name: str = ""
    pinned: str = ""
    requirement: str = ""
    source: str = ""

    def message(self) -> str:
        return f"{self.name}=={self.pinned} does not satisfy {self.requirement} ({self.source})"


@dataclass(frozen=True)
class OrphanPin(Drift):
    kind: ClassVar[str] = "orphan-pin"
    name: str = ""
    version: str = ""

    def message(self) -> str:
        return f"{self.name}=={self.version} is pinned but no input needs it any more"


@dataclass(frozen=True)
class StaleVia(Drift):
    """A pin still needed whose ``# via`` names an input that no longer asks for it, or
    misses one that now does: compile changes only the annotation."""

    kind: ClassVar[str] = "stale-via"
    name: str = ""
    version: str = ""
    source: str = ""
    # True: the input asks for the pin but its "# via" does not name the input.
    unnamed: bool = False

    def message(self) -> str:
        if self.unnamed:
            return (
                f"{self.name}=={self.version} is asked for by {self.source}, which its # via "
                "does not name"
            )
        return (
            f"{self.name}=={self.version} is annotated as asked for by {self.source}, "
            "which no longer asks for it"
        )


@dataclass(frozen=True)
class MissingHashes(Drift):
    kind: ClassVar[str] = "missing-hashes"
    name: str = ""

    def message(self) -> str:
        return f"{self.name} has no --hash lines but hashes are configured"


@dataclass(frozen=True)
class HeaderMismatch(Drift):
    kind: ClassVar[str] = "header-option"
    option: str = ""
    expected: str = ""
    found: str = ""

    def message(self) -> str:
        return (
            f"the lock was compiled with {self.found or 'no ' + self.option} "
            f"but the settings say {self.expected or 'no ' + self.option}"
        )


@dataclass(frozen=True)
class PythonMismatch(Drift):
    kind: ClassVar[str] = "python-version"
    expected: str = ""
    found: str = ""

    def message(self) -> str:
        return (
            f"the lock targets Python {self.found} but the settings target Python {self.expected}"
        )


@dataclass(frozen=True)
class CredentialsInLock(Drift):
    kind: ClassVar[str] = "credentials"
    url: str = ""

    def message(self) -> str:
        return f"the lock contains credentials in {self.url}"


@dataclass(frozen=True)
class PinAdded(Drift):
    kind: ClassVar[str] = "pin-added"
    name: str = ""
    version: str = ""
    because: str = ""

    def message(self) -> str:
        return f"{self.name}=={self.version} would be added ({self.because})"

    def done(self) -> str:
        return f"+ {self.name}=={self.version} ({self.because})"


@dataclass(frozen=True)
class PinRemoved(Drift):
    kind: ClassVar[str] = "pin-removed"
    name: str = ""
    version: str = ""

    def message(self) -> str:
        return f"{self.name}=={self.version} would be removed (nothing needs it any more)"

    def done(self) -> str:
        return f"- {self.name}=={self.version}"


@dataclass(frozen=True)
class PinChanged(Drift):
    kind: ClassVar[str] = "pin-changed"
    name: str = ""
    old: str = ""
    new: str = ""
    because: str = ""

    def message(self) -> str:
        return f"{self.name} would change {self.old} -> {self.new} ({self.because})"

    def done(self) -> str:
        return f"{self.name} {self.old} -> {self.new}"


@dataclass(frozen=True)
class ForeignHash(Drift):
    kind: ClassVar[str] = "foreign-hash"
    name: str = ""
    version: str = ""
    digest: str = ""

    def message(self) -> str:
        return (
            f"{self.name}=={self.version} lists {self.digest[:23]}..., which is not a file of "
            f"that release (a hand edit?)"
        )


@dataclass(frozen=True)
class IndexOptionDrift(Drift):
    """An options-block line that the settings would not write: every later ``sync`` reads
    its index, find-links and trusted hosts from the lock, so an edit here redirects it."""

    kind: ClassVar[str] = "index-option"
    option: str = ""
    found: tuple[str, ...] = ()
    expected: tuple[str, ...] = ()

    def message(self) -> str:
        found, expected = _listed(self.found), _listed(self.expected)
        if not self.found:
            return f"{self.lock}: {self.option} is missing but the settings give {expected}"
        settings = f"give {expected}" if self.expected else "write none"
        return f"{self.lock}: {self.option} is {found} but the settings {settings}"


def _listed(values: Sequence[str]) -> str:
    return ", ".join(v or "set" for v in values)


@dataclass(frozen=True)
class YankedPin(Drift):
    """A pin of a release its index has yanked since (or was yanked when pinned): the lock
    may still match its inputs, but what it installs was pulled, for the reason given."""

    kind: ClassVar[str] = "yanked"
    name: str = ""
    version: str = ""
    reason: str | None = None

    def message(self) -> str:
        why = f": {self.reason}" if self.reason else " (no reason given)"
        return (
            f"{self.name}=={self.version} is yanked{why}; pin another version, or list "
            f"{self.name} in allow-yanked"
        )


@dataclass(frozen=True)
class TextDrift(Drift):
    kind: ClassVar[str] = "text"
    summary: str = ""

    def message(self) -> str:
        return self.summary


@dataclass
class LockReport:
    """The verdict on one lock."""

    lock: str
    reasons: list[Drift] = field(default_factory=list)
    fix: str = ""
    diff: str = ""
    error: str | None = None
    # What the verdict could not cover (e.g. inputs nobody names), said in one line.
    note: str = ""
    # Files the verdict depends on, and whether a stamp may stand for it (see stamps.py).
    files: list[Path] = field(default_factory=list)
    cacheable: bool = False

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        return "drift" if self.reasons else "clean"

    def to_dict(self) -> dict[str, Any]:
        return {
            "lock": self.lock,
            "status": self.status,
            "reasons": [r.to_dict() for r in self.reasons],
            "fix": self.fix if self.reasons else "",
            "diff": self.diff,
            "error": self.error,
            "note": self.note,
        }


# ----------------------------------------------------------------------------------------
# pin comparison (shared with the compile hook's message)
# ----------------------------------------------------------------------------------------


def _pins(text: str, name: str) -> dict[tuple[NormalizedName, str], LockEntry]:
    """Entries by (name, marker): a universal lock may pin one name once per environment."""
    return _by_pin(read_any_lock(text, Path(name)))


def _by_pin(lock: ParsedLock) -> dict[tuple[NormalizedName, str], LockEntry]:
    return {(e.package.name, str(e.package.marker or "")): e for e in lock.entries}


def _because(pkg: LockedPackage) -> str:
    via = list(getattr(pkg, "via", ()) or ())
    inputs = [v for v in via if v.startswith(("-r ", "-c ")) or " (" in v]
    if inputs:
        return "asked for by " + ", ".join(inputs)
    if via:
        return "needed by " + ", ".join(via)
    return "resolution changed"


def pin_changes(old_text: str | None, new_text: str, lock: str) -> list[Drift]:
    """Pins added, removed and changed between two renderings of a lock."""
    old = _pins(old_text or "", lock) if old_text and old_text.strip() else {}
    new = _pins(new_text, lock)
    out: list[Drift] = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        name = key[0] + (f" ; {key[1]}" if key[1] else "")
        if before is None and after is not None:
            pkg = after.package
            version = str(pkg.version) if pkg.version else (pkg.link or "")
            out.append(PinAdded(lock, None, name, version, _because(pkg)))
        elif after is None and before is not None:
            pkg = before.package
            version = str(pkg.version) if pkg.version else (pkg.link or "")
            out.append(PinRemoved(lock, before.line, name, version))
        elif before is not None and after is not None:
            a, b = before.package, after.package
            if (a.version, a.link) != (b.version, b.link):
                out.append(
                    PinChanged(
                        lock,
                        before.line,
                        name,
                        str(a.version or a.link),
                        str(b.version or b.link),
                        _because(b),
                    )
                )
    return out


# ----------------------------------------------------------------------------------------
# structural level
# ----------------------------------------------------------------------------------------

_URL_CREDENTIALS = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://(?P<userinfo>[^/@\s]+)@[^\s]+")


def _credentials(text: str, lock: str) -> list[Drift]:
    out: list[Drift] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _URL_CREDENTIALS.finditer(line):
            link = DirectReference.parse(match.group(0))
            if match.group("userinfo") == "****" or link.redacted == link.link:
                continue  # masked already, or a bare SSH user (what compile writes)
            out.append(CredentialsInLock(lock, number, redact_url(match.group(0))))
    return out


def _expected_header_options(settings: CompileSettings) -> dict[str, object]:
    options = command_options(settings)
    for volatile in ("--python-version",):
        options.pop(volatile, None)
    return options


_CONTENT_OPTIONS = {
    # The cut-off as given (a duration stays a duration: the window moving is no drift).
    "--exclude-newer",
    "--exclude-newer-package",
    "--generate-hashes",
    "--allow-unsafe",
    "--strip-extras",
    "--extra",
    "--all-extras",
    "--group",
    "--pre",
    "--unsafe-package",
    "--annotate",
    "--annotation-style",
    "--emit-options",
    "--emit-index-url",
    "--emit-trusted-host",
    "--emit-find-links",
    "--constraint",
    "--build-deps-for",
    "--all-build-deps",
    "--only-build-deps",
    # Where sync downloads from: an edited header must not pass for the settings' own.
    "--index-url",
    "--extra-index-url",
    "--find-links",
    "--trusted-host",
}


def _header_drift(
    header: LockHeader | None, settings: CompileSettings, env_python: str, lock: str
) -> list[Drift]:
    out: list[Drift] = []
    if header is None:
        return out
    if header.python_version and header.python_version != env_python:
        out.append(PythonMismatch(lock, header.line, env_python, header.python_version))
    if header.options is None or header.tool != "lockcheck":
        return out
    found = {k: v for k, v in header.options.items() if k in _CONTENT_OPTIONS}
    expected = {
        k: v for k, v in _expected_header_options(settings).items() if k in _CONTENT_OPTIONS
    }
    for option in sorted(set(found) | set(expected)):
        f, e = found.get(option), expected.get(option)
        if _norm_option(f) != _norm_option(e):
            out.append(
                HeaderMismatch(
                    lock,
                    header.command_line,
                    option,
                    _show_option(option, e),
                    _show_option(option, f),
                )
            )
    return out


def _norm_option(value: object) -> object:
    """Comparable form; credentials masked (the header never holds them in clear)."""
    if isinstance(value, (list, tuple)):
        return tuple(sorted(redact_url(str(v)) for v in value))
    return redact_url(value) if isinstance(value, str) else value


def _show_option(option: str, value: object) -> str:
    if value is None:
        return ""
    if value is True:
        return option
    if value is False:
        return "--no-" + option[2:]
    if isinstance(value, (list, tuple)):
        return " ".join(f"{option}={redact_url(str(v))}" for v in value)
    return f"{option}={redact_url(str(value))}"


#: Options-block lines that say where packages come from (and so where ``sync`` goes).
INDEX_OPTIONS = ("--index-url", "--extra-index-url", "--find-links", "--trusted-host", "--no-index")


def names_an_index(settings: CompileSettings) -> bool:
    """Whether the project's own settings (command line, config file) name index options;
    pip's ambient settings (pip.conf, ``PIP_INDEX_URL``) are not in these fields."""
    return bool(
        settings.network.index_url
        or settings.network.extra_index_urls
        or settings.network.find_links
        or settings.network.trusted_hosts
        or settings.network.no_index
    )


def _option_drift(
    lock: ParsedLock,
    settings: CompileSettings,
    inputs: ParsedInputs,
    label: str,
    *,
    index_options: bool = True,
) -> list[Drift]:
    """Options-block lines that differ from what compile writes (credentials masked);
    *index_options* False leaves the index lines out of the comparison."""
    if type(lock) is not ParsedLock:
        return []  # a ParsedPylock: pylock.toml has no options block
    expected: dict[str, list[str]] = defaultdict(list)
    for text in expected_options_block(settings, inputs):
        option, _, value = text.partition(" ")
        expected[option].append(value)
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for number, option, value in lock.option_lines:
        found[option].append((number, redact_url(value)))
    compared = set(expected) | set(found)
    if not index_options:
        compared -= set(INDEX_OPTIONS)
    out: list[Drift] = []
    for option in sorted(compared):
        want = expected.get(option, [])
        have = found.get(option, [])
        values = [value for _, value in have]
        if sorted(values) == sorted(want):
            continue
        stray = [number for number, value in have if value not in want]
        line = stray[0] if stray else (have[0][0] if have else None)
        out.append(IndexOptionDrift(label, line, option, tuple(values), tuple(want)))
    return out


def structural_drift(
    settings: CompileSettings,
    inputs: ParsedInputs,
    lock_text: str,
    lock_label: str,
    *,
    orphans: bool = True,
    index_options: bool = True,
) -> list[Drift]:
    """Every rule that needs no network (*inputs*: the settings' ParsedInputs); *orphans*
    False when the inputs are a guess, so a pin another input needs is not called one;
    *index_options* False when nothing the project says names the lock's index."""
    env = TargetEnvironment.for_python(target_python(settings.target, lock_text))
    cwd = settings.cwd or Path.cwd()
    lock_path = cwd / _output_file(settings)
    lock = read_any_lock(lock_text, lock_path)
    reasons: list[Drift] = list(_credentials(lock_text, lock_label))
    reasons += _header_drift(lock.header, settings, env.python_version, lock_label)
    reasons += _option_drift(lock, settings, inputs, lock_label, index_options=index_options)
    # A universal lock may pin a name once per environment: judge the pin for the target.
    entries: dict[NormalizedName, LockEntry] = {}
    for e in lock.entries:
        marker = e.package.marker
        if e.package.name not in entries or marker is None or env.evaluate(marker):
            entries[e.package.name] = e
    extras = frozenset(canonicalize_name(e) for e in settings.target.extras) or None
    roots: set[NormalizedName] = set()
    asking: dict[NormalizedName, set[str]] = defaultdict(set)  # pin -> inputs that ask
    for req in (*inputs.requirements, *inputs.constraints):
        r = req.requirement
        if r is not None and r.marker is not None and not env.evaluate(r.marker, extras):
            continue
        name = req.name or _pin_of_link(req.link, cwd, lock, lock_path.parent)
        if name is None:
            continue  # a path whose project name needs a build: the full check covers it
        entry = entries.get(name)
        constraint = req.constraint or req in inputs.constraints
        if not constraint:
            roots.add(name)
            asking[name].add(req.source)
        if entry is None:
            if not constraint:
                reasons.append(MissingPin(lock_label, None, name, str(r), req.source))
            continue
        pkg = entry.package
        if entry.commented or pkg.version is None or r is None or r.url:
            continue
        if not r.specifier.contains(pkg.version, prereleases=True):
            reasons.append(
                UnsatisfiedPin(lock_label, entry.line, name, str(pkg.version), str(r), req.source)
            )
    if orphans:
        reasons += _orphans(lock, roots, lock_label, _backend_labels(settings))
        # A pin already named for another reason needs no word on its annotation.
        named = {r.name for r in reasons if isinstance(r, (OrphanPin, UnsatisfiedPin))}
        reasons += _stale_vias(lock, inputs, lock_label, named, asking)
    if settings.output.generate_hashes:
        for entry in lock.entries:
            pkg = entry.package
            if entry.commented or pkg.editable or pkg.hashes:
                continue
            if pkg.link and not DirectReference.parse(pkg.link).hashable:
                continue
            reasons.append(MissingHashes(lock_label, entry.line, pkg.name))
    return reasons


def _pin_of_link(
    link: str | None, cwd: Path, lock: ParsedLock, lock_dir: Path
) -> NormalizedName | None:
    """The pin of an input that names only a link (``./name-1.0.tar.gz``: its name needs a
    build): the lock entry whose link points at the same place.  Inputs' relative paths are
    relative to the working folder (as pip reads them), the lock's to its own folder."""
    if not link:
        return None
    place = DirectReference.parse(split_link_extras(link)[0]).place(cwd)
    for entry in lock.entries:
        written = entry.package.link
        if (
            written
            and DirectReference.parse(split_link_extras(written)[0]).place(lock_dir) == place
        ):
            return entry.package.name
    return None


def _stale_vias(
    lock: ParsedLock,
    inputs: ParsedInputs,
    label: str,
    gone: set[str],
    asking: Mapping[NormalizedName, set[str]],
) -> list[StaleVia]:
    """Pins (not in *gone*: named for another reason) whose ``# via`` names an input that no longer
    names them, or does not name one that does (*asking*: pin -> the requirement files whose
    applicable lines ask for it).  Only labels the inputs themselves carry are judged, and
    only files whose every requirement has a name (a path needing a build might be anything);
    a lock written without annotations has nothing to judge."""
    asked: dict[str, set[str]] = defaultdict(set)
    unnamed: set[str] = set()
    for req in (*inputs.requirements, *inputs.constraints):
        if req.name is None:
            unnamed.add(req.source)
        else:
            asked[req.source].add(req.name)
    out: list[StaleVia] = []
    entries = [e for e in lock.entries if not e.commented]
    if not any(e.package.via for e in entries):
        return out
    for e in entries:
        pkg = e.package
        if pkg.name in gone:
            continue
        version = str(pkg.version or "")
        for source in pkg.via:
            if source in asked and source not in unnamed and pkg.name not in asked[source]:
                out.append(StaleVia(label, e.line, pkg.name, version, source))
        for source in sorted(asking.get(pkg.name, set()) - set(pkg.via)):
            if source.startswith("-r ") and source not in unnamed:
                out.append(StaleVia(label, e.line, pkg.name, version, source, unnamed=True))
    return out


def _backend_labels(settings: CompileSettings) -> tuple[str, ...]:
    """The ends of the ``# via`` labels pip-compile gives what a build backend's hooks asked
    for: the structural level asks no backend, so those pins count as asked for."""
    return tuple(f"::build-system.backend::{t})" for t in build_targets(settings.target))


def _orphans(
    lock: ParsedLock, roots: set[NormalizedName], label: str, asked_by_backend: tuple[str, ...] = ()
) -> list[Drift]:
    entries = [e for e in lock.entries if not e.commented]
    if not entries or not any(e.package.via for e in entries):
        return []  # written with --no-annotate: the graph is not in the file
    children: dict[str, list[LockEntry]] = defaultdict(list)
    for e in entries:
        for parent in e.package.via:
            children[canonicalize_name(parent)].append(e)
    seen: set[str] = set()
    # pip-compile --all-build-deps pins what the backend asked for "via myapp
    # (pyproject.toml::build-system.backend::wheel)": asked for, like an input's own.
    queue = deque(
        e
        for e in entries
        if e.package.name in roots or any(v.endswith(asked_by_backend) for v in e.package.via)
    )
    queue.extend(e for e in entries if e.package.editable)
    # A commented unsafe entry ("# requests") is there because something needs it, but its
    # own "# via" is not written: what it needs is reachable, not orphaned.
    for commented in (e for e in lock.entries if e.commented):
        queue.extend(children.get(commented.package.name, ()))
    while queue:
        e = queue.popleft()
        if e.package.name in seen:
            continue
        seen.add(e.package.name)
        queue.extend(children.get(e.package.name, ()))
    out: list[Drift] = []
    for e in entries:
        if e.package.name not in seen:
            out.append(OrphanPin(label, e.line, e.package.name, str(e.package.version or "")))
    return out


# ----------------------------------------------------------------------------------------
# the whole check
# ----------------------------------------------------------------------------------------


def check_lock(
    settings: CompileSettings,
    *,
    offline: bool = False,
    fix: str = "",
    label: str | None = None,
    inputs_known: bool = True,
    allow_yanked: frozenset[str] = frozenset(),
) -> LockReport:
    """Check one lock (``settings.target.output_file``) against its inputs; never writes.

    With *inputs_known* False (a custom header command or no header, and no config naming
    the lock) only what the lock itself shows is judged, offline: a reason that rests on a
    guessed input would be a false alarm, and the report says what was left out.
    The full level also asks the index which pins are yanked now (*allow_yanked*: the
    project names it accepts anyway); offline, the report says that was not asked."""
    cwd = (settings.cwd or Path.cwd()).resolve()
    output = _output_file(settings)
    path = output if output.is_absolute() else cwd / output
    name = label or output.as_posix()
    report = LockReport(name, fix=fix)
    if not path.exists():
        report.reasons.append(LockMissing(name, None))
        return report
    text = path.read_bytes().decode("utf-8", errors="replace")
    inputs, unread = _read_inputs(settings, cwd, offline=offline, inputs_known=inputs_known)
    unchecked = [
        f"{url} was not checked (no copy from an online run)" for url in inputs.unchecked_remote
    ]
    report.files = [path, *(Path(f) for f in inputs.files)]
    report.files += [cwd / f for f in settings.target.constraint_files]
    report.cacheable = inputs_are_static(settings, inputs, cwd)
    # A lock whose command is unknown may have named its index on that command line: only
    # the project's own settings can say it should be another (pip.conf is CI's, not its).
    index_options = inputs_known or names_an_index(settings)
    report.reasons.extend(
        structural_drift(
            settings,
            inputs,
            text,
            name,
            # an unread remote file may be what needs a pin: no orphan is then certain
            orphans=inputs_known and not unchecked,
            index_options=index_options,
        )
    )
    if not inputs_known:
        index_lines = "" if index_options else _index_lines_as_written(text, path)
        report.note = _guessed_inputs_note(report, settings, unread, unchecked, index_lines)
        if not offline:
            report.reasons.extend(_foreign_hashes_on_index(text, path, name, settings))
        return report
    if offline:
        report.note = "; ".join(["yanked pins were not checked (offline)", *unchecked])
        return report
    _full_check(report, settings, text, inputs, allow_yanked)
    return report


def _output_file(settings: CompileSettings) -> Path:
    """The lock the settings write (every lock target names one)."""
    if settings.target.output_file is None:
        raise InputError("no lock to check: the output file is not known")
    return settings.target.output_file


def _read_inputs(
    settings: CompileSettings, cwd: Path, *, offline: bool, inputs_known: bool
) -> tuple[ParsedInputs, str]:
    """The lock's inputs as the structural level reads them, and why they could not be read
    (``""`` when they were).  Remote -r/-c files are fetched online and read from the last
    fetched copy offline; inputs that are only a guess and cannot be read are no error."""
    environ = dict(os.environ if settings.environ is None else settings.environ)
    remote_index = merge_index_options(
        replace(settings.network, offline=offline or settings.network.offline),
        IndexOptions(),
        environ,
    )
    try:
        # The structural level asks no build backend for build dependencies (offline,
        # fast): the full level compiles them.
        with RemoteFileFetcher(remote_index, environ=environ) as fetch:
            if not settings.target.src_files:
                return ParsedInputs(), ""
            return read_settings_inputs(settings, cwd, build_hooks=False, fetch=fetch), ""
    except (InputError, IndexUnavailable) as exc:  # IndexUnreachable: a remote -c/-r
        if inputs_known:
            raise
        guessed = ", ".join(p.as_posix() for p in settings.target.src_files)
        return ParsedInputs(), f"{guessed} could not be read: {redact_url(str(exc))}"


def _guessed_inputs_note(
    report: LockReport,
    settings: CompileSettings,
    unread: str,
    unchecked: Sequence[str],
    index_lines: str,
) -> str:
    """What a check of a lock whose header does not name its inputs left out.  The command
    may have edited its output (openedx's `make upgrade` deletes the Django pin): what the
    guessed input asks for is said, never counted as drift (it is taken out of *report*)."""
    guessed = ", ".join(p.as_posix() for p in settings.target.src_files)
    as_input = f" (with {guessed} as one of its inputs)" if guessed and not unread else ""
    guesses = [r for r in report.reasons if isinstance(r, _GUESSED_REASONS)]
    report.reasons = [r for r in report.reasons if not isinstance(r, _GUESSED_REASONS)]
    aside = "not counted: " + "; ".join(r.message() for r in guesses) if guesses else unread
    return (
        "its header does not name its inputs, so only what the lock shows was checked"
        + as_input
        + (f" ({aside})" if aside else "")
        + "; name them in [tool.lockcheck] for a full check"
        + index_lines
        + "".join(f"; {line}" for line in unchecked)
    )


def _full_check(
    report: LockReport,
    settings: CompileSettings,
    text: str,
    inputs: ParsedInputs,
    allow_yanked: frozenset[str],
) -> None:
    """The full level: compile again with every pin preferred and compare the bytes, then
    ask which pins are yanked now; the reasons (and diff, fix) go into *report*."""
    name = report.lock
    try:
        online = replace(settings.network, offline=False)
        result = compile_lock(replace(settings, network=online, dry_run=True))
    except LockcheckError as exc:
        if not report.reasons:
            raise
        # What the lock itself shows is drift whatever the resolution says.
        report.note = f"the full check stopped: {redact_url(str(exc)).splitlines()[0]}"
        return
    # The compile is the authority on pins: a structural reason it contradicts is not what
    # the fix would change, so it is dropped rather than shown as the cause.
    same = result.text == text or _same_body_of_pip_compile_lock(text, result.text)
    compiled = {} if same else _pins(result.text, name)
    kept: set[tuple[str, str]] = {(k[0], str(e.package.version or "")) for k, e in compiled.items()}
    kept |= {(k[0], source) for k, e in compiled.items() for source in e.package.via}
    report.reasons = [r for r in report.reasons if not _contradicted(r, same, kept)]
    report.reasons.extend(foreign_hashes(text, name, result.resolution))
    if not same:
        changes = pin_changes(text, result.text, name)
        known = {getattr(r, "name", None) for r in report.reasons}
        report.reasons.extend(c for c in changes if getattr(c, "name", None) not in known)
        if not report.reasons:
            report.reasons.extend(_text_changes(text, result.text, name))
        report.diff = _short_diff(text, result.text, name)
    yanked = _yanked_pins(text, name, result.resolution, settings, inputs, allow_yanked)
    if yanked and not report.reasons:
        report.fix = _yanked_fix(yanked, inputs, report.fix)
    report.reasons.extend(yanked)


def _yanked_pins(
    text: str,
    name: str,
    resolution: Resolution,
    settings: CompileSettings,
    inputs: ParsedInputs,
    allowed: frozenset[str],
) -> list[YankedPin]:
    """Pins of *text* whose release is yanked now, unless *allowed*.  The compile's
    resolution knows the files of every pin it kept; a pin it would change is looked up."""
    allowed = frozenset(canonicalize_name(n) for n in allowed)
    out: list[YankedPin] = []
    finder = None
    try:
        for entry in read_any_lock(text, Path(name)).entries:
            pkg = entry.package
            if entry.commented or pkg.version is None or pkg.link or pkg.name in allowed:
                continue
            resolved = resolution.packages.get(pkg.name)
            files: Sequence[DistFile]
            if resolved is not None and resolved.version == pkg.version:
                files = resolved.files
            else:
                finder = finder or _plain_finder(settings, inputs)
                files = finder.project_versions(pkg.name).get(pkg.version, ())
            found = yanked_release(pkg.name, pkg.version, files)
            if found is not None:
                out.append(YankedPin(name, entry.line, pkg.name, str(pkg.version), found.reason))
    finally:
        if finder is not None:
            finder.close()
    return out


def _yanked_fix(yanked: list[YankedPin], inputs: ParsedInputs, fix: str) -> str:
    """The compile that moves off the yanked pins; an input that pins one exactly must be
    edited instead (compile takes a yanked release for an exact pin, as pip does)."""
    names = sorted({y.name for y in yanked})
    exact: dict[str, str] = {
        req.name: req.source
        for req in (*inputs.requirements, *inputs.constraints)
        if req.name is not None
        and req.requirement is not None
        and is_pinned(req.requirement.specifier)
    }
    edits = [f"{exact[n]} ({n})" for n in names if n in exact]
    if edits:
        return f"pin another version in {', '.join(edits)}, then {fix}"
    return " ".join([fix, *(f"--upgrade-package {n}" for n in names)])


def _plain_finder(settings: CompileSettings, inputs: ParsedInputs) -> PackageFinder:
    """A finder on the lock's indexes without a cut-off: a yank is a yank at any age."""
    from lockcheck.index.finder import PackageFinder  # here: it imports httpx

    environ = dict(os.environ if settings.environ is None else settings.environ)
    return PackageFinder(merge_index_options(settings.network, inputs.options, environ))


_PIN_REASONS = (OrphanPin, MissingPin, UnsatisfiedPin, MissingHashes, StaleVia)
#: Reasons that rest on the inputs alone: a guess when the header does not name them.
_GUESSED_REASONS = (MissingPin, UnsatisfiedPin)


def _contradicted(reason: Drift, same: bool, kept: set[tuple[str, str]]) -> bool:
    """Whether the compiled lock shows *reason* to be wrong: any pin-level reason when the
    compile writes the lock as it is; an orphan the compile keeps, or a ``# via`` it still
    writes (*kept*: its (name, version) and (name, via source) pairs)."""
    if not isinstance(reason, _PIN_REASONS):
        return False
    if isinstance(reason, StaleVia):  # compile's "# via" must show the change
        return same or ((reason.name, reason.source) in kept) != reason.unnamed
    return same or (isinstance(reason, OrphanPin) and (reason.name, reason.version) in kept)


#: The parts of a pin's entry that can differ while the pin itself does not.
_PIN_TEXT_PARTS = (
    ("via", "the # via annotations of {} differ"),
    ("hashes", "the --hash lines of {} differ"),
    ("extras", "the extras written on {} differ"),
)


def _text_changes(old: str, new: str, lock: str) -> list[Drift]:
    """What differs when no pin does: annotations, hashes, order, the unsafe section."""
    before, after = read_any_lock(old, Path(lock)), read_any_lock(new, Path(lock))
    old_pins, new_pins = _by_pin(before), _by_pin(after)  # a name may be pinned per marker
    common = [k for k in old_pins if k in new_pins]
    out: list[Drift] = []

    for attribute, template in _PIN_TEXT_PARTS:
        keys = [
            k
            for k in common
            if getattr(old_pins[k].package, attribute) != getattr(new_pins[k].package, attribute)
        ]
        if keys:
            summary = template.format(_listed(list(dict.fromkeys(name for name, _ in keys))))
            out.append(TextDrift(lock, old_pins[keys[0]].line, summary))
    new_order = [k for k in new_pins if k in old_pins]
    if common != new_order:
        first = next(i for i, (a, b) in enumerate(zip(common, new_order, strict=True)) if a != b)
        out.append(
            TextDrift(
                lock,
                old_pins[common[first]].line,
                f"the pins are not in compile's order ({new_order[first][0]} comes before "
                f"{common[first][0]}: sorted by normalised name)",
            )
        )
    unsafe_before = getattr(before, "unsafe_section_line", None)  # pylock.toml has none
    if (unsafe_before is None) != (getattr(after, "unsafe_section_line", None) is None):
        out.append(TextDrift(lock, unsafe_before, "the unsafe section differs"))
    if not out:
        out.append(TextDrift(lock, None, "the lock's text differs from what compile writes"))
    return out


_PIP_COMPILE_HEADER = "#\n# This file is autogenerated by pip-compile"  # any form since 5.0


def _body(text: str) -> str:
    """The lock without its leading comment block (the header)."""
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        i += 1
    return "\n".join(lines[i:])


def _same_body_of_pip_compile_lock(on_disk: str, compiled: str) -> bool:
    """A lock pip-compile wrote matches when all but its header does: teams switching over
    can gate with lockcheck while some still run pip-compile (the header differs by design).
    """
    normal = on_disk.replace("\r\n", "\n")
    return normal.startswith(_PIP_COMPILE_HEADER) and _body(on_disk) == _body(compiled)


def foreign_hashes(text: str, name: str, resolution: Resolution) -> list[ForeignHash]:
    """``--hash`` lines of *text* that belong to no file of *resolution*'s release.

    A pin listing only some of its release's files is not drift: pip-compile keeps an
    existing pin's hashes (a file uploaded later is not added) and so does compile."""
    return _foreign(text, name, _hashed_entries(text, name, resolution))


def _foreign(
    text: str, name: str, hashed: Iterator[tuple[LockEntry, set[str]]]
) -> list[ForeignHash]:
    """The digests of each (entry, the release's digests) in *hashed* that are not its."""
    out: list[ForeignHash] = []
    lines = text.replace("\r\n", "\n").split("\n")
    for entry, known in hashed:
        pkg = entry.package
        # Only sha256 is known for every file; another algorithm's digest cannot be judged.
        for digest in sorted(d for d in pkg.hashes if d.startswith("sha256:") and d not in known):
            line = _line_of(lines, digest, entry.line, entry.end_line)
            out.append(ForeignHash(name, line, pkg.name, str(pkg.version), digest))
    return out


def _hashed_entries(
    text: str, name: str, resolution: Resolution
) -> Iterator[tuple[LockEntry, set[str]]]:
    """(entry, the release's ``sha256:<hex>`` digests) per hashed pin whose version the
    resolution kept (a changed pin is reported as such)."""
    for entry in read_any_lock(text, Path(name)).entries:
        pkg = entry.package
        resolved = resolution.packages.get(pkg.name)
        if not pkg.hashes or resolved is None or resolved.version != pkg.version:
            continue
        known = {f"sha256:{f.hashes['sha256']}" for f in resolved.files if f.hashes.get("sha256")}
        known.update(resolved.hashes)
        if known:
            yield entry, known


def _index_lines_as_written(text: str, path: Path) -> str:
    """The note's clause for index lines left uncompared (credentials masked), or ""."""
    lines = [
        f"{option} {redact_url(value)}".strip()
        for _, option, value in getattr(read_any_lock(text, path), "option_lines", ())
        if option in INDEX_OPTIONS
    ]
    return f"; its index lines were taken as written ({', '.join(lines)})" if lines else ""


def _foreign_hashes_on_index(
    text: str, path: Path, name: str, settings: CompileSettings
) -> list[ForeignHash]:
    """Foreign hashes of a lock that is not resolved again: each hashed pin's release is
    looked up on the index the lock itself names (where ``sync`` will fetch it)."""
    from lockcheck.index.finder import PackageFinder  # here: it imports httpx

    lock = read_any_lock(text, path)
    hashed = [e for e in lock.entries if e.package.hashes and e.package.version is not None]
    if not hashed:
        return []
    environ = dict(os.environ if settings.environ is None else settings.environ)
    file_opts = getattr(lock, "options", None) or IndexOptions()
    index = merge_index_options(settings.network, file_opts, environ)
    with PackageFinder(index, environ=environ) as finder:
        finder.prefetch_pages(e.package.name for e in hashed)

        def digests(entry: LockEntry) -> set[str]:
            pkg = entry.package
            if pkg.version is None:  # not hashed: a pin has a version
                return set()
            files = finder.project_versions(pkg.name).get(pkg.version, ())
            listed = {f"sha256:{f.hashes['sha256']}" for f in files if f.hashes.get("sha256")}
            if set(pkg.hashes) <= listed or all(f.hashes.get("sha256") for f in files):
                return listed
            return {f"sha256:{finder.sha256(f)}" for f in files}

        return _foreign(text, name, ((e, known) for e in hashed if (known := digests(e))))


def _line_of(lines: Sequence[str], needle: str, first: int, last: int) -> int:
    """The 1-based line in [first, last] that contains *needle*, else *first*."""
    for number in range(first, min(last, len(lines)) + 1):
        if needle in lines[number - 1]:
            return number
    return first


def _short_diff(old: str, new: str, name: str, limit: int = 60) -> str:
    lines = list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            f"{name} (on disk)",
            f"{name} (compiled)",
            n=1,
            lineterm="",
        )
    )
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# renderers
# ----------------------------------------------------------------------------------------


def render_text(reports: Sequence[LockReport]) -> str:
    out: list[str] = []
    for report in reports:
        if report.status == "clean":
            note = f" as far as can be known: {report.note}" if report.note else ""
            out.append(f"{report.lock}: up to date{note}")
            continue
        if report.status == "error":
            out.append(f"{report.lock}: error: {report.error}")
            continue
        yanked_only = all(isinstance(r, YankedPin) for r in report.reasons)
        verdict = "pins a yanked release" if yanked_only else "does not match its inputs"
        out.append(f"{report.lock}: {verdict}")
        if report.note:
            out.append(f"  ({report.note})")
        for reason in report.reasons:
            where = f"line {reason.line}: " if reason.line else ""
            out.append(f"  - {where}{reason.message()}")
        if report.diff:
            out.append("")
            out.extend("    " + line for line in report.diff.splitlines())
            out.append("")
        out.append(f"  fix: {report.fix}")
    return "\n".join(out) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(reports: Sequence[LockReport]) -> str:
    """GitHub Actions workflow commands: drift shows on the pull request's files."""
    out: list[str] = []
    for report in reports:
        file = _escape_property(report.lock)
        if report.status == "error":
            out.append(f"::error file={file},title=lockcheck::{_escape_data(report.error or '')}")
            continue
        for reason in report.reasons:
            line = f",line={reason.line}" if reason.line else ""
            message = f"{reason.message()}. Fix: {report.fix}"
            out.append(f"::error file={file}{line},title=lockcheck drift::{_escape_data(message)}")
        if report.status == "clean":
            out.append(f"{report.lock}: up to date")
    return "\n".join(out) + "\n"


def render_json(reports: Sequence[LockReport], exit_code: int) -> str:
    payload: Mapping[str, Any] = {
        "exit_code": exit_code,
        "locks": [r.to_dict() for r in reports],
    }
    return json.dumps(payload, indent=2, sort_keys=True) + "\n"
