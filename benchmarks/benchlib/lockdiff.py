"""Compare two lock files apart from their header, and count their pins."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

__all__ = [
    "HOOK_CANDIDATES",
    "LockComparison",
    "compare_locks",
    "count_pins",
    "hook_line",
    "pinned_names",
    "strip_header",
]

#: Small pure-Python leaves, one of which the hook workload adds to a set's input: the first
#: the lock does not pin yet, so adding it changes the lock by exactly that pin.
HOOK_CANDIDATES = ("tabulate", "iniconfig", "tomli-w", "humanize", "pyfiglet")

_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*==")


def strip_header(text: str) -> list[str]:
    """Lines after the leading block of comments and blank lines (the tool's header)."""
    lines = text.splitlines()
    index = 0
    while index < len(lines) and (not lines[index].strip() or lines[index].startswith("#")):
        index += 1
    return lines[index:]


def pinned_names(text: str) -> set[str]:
    """Normalized names of a lock's ``name==version`` lines."""
    return {
        re.sub(r"[-_.]+", "-", line.split("==", 1)[0].split("[", 1)[0].strip()).lower()
        for line in text.splitlines()
        if _PIN.match(line)
    }


def hook_line(lock_text: str) -> str:
    """The requirement line the hook workload appends: a candidate the lock does not pin."""
    pinned = pinned_names(lock_text)
    for name in HOOK_CANDIDATES:
        if name not in pinned:
            return name
    raise ValueError("every hook candidate is already pinned")


def count_pins(text: str) -> int:
    """Number of ``name==version`` lines (the unsafe section's commented pins not counted)."""
    return sum(1 for line in text.splitlines() if _PIN.match(line))


@dataclass(frozen=True)
class LockComparison:
    """Whether two locks match below their headers, with a short unified diff if not."""

    same: bool
    changed_lines: int
    diff: str


def compare_locks(
    reference: str,
    other: str,
    *,
    names: tuple[str, str] = ("pip-compile", "other"),
    limit: int = 40,
) -> LockComparison:
    """Compare ``other`` with ``reference`` ignoring headers; ``limit`` caps the diff's lines."""
    left, right = strip_header(reference), strip_header(other)
    if left == right:
        return LockComparison(same=True, changed_lines=0, diff="")
    diff = list(difflib.unified_diff(left, right, names[0], names[1], n=1, lineterm=""))
    changed = sum(1 for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))
    shown = diff[:limit]
    if len(diff) > limit:
        shown.append(f"... ({len(diff) - limit} more diff lines)")
    return LockComparison(same=False, changed_lines=changed, diff="\n".join(shown))
