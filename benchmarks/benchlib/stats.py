"""Samples of one scenario and their summary (median, spread, peak memory)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Sample", "Summary", "ratio", "summarize"]


@dataclass(frozen=True)
class Sample:
    """One measured process: wall time, peak RSS (KiB, from wait4) and how it ended.

    ``cpu_s`` is user + system time of the process and the children it waited for (from
    wait4): on a shared machine it moves far less with the load than wall time does.
    """

    seconds: float
    max_rss_kib: int
    returncode: int
    timed_out: bool = False
    cpu_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Summary:
    """What the tables show for one scenario; ``error`` set when a run failed."""

    samples: list[Sample] = field(default_factory=list)
    command: str = ""
    error: str | None = None
    note: str | None = None

    @property
    def times(self) -> list[float]:
        return [s.seconds for s in self.samples if s.ok]

    @property
    def median_s(self) -> float | None:
        times = self.times
        return statistics.median(times) if times else None

    @property
    def min_s(self) -> float | None:
        return min(self.times, default=None)

    @property
    def max_s(self) -> float | None:
        return max(self.times, default=None)

    @property
    def median_cpu_s(self) -> float | None:
        cpu = [s.cpu_s for s in self.samples if s.ok and s.cpu_s is not None]
        return statistics.median(cpu) if cpu else None

    @property
    def median_rss_mib(self) -> float | None:
        rss = [s.max_rss_kib for s in self.samples if s.ok]
        return statistics.median(rss) / 1024 if rss else None

    @property
    def max_rss_mib(self) -> float | None:
        rss = [s.max_rss_kib for s in self.samples if s.ok]
        return max(rss) / 1024 if rss else None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: raw samples plus the derived numbers, so reports need no recomputation."""
        return {
            "command": self.command,
            "samples": [s.to_dict() for s in self.samples],
            "runs": len(self.times),
            "median_s": self.median_s,
            "min_s": self.min_s,
            "max_s": self.max_s,
            "median_cpu_s": self.median_cpu_s,
            "median_rss_mib": self.median_rss_mib,
            "max_rss_mib": self.max_rss_mib,
            "error": self.error,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        samples = [Sample(**s) for s in data.get("samples", [])]
        return cls(
            samples=samples,
            command=data.get("command", ""),
            error=data.get("error"),
            note=data.get("note"),
        )


def summarize(samples: Iterable[Sample], command: str = "") -> Summary:
    """Summary of samples; the first failed sample becomes the error text."""
    samples = list(samples)
    summary = Summary(samples=samples, command=command)
    failed = [s for s in samples if not s.ok]
    if failed:
        first = failed[0]
        summary.error = "timed out" if first.timed_out else f"exit {first.returncode}"
    return summary


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either side is missing or zero."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator
