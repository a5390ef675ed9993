"""Property: ``compile`` then ``check`` is always clean, on small random package universes.

Each example is a universe of a few packages (versions, dependencies with specifiers,
extras and markers) built as real wheels and served by the local index, and a
requirements.in on it.  A brute-force search over every assignment of versions says whether
the inputs can be satisfied; then:

* satisfiable: ``compile`` exits 0, and ``check`` and ``check --offline`` on its lock exit 0;
* not satisfiable: ``compile`` exits 2 with one clean error line and writes no lock.

Every subprocess has a timeout: a resolver that does not end is a failure, with the universe
and the inputs in the report.
"""

from __future__ import annotations

import itertools
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import MakeIndex
from tests.fixtures.builders import PackageSpec
from tests.fixtures.strategies import examples
from tests.helpers import describe, run_lockcheck

#: Seconds one lockcheck run may take on these tiny universes before it counts as a hang.
_TIMEOUT = 60

_NAMES = ("alpha", "Beta_Pkg", "gamma.lib", "delta")
_VERSIONS = ("0.9", "1.0", "1.5", "2.0")
_SPECIFIERS = ("", ">=1.0", "<2", "==1.0", "!=1.5", "~=1.0", ">=0.9,<1.5", ">=2", "==2.0")
_MARKERS = (
    None,
    None,
    'python_version >= "3"',
    'python_version < "3"',
    'sys_platform == "win32"',
    'sys_platform != "win32"',
)
_EXTRA = "fast"


@dataclass(frozen=True)
class Universe:
    """The packages on the index and the lines of requirements.in."""

    specs: tuple[PackageSpec, ...]
    roots: tuple[str, ...]

    def describe(self) -> str:
        lines = ["requirements.in:", *(f"  {r}" for r in self.roots), "index:"]
        for spec in self.specs:
            extras = f" extras={dict(spec.extras)}" if spec.extras else ""
            lines.append(f"  {spec.name} {spec.version} deps={list(spec.deps)}{extras}")
        return "\n".join(lines)


@st.composite
def _requirement(draw: st.DrawFn, candidates: Sequence[str], with_extra: set[str]) -> str:
    name = draw(st.sampled_from(candidates))
    spelling = draw(st.sampled_from([name, name.upper(), name.replace(".", "-")]))
    extras = f"[{_EXTRA}]" if name in with_extra and draw(st.booleans()) else ""
    text = f"{spelling}{extras}{draw(st.sampled_from(_SPECIFIERS))}"
    marker = draw(st.sampled_from(_MARKERS))
    return f"{text}; {marker}" if marker else text


@st.composite
def universes(draw: st.DrawFn) -> Universe:
    """2-4 packages, 1-3 versions each, depending on each other (cycles included: a package
    may need an older version of the one that brought it in)."""
    names = draw(st.lists(st.sampled_from(_NAMES), min_size=2, max_size=4, unique=True))
    with_extra = {n for n in names if draw(st.booleans())}
    specs: list[PackageSpec] = []
    for name in names:
        others = [n for n in names if n != name]
        versions = draw(st.lists(st.sampled_from(_VERSIONS), min_size=1, max_size=3, unique=True))
        for version in sorted(versions, key=Version):
            deps = tuple(draw(st.lists(_requirement(others, with_extra), max_size=2)))
            extras: dict[str, tuple[str, ...]] = {}
            if name in with_extra:
                extras = {
                    _EXTRA: tuple(draw(st.lists(_requirement(others, with_extra), max_size=1)))
                }
            specs.append(PackageSpec(name, version, deps=deps, extras=extras))
    roots = tuple(draw(st.lists(_requirement(names, with_extra), min_size=1, max_size=3)))
    return Universe(tuple(specs), roots)


#: Found by this property: alpha 1.5 -> Beta_Pkg 1.0 -> gamma.lib 1.0 -> alpha==1.0; the
#: resolver backtracks to alpha 1.0 alone, and compile wrote "# via gamma-lib" (a parent it
#: had dropped), which check then reported as drift.
_BACKTRACKED_PARENT = Universe(
    (
        PackageSpec("alpha", "1.0"),
        PackageSpec("alpha", "1.5", deps=("Beta_Pkg",)),
        PackageSpec("Beta_Pkg", "0.9"),
        PackageSpec("Beta_Pkg", "1.0", deps=("gamma.lib",)),
        PackageSpec("gamma.lib", "0.9"),
        PackageSpec("gamma.lib", "1.0", deps=("alpha==1.0",)),
    ),
    ("alpha",),
)


def _active(requirements: Sequence[str]) -> list[Requirement]:
    out = []
    for text in requirements:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            out.append(req)
    return out


def satisfiable(universe: Universe) -> bool:
    """Whether some choice of one version per package (or none) meets every requirement
    that the choice itself brings in (roots, dependencies, dependencies of requested extras),
    for the running interpreter's environment."""
    by_name: dict[str, dict[Version, PackageSpec]] = {}
    for spec in universe.specs:
        by_name.setdefault(canonicalize_name(spec.name), {})[Version(spec.version)] = spec
    names = sorted(by_name)
    for choice in itertools.product(*[[None, *by_name[n]] for n in names]):
        chosen: Mapping[str, Version | None] = dict(zip(names, choice, strict=True))
        if _consistent(chosen, by_name, universe.roots):
            return True
    return False


def _consistent(
    chosen: Mapping[str, Version | None],
    by_name: Mapping[str, Mapping[Version, PackageSpec]],
    roots: Sequence[str],
) -> bool:
    pending = _active(roots)
    extras_done: set[tuple[str, str]] = set()
    while pending:
        req = pending.pop()
        name = canonicalize_name(req.name)
        version = chosen.get(name)
        if version is None or not req.specifier.contains(version, prereleases=True):
            return False
        spec = by_name[name][version]
        if (name, "") not in extras_done:
            extras_done.add((name, ""))
            pending += _active(spec.deps)
        for extra in req.extras:
            if (name, extra) not in extras_done:
                extras_done.add((name, extra))
                pending += _active(spec.extras.get(extra, ()))
    return True


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("lockcheck: ")]


@settings(
    max_examples=examples(20),
    deadline=None,
    # make_index is a factory: each example asks it for a fresh server of its own universe.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(universe=universes())
@example(universe=_BACKTRACKED_PARENT)
def test_compile_then_check_is_clean(make_index: MakeIndex, universe: Universe) -> None:
    server = make_index(universe.specs)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "requirements.in").write_text("\n".join(universe.roots) + "\n")
        env = {"LOCKCHECK_CACHE_DIR": str(project / ".cache")}

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            try:
                return run_lockcheck(*args, cwd=project, env=env, timeout=_TIMEOUT)
            except subprocess.TimeoutExpired as exc:
                raise AssertionError(
                    f"lockcheck {' '.join(args)} did not end in {_TIMEOUT} s on\n"
                    f"{universe.describe()}"
                ) from exc

        compiled = run("compile", "-i", server.url)
        context = f"{universe.describe()}\n{describe(compiled)}"
        expected = satisfiable(universe)
        event("satisfiable" if expected else "unsatisfiable")
        if not expected:
            assert compiled.returncode == 2, context
            assert len(_error_lines(compiled.stderr)) == 1, context
            assert "internal error" not in compiled.stderr, context
            assert not (project / "requirements.txt").exists(), context
            return
        assert compiled.returncode == 0, context
        for args in (("check",), ("check", "--offline")):
            checked = run(*args)
            assert checked.returncode == 0, f"{context}\n{describe(checked)}"
            assert "requirements.txt: up to date" in checked.stdout, describe(checked)


def test_satisfiable_model() -> None:
    """The brute force the property relies on, on cases whose answer is known."""
    a1 = PackageSpec("a", "1.0", deps=("b>=2",))
    a2 = PackageSpec("a", "2.0", deps=("b<1",))
    b = PackageSpec("b", "2.0", extras={_EXTRA: ("c==9",)})
    c = PackageSpec("c", "1.0")
    assert satisfiable(Universe((a1, a2, b, c), ("a",)))  # a 1.0 + b 2.0
    assert not satisfiable(Universe((a2, b, c), ("a",)))
    assert not satisfiable(Universe((a1, b, c), ("a", "b[fast]")))  # c==9 does not exist
    assert satisfiable(Universe((a1, b, c), ('b[fast]; sys_platform == "nonesuch"', "c")))
    assert Marker('python_version >= "3"').evaluate()
