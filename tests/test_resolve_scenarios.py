"""Resolver scenarios as data, run through the real CLI against a real local index.

Each scenario is a handful of packages (versions, dependencies, extras, Requires-Python,
yanked flags, file kinds), the root requirements, the options, and the expected outcome:
the pins, or "unsatisfiable" with words the error message must contain.  Most come from
packse (astral-sh/packse, ``scenarios/``), where every release declares a Requires-Python;
that is what made lockcheck's resolver loop forever on unsatisfiable inputs (issue 13), so
the scenarios keep it.  Every run has a hard timeout: a resolver that loops fails the test
instead of hanging it.  Where pip-compile can run the same inputs (no lockcheck-only option),
it runs on the same index: the two outcomes must agree (both fail, or both pin the same
versions) unless the scenario documents why pip-compile fails (``pip_compile_fails``), and
lockcheck may not take more than 2 s longer.  A scenario lockcheck still gets wrong names the
bug (``known_bug``) and runs as a strict xfail, so fixing it shows.  Universal scenarios
run ``uv pip compile --universal`` (uv is in the test extra) on the same index instead: both
locks must install the same pins in every sample environment, unless the scenario documents
why uv picks otherwise (``uv_differs``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fixtures.builders import PackageSpec
from tests.helpers import describe, run_lockcheck, run_pip_compile, run_uv_pip_compile

pytestmark = pytest.mark.slow

#: Every release of a scenario says which Python it needs, as packse's do.
REQUIRES_PYTHON = ">=3.8"
#: A scenario's resolution must end well within this (pip-compile answers in about a second).
TIMEOUT = 20.0
#: A universal lock from Python 3.8 on (uv's --python-version 3.8 covers the same range).
UNIVERSAL = ("--universal", "--python-version", "3.8")
#: Options pip-compile does not have: scenarios using them run lockcheck only.
_LOCKCHECK_ONLY = ("--universal", "--python-version", "--environment")


@dataclass(frozen=True)
class Unsatisfiable:
    """Exit 2 with one ``cannot resolve`` error whose text contains each of *words*;
    *headline*, when given, is that error line exactly (after ``lockcheck: error: ``)."""

    words: tuple[str, ...] = ()
    headline: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    packages: tuple[PackageSpec, ...]
    requires: tuple[str, ...]
    expected: Mapping[str, str] | Unsatisfiable
    options: tuple[str, ...] = ()
    # requirements.txt as it was before this compile (its pins stay where the inputs allow).
    existing: str | None = None
    # Exact lines of the lock's body (markers included), for scenarios where pins are not enough.
    lines: tuple[str, ...] = field(default=())
    # IndexServer keywords (what the index page says about the files).
    index_switches: Mapping[str, object] = field(default_factory=dict)
    # Why pip-compile fails where lockcheck succeeds (a documented difference), else None.
    pip_compile_fails: str | None = None
    # Other input files beside requirements.in (constraints, nested requirements).
    files: Mapping[str, str] = field(default_factory=dict)
    # What lockcheck still gets wrong here (the scenario is a strict xfail until fixed).
    known_bug: str | None = None
    # The "is yanked" warnings a successful compile prints, each exactly once (none: ()).
    warnings: tuple[str, ...] = ()
    # Why uv pip compile --universal picks other pins (a documented difference), else None.
    uv_differs: str | None = None


Versions = Mapping[str, "Sequence[str] | Mapping[str, object]"]


def packages(
    table: Mapping[str, Versions],
    *,
    requires_python: str | None = REQUIRES_PYTHON,
    kind: str = "wheel",
) -> tuple[PackageSpec, ...]:
    """``{"a": {"1.0.0": ["b==1.0.0"], "2.0.0": {"extras": {...}, "yanked": ""}}}`` as specs.

    A version maps to its dependencies, or to PackageSpec fields (``deps`` included).
    """
    specs = []
    for name, versions in table.items():
        for version, value in versions.items():
            fields: dict[str, object] = {"requires_python": requires_python, "kind": kind}
            if isinstance(value, Mapping):
                fields.update(value)
            else:
                fields["deps"] = tuple(value)
            fields["deps"] = tuple(fields.get("deps", ()))  # type: ignore[arg-type]
            specs.append(PackageSpec(name, version, **fields))  # type: ignore[arg-type]
    return tuple(specs)


THREE = {"1.0.0": [], "2.0.0": [], "3.0.0": []}
A_NEEDS_SAME_B = {"1.0.0": ["b==1.0.0"], "2.0.0": ["b==2.0.0"], "3.0.0": ["b==3.0.0"]}
RANGE_OF_A = {
    "1.0.0": ["b==1.0.0"],
    "2.0.0": ["b==2.0.0"],
    "2.1.0": ["b==2.0.0"],
    "2.2.0": ["b==2.0.0"],
    "2.3.0": ["b==2.0.0"],
    "3.0.0": ["b==3.0.0"],
}
C_EXCLUDES_2X = {"1.0.0": ["a<2.0.0"], "2.0.0": ["a>=3.0.0"]}
LOCAL_B = {"2.0.0+bar": [], "2.0.0+foo": []}
#: New releases of a and b need Python 3.10: a universal lock from 3.8 forks on them.
FORKING = packages(
    {
        "a": {"1.0.0": ["b"], "2.0.0": {"deps": ("b>=2",), "requires_python": ">=3.10"}},
        "b": {"1.0.0": [], "2.0.0": {"requires_python": ">=3.10"}},
    }
)
FORKED = (
    'a==1.0.0 ; python_version < "3.10"',
    'a==2.0.0 ; python_version >= "3.10"',
    'b==1.0.0 ; python_version < "3.10"',
    'b==2.0.0 ; python_version >= "3.10"',
)

SCENARIOS = [
    # -- excluded versions (packse: excluded/) -------------------------------------------
    Scenario(
        "excluded-only-version",
        packages({"a": {"1.0.0": []}}),
        ("a!=1.0.0",),
        Unsatisfiable(("a",)),
    ),
    Scenario(
        "excluded-only-compatible-version",
        packages({"a": A_NEEDS_SAME_B, "b": THREE}),
        ("a!=2.0.0", "b>=2.0.0,<3.0.0"),
        Unsatisfiable(("a", "b")),
    ),
    Scenario(
        "excluded-only-compatible-version-sdists",
        packages({"a": A_NEEDS_SAME_B, "b": THREE}, kind="sdist"),
        ("a!=2.0.0", "b>=2.0.0,<3.0.0"),
        Unsatisfiable(("a", "b")),
    ),
    Scenario(
        "excluded-only-compatible-version-verbose",
        packages({"a": A_NEEDS_SAME_B, "b": THREE}, kind="both"),
        ("a!=2.0.0", "b>=2.0.0,<3.0.0"),
        Unsatisfiable(("a", "b")),
        options=("-v",),
    ),
    Scenario(
        "dependency-excludes-range-of-compatible-versions",
        packages({"a": RANGE_OF_A, "b": THREE, "c": C_EXCLUDES_2X}),
        ("a", "b>=2.0.0,<3.0.0", "c"),
        Unsatisfiable(("a", "b")),
    ),
    Scenario(
        "dependency-excludes-non-contiguous-range-of-compatible-versions",
        packages(
            {
                "a": {**RANGE_OF_A, "2.1.0": ["b==2.0.0", "d"], "2.3.0": ["b==2.0.0", "d"]},
                "b": THREE,
                "c": C_EXCLUDES_2X,
                "d": {"1.0.0": []},
            }
        ),
        ("a", "b>=2.0.0,<3.0.0", "c"),
        Unsatisfiable(("a", "b")),
    ),
    # -- incompatible versions (packse: incompatible_versions/) --------------------------
    Scenario(
        "direct-incompatible-versions",
        packages({"a": {"1.0.0": [], "2.0.0": []}}),
        ("a==1.0.0", "a==2.0.0"),
        Unsatisfiable(("a",)),
    ),
    Scenario(
        "transitive-incompatible-versions",
        packages({"a": {"1.0.0": ["b==2.0.0", "b==1.0.0"]}, "b": {"1.0.0": [], "2.0.0": []}}),
        ("a==1.0.0",),
        Unsatisfiable(("b",)),
    ),
    Scenario(
        "transitive-incompatible-with-root-version",
        packages({"a": {"1.0.0": ["b==2.0.0"]}, "b": {"1.0.0": [], "2.0.0": []}}),
        ("a", "b==1.0.0"),
        Unsatisfiable(("a", "b")),
    ),
    Scenario(
        "transitive-incompatible-with-transitive",
        packages(
            {
                "a": {"1.0.0": ["c==1.0.0"]},
                "b": {"1.0.0": ["c==2.0.0"]},
                "c": {"1.0.0": [], "2.0.0": []},
            }
        ),
        ("a", "b"),
        Unsatisfiable(("c",)),
    ),
    # -- extras (packse: extras/) --------------------------------------------------------
    Scenario(
        "extra-incompatible-with-root",
        packages(
            {
                "a": {"1.0.0": {"extras": {"extra": ("b==1.0.0",)}}},
                "b": {"1.0.0": [], "2.0.0": []},
            }
        ),
        ("a[extra]", "b==2.0.0"),
        Unsatisfiable(("b",)),
    ),
    Scenario(
        "extra-required",
        packages({"a": {"1.0.0": {"extras": {"extra": ("b",)}}}, "b": {"1.0.0": []}}),
        ("a[extra]",),
        {"a": "1.0.0", "b": "1.0.0"},
    ),
    # Found by Hypothesis: b 2.0.0 needs a, whose only release needs b[fast]==1.0.0, so the
    # resolve backtracks to b 1.0.0, which needs nothing.  The abandoned b[fast] <-> a cycle
    # stays in the resolver's state with no route to the root; resolvelib 1.2.1's result
    # builder recursed around it for ever (RecursionError).
    *[
        Scenario(
            f"abandoned-cycle-through-an-extra{suffix}",
            packages(
                {
                    "a": {"0.9.0": ["b[fast]==1.0.0"]},
                    "b": {
                        "1.0.0": {"extras": {"fast": ("a",)}},
                        "2.0.0": {"deps": ("a",), "extras": {"fast": ()}},
                    },
                }
            ),
            ("b",),
            {"b": "1.0.0"},
            options=options,
            pip_compile_fails="pip's vendored resolvelib (1.2.1, pip 26.3) recurses for ever",
        )
        for suffix, options in [("", ()), ("-universal", UNIVERSAL)]
    ],
    # -- local versions (packse: local/) -------------------------------------------------
    # a==1.0.0 asks for b with one specifier; the root pins the local version 2.0.0+foo.
    *[
        Scenario(
            f"local-transitive{suffix}",
            packages({"a": {"1.0.0": [f"b{spec}"]}, "b": LOCAL_B}),
            ("a", "b==2.0.0+foo"),
            outcome,
        )
        for suffix, spec, outcome in [
            ("", "==2.0.0", {"a": "1.0.0", "b": "2.0.0+foo"}),
            ("-conflicting", "==2.0.0+bar", Unsatisfiable(("b",))),
            ("-greater-than", ">2.0.0", Unsatisfiable(("b",))),
            ("-greater-than-or-equal", ">=2.0.0", {"a": "1.0.0", "b": "2.0.0+foo"}),
            ("-less-than", "<2.0.0", Unsatisfiable(("b",))),
            ("-less-than-or-equal", "<=2.0.0", {"a": "1.0.0", "b": "2.0.0+foo"}),
        ]
    ],
    Scenario(
        "local-transitive-backtrack",
        packages({"a": {"1.0.0": ["b==2.0.0"], "2.0.0": ["b==2.0.0+bar"]}, "b": LOCAL_B}),
        ("a", "b==2.0.0+foo"),
        {"a": "1.0.0", "b": "2.0.0+foo"},
    ),
    # -- backtracking (packse: backtracking/, does_not_exist/) ---------------------------
    Scenario(
        "backtrack-to-missing-package",
        packages(
            {
                "a": {"2.0.0": [], "1.0.0": ["c"]},
                "b": {"1.0.0": ["a==1.0.0"], "2.0.0": ["a==1.0.0"], "3.0.0": ["a==1.0.0"]},
            }
        ),
        ("a", "b"),
        Unsatisfiable(("a", "c")),
    ),
    Scenario(
        "backtrack-with-missing-package",
        packages({"a": {"1.0.0": [], "2.0.0": []}, "b": {"1.0.0": ["c"], "2.0.0": ["a==1.0.0"]}}),
        ("a", "b"),
        {"a": "1.0.0", "b": "2.0.0"},
    ),
    Scenario(
        "wrong-backtracking-basic",
        packages(
            {
                "a": {"1.0.0": [], "2.0.0": []},
                "too-old": {"1.0.0": []},
                "b": {"1.0.0": ["too-old"], **{f"2.0.{i}": ["a==1.0.0"] for i in range(10)}},
            }
        ),
        ("a", "b"),
        {"a": "1.0.0", "b": "2.0.9"},
    ),
    Scenario(
        "transitive-requires-package-does-not-exist",
        packages({"a": {"1.0.0": ["b"]}}),
        ("a",),
        Unsatisfiable(("b",)),
    ),
    # -- pre-releases (pip's rules) ---------------------------------------------------------
    Scenario(
        "prerelease-only-version",
        packages({"a": {"1.0.0a1": []}}),
        ("a",),
        {"a": "1.0.0a1"},
    ),
    Scenario(
        "prerelease-skipped-when-a-final-release-fits",
        packages({"a": {"1.0.0": [], "2.0.0b1": []}}),
        ("a",),
        {"a": "1.0.0"},
    ),
    Scenario(
        "transitive-prerelease-named-in-a-specifier",
        packages({"a": {"1.0.0": ["b>=2.0.0b1"]}, "b": {"1.0.0": [], "2.0.0b1": []}}),
        ("a",),
        {"a": "1.0.0", "b": "2.0.0b1"},
    ),
    # -- format control ---------------------------------------------------------------------
    Scenario(
        "no-binary-builds-the-sdist",
        packages({"a": {"1.0.0": []}}, kind="both"),
        ("--no-binary :all:", "a"),
        {"a": "1.0.0"},
    ),
    Scenario(
        "only-binary-without-a-wheel",
        packages({"a": {"1.0.0": []}}, kind="sdist"),
        ("--only-binary :all:", "a"),
        Unsatisfiable(("a",)),
    ),
    # -- extras and markers ---------------------------------------------------------------
    Scenario(
        "extra-does-not-exist",
        packages({"a": {"1.0.0": []}}),
        ("a[missing]",),
        {"a": "1.0.0"},
    ),
    Scenario(
        "marker-false-for-the-target",
        packages({"a": {"1.0.0": []}}),
        ('a; python_version < "3"',),
        {},
    ),
    # -- Requires-Python ---------------------------------------------------------------------
    Scenario(
        "requires-python-newer-than-the-target",
        packages({"a": {"1.0.0": []}}, requires_python=">=3.99"),
        ("a",),
        Unsatisfiable(("a 1.0.0 requires Python>=3.99, but the target is Python",)),
    ),
    Scenario(
        "requires-python-of-an-exact-pin-under-a-constraint",
        packages(
            {"code-annotations": {"1.1.0": [], "3.0.0": {"requires_python": ">=3.99"}}},
        ),
        ("-c c.txt", "code-annotations==3.0.0"),
        Unsatisfiable(
            (
                "-r requirements.in (line 2) requires code-annotations==3.0.0",
                "code-annotations is constrained to >=1.1.0 by -c c.txt (line 1)",
                "code-annotations 3.0.0 requires Python>=3.99",
            )
        ),
        files={"c.txt": "code-annotations>=1.1.0\n"},
    ),
    Scenario(
        # issue 13's report: only Requires-Python stands in the way, and the headline says so.
        "requires-python-only-conflict-from-a-nested-file",
        packages(
            {
                "code-annotations": {
                    "1.1.0": {"requires_python": None},
                    "3.0.0": {"requires_python": ">=3.12"},
                }
            },
        ),
        ("-c c.txt", "-r r2.in"),
        Unsatisfiable(
            (
                "-r r2.in (line 1) requires code-annotations==3.0.0",
                "code-annotations is constrained to >=1.1.0 by -c c.txt (line 1)",
            ),
            headline=(
                "cannot resolve: code-annotations==3.0.0 requires Python >=3.12, "
                "but the target is Python 3.11"
            ),
        ),
        options=("--python-version", "3.11"),
        files={"c.txt": "code-annotations>=1.1.0\n", "r2.in": "code-annotations==3.0.0\n"},
    ),
    Scenario(
        "requires-python-rejects-every-version",
        packages(
            {"a": {"1.0.0": [], "2.0.0": {"requires_python": ">=3.99"}}}, requires_python=">=3.12"
        ),
        ("a",),
        Unsatisfiable(
            ("a 1.0.0 requires Python>=3.12", "a 2.0.0 requires Python>=3.99"),
            headline=(
                "cannot resolve: no version of a that fits supports Python 3.11: "
                "the newest, 2.0.0, requires Python >=3.99"
            ),
        ),
        options=("--python-version", "3.11"),
    ),
    Scenario(
        # Requires-Python is one reason among others: the headline says none can be used.
        "requires-python-and-no-wheel-for-the-target",
        packages(
            {
                "a": {
                    "1.0.0": {"tags": ("cp399-cp399-manylinux_2_17_x86_64",)},
                    "2.0.0": {"requires_python": ">=3.99"},
                }
            }
        ),
        ("a",),
        Unsatisfiable(
            ("a 1.0.0 has no file the target can install", "a 2.0.0 requires Python>=3.99"),
            headline="cannot resolve: no version of a can be used",
        ),
        options=("--python-version", "3.11"),
    ),
    Scenario(
        # The target as the user gave it: no patch level of the running interpreter.
        "requires-python-message-shows-the-target-as-given",
        packages({"a": {"1.0.0": []}}, requires_python=">=3.99"),
        ("a",),
        Unsatisfiable(("a 1.0.0 requires Python>=3.99, but the target is Python 3.11",)),
        options=("--python-version", "3.11"),
    ),
    Scenario(
        "requires-python-backtracks-to-an-older-release",
        packages(
            {"a": {"1.0.0": [], "2.0.0": {"requires_python": ">=3.99"}}},
        ),
        ("a",),
        {"a": "1.0.0"},
    ),
    # -- yanked releases (PEP 592) --------------------------------------------------------
    Scenario(
        "yanked-newest-is-skipped",
        packages({"a": {"1.0.0": [], "2.0.0": {"yanked": "broken"}}}),
        ("a",),
        {"a": "1.0.0"},
    ),
    Scenario(
        "yanked-chosen-by-an-arbitrary-equality-pin",
        packages({"a": {"1.0.0": [], "2.0.0": {"yanked": "broken"}}}),
        ("a===2.0.0",),
        {"a": "2.0.0"},
        warnings=("a==2.0.0 is yanked: broken",),
    ),
    Scenario(
        "yanked-not-chosen-by-a-wildcard-pin",
        packages({"a": {"1.0.0": {"yanked": ""}}}),
        ("a==1.*",),
        Unsatisfiable(("a",)),
    ),
    Scenario(
        "yanked-chosen-by-an-exact-pin",
        packages({"a": {"1.0.0": [], "2.0.0": {"yanked": "broken"}}}),
        ("a==2.0.0",),
        {"a": "2.0.0"},
        warnings=("a==2.0.0 is yanked: broken",),
    ),
    Scenario(
        "yanked-chosen-by-an-exact-pin-without-a-reason",
        packages({"a": {"1.0.0": [], "2.0.0": {"yanked": ""}}}),
        ("a==2.0.0",),
        {"a": "2.0.0"},
        warnings=("a==2.0.0 is yanked (no reason given)",),
    ),
    Scenario(
        "yanked-chosen-by-a-transitive-exact-pin",
        packages(
            {
                "a": {"1.0.0": ["b==2.0.0"]},
                "b": {"1.0.0": [], "2.0.0": {"yanked": "due to conflicts with CVE-2024-35195"}},
            }
        ),
        ("a",),
        {"a": "1.0.0", "b": "2.0.0"},
        warnings=("b==2.0.0 is yanked: due to conflicts with CVE-2024-35195",),
    ),
    # A release yanked file by file: the warning is for the file the target installs (as
    # pip's), whatever the other platforms' files are.
    *[
        Scenario(
            f"yanked-{which}-of-a-release-yanked-file-by-file",
            packages(
                {
                    "a": {
                        "1.0.0": [],
                        "2.0.0": {"tags": ("py3-none-any", "py3-none-macosx_10_0_ppc64")},
                    }
                }
            ),
            ("a==2.0.0",),
            {"a": "2.0.0"},
            index_switches={"yanked": {f"a-2.0.0-{tag}.whl": "broken here"}},
            warnings=warnings,
        )
        for which, tag, warnings in [
            ("only-the-file-installed", "py3-none-any", ("a==2.0.0 is yanked: broken here",)),
            ("only-another-platforms-file", "py3-none-macosx_10_0_ppc64", ()),
        ]
    ],
    Scenario(
        # Forks on Python: the yanked b 2.0.0 is pinned for the new Pythons only.
        "yanked-chosen-by-an-exact-pin-in-one-fork-of-a-universal-lock",
        packages(
            {
                "a": {
                    "1.0.0": ["b==1.0.0"],
                    "2.0.0": {"deps": ("b==2.0.0",), "requires_python": ">=3.10"},
                },
                "b": {"1.0.0": [], "2.0.0": {"yanked": "broken"}},
            }
        ),
        ("a",),
        {},
        options=("--universal", "--python-version", "3.8"),
        lines=(
            'a==1.0.0 ; python_version < "3.10"',
            'a==2.0.0 ; python_version >= "3.10"',
            'b==1.0.0 ; python_version < "3.10"',
            'b==2.0.0 ; python_version >= "3.10"',
        ),
        warnings=("b==2.0.0 is yanked: broken",),
        uv_differs=(
            "uv takes a yanked release only for an exact pin in the inputs: the transitive "
            "b==2.0.0 makes it keep a 1.0.0 and b 1.0.0 everywhere"
        ),
    ),
    Scenario(
        # Two locks of one run pin the same yanked release: one warning.
        "yanked-pinned-by-two-locks-warns-once",
        packages({"a": {"1.0.0": [], "2.0.0": {"yanked": "broken"}}}),
        ("a==2.0.0",),
        {"a": "2.0.0"},
        warnings=("a==2.0.0 is yanked: broken",),
        files={
            "dev.in": "a==2.0.0\n",
            "pyproject.toml": (
                "[[tool.lockcheck.lock]]\n"
                'inputs = ["requirements.in"]\n'
                'output = "requirements.txt"\n'
                "[[tool.lockcheck.lock]]\n"
                'inputs = ["dev.in"]\n'
                'output = "dev.txt"\n'
            ),
        },
    ),
    Scenario(
        "yanked-only-version",
        packages({"a": {"1.0.0": {"yanked": "broken"}}}),
        ("a",),
        Unsatisfiable(
            ("a 1.0.0 is yanked (broken)",), headline="cannot resolve: no version of a can be used"
        ),
    ),
    Scenario(
        "no-wheel-for-the-target",
        packages({"a": {"1.0.0": {"tags": ("cp399-cp399-manylinux_2_17_x86_64",)}}}),
        ("a",),
        Unsatisfiable(("a 1.0.0 has no file the target can install",)),
    ),
    Scenario(
        "yanked-only-version-transitive",
        packages({"a": {"1.0.0": ["b>=0.1"]}, "b": {"1.0.0": {"yanked": ""}}}),
        ("a",),
        Unsatisfiable(
            ("-r requirements.in (line 1): a -> a 1.0.0 requires b>=0.1",),
            headline="cannot resolve: no version of b matching >=0.1 can be used",
        ),
    ),
    # -- existing pins are preferences -----------------------------------------------------
    Scenario(
        "existing-pins-kept",
        packages({"a": A_NEEDS_SAME_B, "b": THREE}),
        ("a",),
        {"a": "2.0.0", "b": "2.0.0"},
        existing="a==2.0.0\nb==2.0.0\n",
    ),
    Scenario(
        "existing-pin-of-an-impossible-input",
        packages({"a": A_NEEDS_SAME_B, "b": THREE}),
        ("a!=2.0.0", "b>=2.0.0,<3.0.0"),
        Unsatisfiable(("a", "b")),
        existing="a==3.0.0\nb==2.0.0\n",
    ),
    Scenario(
        "existing-pin-that-no-longer-fits-moves",
        packages({"a": A_NEEDS_SAME_B, "b": THREE, "c": {"1.0.0": ["b<3"]}}),
        ("a", "c"),
        {"a": "2.0.0", "b": "2.0.0", "c": "1.0.0"},
        existing="a==3.0.0\nb==3.0.0\n",
        pip_compile_fails=(
            "pip-compile makes old pins constraints and drops only those named in the "
            "conflict (b), so a==3.0.0 stays and it fails; without the old lock it succeeds"
        ),
    ),
    Scenario(
        "existing-pins-with-python-version",
        packages({"a": A_NEEDS_SAME_B, "b": THREE}),
        ("a!=2.0.0", "b>=2.0.0,<3.0.0"),
        Unsatisfiable(("a", "b")),
        options=("--python-version", "3.12"),
        existing="a==3.0.0\nb==2.0.0\n",
    ),
    # -- universal over a lock written for one Python -----------------------------------
    Scenario(
        "universal-over-a-lock-for-one-python",
        FORKING,
        ("a",),
        {},
        options=("--universal", "--python-version", "3.8"),
        existing="a==2.0.0\nb==2.0.0\n",
        lines=FORKED,
    ),
    Scenario(
        "universal-over-a-lock-for-one-python-no-data-requires-python",
        FORKING,
        ("a",),
        {},
        options=("--universal", "--python-version", "3.8"),
        existing="a==2.0.0\nb==2.0.0\n",
        lines=FORKED,
        # The index does not say which Python the new releases need: only their metadata does.
        index_switches={
            "requires_python": {
                "a-2.0.0-py3-none-any.whl": None,
                "b-2.0.0-py3-none-any.whl": None,
            }
        },
    ),
    Scenario(
        "universal-unsatisfiable",
        packages({"a": A_NEEDS_SAME_B, "b": THREE}),
        ("a!=2.0.0", "b>=2.0.0,<3.0.0"),
        Unsatisfiable(("a", "b")),
        options=("--universal",),
    ),
    # -- universal forks (packse: fork/); each compared with uv pip compile --universal ----
    Scenario(
        "universal-dependency-differs-by-platform",
        packages(
            {
                "a": {"1.0.0": ['b; sys_platform == "win32"', 'c; sys_platform != "win32"']},
                "b": {"1.0.0": []},
                "c": {"1.0.0": []},
            }
        ),
        ("a",),
        {},
        options=UNIVERSAL,
        lines=(
            "a==1.0.0",
            'b==1.0.0 ; sys_platform == "win32"',
            'c==1.0.0 ; sys_platform != "win32"',
        ),
    ),
    Scenario(
        "universal-conflicting-pins-split-by-markers",
        packages({"a": {"1.0.0": [], "2.0.0": []}}),
        ('a==1.0.0; sys_platform == "linux"', 'a==2.0.0; sys_platform != "linux"'),
        {},
        options=UNIVERSAL,
        lines=('a==1.0.0 ; sys_platform == "linux"', 'a==2.0.0 ; sys_platform != "linux"'),
    ),
    Scenario(
        "universal-fork-branches-need-different-versions-of-a-shared-dependency",
        packages(
            {
                "a": {"1.0.0": ["c<2"], "2.0.0": ["c>=2"]},
                "c": {"1.0.0": [], "2.0.0": []},
            }
        ),
        ('a==1.0.0; sys_platform == "linux"', 'a==2.0.0; sys_platform != "linux"'),
        {},
        options=UNIVERSAL,
        lines=(
            'a==1.0.0 ; sys_platform == "linux"',
            'a==2.0.0 ; sys_platform != "linux"',
            'c==1.0.0 ; sys_platform == "linux"',
            'c==2.0.0 ; sys_platform != "linux"',
        ),
    ),
    Scenario(
        "universal-requires-python-split",
        packages({"a": {"1.0.0": [], "2.0.0": {"requires_python": ">=3.10"}}}),
        ("a",),
        {},
        options=UNIVERSAL,
        lines=('a==1.0.0 ; python_version < "3.10"', 'a==2.0.0 ; python_version >= "3.10"'),
    ),
    # Markers naming a value no environment of the grid has: carried to the lock, as uv does.
    Scenario(
        "universal-marker-the-grid-cannot-decide",
        packages({"a": {"1.0.0": []}}),
        ('a; sys_platform == "os1"',),
        {},
        options=UNIVERSAL,
        lines=('a==1.0.0 ; sys_platform == "os1"',),
    ),
    Scenario(
        "universal-machine-and-implementation-the-grid-cannot-decide",
        packages({"b": {"1.0.0": []}, "c": {"1.0.0": []}, "d": {"1.0.0": []}}),
        ('b; platform_machine == "riscv64"', 'c; implementation_name == "graalpy"', "d"),
        {},
        options=UNIVERSAL,
        lines=(
            'b==1.0.0 ; platform_machine == "riscv64"',
            'c==1.0.0 ; implementation_name == "graalpy"',
            "d==1.0.0",
        ),
    ),
    Scenario(
        "universal-dependency-marker-the-grid-cannot-decide",
        packages(
            {
                "d": {"1.0.0": ['e; sys_platform == "os1"', 'f; platform_machine == "riscv64"']},
                "e": {"1.0.0": ["g"]},
                "f": {"1.0.0": []},
                "g": {"1.0.0": []},
            }
        ),
        ("d",),
        {},
        options=UNIVERSAL,
        lines=(
            "d==1.0.0",
            'e==1.0.0 ; sys_platform == "os1"',
            'f==1.0.0 ; platform_machine == "riscv64"',
            'g==1.0.0 ; sys_platform == "os1"',
        ),
    ),
    Scenario(
        "universal-marker-the-grid-cannot-decide-forks-by-python",
        packages({"a": {"1.0.0": [], "2.0.0": {"requires_python": ">=3.10"}}}),
        ('a; sys_platform == "os1"',),
        {},
        options=UNIVERSAL,
        lines=(
            'a==1.0.0 ; sys_platform == "os1" and python_version < "3.10"',
            'a==2.0.0 ; sys_platform == "os1" and python_version >= "3.10"',
        ),
    ),
    Scenario(
        "universal-marker-the-grid-cannot-decide-with-a-part-it-can",
        packages({"a": {"1.0.0": []}, "b": {"1.0.0": []}}),
        ('a; sys_platform == "linux" and platform_machine == "riscv64"', "b"),
        {},
        options=UNIVERSAL,
        lines=('a==1.0.0 ; platform_machine == "riscv64" and sys_platform == "linux"', "b==1.0.0"),
    ),
    Scenario(
        "universal-excluded-where-the-grid-cannot-decide",
        packages({"a": {"1.0.0": []}, "b": {"1.0.0": []}}),
        ('a; sys_platform != "os1"', 'b; sys_platform == "os1"'),
        {},
        options=UNIVERSAL,
        lines=('a==1.0.0 ; sys_platform != "os1"', 'b==1.0.0 ; sys_platform == "os1"'),
    ),
    Scenario(
        "universal-marker-the-grid-cannot-decide-changes-a-shared-dependency",
        packages(
            {
                "a": {"1.0.0": ["c<2"]},
                "b": {"1.0.0": ["c"]},
                "c": {"1.0.0": [], "2.0.0": []},
            }
        ),
        ('a; sys_platform == "os1"', "b"),
        {},
        options=UNIVERSAL,
        lines=(
            'a==1.0.0 ; sys_platform == "os1"',
            "b==1.0.0",
            'c==1.0.0 ; sys_platform == "os1"',
            'c==2.0.0 ; sys_platform != "os1"',
        ),
        uv_differs=(
            "uv resolves once and forks only where requirements conflict: a's c<2 holds c at "
            "1.0.0 everywhere; lockcheck resolves each environment, so c is the newest where "
            "a is not installed (as for any marker the grid decides)"
        ),
    ),
]

#: A chain of seven packages from the root down to a requirement on z (to shorten in messages).
LONG_CHAIN = {f"p{i}": {"1.0.0": [f"p{i + 1}"]} for i in range(1, 7)} | {"p7": {"1.0.0": ["z==2"]}}

# Explanations (issue 13): every part of a conflict is told as the chain from the input line
# that asked for it, and every version of the packages in the conflict is accounted for.
# Kept apart from SCENARIOS (and its universal rows) so the two grow without merge conflicts.
EXPLAINED_SCENARIOS = [
    Scenario(
        # packse's dependency-excludes-range-of-compatible-versions, with c one level down:
        # the message must name c, whose every version rules out a 2.x.
        "explained-transitive-package-that-excludes-a-range",
        packages({"a": RANGE_OF_A, "b": THREE, "c": C_EXCLUDES_2X, "x": {"1.0.0": ["c"]}}),
        ("a", "b>=2.0.0,<3.0.0", "x"),
        Unsatisfiable(
            (
                "-r requirements.in (line 2) requires b<3.0.0,>=2.0.0",
                "-r requirements.in (line 1): a -> a 3.0.0 requires b==3.0.0",
                "-r requirements.in (line 1): a -> a 1.0.0 requires b==1.0.0",
                "a 2.0.0, 2.1.0, 2.2.0, 2.3.0 are ruled out by c "
                "(-r requirements.in (line 3): x -> x 1.0.0 requires c)",
                "c 1.0.0 requires a<2.0.0",
                "c 2.0.0 requires a>=3.0.0",
            ),
            headline="cannot resolve: conflicting requirements on b",
        ),
    ),
    Scenario(
        # The brief's example: requirements.in asks a==1.0.0 -> b>=2 -> c<1.5.
        "explained-chain-three-levels-deep",
        packages(
            {
                "a": {"1.0.0": ["b>=2"]},
                "b": {"1.0.0": [], "2.0.0": ["c<1.5"]},
                "c": {"1.0.0": [], "2.0.0": []},
            }
        ),
        ("a==1.0.0", "c>=2"),
        Unsatisfiable(
            (
                "-r requirements.in (line 2) requires c>=2",
                "-r requirements.in (line 1): a==1.0.0 requires b>=2 -> b 2.0.0 requires c<1.5",
                "b 1.0.0 is ruled out by a (-r requirements.in (line 1) requires a==1.0.0): "
                "a 1.0.0 requires b>=2",
            ),
        ),
    ),
    Scenario(
        # Only a==1.0.0 may be used (every b pins it), and it needs a package the index lacks.
        "explained-missing-package-behind-an-exact-pin",
        packages(
            {
                "a": {"2.0.0": [], "1.0.0": ["c"]},
                "b": {"1.0.0": ["a==1.0.0"], "2.0.0": ["a==1.0.0"]},
            }
        ),
        ("b",),
        Unsatisfiable(
            (
                "-r requirements.in (line 1): b -> b 2.0.0 requires a==1.0.0 requires c",
                "no package named 'c' was found on the configured indexes",
            ),
            headline="cannot resolve: no package named 'c' on the index",
        ),
    ),
    Scenario(
        # The version that would fit is excluded by a constraint file: say which line.
        "explained-version-excluded-by-a-constraint",
        packages({"a": A_NEEDS_SAME_B, "b": THREE}),
        ("-c c.txt", "a", "b>=2.0.0,<3.0.0"),
        Unsatisfiable(
            (
                "-r requirements.in (line 2): a -> a 3.0.0 requires b==3.0.0",
                "a 2.0.0 is ruled out by -c c.txt (line 1): a!=2.0.0",
            ),
        ),
        files={"c.txt": "a!=2.0.0\n"},
    ),
    Scenario(
        # A chain longer than four steps keeps its ends and says how many steps it skipped.
        "explained-long-chain-is-shortened",
        packages({**LONG_CHAIN, "z": {"1.0.0": [], "2.0.0": []}}),
        ("p1", "z==1.0.0"),
        Unsatisfiable(
            (
                "-r requirements.in (line 1): p1 -> p1 1.0.0 requires p2 -> (4 more) "
                "-> p6 1.0.0 requires p7 -> p7 1.0.0 requires z==2",
                "-r requirements.in (line 2) requires z==1.0.0",
            ),
        ),
    ),
    Scenario(
        # Every version of the parent is accounted for: one by its dependency, one by Python.
        "explained-other-versions-of-the-parent",
        packages(
            {
                "a": {
                    "1.0.0": ["b==2.0.0"],
                    "2.0.0": {"deps": ("b==1.0.0",), "requires_python": ">=3.99"},
                },
                "b": {"1.0.0": [], "2.0.0": []},
            }
        ),
        ("a", "b==1.0.0"),
        Unsatisfiable(
            (
                "-r requirements.in (line 1): a -> a 1.0.0 requires b==2.0.0",
                "a 2.0.0 requires Python>=3.99, but the target is Python",
            ),
        ),
    ),
    Scenario(
        # a 2.0.0 fits b, but its dependency d needs a z the input excludes: one level down.
        "explained-version-dropped-for-its-dependency",
        packages(
            {
                "a": {"1.0.0": ["b==1.0.0"], "2.0.0": ["b==2.0.0", "d"], "3.0.0": ["b==3.0.0"]},
                "b": THREE,
                "d": {"1.0.0": ["z==2.0.0"], "2.0.0": ["z>=2"]},
                "z": {"1.0.0": [], "2.0.0": []},
            }
        ),
        ("a", "b>=2.0.0,<3.0.0", "z==1.0.0"),
        Unsatisfiable(
            (
                "a 2.0.0 is ruled out because it requires d, and d 1.0.0 requires z==2.0.0 "
                "and d 2.0.0 requires z>=2, but -r requirements.in (line 3) requires z==1.0.0",
            ),
        ),
    ),
    # -- more packse scenarios ---------------------------------------------------------------
    Scenario(
        # The non-local b 2.0.0 has no wheel for the target: its local 2.0.0+foo meets ==2.0.0.
        "local-transitive-confounding",
        packages(
            {
                "a": {"1.0.0": ["b==2.0.0"]},
                "b": {"2.0.0": {"tags": ("py3-none-macosx_10_0_ppc64",)}, "2.0.0+foo": []},
            }
        ),
        ("a",),
        {"a": "1.0.0", "b": "2.0.0+foo"},
    ),
    Scenario(
        "python-greater-than-current-many",
        packages(
            {
                "a": {
                    **{f"2.{i}.0": {"requires_python": ">=3.10"} for i in range(6)},
                    **{f"3.{i}.0": {"requires_python": ">=3.11"} for i in range(6)},
                }
            }
        ),
        ("a==1.0.0",),
        Unsatisfiable(headline="cannot resolve: no version of a matches a==1.0.0"),
    ),
    Scenario(
        # --pre, but <0.2.0 does not admit 0.2.0's own pre-releases (PEP 440).
        "package-prereleases-boundary",
        packages({"a": {"0.1.0": [], "0.2.0a1": [], "0.3.0": []}}),
        ("a<0.2.0",),
        {"a": "0.1.0"},
        options=("--pre",),
    ),
    # -- post-releases (packse: post.json), PEP 440's rules ----------------------------------
    *[
        Scenario(
            f"post-{name}",
            packages({"a": dict.fromkeys(versions, ())}),
            (f"a{spec}",),
            {"a": outcome}
            if outcome
            else Unsatisfiable(
                (f"available versions of a: {', '.join(versions)}",),
                headline=f"cannot resolve: no version of a matches a{spec}",
            ),
        )
        for name, spec, versions, outcome in [
            ("simple", "==1.2.3", ["1.2.3.post1"], None),
            ("greater-than-or-equal", ">=1.2.3", ["1.2.3.post1"], "1.2.3.post1"),
            ("greater-than", ">1.2.3", ["1.2.3.post1"], None),
            ("greater-than-post", ">1.2.3.post0", ["1.2.3.post0", "1.2.3.post1"], "1.2.3.post1"),
            ("less-than-or-equal", "<=1.2.3", ["1.2.3.post1"], None),
            ("local-greater-than", ">1.2.3", ["1.2.3.post1", "1.2.3.post1+local"], None),
            ("equal-not-available", "==1.2.3.post0", ["1.2.3", "1.2.3.post1"], None),
        ]
    ],
]

#: ``name==version`` (``===`` for an arbitrary-equality input), extras allowed.
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?===?(\S+)")


def _pins(lock: str) -> dict[str, str]:
    return {m[1]: m[2] for m in map(_PIN.match, lock.splitlines()) if m}


def _body(lock: str) -> list[str]:
    return [ln for ln in lock.splitlines() if ln and not ln.startswith(("#", " ", "--"))]


def _write_inputs(folder: Path, scenario: Scenario) -> None:
    folder.mkdir()
    (folder / "requirements.in").write_text("\n".join(scenario.requires) + "\n")
    for name, text in scenario.files.items():
        (folder / name).write_text(text)
    if scenario.existing is not None:
        (folder / "requirements.txt").write_text(scenario.existing)


def _param(scenario: Scenario) -> object:
    marks = []
    if scenario.known_bug:
        marks.append(pytest.mark.xfail(reason=scenario.known_bug, strict=True))
    return pytest.param(scenario, id=scenario.name, marks=marks)


@pytest.mark.parametrize("scenario", [_param(s) for s in [*SCENARIOS, *EXPLAINED_SCENARIOS]])
def test_scenario(tmp_path: Path, make_index, scenario: Scenario) -> None:
    index = make_index(scenario.packages, **scenario.index_switches)
    work = tmp_path / "lockcheck"
    _write_inputs(work, scenario)
    started = time.monotonic()
    result = run_lockcheck("compile", "-i", index.url, *scenario.options, cwd=work, timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    if isinstance(scenario.expected, Unsatisfiable):
        assert result.returncode == 2, describe(result)
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("lockcheck: error:")]
        assert len(errors) == 1, describe(result)
        assert "cannot resolve" in errors[0], describe(result)
        if scenario.expected.headline is not None:
            assert errors[0] == f"lockcheck: error: {scenario.expected.headline}", describe(result)
        for word in scenario.expected.words:
            # A word ends where a name or version ends ("3.11" is not found in "3.11.7").
            found = re.search(rf"(?<!\w){re.escape(word)}(?!\.?\w)", result.stderr)
            assert found, (word, describe(result))
        assert "Traceback" not in result.stderr, describe(result)
        if scenario.existing is not None:  # a failed compile leaves the old lock alone
            assert (work / "requirements.txt").read_text() == scenario.existing
    else:
        assert result.returncode == 0, describe(result)
        yanked = [ln for ln in result.stderr.splitlines() if "is yanked" in ln]
        assert yanked == [f"lockcheck: warning: {w}" for w in scenario.warnings], describe(result)
        lock = (work / "requirements.txt").read_text()
        if scenario.lines:
            assert _body(lock) == list(scenario.lines), lock
        else:
            assert _pins(lock) == dict(scenario.expected), lock
    assert elapsed < TIMEOUT / 2, f"{scenario.name} took {elapsed:.1f}s"

    if "--universal" in scenario.options and not isinstance(scenario.expected, Unsatisfiable):
        if scenario.uv_differs is None:
            _assert_uv_agrees(tmp_path, index.url, scenario, lock)
        return
    if any(opt in scenario.options for opt in _LOCKCHECK_ONLY):
        return
    # pip-compile on the same index and inputs must reach the same outcome.
    reference = tmp_path / "pip-compile"
    _write_inputs(reference, scenario)
    pc_started = time.monotonic()
    pc = run_pip_compile(
        "--no-header",
        "--cache-dir",
        str(tmp_path / "pc-cache"),
        "-i",
        index.url,
        *[o for o in scenario.options if o != "-v"],
        cwd=reference,
        timeout=120,
    )
    pc_elapsed = time.monotonic() - pc_started
    # Issue 13: no input may make lockcheck run longer than pip-compile by more than 2 s.
    assert elapsed <= pc_elapsed + 2.0, f"lockcheck {elapsed:.1f}s, pip-compile {pc_elapsed:.1f}s"
    if isinstance(scenario.expected, Unsatisfiable) or scenario.pip_compile_fails:
        assert pc.returncode != 0, describe(pc)
    else:
        assert pc.returncode == 0, describe(pc)
        assert _pins((reference / "requirements.txt").read_text()) == _pins(lock)


#: Where a universal lock is read back: every Python of the range on each default platform,
#: and the same with a marker value no default platform has (the scenarios' os1, riscv64,
#: graalpy).
_ELSEWHERE = (
    {},
    {"sys_platform": "os1"},
    {"platform_machine": "riscv64"},
    {"implementation_name": "graalpy"},
)


def _sample_environments() -> list[dict[str, str]]:
    from lockcheck.resolve.platforms import environment_for

    return [
        {**environment_for(f"3.{minor}", platform).markers, **override}
        for minor in range(8, 16)
        for platform in ("linux", "macos", "windows")
        for override in _ELSEWHERE
    ]


def _installed_from(lock: str, environment: Mapping[str, str]) -> list[str]:
    """The pins of a universal lock that apply in *environment* (markers evaluated)."""
    from packaging.markers import Marker

    chosen = []
    for line in _body(lock):
        pin, _, marker = line.partition(";")
        if not marker or Marker(marker).evaluate({**environment, "extra": ""}):
            chosen.append(pin.strip())
    return sorted(chosen)


def _assert_uv_agrees(tmp_path: Path, index_url: str, scenario: Scenario, lock: str) -> None:
    """uv pip compile --universal on the same index and inputs installs the same pins in
    every sample environment (markers may be spelled otherwise)."""
    reference = tmp_path / "uv"
    _write_inputs(reference, scenario)
    python = scenario.options[scenario.options.index("--python-version") + 1]
    uv = run_uv_pip_compile(
        "--universal",
        "--python-version",
        python,
        "--no-header",
        "--no-annotate",
        "--cache-dir",
        tmp_path / "uv-cache",
        "--index-url",
        index_url,
        "requirements.in",
        "-o",
        "uv.txt",
        cwd=reference,
        timeout=120,
    )
    assert uv.returncode == 0, describe(uv)
    theirs = (reference / "uv.txt").read_text()
    for environment in _sample_environments():
        assert _installed_from(lock, environment) == _installed_from(theirs, environment), (
            environment,
            lock,
            theirs,
        )


def test_yanked_warning_once_per_run_and_again_from_the_stamp(tmp_path: Path, make_index) -> None:
    """Two locks of one run pin the same yanked release: one warning; the next run, answered
    from the unchanged-inputs stamp without resolving, still shows it."""
    index = make_index(packages({"a": {"1.0.0": [], "2.0.0": {"yanked": "broken"}}}))
    (tmp_path / "requirements.in").write_text("a==2.0.0\n")
    (tmp_path / "dev.in").write_text("a==2.0.0\n")
    (tmp_path / "pyproject.toml").write_text(
        '[[tool.lockcheck.lock]]\ninputs = ["requirements.in"]\noutput = "requirements.txt"\n'
        '[[tool.lockcheck.lock]]\ninputs = ["dev.in"]\noutput = "dev.txt"\n'
    )
    warning = "lockcheck: warning: a==2.0.0 is yanked: broken"
    for run in ("resolves", "answered from the stamp"):
        result = run_lockcheck("compile", "-i", index.url, cwd=tmp_path, timeout=TIMEOUT)
        assert result.returncode == 0, describe(result)
        assert result.stderr.splitlines().count(warning) == 1, (run, describe(result))
        for lock in ("requirements.txt", "dev.txt"):
            assert _pins((tmp_path / lock).read_text()) == {"a": "2.0.0"}, run
    assert "up to date" in result.stderr, describe(result)


@pytest.mark.parametrize(
    ("requires", "deps", "words"),
    [
        pytest.param(
            'a; platform_release >= "6"',
            (),
            ("requirements.in:1", 'a; platform_release >= "6"', 'platform_release >= "6"'),
            id="in-the-inputs",
        ),
        pytest.param(
            "d",
            ('a; platform_version >= "6"',),
            ("d==1.0.0", 'a; platform_version >= "6"', 'platform_version >= "6"'),
            id="in-dependency-metadata",
        ),
    ],
)
def test_universal_marker_it_cannot_carry_is_an_error(
    tmp_path: Path, make_index, requires: str, deps: tuple[str, ...], words: tuple[str, ...]
) -> None:
    """A marker no environment can be made for (an ordering of a platform string) would drop
    its requirement everywhere: one error line naming it, where it was asked and the marker."""
    index = make_index(packages({"a": {"1.0.0": []}, "d": {"1.0.0": list(deps)}}))
    (tmp_path / "requirements.in").write_text(requires + "\n")
    result = run_lockcheck("compile", "-i", index.url, *UNIVERSAL, cwd=tmp_path, timeout=TIMEOUT)
    assert result.returncode == 2, describe(result)
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("lockcheck: error:")]
    assert len(errors) == 1, describe(result)
    for word in words:
        assert word in errors[0], (word, describe(result))
    assert not (tmp_path / "requirements.txt").exists()


def test_universal_grid_growth_is_bounded(tmp_path: Path, make_index) -> None:
    """Each marker value the grid lacks costs one resolution per Python of the range (8 from
    3.8 on); past the bound the compile stops with one error naming the requirement, its
    line and the marker that would need more."""
    from lockcheck.resolve.foreign import MAX_EXTRA_ENVIRONMENTS

    fits = MAX_EXTRA_ENVIRONMENTS // 8
    names = [f"p{i}" for i in range(fits + 1)]
    index = make_index(packages({name: {"1.0.0": []} for name in names}))
    lines = [f'{name}; sys_platform == "os{i}"' for i, name in enumerate(names)]
    (tmp_path / "requirements.in").write_text("\n".join(lines[:fits]) + "\n")
    compile_ = ("compile", "-i", index.url, *UNIVERSAL)
    allowed = run_lockcheck(*compile_, cwd=tmp_path, timeout=TIMEOUT)
    assert allowed.returncode == 0, describe(allowed)
    body = _body((tmp_path / "requirements.txt").read_text())
    assert (
        body == [f'{name}==1.0.0 ; sys_platform == "os{i}"' for i, name in enumerate(names)][:fits]
    )
    (tmp_path / "requirements.in").write_text("\n".join(lines) + "\n")
    refused = run_lockcheck(*compile_, cwd=tmp_path, timeout=TIMEOUT)
    assert refused.returncode == 2, describe(refused)
    errors = [ln for ln in refused.stderr.splitlines() if ln.startswith("lockcheck: error:")]
    assert len(errors) == 1, describe(refused)
    assert f"requirements.in:{fits + 1}" in errors[0], describe(refused)
    assert f'sys_platform == "os{fits}"' in errors[0], describe(refused)
    assert str(MAX_EXTRA_ENVIRONMENTS) in errors[0], describe(refused)
    assert _body((tmp_path / "requirements.txt").read_text()) == body  # untouched
