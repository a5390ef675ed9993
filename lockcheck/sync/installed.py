"""What a venv holds: its ``*.dist-info`` (and legacy ``*.egg-info``) directories, read from
disk without starting its interpreter.

Only what sync needs is read: the name and version from METADATA's first lines, PEP 610
``direct_url.json`` (how an editable, a URL or a VCS checkout was installed), ``INSTALLER``
and where ``RECORD`` is (uninstalling is "remove what RECORD lists").  A ``.dist-info``
without RECORD or INSTALLER is an install that did not finish (installers write RECORD
last; every installer writes INSTALLER): sync reinstalls it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = ["InstalledDist", "installed_distributions", "read_installed"]


@dataclass(frozen=True)
class InstalledDist:
    """One installed distribution."""

    name: NormalizedName
    display_name: str
    #: The Version field as written (pip freeze prints it like this).
    version: str
    #: The ``.dist-info`` / ``.egg-info`` directory.
    path: Path
    #: PEP 610 data, None for an install from an index.
    direct_url: Mapping[str, Any] | None = None
    installer: str | None = None
    #: Requires-Dist lines, as written (to keep what protected packages need).
    requires: tuple[str, ...] = ()
    #: Further metadata directories of the same project (a broken venv): removed with it.
    duplicates: tuple[InstalledDist, ...] = field(default=(), compare=False)
    #: Why this install is incomplete ("no RECORD", "no INSTALLER"), None when whole.
    incomplete: str | None = None

    @property
    def parsed_version(self) -> Version | None:
        try:
            return Version(self.version)
        except InvalidVersion:
            return None

    @property
    def site_dir(self) -> Path:
        return self.path.parent

    @property
    def record(self) -> Path | None:
        """RECORD of a ``.dist-info``; None for egg-info (which sync cannot uninstall)."""
        if self.path.suffix != ".dist-info":
            return None
        record = self.path / "RECORD"
        return record if record.is_file() else None

    @property
    def editable(self) -> bool:
        info = (self.direct_url or {}).get("dir_info")
        return isinstance(info, Mapping) and bool(info.get("editable"))

    def describe(self) -> str:
        """``name==version``, or how a direct reference was installed."""
        url = (self.direct_url or {}).get("url")
        if self.editable:
            shown = f"{self.display_name} (editable {url})"
        elif url:
            shown = f"{self.display_name} @ {url}"
        else:
            shown = f"{self.display_name}=={self.version}"
        return f"{shown} (incomplete: {self.incomplete})" if self.incomplete else shown


def _headers(path: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    """Name, Version and the Requires-Dist lines from the header block of a METADATA /
    PKG-INFO file (the body, often long, is not read)."""
    found: dict[str, str] = {}
    requires: list[str] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    break
                key, sep, value = line.partition(":")
                if not sep:
                    continue
                if key in ("Name", "Version") and key not in found:
                    found[key] = value.strip()
                elif key == "Requires-Dist":
                    requires.append(value.strip())
    except OSError:
        pass
    return found, tuple(requires)


def read_installed(meta_dir: Path) -> InstalledDist | None:
    """One metadata directory, or None when it is not readable as one."""
    if meta_dir.suffix == ".dist-info":
        headers, requires = _headers(meta_dir / "METADATA")
    else:
        headers, requires = _headers(meta_dir / "PKG-INFO")
    stem = meta_dir.name.rsplit(".", 1)[0]
    name = headers.get("Name") or stem.split("-")[0]
    version = headers.get("Version") or (stem.split("-")[1] if "-" in stem else "")
    if not name:
        return None
    direct_url = None
    with contextlib.suppress(OSError, ValueError):
        data = json.loads((meta_dir / "direct_url.json").read_text(encoding="utf-8"))
        if isinstance(data, dict):
            direct_url = data
    installer = None
    with contextlib.suppress(OSError, UnicodeDecodeError):
        installer = (meta_dir / "INSTALLER").read_text(encoding="utf-8").strip() or None
    incomplete = None
    if meta_dir.suffix == ".dist-info":
        if not (meta_dir / "RECORD").is_file():
            incomplete = "no RECORD"
        elif not (meta_dir / "INSTALLER").is_file():
            incomplete = "no INSTALLER"
    return InstalledDist(
        name=canonicalize_name(name),
        display_name=name,
        version=version,
        path=meta_dir,
        direct_url=direct_url,
        installer=installer,
        requires=requires,
        incomplete=incomplete,
    )


def installed_distributions(site_dirs: Iterable[Path]) -> dict[NormalizedName, InstalledDist]:
    """Every distribution in *site_dirs*, by canonical name (first directory wins; later
    copies of the same project are kept in ``duplicates``)."""
    found: dict[NormalizedName, InstalledDist] = {}
    seen: set[str] = set()
    for site in site_dirs:
        real = os.path.realpath(site)
        if real in seen:
            continue
        seen.add(real)
        try:
            entries = sorted(os.scandir(site), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if not entry.name.endswith((".dist-info", ".egg-info")) or not entry.is_dir():
                continue
            dist = read_installed(Path(entry.path))
            if dist is None:
                continue
            first = found.get(dist.name)
            if first is None:
                found[dist.name] = dist
            else:
                found[dist.name] = _with_duplicate(first, dist)
    return found


def _with_duplicate(first: InstalledDist, other: InstalledDist) -> InstalledDist:
    from dataclasses import replace

    return replace(first, duplicates=(*first.duplicates, other))
