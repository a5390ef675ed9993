"""pip requirements-file syntax (lockcheck.inputs.reqfile), table-driven.

Every case writes real files into a temporary folder and runs there, because pip resolves
bare paths against the current directory and ``-r`` paths against the including file.
"""

# One case per line keeps the tables readable; some lines are long on purpose.
# ruff: noqa: E501

from __future__ import annotations

import io
import os
import re
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

from lockcheck.errors import InputError
from lockcheck.inputs.reqfile import (
    RequirementFileParser,
    parse_requirement_file,
    parse_requirement_files,
    preprocess,
    split_link_extras,
)
from lockcheck.models import IndexOptions, ParsedInputs
from tests.fixtures.builders import make_project, make_wheel
from tests.helpers import describe, run_pip_compile


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def parse(
    root: Path, text: str, environ: dict[str, str] | None = None, **files: str
) -> ParsedInputs:
    # keyword names spell paths: "sub__base_in" is "sub/base.in"
    names = {".".join(k.replace("__", "/").rsplit("_", 1)): v for k, v in files.items()}
    write(root, {"requirements.in": text, **names})
    return parse_requirement_file("requirements.in", environ=environ or {})


def reqs(parsed: ParsedInputs) -> list[str | None]:
    return [str(r.requirement) if r.requirement else None for r in parsed.requirements]


# --------------------------------------------------------------------------------------
# preprocessing: comments, continuations, blank lines, ${VAR}
# --------------------------------------------------------------------------------------

PREPROCESS_CASES = [
    ("blank and comment lines", "\n# c\n   # indented\n\nfoo\n", [(5, "foo")]),
    ("trailing comment", "foo>=1  # pinned because\n", [(1, "foo>=1")]),
    ("hash without space is kept", "foo @ https://h/x.zip#sha1=abc\n", [(1, "foo @ https://h/x.zip#sha1=abc")]),
    ("egg fragment is kept", "-e git+https://h/r@v1#egg=pkg\n", [(1, "-e git+https://h/r@v1#egg=pkg")]),
    ("continuation joins", "foo\\\n>=1.0\nbar\n", [(1, "foo>=1.0"), (3, "bar")]),
    ("continuation keeps first line number", "\n\nfoo \\\n  --hash=sha256:aa \\\n  --hash=sha256:bb\n", [(3, "foo   --hash=sha256:aa   --hash=sha256:bb")]),
    ("continuation at end of file", "foo\\", [(1, "foo")]),
    # pip: a trailing comment before a backslash swallows the continued line
    ("comment swallows continuation", "foo # note \\\nbar\nbaz\n", [(1, "foo"), (3, "baz")]),
    # a comment line ending with a backslash is not a continuation
    ("comment line ends continuation", "# note \\\nbar\n", [(2, "bar")]),
    ("continuation into comment line", "foo \\\n# comment\nbar\n", [(1, "foo"), (3, "bar")]),
    ("CRLF line endings", "foo\r\nbar\r\n", [(1, "foo"), (2, "bar")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in PREPROCESS_CASES], ids=[c[0] for c in PREPROCESS_CASES]
)
def test_preprocess(text: str, expected: list[tuple[int, str]]) -> None:
    assert preprocess(text, {}) == expected


ENV_CASES = [
    ("expanded", "${HOST}", {"HOST": "example.org"}, "example.org"),
    ("missing stays", "${NOPE}", {}, "${NOPE}"),
    ("empty stays", "${EMPTY}", {"EMPTY": ""}, "${EMPTY}"),
    ("lowercase not a variable", "${host}", {"host": "x"}, "${host}"),
    ("dollar without braces", "$HOST", {"HOST": "x"}, "$HOST"),
    ("digits and underscore", "${A_1}", {"A_1": "v"}, "v"),
    ("twice", "${A}/${A}", {"A": "v"}, "v/v"),
]


@pytest.mark.parametrize(
    ("text", "environ", "expected"), [c[1:] for c in ENV_CASES], ids=[c[0] for c in ENV_CASES]
)
def test_env_expansion(text: str, environ: dict[str, str], expected: str) -> None:
    assert preprocess(f"foo @ https://{text}/x.whl", environ) == [
        (1, f"foo @ https://{expected}/x.whl")
    ]


def test_env_defaults_to_os_environ(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKCHECK_TEST_SPEC", ">=2")
    write(work, {"requirements.in": "foo${LOCKCHECK_TEST_SPEC}\n"})
    assert reqs(parse_requirement_file("requirements.in")) == ["foo>=2"]


# --------------------------------------------------------------------------------------
# requirement lines
# --------------------------------------------------------------------------------------

REQUIREMENT_CASES = [
    # (id, line, str(requirement) or None, link, editable)
    ("name", "foo", "foo", None, False),
    ("specifier", "Foo_Bar>=1.0,<2", "Foo_Bar<2,>=1.0", None, False),
    ("extras", "foo[Bar, baz]==1.0", "foo[Bar,baz]==1.0", None, False),
    ("marker", 'foo; python_version < "3.11"', 'foo; python_version < "3.11"', None, False),
    ("marker with spaces", "foo >= 1 ; sys_platform == 'linux'", 'foo>=1; sys_platform == "linux"', None, False),
    ("direct reference", "foo @ https://h/foo-1.0.tar.gz", "foo @ https://h/foo-1.0.tar.gz", "https://h/foo-1.0.tar.gz", False),
    ("direct reference with marker", 'foo @ https://h/f.zip ; os_name == "nt"', 'foo @ https://h/f.zip ; os_name == "nt"', "https://h/f.zip", False),
    ("direct vcs reference", "foo[x] @ git+https://h/r@v1", "foo[x] @ git+https://h/r@v1", "git+https://h/r@v1", False),
    ("wheel URL", "https://h/p/foo_bar-1.0-py3-none-any.whl", "foo-bar", "https://h/p/foo_bar-1.0-py3-none-any.whl", False),
    ("wheel URL with marker", 'https://h/foo-1.0-py3-none-any.whl; os_name == "nt"', 'foo; os_name == "nt"', "https://h/foo-1.0-py3-none-any.whl", False),
    ("sdist URL without name", "https://h/foo-1.0.tar.gz", None, "https://h/foo-1.0.tar.gz", False),
    ("sdist URL with egg", "https://h/foo-1.0.tar.gz#egg=foo", "foo", "https://h/foo-1.0.tar.gz#egg=foo", False),
    ("vcs URL with egg", "git+https://h/r.git@v1#egg=Foo", "Foo", "git+https://h/r.git@v1#egg=Foo", False),
    ("vcs URL with egg extras", "git+https://h/r@v1#egg=foo[a,b]", "foo[a,b]", "git+https://h/r@v1#egg=foo[a,b]", False),
    ("local project dir", "./proj", None, "./proj", False),
    ("local project dir with extras", "./proj[dev]", None, "./proj[dev]", False),
    ("local wheel", "./dist/foo-2.0-py3-none-any.whl", "foo", "./dist/foo-2.0-py3-none-any.whl", False),
    ("local wheel with extras", "./dist/foo-2.0-py3-none-any.whl[x]", "foo[x]", "./dist/foo-2.0-py3-none-any.whl[x]", False),
    ("missing archive path", "./missing/foo-1.0.tar.gz", None, "./missing/foo-1.0.tar.gz", False),
    ("file URL", "file:///srv/proj", None, "file:///srv/proj", False),
    ("editable path", "-e ./proj", None, "./proj", True),
    ("editable path long option", "--editable=./proj", None, "./proj", True),
    ("editable path with extras", "-e ./proj[dev]", None, "./proj[dev]", True),
    ("editable path with egg", "-e file:./proj#egg=proj", "proj", "file:./proj#egg=proj", True),
    ("editable vcs", "-e git+https://h/r@main#egg=pkg", "pkg", "git+https://h/r@main#egg=pkg", True),
    ("editable vcs egg extras", "-e git+ssh://git@h/r#egg=pkg[x]", "pkg[x]", "git+ssh://git@h/r#egg=pkg[x]", True),
    ("editable git: scheme", "-e git://h/r#egg=pkg", "pkg", "git://h/r#egg=pkg", True),
    ("editable direct reference", '-e "pkg[x] @ git+https://h/r"', "pkg[x]", "git+https://h/r", True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "expected", "link", "editable"),
    [c[1:] for c in REQUIREMENT_CASES],
    ids=[c[0] for c in REQUIREMENT_CASES],
)
def test_requirement_lines(
    work: Path, line: str, expected: str | None, link: str | None, editable: bool
) -> None:
    make_project(work, "proj")
    make_wheel(work / "dist", "foo", "2.0")
    parsed = parse(work, f"# header\n\n{line}\n")
    assert len(parsed.requirements) == 1
    item = parsed.requirements[0]
    assert (str(item.requirement) if item.requirement else None) == expected
    assert item.link == link
    assert item.editable is editable
    assert item.line == 3
    assert item.source == "-r requirements.in"
    assert item.file == work / "requirements.in"
    assert not item.constraint


def test_hashes(work: Path) -> None:
    parsed = parse(
        work,
        "foo==1.0 \\\n"
        "    --hash=sha256:aaaa \\\n"
        "    --hash sha512:bbbb\n"
        "bar==2.0 --hash=sha384:cccc --hash=sha256:dddd\n"
        "--hash=sha256:eeee\n",
    )
    assert [r.hashes for r in parsed.requirements] == [
        ("sha256:aaaa", "sha512:bbbb"),
        ("sha384:cccc", "sha256:dddd"),
    ]
    assert [r.line for r in parsed.requirements] == [1, 4]


def test_requirement_line_ignores_other_options(work: Path) -> None:
    """pip only applies --hash/--config-settings to a requirement line."""
    parsed = parse(work, "foo --index-url https://ignored/ -C key=value\n")
    assert reqs(parsed) == ["foo"]
    assert parsed.options == IndexOptions()


def test_stdin(work: Path) -> None:
    write(work, {"sub/more.in": "bar\n-r deeper.in\n", "sub/deeper.in": "baz\n"})
    parser = RequirementFileParser(environ={}, stdin=io.StringIO("foo\n-r sub/more.in\n"))
    parser.parse("-")
    parsed = parser.result()
    assert reqs(parsed) == ["foo", "bar", "baz"]
    # pip-compile labels everything read through stdin "-r -"
    assert {r.source for r in parsed.requirements} == {"-r -"}
    assert parsed.files == (work / "sub" / "more.in", work / "sub" / "deeper.in")


def test_decoding_with_bom_and_pep263(work: Path) -> None:
    (work / "utf16.in").write_bytes("foo\nbär-pkg\n".encode("utf-16"))
    with pytest.raises(InputError, match="invalid requirement 'bär-pkg'"):
        parse_requirement_file("utf16.in", environ={})
    (work / "latin.in").write_bytes("# -*- coding: latin-1 -*-\nfoo  # caf\xe9\n".encode("latin-1"))
    assert reqs(parse_requirement_file("latin.in", environ={})) == ["foo"]


# --------------------------------------------------------------------------------------
# -r / -c: nesting, labels, cycles
# --------------------------------------------------------------------------------------


def test_nested_files_and_labels(work: Path) -> None:
    parsed = parse(
        work,
        "-r requirements/base.in\n-c constraints.txt\nflask\n",
        requirements__base_in="-r ../common/shared.in\nrequests\n",
        common__shared_in="urllib3\n",
        constraints_txt="urllib3<2\n--requirement requirements/base.in\n",
    )
    assert [(str(r.requirement), r.source, r.line) for r in parsed.requirements] == [
        ("urllib3", "-r common/shared.in", 1),
        ("requests", "-r requirements/base.in", 2),
        ("flask", "-r requirements.in", 3),
    ]
    assert [(str(r.requirement), r.source, r.constraint) for r in parsed.constraints] == [
        ("urllib3<2", "-c constraints.txt", True)
    ]
    # pip: -r inside a constraints file reads requirements (base.in was already read)
    assert parsed.files == (
        work / "requirements.in",
        work / "requirements" / "base.in",
        work / "common" / "shared.in",
        work / "constraints.txt",
    )


def test_nested_requirement_in_constraints_file_is_a_requirement(work: Path) -> None:
    """pip (and so pip-compile) reads ``-r`` in a constraints file as requirements."""
    parsed = parse(work, "-c cons.txt\n", cons_txt="-r more.txt\nbbb<2\n", more_txt="ddd\n")
    assert [(str(r.requirement), r.source) for r in parsed.requirements] == [("ddd", "-r more.txt")]
    assert [(str(r.requirement), r.source) for r in parsed.constraints] == [
        ("bbb<2", "-c cons.txt")
    ]


def test_nested_constraint_in_constraints_file(work: Path) -> None:
    parsed = parse(work, "-c a.txt\n", a_txt="-c b.txt\n", b_txt="x<1\n")
    assert [(str(r.requirement), r.source) for r in parsed.constraints] == [("x<1", "-c b.txt")]


def test_diamond_includes_are_read_once(work: Path) -> None:
    parsed = parse(
        work, "-r a.in\n-r b.in\n-r a.in\n", a_in="-r d.in\n", b_in="-r d.in\n", d_in="shared\n"
    )
    assert reqs(parsed) == ["shared"]
    assert parsed.files == tuple(work / n for n in ("requirements.in", "a.in", "d.in", "b.in"))


def test_same_file_as_requirement_and_constraint(work: Path) -> None:
    parsed = parse(work, "-r pins.txt\n-c pins.txt\n", pins_txt="foo==1\n")
    assert [r.source for r in parsed.requirements] == ["-r pins.txt"]
    assert [r.source for r in parsed.constraints] == ["-c pins.txt"]
    assert parsed.files == (work / "requirements.in", work / "pins.txt")


def test_labels_relative_to(work: Path) -> None:
    write(work, {"src/requirements.in": "-r base.in\nfoo\n", "src/base.in": "bar\n"})
    parsed = parse_requirement_file("src/requirements.in", environ={}, relative_to=work / "out")
    assert [r.source for r in parsed.requirements] == [
        "-r ../src/base.in",
        "-r ../src/requirements.in",
    ]


def test_labels_absolute_when_given_absolute(work: Path) -> None:
    write(work, {"requirements.in": "-r sub/base.in\nfoo\n", "sub/base.in": "bar\n"})
    parsed = parse_requirement_file(work / "requirements.in", environ={})
    assert [r.source for r in parsed.requirements] == [
        f"-r {(work / 'sub/base.in').as_posix()}",
        f"-r {(work / 'requirements.in').as_posix()}",
    ]


def test_labels_keep_the_given_spelling(work: Path) -> None:
    write(work, {"reqs/requirements.in": "foo\n"})
    parsed = parse_requirement_file("./reqs/requirements.in", environ={})
    assert parsed.requirements[0].source == "-r reqs/requirements.in"


def test_several_files_share_options(work: Path) -> None:
    write(
        work,
        {
            "a.in": "--index-url https://a/simple\nfoo\n",
            "b.in": "--extra-index-url https://b/simple\nbar\n",
        },
    )
    parsed = parse_requirement_files(["a.in", "b.in"], environ={})
    assert reqs(parsed) == ["foo", "bar"]
    assert parsed.options.index_url == "https://a/simple"
    assert parsed.options.extra_index_urls == ("https://b/simple",)


def test_constraint_mode(work: Path) -> None:
    write(work, {"c.txt": "foo<2\n-r r.txt\n", "r.txt": "bar\n"})
    parsed = parse_requirement_files(["c.txt"], environ={}, constraint=True)
    assert [(str(r.requirement), r.source) for r in parsed.constraints] == [("foo<2", "-c c.txt")]
    assert [(str(r.requirement), r.source) for r in parsed.requirements] == [("bar", "-r r.txt")]


def test_file_url_include(work: Path) -> None:
    write(work, {"base.in": "bar\n"})
    parsed = parse(work, f"-r {(work / 'base.in').as_uri()}\n")
    assert reqs(parsed) == ["bar"]


# --------------------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------------------

OPTION_CASES = [
    ("index url", "-i https://a/simple", IndexOptions(index_url="https://a/simple")),
    ("index url long", "--index-url=https://a/simple", IndexOptions(index_url="https://a/simple")),
    ("pypi-url alias", "--pypi-url https://a/simple", IndexOptions(index_url="https://a/simple")),
    ("last index url wins", "-i https://a/simple\n--index-url https://b/simple", IndexOptions(index_url="https://b/simple")),
    ("extra index urls", "--extra-index-url https://x/\n--extra-index-url=https://y/\n--extra-index-url https://x/", IndexOptions(extra_index_urls=("https://x/", "https://y/"))),
    ("abbreviated option", "--extra-index https://x/", IndexOptions(extra_index_urls=("https://x/",))),
    # pip replaces its index list on --index-url: earlier extra indexes are dropped
    ("index url drops earlier extras", "--extra-index-url https://x/\n-i https://a/", IndexOptions(index_url="https://a/")),
    ("extras after index url kept", "-i https://a/\n--extra-index-url https://x/", IndexOptions(index_url="https://a/", extra_index_urls=("https://x/",))),
    ("index and extra on one line", "-i https://a/ --extra-index-url https://x/", IndexOptions(index_url="https://a/", extra_index_urls=("https://x/",))),
    ("no index", "--no-index\n-i https://a/\n--extra-index-url https://x/", IndexOptions(no_index=True)),
    ("no index drops earlier", "-i https://a/\n--no-index", IndexOptions(no_index=True)),
    ("find links url", "-f https://h/links/\n--find-links=https://h/more/", IndexOptions(find_links=("https://h/links/", "https://h/more/"))),
    ("find links missing relative path kept", "-f not-there", IndexOptions(find_links=("not-there",))),
    ("trusted host", "--trusted-host h1\n--trusted-host h2:8080", IndexOptions(trusted_hosts=("h1", "h2:8080"))),
    ("pre", "--pre", IndexOptions(pre=True)),
    ("all releases all", "--all-releases :all:", IndexOptions(pre=True)),
    ("only final accepted", "--only-final foo", IndexOptions()),
    ("prefer binary accepted", "--prefer-binary", IndexOptions()),
    ("require hashes accepted", "--require-hashes\n--no-require-hashes", IndexOptions()),
    ("use feature accepted", "--use-feature fast-deps", IndexOptions()),
    ("only binary names", "--only-binary Foo_Bar,baz", IndexOptions(only_binary=frozenset({"foo-bar", "baz"}))),
    ("no binary all", "--no-binary :all:", IndexOptions(no_binary=frozenset({":all:"}))),
    ("only binary steals from no binary", "--no-binary foo,bar\n--only-binary foo", IndexOptions(no_binary=frozenset({"bar"}), only_binary=frozenset({"foo"}))),
    ("all clears the other set", "--no-binary foo\n--only-binary :all:", IndexOptions(only_binary=frozenset({":all:"}))),
    ("none empties", "--no-binary foo\n--no-binary :none:", IndexOptions()),
    ("all then none then names", "--no-binary :all:,:none:,foo", IndexOptions(no_binary=frozenset({"foo"}))),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in OPTION_CASES], ids=[c[0] for c in OPTION_CASES]
)
def test_options(work: Path, text: str, expected: IndexOptions) -> None:
    parsed = parse(work, text + "\n")
    assert parsed.options == expected
    assert parsed.requirements == ()


def test_find_links_relative_to_requirements_file(work: Path) -> None:
    (work / "sub" / "wheels").mkdir(parents=True)
    parsed = parse(work, "-r sub/base.in\n", sub__base_in="-f wheels\n-f ./elsewhere\n")
    # pip joins an existing relative path with the file's folder (not normalised)
    assert parsed.options.find_links == (os.path.join(work / "sub", "wheels"), "./elsewhere")


# --------------------------------------------------------------------------------------
# errors carry file:line
# --------------------------------------------------------------------------------------

ERROR_CASES = [
    ("invalid specifier", "foo==", r"^requirements\.in:3: invalid requirement 'foo==': Expected"),
    ("single equals hint", "foo=1.0", r"^requirements\.in:3: invalid requirement 'foo=1\.0'"),
    ("invalid marker", "foo; python_version <", r"^requirements\.in:3: invalid requirement 'foo'"),
    ("unknown option", "--frobnicate", r"^requirements\.in:3: invalid line '--frobnicate': no such option: --frobnicate"),
    ("option missing argument", "--index-url", r"^requirements\.in:3: .*--index-url option requires 1 argument"),
    ("bad hash format", "foo --hash=abc", r"^requirements\.in:3: .*must be a hash name followed by a value"),
    ("weak hash", "foo --hash=md5:abc", r"^requirements\.in:3: .*Allowed hash algorithms for --hash are sha256, sha384, sha512"),
    ("no binary needs argument", "--no-binary --pre", r"^requirements\.in:3: .*requires 1 argument"),
    ("bad config setting", "foo -C novalue", r"^requirements\.in:3: .*KEY=VAL"),
    ("unbalanced quotes", "foo --hash 'sha256:aa", r"^requirements\.in:3: .*could not split options"),
    ("missing -r file", "-r nope.in", r"^requirements\.in:3: could not open requirements file nope\.in: No such file"),
    ("missing -c file", "-c nope.txt", r"^requirements\.in:3: could not open constraint file nope\.txt"),
    ("editable not a project", "-e ./nowhere", r"^requirements\.in:3: \./nowhere is not a valid editable requirement"),
    ("editable url without name", "-e git+https://h/r", r"^requirements\.in:3: Could not detect requirement name for 'git\+https://h/r'"),
    ("editable plain url", "-e https://h/x.tar.gz#egg=x", r"^requirements\.in:3: https://h/x\.tar\.gz#egg=x is not a valid editable"),
    ("bad egg fragment", "git+https://h/r#egg=not a name", r"^requirements\.in:3: .*not a valid egg fragment"),
    ("bad wheel name", "https://h/notawheel.whl", r"^requirements\.in:3: invalid wheel filename 'notawheel\.whl'"),
    ("directory not installable", "./empty", r"^requirements\.in:3: Directory '\./empty' is not installable"),
    ("remote -r", "-r https://h/reqs.txt", r"^requirements\.in:3: remote requirements files are not supported here: https://h/reqs\.txt"),
    ("comment glued to name", "foo#comment", r"^requirements\.in:3: invalid requirement 'foo#comment'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "pattern"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_errors(work: Path, line: str, pattern: str) -> None:
    (work / "empty").mkdir()
    with pytest.raises(InputError) as info:
        parse(work, f"ok\n\n{line}\n")
    assert re.search(pattern, str(info.value)), str(info.value)
    assert info.value.file == "requirements.in"
    assert info.value.line == 3


def test_error_hint_for_single_equals(work: Path) -> None:
    with pytest.raises(InputError) as info:
        parse(work, "foo=1.0\n")
    assert info.value.hint == "= is not a valid operator. Did you mean == ?"


def test_error_in_nested_file_names_that_file(work: Path) -> None:
    with pytest.raises(InputError) as info:
        parse(work, "-r sub/base.in\n", sub__base_in="\nbar>>1\n")
    assert str(info.value).startswith("sub/base.in:2: invalid requirement 'bar>>1'")


def test_cycle_is_an_error(work: Path) -> None:
    with pytest.raises(InputError) as info:
        parse(work, "-r a.in\n", a_in="x\n-r b.in\n", b_in="-r a.in\n")
    assert str(info.value) == "b.in:1: a.in recursively references itself"


def test_self_include_is_an_error(work: Path) -> None:
    with pytest.raises(InputError, match=r"requirements\.in:1: requirements\.in recursively"):
        parse(work, "-r requirements.in\n")


def test_missing_top_level_file(work: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_requirement_file("nope.in", environ={})
    assert str(info.value) == "could not open requirements file nope.in: No such file or directory"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("-e ./proj", "editable requirements are not allowed as constraints"),
        ("./proj", "unnamed requirements are not allowed as constraints: ./proj"),
    ],
)
def test_constraint_restrictions(work: Path, line: str, message: str) -> None:
    make_project(work, "proj")
    with pytest.raises(InputError) as info:
        parse(work, "-c c.txt\n", c_txt=f"{line}\n")
    assert str(info.value) == f"c.txt:1: {message}"


def test_credentials_are_redacted_in_errors(work: Path) -> None:
    with pytest.raises(InputError) as info:
        parse(work, "foo @ https://user:secret@h/x.whl ;;\n")
    assert "secret" not in str(info.value)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("./pkg", ("./pkg", frozenset())),
        ("./pkg[dev, Test]", ("./pkg", frozenset({"dev", "test"}))),
        ("git+https://h/r#egg=x", ("git+https://h/r#egg=x", frozenset())),
    ],
)
def test_split_link_extras(link: str, expected: tuple[str, frozenset[str]]) -> None:
    assert split_link_extras(link) == expected


# --------------------------------------------------------------------------------------
# property: simple requirement lines round-trip through the parser
# --------------------------------------------------------------------------------------

_names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,5}([._-][A-Za-z0-9]{1,4}){0,2}", fullmatch=True)
_versions = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True)
_specifier = st.tuples(st.sampled_from(["==", ">=", "<=", "<", ">", "!=", "~="]), _versions)
_markers = st.sampled_from(
    [
        "",
        'python_version < "3.11"',
        "sys_platform == 'linux' and platform_machine != 'arm64'",
        '(os_name == "nt" or os_name == "posix") and python_full_version >= "3.10.1"',
    ]
)


@st.composite
def requirement_lines(draw: st.DrawFn) -> str:
    name = draw(_names)
    extras = draw(st.lists(st.text(string.ascii_lowercase, min_size=1, max_size=5), max_size=2))
    specs = draw(st.lists(_specifier, max_size=2))
    if any(op == "~=" for op, _ in specs):
        specs = [(op, v if "." in v else v + ".0") for op, v in specs]
    marker = draw(_markers)
    spaces = draw(st.sampled_from(["", " "]))
    line = name
    if extras:
        line += "[" + ",".join(extras) + "]"
    line += spaces + ",".join(f"{op}{v}" for op, v in specs)
    if marker:
        line += f"{spaces}; {marker}"
    return line


@settings(max_examples=150, deadline=None)
@given(line=requirement_lines(), comment=st.booleans())
def test_round_trip(tmp_path_factory: pytest.TempPathFactory, line: str, comment: bool) -> None:
    path = tmp_path_factory.mktemp("rt") / "r.in"
    path.write_text(line + ("  # trailing" if comment else "") + "\n", encoding="utf-8")
    parsed = parse_requirement_file(path, environ={})
    assert [r.requirement for r in parsed.requirements] == [Requirement(line)]
    again = parsed.requirements[0].requirement
    path.write_text(f"{again}\n", encoding="utf-8")
    assert parse_requirement_file(path, environ={}).requirements[0].requirement == again


# --------------------------------------------------------------------------------------
# differential: the labels pip-compile writes in "# via"
# --------------------------------------------------------------------------------------


def _via_by_package(output: str) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    current = None
    for line in output.splitlines():
        if re.match(r"^[a-z0-9]", line):
            current = re.split(r"[=\[ ]", line, maxsplit=1)[0]
            result[current] = set()
        elif current and (m := re.match(r"^    #   (.*)$|^    # via (.+)$", line)):
            text = m.group(1) or m.group(2)
            if text != "":
                result[current].add(text)
    return result


def test_labels_match_pip_compile(work: Path) -> None:
    wheels = work / "wheels"
    for name in ("alpha", "beta", "gamma", "delta"):
        make_wheel(wheels, name, "1.0")
    write(
        work,
        {
            "reqs/requirements.in": "-r ../shared/base.in\n-c ../shared/cons.txt\nalpha\n",
            "shared/base.in": "beta\n-r more/extra.in\n",
            "shared/more/extra.in": "gamma\n",
            "shared/cons.txt": "gamma<2\n-r ../delta.in\n",
            "delta.in": "delta\n",
        },
    )
    result = run_pip_compile(
        "--no-index", "--find-links", wheels, "--no-header", "--no-emit-options",
        "--output-file", "-", "reqs/requirements.in", cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, describe(result)
    expected = _via_by_package(result.stdout)
    parsed = parse_requirement_file("reqs/requirements.in", environ={})
    ours: dict[str, set[str]] = {}
    for item in (*parsed.requirements, *parsed.constraints):
        assert item.requirement is not None
        ours.setdefault(item.requirement.name, set()).add(item.source)
    assert ours == expected
