"""The header command: formatted like pip-tools' get_compile_command, parsed back for check.

The differential table runs pip-tools' own ``get_compile_command`` (pip-tools 7.6.2 is a
test dependency) on a click context made from the same argv and compares strings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lockcheck.errors import InputError
from lockcheck.lockfile.command import format_compile_command, parse_compile_command

# argv for pip-compile, the equivalent options mapping, the sources.
TABLE: list[tuple[list[str], dict[str, object], list[str]]] = [
    (["-o", "requirements.txt"], {"--output-file": "requirements.txt"}, ["requirements.in"]),
    (
        ["--generate-hashes", "--allow-unsafe", "-o", "out.txt"],
        {"--generate-hashes": True, "--allow-unsafe": True, "--output-file": "out.txt"},
        ["requirements.in"],
    ),
    (
        ["--no-annotate", "--no-header", "--no-emit-options", "--no-emit-index-url", "-o", "o"],
        {
            "--annotate": False,
            "--header": False,
            "--emit-options": False,
            "--emit-index-url": False,
            "--output-file": "o",
        },
        ["requirements.in"],
    ),
    (
        ["--no-emit-trusted-host", "--no-emit-find-links", "--no-allow-unsafe", "-o", "o"],
        # --no-allow-unsafe is the default: dropped
        {
            "--emit-trusted-host": False,
            "--emit-find-links": False,
            "--allow-unsafe": None,
            "--output-file": "o",
        },
        ["requirements.in"],
    ),
    (
        ["--strip-extras", "-o", "o"],
        {"--strip-extras": True, "--output-file": "o"},
        ["requirements.in"],
    ),
    (
        ["--no-strip-extras", "-o", "o"],
        {"--strip-extras": False, "--output-file": "o"},
        ["requirements.in"],
    ),
    (
        ["--extra", "b", "--extra", "a", "--all-build-deps", "-o", "o"],
        {"--extra": ("b", "a"), "--all-build-deps": True, "--output-file": "o"},
        ["pyproject.toml"],
    ),
    (
        ["--unsafe-package", "Foo", "--unsafe-package", "bar", "-o", "o"],
        {"--unsafe-package": ["Foo", "bar"], "--output-file": "o"},
        ["requirements.in"],
    ),
    (
        # one-off and output-neutral options are never written
        ["-U", "-P", "django", "-v", "-q", "--dry-run", "--rebuild", "-o", "o"],
        {
            "--upgrade": True,
            "--upgrade-package": ("django",),
            "--verbose": True,
            "--quiet": True,
            "--dry-run": True,
            "--rebuild": True,
            "--output-file": "o",
        },
        ["requirements.in"],
    ),
    (
        ["--cache-dir", "/tmp/c", "--no-reuse-hashes", "--no-config", "-o", "o"],
        {
            "--cache-dir": "/tmp/c",
            "--reuse-hashes": False,
            "--no-config": True,
            "--output-file": "o",
        },
        ["requirements.in"],
    ),
    (
        ["-i", "https://example.com/simple", "--extra-index-url", "https://b/simple", "-o", "o"],
        {
            "--index-url": "https://example.com/simple",
            "--extra-index-url": ("https://b/simple",),
            "--output-file": "o",
        },
        ["requirements.in"],
    ),
    (
        ["--max-rounds", "12", "--annotation-style", "line", "--newline", "crlf", "-o", "o"],
        {
            "--max-rounds": 12,
            "--annotation-style": "line",
            "--newline": "CRLF",
            "--output-file": "o",
        },
        ["requirements.in"],
    ),
    (
        ["--pip-args", "--cache-dir '/tmp/with space'", "-o", "o"],
        {"--pip-args": "--cache-dir '/tmp/with space'", "--output-file": "o"},
        ["requirements.in"],
    ),
    (
        ["--no-index", "--pre", "-f", "./wheels dir", "-c", "c.txt", "-o", "out put.txt"],
        {
            "--no-index": True,
            "--pre": True,
            "--find-links": ("./wheels dir",),
            "--constraint": ("c.txt",),
            "--output-file": "out put.txt",
        },
        ["requirements.in"],
    ),
    (
        ["-o", "o", "--", "b.in", "-weird.in", "a b.in"],
        {"--output-file": "o"},
        ["b.in", "-weird.in", "a b.in"],
    ),
    (["-o", "o"], {"--output-file": "o"}, ["z.in", "dev.in", "a.in"]),
]


@pytest.fixture
def pip_tools_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """pip-tools' own get_compile_command for an argv (sources created in a temp dir)."""
    from piptools.scripts.compile import cli
    from piptools.utils import get_compile_command

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PIP_TOOLS_RESOLVER", raising=False)
    monkeypatch.delenv("PIP_TOOLS_CACHE_DIR", raising=False)

    def run(argv: list[str], sources: list[str]) -> str:
        for src in sources:
            (tmp_path / src).write_text("")
        ctx = cli.make_context("pip-compile", [*argv, *([] if "--" in argv else sources)])
        return get_compile_command(ctx)

    return run


@pytest.mark.parametrize(("argv", "options", "sources"), TABLE)
def test_matches_pip_tools_get_compile_command(
    pip_tools_command, argv: list[str], options: dict[str, object], sources: list[str]
) -> None:
    expected = pip_tools_command(argv, sources)
    assert format_compile_command(options, sources, program="pip-compile") == expected


def test_default_program_and_lockcheck_options() -> None:
    command = format_compile_command(
        {"--output-file": "requirements.txt", "--python-version": "3.11", "--offline": True},
        ["requirements.in"],
    )
    assert command == (
        "lockcheck compile --output-file=requirements.txt --python-version=3.11 requirements.in"
    )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("https://user:pw@host/simple", "--index-url='https://****@host/simple'"),
        ("https://token@host/simple", "--index-url='https://****@host/simple'"),
        ("https://host/simple", "--index-url=https://host/simple"),
        # not a URL: left alone, as pip-tools' is_url() says
        ("user:pw@host", "--index-url=user:pw@host"),
    ],
)
def test_url_credentials_are_masked(value: str, written: str) -> None:
    command = format_compile_command({"--index-url": value, "--output-file": "o"}, [])
    assert command == f"lockcheck compile {written} --output-file=o"


def test_output_file_is_required_and_names_are_long() -> None:
    with pytest.raises(ValueError, match="--output-file"):
        format_compile_command({"--generate-hashes": True}, ["requirements.in"])
    with pytest.raises(ValueError, match="long option"):
        format_compile_command({"-o": "x", "--output-file": "o"}, [])


@pytest.mark.parametrize(("argv", "options", "sources"), TABLE)
def test_parse_inverts_format(
    argv: list[str], options: dict[str, object], sources: list[str]
) -> None:
    command = format_compile_command(options, sources, program="pip-compile")
    parsed, parsed_sources = parse_compile_command(f"#    {command}")
    assert format_compile_command(parsed, parsed_sources, program="pip-compile") == command
    assert sorted(parsed_sources) == sorted(sources)


def test_parse_values() -> None:
    options, sources = parse_compile_command(
        "#    lockcheck compile --allow-unsafe --extra=a --extra=b --no-annotate --no-index "
        "--output-file='out put.txt' --unsafe-package=x requirements.in dev.in"
    )
    assert options == {
        "--allow-unsafe": True,
        "--extra": ("a", "b"),
        "--annotate": False,
        "--no-index": True,
        "--output-file": "out put.txt",
        "--unsafe-package": ("x",),
    }
    assert sources == ["requirements.in", "dev.in"]


def test_parse_expands_short_and_spaced_options() -> None:
    options, sources = parse_compile_command(
        "pip-compile -o req.txt --index-url https://i/simple -U --generate-hashes in.txt"
    )
    assert options == {
        "--output-file": "req.txt",
        "--index-url": "https://i/simple",
        "--upgrade": True,
        "--generate-hashes": True,
    }
    assert sources == ["in.txt"]
    options, sources = parse_compile_command("python -m piptools compile -- -a.in")
    assert (options, sources) == ({}, ["-a.in"])


@pytest.mark.parametrize(
    "line", ["#    make lock", "", "#", "lockcheck --x", "pip-compile 'unclosed"]
)
def test_parse_rejects_other_commands(line: str) -> None:
    with pytest.raises(InputError):
        parse_compile_command(line)


def test_parse_option_missing_value() -> None:
    with pytest.raises(InputError, match="needs a value"):
        parse_compile_command("pip-compile --output-file")


def test_every_repeatable_or_valued_option_of_the_table_reads_back_from_a_header():
    """A header names lockcheck's own options too: ``--group=a --group=b`` must come back
    as both groups (check rebuilds the lock from it), and ``--python-platform linux`` as a
    value, not as a flag followed by a source named ``linux``."""
    from lockcheck.lockfile.command import parse_compile_command
    from lockcheck.options import OPTIONS, settings_changes_from_options

    options, sources = parse_compile_command(
        "lockcheck compile --group=a --group=b --environment=x --environment=y "
        "--python-platform linux --output-file=r.txt pyproject.toml"
    )
    assert sources == ["pyproject.toml"]
    changes = settings_changes_from_options(options)
    assert changes["groups"] == ("a", "b")
    assert changes["environments"] == ("x", "y")
    assert changes["python_platform"] == "linux"
    # Each valued option of the table, written with a space, reads back as its value.
    for option in OPTIONS:
        if option.kind in ("flag", "negatable"):
            continue
        parsed, rest = parse_compile_command(f"lockcheck compile {option.long} 7 in.txt")
        assert rest == ["in.txt"], option.long
        value = parsed[option.long]
        assert value == (("7",) if option.kind in ("multi", "multipath") else "7"), option.long
