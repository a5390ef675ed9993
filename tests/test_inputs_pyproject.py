"""Project inputs: static PEP 621, PEP 735 groups, dynamic metadata through a PEP 517 build,
setup.cfg / setup.py, and the read_inputs dispatcher."""

# One case per line keeps the tables readable; some lines are long on purpose.
# ruff: noqa: E501

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from lockcheck.errors import InputError
from lockcheck.inputs import is_project_file, read_inputs
from lockcheck.inputs.pyproject import (
    NeedsBuild,
    _extras_of_marker,
    read_project_input,
    read_pyproject,
    resolve_dependency_groups,
)
from lockcheck.models import ParsedInputs
from tests.fixtures.builders import make_project, make_setuptools_project, make_wheel
from tests.helpers import describe, run_pip_compile


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def pyproject(root: Path, body: str, name: str = "pyproject.toml") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path.relative_to(root)


def summary(parsed: ParsedInputs | NeedsBuild) -> list[tuple[str, str]]:
    assert isinstance(parsed, ParsedInputs), parsed
    return [(str(r.requirement), r.source) for r in parsed.requirements]


APP = """\
    [project]
    name = "My_App"
    version = "1.0"
    dependencies = [
        "requests>=2",
        'tomli; python_version < "3.11"',
    ]

    [project.optional-dependencies]
    Dev_Tools = ["pytest", "coverage[toml]"]
    docs = ["sphinx"]
    all = ["my-app[dev-tools,docs]", "extra-only"]
    win = ['my_app[docs]; os_name == "nt"', 'pywin32; platform_machine == "AMD64"']
    """
L = "My_App (pyproject.toml)"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, ["requests>=2", 'tomli; python_version < "3.11"']),
        ({"extras": ["docs"]}, ["requests>=2", 'tomli; python_version < "3.11"', "sphinx"]),
        # extra names are compared normalised (PEP 685)
        ({"extras": ["dev-tools"]}, ["requests>=2", 'tomli; python_version < "3.11"', "pytest", "coverage[toml]"]),
        # a self-reference expands in place
        ({"extras": ["all"]}, ["requests>=2", 'tomli; python_version < "3.11"', "pytest", "coverage[toml]", "sphinx", "extra-only"]),
        # ... and its marker is carried onto what it brings in
        ({"extras": ["win"]}, ["requests>=2", 'tomli; python_version < "3.11"', 'sphinx; os_name == "nt"', 'pywin32; platform_machine == "AMD64"']),
        ({"all_extras": True, "extras": ["docs"]}, ["requests>=2", 'tomli; python_version < "3.11"', "pytest", "coverage[toml]", "sphinx", "extra-only", 'sphinx; os_name == "nt"', 'pywin32; platform_machine == "AMD64"']),
    ],
    ids=["base", "docs", "normalised", "self-reference", "self-reference-marker", "all-extras"],
)  # fmt: skip
def test_static_dependencies(work: Path, kwargs: dict[str, object], expected: list[str]) -> None:
    path = pyproject(work, APP)
    parsed = read_pyproject(path, **kwargs)  # type: ignore[arg-type]
    assert summary(parsed) == [(r, L) for r in expected]
    assert isinstance(parsed, ParsedInputs)
    assert parsed.files == (work / "pyproject.toml",)
    assert parsed.constraints == ()


def test_static_line_numbers_and_files(work: Path) -> None:
    parsed = read_pyproject(pyproject(work, APP), extras=["docs"])
    assert isinstance(parsed, ParsedInputs)
    assert [r.line for r in parsed.requirements] == [5, 6, 11]
    assert {r.file for r in parsed.requirements} == {work / "pyproject.toml"}


def test_unknown_extra(work: Path) -> None:
    with pytest.raises(InputError) as info:
        read_pyproject(pyproject(work, APP), extras=["docs", "nope"])
    assert str(info.value) == (
        "pyproject.toml: extra 'nope' is not defined by My_App "
        "(defined extras: all, dev-tools, docs, win)"
    )


def test_self_reference_to_unknown_extra(work: Path) -> None:
    path = pyproject(
        work,
        """\
        [project]
        name = "app"
        version = "1"
        [project.optional-dependencies]
        a = ["app[zzz]"]
        """,
    )
    with pytest.raises(InputError, match="refers to extra 'zzz' that app does not define"):
        read_pyproject(path, extras=["a"])


def test_self_reference_cycle_terminates(work: Path) -> None:
    path = pyproject(
        work,
        """\
        [project]
        name = "app"
        version = "1"
        [project.optional-dependencies]
        a = ["app[b]", "x"]
        b = ["app[a]", "y"]
        """,
    )
    assert summary(read_pyproject(path, extras=["a"])) == [
        ("y", "app (pyproject.toml)"),
        ("x", "app (pyproject.toml)"),
    ]


def test_direct_reference_keeps_link(work: Path) -> None:
    path = pyproject(
        work,
        """\
        [project]
        name = "app"
        version = "1"
        dependencies = ["lib @ https://h/lib-1.0-py3-none-any.whl"]
        """,
    )
    parsed = read_pyproject(path)
    assert isinstance(parsed, ParsedInputs)
    assert parsed.requirements[0].link == "https://h/lib-1.0-py3-none-any.whl"


def test_label_uses_path_as_given(work: Path) -> None:
    pyproject(work, APP, name="sub/pyproject.toml")
    parsed = read_pyproject(Path("sub/pyproject.toml"))
    assert summary(parsed)[0] == ("requests>=2", "My_App (sub/pyproject.toml)")
    parsed = read_pyproject(Path("sub/pyproject.toml"), relative_to=work / "sub")
    assert summary(parsed)[0] == ("requests>=2", "My_App (pyproject.toml)")


@pytest.mark.parametrize(
    ("body", "kwargs", "reason"),
    [
        ('[project]\nname = "a"\nversion = "1"\ndynamic = ["dependencies"]\n', {}, "dependencies are dynamic"),
        ('[project]\nname = "a"\nversion = "1"\ndynamic = ["optional-dependencies"]\n', {"extras": ["x"]}, "optional-dependencies are dynamic"),
        ('[project]\nname = "a"\nversion = "1"\ndynamic = ["optional-dependencies"]\n', {"all_extras": True}, "optional-dependencies are dynamic"),
        ('[build-system]\nrequires = ["setuptools"]\n', {}, "no [project] table"),
        ('[project]\nversion = "1"\n', {}, "no name"),
    ],
    ids=["dynamic-deps", "dynamic-extras", "dynamic-all-extras", "no-project", "no-name"],
)  # fmt: skip
def test_needs_build(work: Path, body: str, kwargs: dict[str, object], reason: str) -> None:
    result = read_pyproject(pyproject(work, body), **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, NeedsBuild)
    assert reason in result.reason


def test_dynamic_extras_without_extras_is_static(work: Path) -> None:
    body = '[project]\nname = "a"\nversion = "1"\ndependencies = ["x"]\ndynamic = ["optional-dependencies"]\n'
    assert summary(read_pyproject(pyproject(work, body))) == [("x", "a (pyproject.toml)")]


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ('[project\nname = "a"\n', r"^pyproject\.toml:1: invalid TOML"),
        ('[project]\nname = "a"\nversion = "1"\n\ndependencies = ["ok", "bad=="]\n', r"^pyproject\.toml:5: invalid requirement 'bad==' in \[project\] dependencies"),
        ('[project]\nname = "a"\ndependencies = "x"\n', r"dependencies must be an array"),
        ('[project]\nname = "a"\ndependencies = [1]\n', r"must hold strings, found 1"),
        ('[project]\nname = "a"\n[project.optional-dependencies]\nx = ["ok", "nope nope"]\n', r"^pyproject\.toml:4: invalid requirement 'nope nope' in \[project.optional-dependencies\] x"),
        ('project = 3\n', r"\[project\] must be a table"),
    ],
    ids=["toml", "requirement", "not-array", "not-string", "extra-requirement", "project-not-table"],
)  # fmt: skip
def test_pyproject_errors(work: Path, body: str, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        read_pyproject(pyproject(work, body))


# --------------------------------------------------------------------------------------
# PEP 735 dependency groups
# --------------------------------------------------------------------------------------

GROUPS = """\
    [project]
    name = "app"
    version = "1"
    dependencies = ["base"]
    [project.optional-dependencies]
    cli = ["click"]

    [dependency-groups]
    Test = ["pytest", {include-group = "coverage"}]
    coverage = ["coverage[toml]"]
    dev = [{include-group = "test"}, "ruff", "app[cli]"]
    a = [{include-group = "b"}]
    b = [{include-group = "A"}]
    """


def test_dependency_groups(work: Path) -> None:
    parsed = read_pyproject(pyproject(work, GROUPS), groups=["dev"])
    assert summary(parsed) == [
        ("base", "app (pyproject.toml)"),
        ("pytest", "app (pyproject.toml:dev)"),
        ("coverage[toml]", "app (pyproject.toml:dev)"),
        ("ruff", "app (pyproject.toml:dev)"),
        ("click", "app (pyproject.toml:dev)"),  # self-reference app[cli] expands
    ]


def test_dependency_group_cycle(work: Path) -> None:
    with pytest.raises(InputError, match="dependency group include cycle: a -> b -> a"):
        read_pyproject(pyproject(work, GROUPS), groups=["a"])


def test_unknown_dependency_group(work: Path) -> None:
    with pytest.raises(InputError, match="dependency group 'lint' is not defined"):
        read_pyproject(pyproject(work, GROUPS), groups=["lint"])


@pytest.mark.parametrize(
    ("table", "pattern"),
    [
        ('x = "pytest"', "must be an array"),
        ('x = [{include-group = "nope"}]', "includes unknown group 'nope'"),
        ('x = [{include = "y"}]', "invalid item in dependency group 'x'"),
        ("x = []\nX = []", "collide after normalisation"),
    ],
)
def test_dependency_group_errors(table: str, pattern: str) -> None:
    import tomllib

    data = tomllib.loads("[dependency-groups]\n" + table)
    with pytest.raises(InputError, match=pattern):
        resolve_dependency_groups(data, ["x"])


def test_groups_without_project_table(work: Path) -> None:
    path = pyproject(work, '[dependency-groups]\ndev = ["ruff"]\n')
    result = read_pyproject(path, groups=["dev"])
    assert isinstance(result, NeedsBuild)
    assert [(str(r.requirement), r.source) for r in result.groups] == [
        ("ruff", "pyproject.toml:dev")
    ]


# --------------------------------------------------------------------------------------
# extra markers of built metadata (pip-tools' drop_extras)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "extras", "rest"),
    [
        ('extra == "x"', {"x"}, None),
        ('python_version < "3.11" and extra == "x"', {"x"}, 'python_version < "3.11"'),
        ('"x" == extra', {"x"}, None),
        ('(extra == "a" or extra == "B_c") and sys_platform == "linux"', {"a", "b-c"}, 'sys_platform == "linux"'),
        ('python_version < "3.11" and (extra == "a" or os_name == "nt")', {"a"}, 'python_version < "3.11" and os_name == "nt"'),
        ('os_name == "nt"', set(), 'os_name == "nt"'),
    ],
)  # fmt: skip
def test_extras_of_marker(marker: str, extras: set[str], rest: str | None) -> None:
    found, remaining = _extras_of_marker(Marker(marker))
    assert found == extras
    assert remaining == (Marker(rest) if rest else None)


# --------------------------------------------------------------------------------------
# dynamic metadata through a PEP 517 build
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("isolation", [False, True])
def test_dynamic_dependencies_are_built(work: Path, isolation: bool) -> None:
    root = make_project(
        work,
        "Dyn.App",
        dependencies=["alpha>=1", 'beta; python_version < "3.99"'],
        optional_dependencies={"Extra-One": ["gamma"], "two": ["delta", "dyn-app[extra-one]"]},
        dynamic_dependencies=True,
    )
    path = root.relative_to(work) / "pyproject.toml"
    assert isinstance(read_pyproject(path), NeedsBuild)
    parsed = read_project_input(path, extras=["two"], build_isolation=isolation)
    label = "Dyn.App (Dyn.App/pyproject.toml)"
    assert summary(parsed) == [
        ("alpha>=1", label),
        ('beta; python_version < "3.99"', label),
        ("delta", label),
        ("gamma", label),
    ]
    assert parsed.files == (work / "Dyn.App" / "pyproject.toml",)
    with pytest.raises(InputError, match=r"extra 'three' is not defined by Dyn\.App"):
        read_project_input(path, extras=["three"], build_isolation=False)


def test_static_project_needs_no_build(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lockcheck.build

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("built a static project")

    monkeypatch.setattr(lockcheck.build, "prepare_metadata", boom)
    parsed = read_project_input(pyproject(work, APP))
    assert summary(parsed)[0] == ("requests>=2", L)


def test_groups_with_dynamic_dependencies(work: Path) -> None:
    root = make_project(work, "dapp", dependencies=["alpha"], dynamic_dependencies=True)
    with (root / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[dependency-groups]\ndev = ["ruff"]\n')
    parsed = read_project_input(
        root.relative_to(work) / "pyproject.toml", groups=["dev"], build_isolation=False
    )
    assert summary(parsed) == [
        ("alpha", "dapp (dapp/pyproject.toml)"),
        ("ruff", "dapp (dapp/pyproject.toml:dev)"),
    ]


@pytest.mark.needs_setuptools
@pytest.mark.parametrize("style", ["setup.cfg", "setup.py"])
def test_setuptools_projects(work: Path, style: str) -> None:
    root = make_setuptools_project(
        work,
        "legacy-app",
        "1.2",
        install_requires=["alpha>=1", 'beta; python_version < "3.99"'],
        extras_require={"test": ["gamma"]},
        style=style,  # type: ignore[arg-type]
    )
    path = root.relative_to(work) / style
    parsed = read_project_input(path, extras=["test"], build_isolation=False)
    label = f"legacy-app (legacy-app/{style})"
    assert sorted(summary(parsed)) == sorted(
        [("alpha>=1", label), ('beta; python_version < "3.99"', label), ("gamma", label)]
    )
    with pytest.raises(InputError, match="dependency groups can only be read from pyproject"):
        read_project_input(path, groups=["dev"], build_isolation=False)


def test_project_input_errors(work: Path) -> None:
    with pytest.raises(InputError, match="not a project file"):
        read_project_input(Path("requirements.in"))
    with pytest.raises(InputError, match=r"cannot read setup\.cfg: No such file"):
        read_project_input(Path("setup.cfg"))


# --------------------------------------------------------------------------------------
# read_inputs
# --------------------------------------------------------------------------------------


def test_read_inputs_merges_in_order(work: Path) -> None:
    pyproject(work, APP)
    (work / "requirements.in").write_text("-r base.in\n--pre\nflask\n", encoding="utf-8")
    (work / "base.in").write_text("click\n", encoding="utf-8")
    (work / "more.in").write_text("-r base.in\n-c cons.txt\n", encoding="utf-8")
    (work / "cons.txt").write_text("click<9\n", encoding="utf-8")
    (work / "extra-cons.txt").write_text("flask<4\n", encoding="utf-8")
    parsed = read_inputs(
        ["requirements.in", "pyproject.toml", "more.in", "pyproject.toml"],
        extras=["docs"],
        environ={},
        constraints=["extra-cons.txt"],
    )
    assert [(str(r.requirement), r.source) for r in parsed.requirements] == [
        ("click", "-r base.in"),
        ("flask", "-r requirements.in"),
        ("requests>=2", L),
        ('tomli; python_version < "3.11"', L),
        ("sphinx", L),
        ("requests>=2", L),
        ('tomli; python_version < "3.11"', L),
        ("sphinx", L),
    ]
    assert [(str(r.requirement), r.source) for r in parsed.constraints] == [
        ("click<9", "-c cons.txt"),
        ("flask<4", "-c extra-cons.txt"),
    ]
    assert parsed.options.pre
    assert parsed.files == tuple(
        work / n
        for n in (
            "requirements.in",
            "base.in",
            "pyproject.toml",
            "more.in",
            "cons.txt",
            "extra-cons.txt",
        )
    )


def test_read_inputs_extras_need_a_project(work: Path) -> None:
    (work / "requirements.in").write_text("flask\n", encoding="utf-8")
    with pytest.raises(InputError, match="--extra has effect only with"):
        read_inputs(["requirements.in"], extras=["x"])
    with pytest.raises(InputError, match="--group has effect only with"):
        read_inputs(["requirements.in"], groups=["x"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [("pyproject.toml", True), ("sub/setup.cfg", True), ("setup.py", True), ("-", False), ("requirements.in", False)],
)  # fmt: skip
def test_is_project_file(path: str, expected: bool) -> None:
    assert is_project_file(path) is expected


def test_labels_match_pip_compile(work: Path) -> None:
    wheels = work / "wheels"
    for name in ("alpha", "beta", "gamma"):
        make_wheel(wheels, name, "1.0")
    pyproject(
        work,
        """\
        [project]
        name = "Label_App"
        version = "1.0"
        dependencies = ["alpha"]
        [project.optional-dependencies]
        x = ["beta"]
        """,
        name="app/pyproject.toml",
    )
    result = run_pip_compile(
        "--no-index", "--find-links", wheels, "--no-header", "--no-emit-options", "--extra", "x",
        "--output-file", "-", "app/pyproject.toml", cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, describe(result)
    parsed = read_inputs(["app/pyproject.toml"], extras=["x"])
    for item in parsed.requirements:
        assert item.requirement is not None
        assert f"{item.requirement.name}==1.0\n    # via {item.source}\n" in result.stdout


def test_requirement_objects_are_fresh(work: Path) -> None:
    """Selected requirements are new objects: callers may not mutate the parser's state."""
    parsed = read_pyproject(pyproject(work, APP), extras=["win"])
    assert isinstance(parsed, ParsedInputs)
    reqs = [r.requirement for r in parsed.requirements]
    assert Requirement("sphinx; os_name == 'nt'") in reqs
