"""Requires-Dist lines read without packaging's tokenizer give packaging's Requirements."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement

from lockcheck.reqlines import _SHAPE, requirement_of

#: Real lines (from METADATA files of PyPI projects) and edge cases of the grammar.
LINES = [
    "numpy>=1.23.2",
    "python-dateutil>=2.8.2",
    "tzdata>=2022.7",
    "requests",
    "Jinja2 (>=2.10.1)",
    'colorama; sys_platform == "win32"',
    'pytest>=7.0 ; extra == "test"',
    "pytest-cov; extra == 'testing'",
    'sphinx<8,>=5.0; extra == "docs"',
    'importlib-metadata>=4.6; python_version < "3.10"',
    'typing_extensions>=4.0.0; python_version < "3.11" and extra == "dev"',
    'uvicorn[standard]>=0.12.0; extra == "all"',
    "Foo.Bar_baz [ one , Two_2 ] == 1.0.* ; extra=='X'",
    "pkg===1.0-weird",
    "pkg ~= 1.4.2, != 1.4.5",
    "pkg (>=1.0, <2)",
    'pkg>=1.0;extra=="a"',
    'pkg  ;  extra == "a"  ',
    "pkg @ https://example.invalid/pkg-1.0.tar.gz",
    "pkg[]",
    "idna\n  >=2",  # a folded header line, as the email parser gives it: no requirement
    # Not requirements: each must fail as packaging fails.
    "pkg >= 1.0 < 2",
    "pkg ,>=1.0",
    "pkg>=1.0,",
    "pkg>=1.0extra",
    "pkg; extra ==",
    'pkg; python_version < "3" ; extra == "x"',
    "pkg[a,]",
    "-pkg",
    "pkg==1.0)",
    "",
]


def _same(line: str) -> None:
    try:
        expected = Requirement(line)
    except InvalidRequirement as exc:
        with pytest.raises(InvalidRequirement) as raised:
            requirement_of(line)
        assert str(raised.value) == str(exc)
        return
    got = requirement_of(line)
    assert type(got) is Requirement
    assert (got.name, got.url, got.extras) == (expected.name, expected.url, expected.extras)
    assert got.specifier == expected.specifier
    assert str(got.specifier) == str(expected.specifier)
    assert str(got.marker) == str(expected.marker)
    assert (got.marker is None) == (expected.marker is None)
    assert got == expected and str(got) == str(expected) and hash(got) == hash(expected)


@pytest.mark.parametrize("line", LINES)
def test_a_line_reads_as_packaging_reads_it(line: str) -> None:
    _same(line)


def test_the_common_shapes_take_the_fast_way() -> None:
    """The shapes that make up most Requires-Dist lines are read here, not by packaging."""
    for line in LINES[: LINES.index("pkg @ https://example.invalid/pkg-1.0.tar.gz")]:
        assert _SHAPE.fullmatch(line) is not None, line


_NAMES = st.sampled_from(["pkg", "Foo.Bar_baz", "a", "x-y", "p1", "-bad", "bad-"])
#: Only spaces and tabs separate the parts for packaging; other whitespace must fail alike.
_WS = st.sampled_from(["", " ", "  ", "\t", "\n  ", "\r\n", "\x0c", "\u00a0"])
_SPECS = st.sampled_from(
    [
        "",
        ">=1.0",
        ">= 1.0",
        "==1.0.*",
        "<2,>=1",
        "~=1.4.2 , !=1.4.5",
        "===x-y",
        ">=1 <2",
        ",>=1",
        ">=1.0,",
        "==1.0.*.1",
        "(>=1.0)",
        "( >=1.0 , <2 )",
        "(>=1.0",
        "!=",
        "<=v1",
    ]
)
_EXTRAS = st.sampled_from(["", "[a]", "[a,b]", "[ a , B_c ]", "[]", "[a,]", "[a b]", "[-a]"])
_MARKERS = st.sampled_from(
    [
        "",
        ';extra == "x"',
        "; extra=='Test_1'",
        '; python_version < "3.10" and extra == "d"',
        '; os_name == "nt" or extra == "w"',
        ";",
        "; extra",
        '; extra == "x" ; extra == "y"',
        '; python_version <= "3.8" and (extra == "a" or extra == "b")',
        "; platform_machine",
    ]
)


@settings(max_examples=600, deadline=None)
@given(st.tuples(_WS, _NAMES, _WS, _EXTRAS, _WS, _SPECS, _WS, _MARKERS, _WS))
def test_any_line_of_these_parts_reads_as_packaging_reads_it(parts: tuple[str, ...]) -> None:
    _same("".join(parts))
