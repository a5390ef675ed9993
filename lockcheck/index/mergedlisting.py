"""A project listed by several sources (an extra index, find-links), merged version by version.

The first source that lists a file name wins, as pip's finder keeps it.  A file name has one
version, so merging each version's entries on its own (sources in order, a name already taken
dropped) gives every version the entries the whole merge would.  Entries a source keeps packed
(its page's parsed form in the cache) stay packed until their version is looked at: merging
whole pages decoded every kept version of every project (24 each) on every run of a user whose
configuration adds a mirror of the index.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

from packaging.utils import NormalizedName
from packaging.version import Version

from lockcheck.index.packedpage import PackedPage
from lockcheck.index.pages import Link, PendingLink
from lockcheck.index.projectfiles import link_version

__all__ = ["MergedListing", "labelled"]

Entry = tuple[Link | PendingLink, str]  # an entry and the label of the source listing it
Entries = Callable[[], Sequence[Entry]]


class MergedListing:
    """Each source's entries by version, merged when a version (or the page order) is asked."""

    def __init__(
        self,
        project: NormalizedName,
        listed: Sequence[tuple[str, PackedPage | Sequence[Link | PendingLink]]],
        versions: Mapping[str, Version | None] | None = None,
    ) -> None:
        """*listed*: (source label, its entries) in source order, a source's entries either
        packed or read; *versions*: the version of each kept file name where known."""
        self._by_source: list[dict[Version, Entries]] = []
        self._page_orders: list[Callable[[], list[tuple[Version, int]]]] = []
        for label, links in listed:
            if isinstance(links, PackedPage):
                groups = links.groups()
                self._by_source.append(
                    {v: labelled(entries, label) for v, entries in groups.items()}
                )
                self._page_orders.append(links.order)
            else:
                buckets, page_order = _bucketed(project, links, label, versions)
                self._by_source.append(buckets)
                self._page_orders.append(functools.partial(list, page_order))

    def unread(self) -> dict[Version, Entries]:
        """Each version's merged entries, read when called."""
        every: dict[Version, None] = {}
        for groups in self._by_source:
            every.update(dict.fromkeys(groups))
        return {version: self._merged_for(version) for version in every}

    def _merged_for(self, version: Version) -> Entries:
        def merged() -> list[Entry]:
            seen: set[str] = set()
            out: list[Entry] = []
            for groups in self._by_source:
                entries = groups.get(version)
                if entries is None:
                    continue
                for entry in entries():
                    if entry[0].filename not in seen:
                        seen.add(entry[0].filename)
                        out.append(entry)
            return out

        return merged

    def order(self) -> list[tuple[Version, int]]:
        """(version, position in its merged entries) of every entry in listing order: each
        source's page order, sources in order, a file name already listed dropped.  Reads
        every entry (only a full listing of the project asks for it)."""
        seen: set[str] = set()
        taken: dict[Version, int] = {}
        order: list[tuple[Version, int]] = []
        for groups, page_order in zip(self._by_source, self._page_orders, strict=True):
            decoded = {version: entries() for version, entries in groups.items()}
            for version, index in page_order():
                filename = decoded[version][index][0].filename
                if filename in seen:
                    continue
                seen.add(filename)
                position = taken.get(version, 0)
                taken[version] = position + 1
                order.append((version, position))
        return order


def labelled(entries: Callable[[], Sequence[Link | PendingLink]], label: str) -> Entries:
    """*entries*, read when called, each with the label of the source listing it."""
    return lambda: [(link, label) for link in entries()]


def _bucketed(
    project: NormalizedName,
    links: Sequence[Link | PendingLink],
    label: str,
    versions: Mapping[str, Version | None] | None,
) -> tuple[dict[Version, Entries], list[tuple[Version, int]]]:
    """Read entries by version (entries that are no file of *project* left out), and
    their page order as (version, position in its bucket)."""
    buckets: dict[Version, list[Entry]] = {}
    page_order: list[tuple[Version, int]] = []
    for link in links:
        if versions is not None and link.filename in versions:
            version = versions[link.filename]
        else:
            version = link_version(link, project)
        if version is not None:
            bucket = buckets.setdefault(version, [])
            page_order.append((version, len(bucket)))
            bucket.append((link, label))
    groups: dict[Version, Entries] = {
        version: functools.partial(list, entries) for version, entries in buckets.items()
    }
    return groups, page_order
