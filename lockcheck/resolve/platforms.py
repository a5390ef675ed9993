"""Target platforms other than the running machine: their markers and wheel tags.

``--python-platform`` and universal locks resolve for machines lockcheck is not running on,
so the marker values and the wheel tags of those machines are built here from tables (the
aliases are uv's: ``linux`` is x86_64 glibc, ``macos`` is Apple silicon, ``windows`` is x86_64).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from packaging import tags

from lockcheck.errors import InputError
from lockcheck.resolve.environment import TargetEnvironment

__all__ = ["PLATFORMS", "Platform", "environment_for", "platform_named"]

_MANYLINUX_GLIBC = (2, 28)


@dataclass(frozen=True)
class Platform:
    """One operating system and architecture, as markers and tags see it."""

    name: str  # "linux-x86_64"
    sys_platform: str
    platform_system: str
    os_name: str
    platform_machine: str
    arch: str  # the arch in wheel tags
    # Linux: the newest glibc whose manylinux wheels fit (uv's x86_64-manylinux_2_17 ...).
    glibc: tuple[int, int] = _MANYLINUX_GLIBC

    def platform_tags(self) -> list[str]:
        """Wheel platform tags, most preferred first."""
        if self.sys_platform == "linux":
            out: list[str] = []
            major, top = self.glibc
            for minor in range(top, 4, -1):
                if minor < 17 and self.arch not in ("x86_64", "i686"):
                    break  # glibc < 2.17 wheels exist only for Intel
                out.append(f"manylinux_{major}_{minor}_{self.arch}")
                legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}.get(minor)
                if legacy:
                    out.append(f"{legacy}_{self.arch}")
            out.append(f"linux_{self.arch}")
            return out
        if self.sys_platform == "darwin":
            version = (14, 0)
            return list(tags.mac_platforms(version, self.arch))
        return [{"x86_64": "win_amd64", "aarch64": "win_arm64"}[self.arch]]


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform("linux-x86_64", "linux", "Linux", "posix", "x86_64", "x86_64"),
        Platform("linux-aarch64", "linux", "Linux", "posix", "aarch64", "aarch64"),
        Platform("macos-aarch64", "darwin", "Darwin", "posix", "arm64", "arm64"),
        Platform("macos-x86_64", "darwin", "Darwin", "posix", "x86_64", "x86_64"),
        Platform("windows-x86_64", "win32", "Windows", "nt", "AMD64", "x86_64"),
        Platform("windows-aarch64", "win32", "Windows", "nt", "ARM64", "aarch64"),
    )
}
_ALIASES = {
    "linux": "linux-x86_64",
    "macos": "macos-aarch64",
    "darwin": "macos-aarch64",
    "windows": "windows-x86_64",
    "win32": "windows-x86_64",
    "x86_64-unknown-linux-gnu": "linux-x86_64",
    "aarch64-unknown-linux-gnu": "linux-aarch64",
    "aarch64-apple-darwin": "macos-aarch64",
    "x86_64-apple-darwin": "macos-x86_64",
    "x86_64-pc-windows-msvc": "windows-x86_64",
    "aarch64-pc-windows-msvc": "windows-aarch64",
}


#: uv's ``<arch>-manylinux2014`` and ``<arch>-manylinux_2_<minor>``: Linux, glibc bounded.
_MANYLINUX_TRIPLE = re.compile(r"(x86_64|aarch64)-manylinux(?:2014|_2_(\d+))")


def platform_named(name: str) -> Platform:
    """A platform by lockcheck's name, an alias, or one of uv's target triples."""
    raw = name.strip().lower()
    if raw in _ALIASES:
        return PLATFORMS[_ALIASES[raw]]
    match = _MANYLINUX_TRIPLE.fullmatch(raw)
    if match:
        minor = int(match.group(2) or 17)
        if not 17 <= minor <= _MANYLINUX_GLIBC[1]:
            raise InputError(
                f"unknown platform {name!r}: lockcheck targets manylinux_2_17 to "
                f"manylinux_2_{_MANYLINUX_GLIBC[1]}"
            )
        return replace(PLATFORMS[f"linux-{match.group(1)}"], glibc=(2, minor))
    key = raw.replace("_", "-").replace("x86-64", "x86_64").replace("-amd64", "-x86_64")
    key = _ALIASES.get(key, key).replace("-arm64", "-aarch64")
    key = _ALIASES.get(key, key)
    if key not in PLATFORMS:
        known = ", ".join(["linux", "macos", "windows", *sorted(PLATFORMS)])
        raise InputError(
            f"unknown platform {name!r}; expected one of {known}, or the uv target triple "
            "of one of them (x86_64-unknown-linux-gnu, x86_64-manylinux_2_28, "
            "aarch64-apple-darwin, x86_64-pc-windows-msvc ...)"
        )
    return PLATFORMS[key]


def environment_for(python_version: str, platform: Platform | str) -> TargetEnvironment:
    """A CPython *python_version* (``X.Y`` or ``X.Y.Z``) on *platform*."""
    plat = platform_named(platform) if isinstance(platform, str) else platform
    base = TargetEnvironment.for_python(python_version)
    full = base.python_full_version
    if python_version.count(".") == 1:
        full = f"{python_version}.0"
    major, minor = (int(x) for x in python_version.split(".")[:2])
    markers = {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": plat.os_name,
        "platform_machine": plat.platform_machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": plat.platform_system,
        "platform_version": "",
        "python_full_version": full,
        "python_version": f"{major}.{minor}",
        "sys_platform": plat.sys_platform,
    }
    platforms = plat.platform_tags()
    supported = [
        *tags.cpython_tags((major, minor), platforms=platforms),
        *tags.compatible_tags((major, minor), f"cp{major}{minor}", platforms),
    ]
    return replace(TargetEnvironment.from_interpreter(markers, supported), requested=base.requested)
