"""Compare two lock files apart from their header, and count their pins."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

__all__ = ["LockComparison", "compare_locks", "count_pins", "strip_header"]

_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*==")


def strip_header(text: str) -> list[str]:
    """Lines after the leading block of comments and blank lines (the tool's header)."""
    lines = text.splitlines()
    index = 0
    while index < len(lines) and (not lines[index].strip() or lines[index].startswith("#")):
        index += 1
    return lines[index:]


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
