"""The grid of a universal lock: the concrete environments it must serve.

CPython minor versions allowed by ``requires-python`` (or given) x operating systems,
optionally narrowed by ``environments`` markers.  Environments added for marker values the
grid lacks (:mod:`lockcheck.resolve.foreign`) are :class:`GridEnv` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from lockcheck.errors import InputError
from lockcheck.resolve.environment import TargetEnvironment
from lockcheck.resolve.platforms import Platform, environment_for, platform_named

__all__ = ["DEFAULT_PLATFORMS", "SUPPORTED_MINORS", "GridEnv", "build_universe"]

SUPPORTED_MINORS = tuple(range(8, 16))  # CPython 3.8 .. 3.15
DEFAULT_PLATFORMS = ("linux", "macos", "windows")


@dataclass(frozen=True)
class GridEnv:
    minor: int
    platform: Platform
    env: TargetEnvironment
    # An environment added for a marker value the default platforms lack (see foreign.py):
    # the (variable, value) settings, and the default environments it stands for.
    override: tuple[tuple[str, str], ...] = ()
    stands_for: tuple[tuple, ...] = ()

    @property
    def key(self) -> tuple:
        if self.override:
            return (self.minor, self.platform.name, self.override)
        return (self.minor, self.platform.name)

    def describe(self) -> str:
        where = f"Python 3.{self.minor} on {self.platform.name}"
        settings = ", ".join(f"{var}={value}" for var, value in self.override)
        return f"{where} with {settings}" if settings else where


def build_universe(
    *,
    requires_python: str | None,
    python_versions: Sequence[str] = (),
    platforms: Sequence[str] = (),
    environments: Sequence[str] = (),
) -> list[GridEnv]:
    """The concrete environments a universal lock must serve."""
    if python_versions:
        minors = sorted({_minor(v) for v in python_versions})
    else:
        spec = _spec(requires_python)
        minors = [m for m in SUPPORTED_MINORS if spec.contains(f"3.{m}.99", prereleases=True)]
        minors = [m for m in minors if spec.contains(_lowest_patch(spec, m), prereleases=True)]
    if not minors:
        raise InputError(f"requires-python {requires_python!r} allows no supported CPython")
    plats = [platform_named(p) for p in (platforms or DEFAULT_PLATFORMS)]
    grid = [GridEnv(m, p, environment_for(f"3.{m}", p)) for p in plats for m in minors]
    if environments:
        markers = []
        for text in environments:
            try:
                markers.append(Marker(text))
            except Exception as exc:
                raise InputError(f"invalid environment marker {text!r}: {exc}") from exc
        grid = [g for g in grid if any(m.evaluate(g.env.markers) for m in markers)]
        if not grid:
            raise InputError("no supported environment matches the configured environments")
    return grid


def _minor(version: str) -> int:
    parts = version.split(".")
    if len(parts) < 2 or parts[0] != "3" or not parts[1].isdigit():
        raise InputError(f"invalid Python version {version!r}; expected 3.X")
    return int(parts[1])


def _spec(requires_python: str | None) -> SpecifierSet:
    try:
        return SpecifierSet(requires_python or "")
    except InvalidSpecifier as exc:
        raise InputError(f"invalid requires-python {requires_python!r}") from exc


def _lowest_patch(spec: SpecifierSet, minor: int) -> str:
    for patch in range(0, 100):
        if spec.contains(f"3.{minor}.{patch}", prereleases=True):
            return f"3.{minor}.{patch}"
    return f"3.{minor}.0"
