"""``lockcheck upgrade``: move pins forward on purpose, and say what moved.

An update bot (or a person) runs this instead of hand-picking ``--upgrade``/``--upgrade-package``
for each lock: every configured lock is recompiled with its own settings, so the header stays
the one ``check`` expects and the gate passes afterwards.  The change is reported as data
(:class:`PinUpdate`) that renders as a table for a terminal, JSON for scripts and Markdown for
a pull-request body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lockcheck.errors import InputError
from lockcheck.lockfile.existing import read_any_lock

if TYPE_CHECKING:
    from lockcheck.settings import CompileSettings

__all__ = [
    "LockUpgrade",
    "PinUpdate",
    "render_json",
    "render_markdown",
    "render_table",
    "upgrade_settings",
]

Kind = Literal["added", "removed", "upgraded", "downgraded", "changed"]

_PYPI_HOSTS = ("pypi.org", "pypi.python.org", "files.pythonhosted.org")


@dataclass(frozen=True)
class PinUpdate:
    """One pin that the upgrade adds, removes or moves."""

    lock: str
    name: str
    old: str | None
    new: str | None
    kind: Kind
    marker: str = ""

    def as_json(self) -> dict[str, str | None]:
        data: dict[str, str | None] = {
            "lock": self.lock,
            "name": self.name,
            "old": self.old,
            "new": self.new,
            "kind": self.kind,
        }
        if self.marker:
            data["marker"] = self.marker
        return data


@dataclass(frozen=True)
class LockUpgrade:
    """What upgrading one lock did (or, under ``--dry-run``, would do)."""

    lock: str
    updates: tuple[PinUpdate, ...]
    #: The lock's text changed (pins, or only annotations and hashes).
    rewritten: bool
    #: Where each project's page is, for Markdown links (None: no public page known).
    project_page: Callable[[str, str | None], str | None] | None = None


def upgrade_settings(settings: CompileSettings, packages: Sequence[str]) -> CompileSettings:
    """*settings* for one upgrade run: every pin, or only *packages* and what they force."""
    if packages:
        resolution = replace(
            settings.resolution, upgrade=False, upgrade_packages=tuple(packages), hold_pins=False
        )
        return replace(settings, resolution=resolution)
    return replace(
        settings, resolution=replace(settings.resolution, upgrade=True, upgrade_packages=())
    )


def check_packages_are_pinned(packages: Sequence[str], lock_texts: dict[str, str | None]) -> None:
    """Refuse ``upgrade NAME`` when no lock pins NAME: a typo must not pass as "nothing to do"."""
    from lockcheck.resolve.resolver import parse_upgrade_package

    if not packages or not any(lock_texts.values()):
        return
    pinned: set[str] = set()
    for shown, text in lock_texts.items():
        if text:
            pinned.update(_pinned_names(text, shown))
    for value in packages:
        name, _ = parse_upgrade_package(value)
        if name not in pinned:
            where = ", ".join(sorted(lock_texts))
            raise InputError(f"{value}: {name} is not pinned in {where}; nothing to upgrade")


def _pinned_names(text: str, shown: str) -> set[str]:

    lock = read_any_lock(text, Path(shown))
    return {canonicalize_name(e.package.name) for e in lock.entries}


def pin_updates(old_text: str | None, new_text: str, lock: str) -> tuple[PinUpdate, ...]:
    """The pins added, removed, upgraded or downgraded between two texts of *lock*."""
    from lockcheck.check import PinAdded, PinChanged, PinRemoved, pin_changes

    updates: list[PinUpdate] = []
    for change in pin_changes(old_text, new_text, lock):
        if not isinstance(change, (PinAdded, PinRemoved, PinChanged)):
            continue
        name, _, marker = change.name.partition(" ; ")
        if isinstance(change, PinAdded):
            updates.append(PinUpdate(lock, name, None, change.version, "added", marker))
        elif isinstance(change, PinRemoved):
            updates.append(PinUpdate(lock, name, change.version, None, "removed", marker))
        else:
            kind = _direction(change.old, change.new)
            updates.append(PinUpdate(lock, name, change.old, change.new, kind, marker))
    return tuple(updates)


def _direction(old: str, new: str) -> Kind:
    try:
        before, after = Version(old), Version(new)
    except InvalidVersion:  # a direct URL or a path: no order to speak of
        return "changed"
    return "upgraded" if after > before else "downgraded"


def project_page_for(resolution: Any) -> Callable[[str, str | None], str | None]:
    """Links to pypi.org's project pages for what came from PyPI; other indexes get none.

    A private index's pages may need credentials (and must never show them), so only a
    package whose files the resolution took from PyPI gets a link; a removed package gets
    one when everything in the lock came from PyPI.
    """
    from_pypi: set[str] = set()
    elsewhere = False
    for package in resolution.packages.values():
        if not package.files:
            continue
        if any(_on_pypi(f.url) or _on_pypi(f.index) for f in package.files):
            from_pypi.add(canonicalize_name(package.name))
        else:
            elsewhere = True

    def page(name: str, version: str | None) -> str | None:
        key = canonicalize_name(name)
        if key not in from_pypi and (elsewhere or not from_pypi):
            return None
        tail = f"{version}/" if version and _is_version(version) else ""
        return f"https://pypi.org/project/{key}/{tail}"

    return page


def _on_pypi(url: str) -> bool:
    return bool(url) and urlsplit(url).hostname in _PYPI_HOSTS


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


# ----------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------


def _summary(results: Sequence[LockUpgrade], dry_run: bool) -> str:
    moved = sum(len(r.updates) for r in results)
    verb = "would change" if dry_run else "changed"
    if not moved:
        rewritten = [r.lock for r in results if r.rewritten]
        if rewritten:
            what = "would be rewritten" if dry_run else "rewritten"
            return f"no pin moved; {', '.join(rewritten)} {what} (annotations or hashes)"
        return "every pin is already the newest allowed"
    locks = sum(1 for r in results if r.updates)
    return f"{_count(moved, 'pin')} {verb} in {_count(locks, 'lock')}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def render_table(results: Sequence[LockUpgrade], dry_run: bool) -> str:
    """Aligned columns per lock, for a person at a terminal (or reading CI logs)."""
    lines: list[str] = []
    for result in results:
        if not result.updates:
            continue
        lines.append(f"{result.lock}:")
        rows = [(_label(u), u.old or "-", u.new or "-", u.kind) for u in result.updates]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for name, old, new, kind in rows:
            lines.append(f"  {name:<{widths[0]}}  {old:>{widths[1]}} -> {new:<{widths[2]}}  {kind}")
    lines.append(_summary(results, dry_run))
    return "\n".join(lines) + "\n"


def _label(update: PinUpdate) -> str:
    return f"{update.name} ; {update.marker}" if update.marker else update.name


def render_json(results: Sequence[LockUpgrade]) -> str:
    """``[{lock, name, old, new, kind}]``, one object per moved pin, for scripts and bots."""
    rows = [u.as_json() for r in results for u in r.updates]
    return json.dumps(rows, indent=2) + "\n"


def render_markdown(results: Sequence[LockUpgrade], dry_run: bool) -> str:
    """A pull-request body: one table of every moved pin, each linked to its project page."""
    rows = [(r, u) for r in results for u in r.updates]
    if not rows:
        return f"{_summary(results, dry_run)}\n"
    out = [
        "| Package | Lock | From | To | Change |",
        "|---|---|---|---|---|",
    ]
    for result, update in rows:
        page = (
            result.project_page(update.name, update.new or update.old)
            if (result.project_page)
            else None
        )
        name = _md_escape(_label(update))
        cell = f"[{name}]({page})" if page else name
        old = f"`{update.old}`" if update.old else "-"
        new = f"`{update.new}`" if update.new else "-"
        out.append(f"| {cell} | `{result.lock}` | {old} | {new} | {update.kind} |")
    out.append("")
    out.append(_summary(results, dry_run) + ".")
    return "\n".join(out) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")
