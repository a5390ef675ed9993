"""Release cut-offs: lock only files uploaded before a moment (``--exclude-newer``).

A release published an hour ago by a hijacked account should not reach a lock.  WHEN is an
RFC 3339 timestamp, a date (midnight UTC) or an ISO 8601 duration (``P7D``, ``PT12H``)
counted back from now: a cooldown that lets a new release age before any lock takes it.
Per-package exceptions (``name=WHEN``) replace the cut-off for one project.

Files are judged by their PEP 700 ``upload-time``.  pip's rule (``--uploaded-prior-to``)
decides the files that have none: a local file (``file:`` URL: a directory, a local page)
is not judged and stays, and a remote one is an error, since a cut-off that cannot be
applied must not pass unnoticed.  The local sources left unjudged are named once.

Import cost: only the standard library and ``packaging.utils``.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from packaging.utils import NormalizedName, canonicalize_name

from lockcheck.errors import IndexUnavailable, InputError, redact_url

__all__ = [
    "CutOff",
    "UploadJudge",
    "is_duration",
    "package_cutoffs",
    "parse_timestamp",
    "parse_when",
]

_TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$"
)
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
#: ISO 8601 durations in weeks, days, hours, minutes and seconds (years and months have no
#: fixed length, so they are refused rather than guessed).
_DURATION_RE = re.compile(
    r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)
#: Per-package value that lifts the cut-off for that package (as uv spells it).
_NO_CUTOFF = "false"


def parse_timestamp(value: str | None) -> _dt.datetime | None:
    """An RFC 3339 date-time (``Z``, an offset, or none: UTC), None when *value* is not
    one.  Fractions beyond microseconds are cut, as PyPI's upload times need."""
    match = _TIMESTAMP_RE.match(value.strip()) if value else None
    if match is None:
        return None
    year, month, day, hour, minute, second, frac, _zulu, sign, off_h, off_m = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz = _dt.timezone.utc
    if sign:
        offset = _dt.timedelta(hours=int(off_h), minutes=int(off_m))
        tz = _dt.timezone(-offset if sign == "-" else offset)
    try:
        return _dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
        )
    except ValueError:
        return None


def is_duration(when: str) -> bool:
    """Whether *when* is a duration (a cut-off that moves with the clock)."""
    return when.strip()[:1] in ("P", "p")


def parse_when(when: str, *, now: _dt.datetime | None = None, option: str = "") -> _dt.datetime:
    """The moment *when* names (aware, UTC for dates and offset-less times); a duration is
    counted back from *now*.  Raises InputError naming *option* for anything else."""
    text = when.strip()
    duration = _DURATION_RE.match(text)
    if duration and text.upper() not in ("P", "PT"):
        weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in duration.groups())
        span = _dt.timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
        return (now or _dt.datetime.now(_dt.timezone.utc)) - span
    date = _DATE_RE.match(text)
    if date:
        try:
            year, month, day = (int(part) for part in date.groups())
            return _dt.datetime(year, month, day, tzinfo=_dt.timezone.utc)
        except ValueError:
            pass
    moment = parse_timestamp(text)
    if moment is not None:
        return moment
    where = f"{option}: " if option else ""
    raise InputError(
        f"{where}{when!r} is not a cut-off: give an RFC 3339 timestamp "
        "(2024-06-01T00:00:00Z), a date (2024-06-01) or a duration (P7D, PT12H)"
    )


def package_cutoffs(
    items: Iterable[str], *, option: str = "--exclude-newer-package"
) -> dict[NormalizedName, str]:
    """``name=WHEN`` items as {name: WHEN} (WHEN checked; ``false`` lifts the cut-off)."""
    out: dict[NormalizedName, str] = {}
    for item in items:
        name, sep, when = str(item).partition("=")
        if not sep or not name.strip() or not when.strip():
            raise InputError(f"{option}: {item!r} is not NAME=WHEN")
        if when.strip().lower() != _NO_CUTOFF:
            parse_when(when, option=f"{option} {name.strip()}")
        out[canonicalize_name(name.strip())] = when.strip()
    return out


@dataclass(frozen=True)
class CutOff:
    """The moment each project's files must predate (None: no cut-off for it)."""

    default: _dt.datetime | None = None
    packages: Mapping[NormalizedName, _dt.datetime | None] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.default is not None or any(v is not None for v in self.packages.values())

    def for_project(self, name: NormalizedName) -> _dt.datetime | None:
        return self.packages.get(name, self.default)

    @classmethod
    def from_settings(
        cls,
        exclude_newer: str | None,
        exclude_newer_package: Iterable[str] = (),
        *,
        now: _dt.datetime | None = None,
    ) -> CutOff:
        """One clock reading for the whole run: every duration counts back from it."""
        now = now or _dt.datetime.now(_dt.timezone.utc)
        default = (
            parse_when(exclude_newer, now=now, option="--exclude-newer")
            if (exclude_newer)
            else None
        )
        packages = {
            name: None if when.lower() == _NO_CUTOFF else parse_when(when, now=now)
            for name, when in package_cutoffs(exclude_newer_package).items()
        }
        return cls(default, packages)


class UploadJudge:
    """Admits a file when it was uploaded before its project's cut-off (thread-safe).

    *source_of* names the index or find-links location of a file (its ``DistFile.index``)
    for messages, credentials masked.
    """

    def __init__(self, cutoff: CutOff, source_of: Callable[[str], str]) -> None:
        self.cutoff = cutoff
        self._source_of = source_of
        self._lock = threading.Lock()
        #: Local sources whose files carried no upload time (kept, as pip keeps them).
        self.unjudged: dict[str, None] = {}
        #: Versions with a file left out for its upload time, per project (for messages).
        self.excluded: dict[NormalizedName, set[object]] = {}

    def admits(self, file) -> bool:  # type: ignore[no-untyped-def]
        limit = self.cutoff.for_project(file.name)
        if limit is None:
            return True
        moment = parse_timestamp(file.upload_time)
        if moment is not None:
            if moment < limit:
                return True
            with self._lock:
                self.excluded.setdefault(file.name, set()).add(file.version)
            return False
        source = redact_url(self._source_of(file.index))
        if file.url.startswith("file:"):
            with self._lock:
                self.unjudged.setdefault(source, None)
            return True
        raise IndexUnavailable(
            f"{source} gives no upload time for {file.filename}, so the cut-off "
            "(--exclude-newer) cannot judge it",
            url=file.url,
            hint="use an index that serves PEP 691 JSON with upload-time (PEP 700), or lift "
            f"the cut-off for this package: --exclude-newer-package {file.name}=false",
        )

    def explain(self, name: NormalizedName) -> str | None:
        """Why versions of *name* were not candidates, for a resolution failure."""
        with self._lock:  # prefetch threads add to it while a failure is explained
            versions = sorted(self.excluded.get(name, ()))  # type: ignore[type-var]
        if not versions:
            return None
        limit = self.cutoff.for_project(name)
        shown = ", ".join(str(v) for v in versions[-5:])
        moment = limit.isoformat().replace("+00:00", "Z") if limit else ""
        verb = "was" if len(versions) == 1 else "were"
        return f"{name} {shown} {verb} uploaded after the cut-off ({moment})"

    def findings(self) -> tuple[list[str], dict[NormalizedName, set[object]]]:
        """What this judge noted (for a forked copy to send back to its run)."""
        with self._lock:
            return list(self.unjudged), {n: set(v) for n, v in self.excluded.items()}

    def adopt(self, findings: tuple[list[str], dict[NormalizedName, set[object]]]) -> None:
        """Add what a forked copy's judge noted."""
        unjudged, excluded = findings
        with self._lock:
            self.unjudged.update(dict.fromkeys(unjudged))
            for name, versions in excluded.items():
                self.excluded.setdefault(name, set()).update(versions)

    def warnings(self) -> list[str]:
        """One line per local source whose files could not be judged."""
        with self._lock:  # prefetch threads may still be judging files
            sources = list(self.unjudged)
        return [
            f"{source} gives no upload times: its files were not judged by the cut-off "
            "(as pip does for local files)"
            for source in sources
        ]
