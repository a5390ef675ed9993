"""Config loader: [tool.lockcheck], .lockcheck.toml, [tool.pip-tools], ordering, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockcheck.config import load_config, lower_bound_python
from lockcheck.errors import ConfigError
from lockcheck.targets import input_files, select_changed


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


LAYERED = """
[project]
name = "svc"
requires-python = ">=3.10"

[tool.lockcheck]
generate-hashes = true
[[tool.lockcheck.lock]]
inputs = ["requirements-dev.in"]
output = "requirements-dev.txt"
constraints = ["requirements.txt"]
allow-unsafe = true
[[tool.lockcheck.lock]]
inputs = ["requirements.in"]
"""


def test_layered_locks_in_dependency_order(tmp_path):
    write(tmp_path, {"pyproject.toml": LAYERED, ".git/HEAD": ""})
    config = load_config(tmp_path)
    assert config.configured
    assert [t.name for t in config.targets] == ["requirements.txt", "requirements-dev.txt"]
    prod, dev = config.targets
    assert prod.settings.output.generate_hashes and dev.settings.output.generate_hashes
    assert dev.settings.output.allow_unsafe and not prod.settings.output.allow_unsafe
    assert dev.settings.target.constraint_files == (Path("requirements.txt"),)
    # Target Python: the lower bound of requires-python, not written into the command.
    assert prod.settings.target.python_version is None
    assert prod.settings.target.default_python_version == "3.10"
    assert config.python_version == "3.10"


def test_lockcheck_toml_and_explicit_python(tmp_path):
    write(
        tmp_path,
        {
            ".lockcheck.toml": 'python-version = "3.12"\nvenv = "env"\n'
            '[[lock]]\ninputs = ["base.in"]\n',
            ".git/HEAD": "",
        },
    )
    config = load_config(tmp_path)
    (target,) = config.targets
    assert target.output == Path("base.txt")
    assert target.settings.target.python_version == "3.12"
    assert config.venv == Path("env")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[tool.lockcheck]\ngenerate-hashs = true\n", "generate-hashs"),
        ("[tool.lockcheck]\n[[tool.lockcheck.lock]]\ninputs = ['a.in']\nouptut = 'x'\n", "ouptut"),
        ("[tool.lockcheck]\ngenerate-hashes = 'yes'\n", "true or false"),
        ("[tool.lockcheck]\n[[tool.lockcheck.lock]]\noutput = 'x.txt'\n", "inputs is required"),
        ("[tool.lockcheck]\nextra-index-url = 3\n", "list of strings"),
    ],
)
def test_bad_config_names_the_key(tmp_path, text, needle):
    write(tmp_path, {"pyproject.toml": text, ".git/HEAD": ""})
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert needle in str(info.value)
    assert "pyproject.toml" in str(info.value)


def test_layering_cycle_is_an_error(tmp_path):
    text = (
        "[tool.lockcheck]\n"
        "[[tool.lockcheck.lock]]\ninputs=['a.in']\nconstraints=['b.txt']\n"
        "[[tool.lockcheck.lock]]\ninputs=['b.in']\nconstraints=['a.txt']\n"
    )
    write(tmp_path, {"pyproject.toml": text, ".git/HEAD": ""})
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path)


def test_pip_tools_table_is_the_fallback(tmp_path):
    text = (
        "[tool.pip-tools]\ngenerate_hashes = true\nallow-unsafe = true\n"
        "extra-index-url = ['https://example.invalid/simple']\nresolver = 'backtracking'\n"
        "src-files = ['requirements.in']\noutput-file = 'locked.txt'\n"
    )
    write(tmp_path, {"pyproject.toml": text, ".git/HEAD": ""})
    config = load_config(tmp_path)
    assert config.source == "pip-tools"
    (target,) = config.targets
    assert target.output == Path("locked.txt")
    assert target.settings.output.generate_hashes and target.settings.output.allow_unsafe
    assert target.settings.network.extra_index_urls == ("https://example.invalid/simple",)


def test_pip_tools_compile_and_sync_sections(tmp_path):
    """pip-tools 7.4+ puts command-specific keys in [tool.pip-tools.compile] and
    [tool.pip-tools.sync]; the compile section overrides the shared keys."""
    text = (
        "[tool.pip-tools]\ngenerate-hashes = false\nextra-index-url = ['https://a.invalid/simple']\n"
        "[tool.pip-tools.compile]\ngenerate-hashes = true\nallow-unsafe = true\n"
        "src-files = ['requirements.in']\noutput-file = 'locked.txt'\n"
        "[tool.pip-tools.sync]\nask = true\npython-executable = '.venv/bin/python'\n"
    )
    write(tmp_path, {"pyproject.toml": text, ".git/HEAD": ""})
    config = load_config(tmp_path)
    (target,) = config.targets
    assert target.output == Path("locked.txt")
    assert target.settings.output.generate_hashes and target.settings.output.allow_unsafe
    assert target.settings.network.extra_index_urls == ("https://a.invalid/simple",)


@pytest.mark.parametrize("section", ["compile", "sync"])
def test_pip_tools_unknown_key_in_a_section_names_the_section(tmp_path, section):
    text = f"[tool.pip-tools.{section}]\nfrobnicate = 1\n"
    write(tmp_path, {"pyproject.toml": text, ".git/HEAD": ""})
    with pytest.raises(ConfigError, match=rf"\[tool\.pip-tools\.{section}\] 'frobnicate'"):
        load_config(tmp_path)


def test_pip_tools_unknown_key_is_an_error(tmp_path):
    write(tmp_path, {"pyproject.toml": "[tool.pip-tools]\nfrobnicate = 1\n", ".git/HEAD": ""})
    with pytest.raises(ConfigError, match="frobnicate"):
        load_config(tmp_path)


def test_zero_config_uses_requires_python(tmp_path):
    write(tmp_path, {"pyproject.toml": "[project]\nrequires-python = '>=3.9.2'\n", ".git/HEAD": ""})
    config = load_config(tmp_path)
    assert not config.configured
    assert config.options["default_python_version"] == "3.9.2"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (">=3.10", "3.10"),
        ("~=3.8", "3.8"),
        (">3.9", "3.9.1"),
        ("==3.11.*", "3.11"),
        (">=3.8,!=3.8.*", "3.9"),
        ("<3", None),
    ],
)
def test_lower_bound_python(spec, expected):
    assert lower_bound_python(spec) == expected


def test_changed_files_select_locks_and_their_layers(tmp_path, monkeypatch):
    write(
        tmp_path,
        {
            "pyproject.toml": LAYERED,
            ".git/HEAD": "",
            "requirements.in": "-r requirements/base.in\nflask\n",
            "requirements/base.in": "idna\n",
            "requirements-dev.in": "pytest\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(tmp_path)
    prod = config.targets[0]
    assert str(tmp_path / "requirements" / "base.in") in input_files(prod, tmp_path)

    def names(changed):
        return [t.name for t in select_changed(config.targets, changed, tmp_path, config.path)]

    assert names([Path("requirements/base.in")]) == ["requirements.txt", "requirements-dev.txt"]
    assert names([Path("requirements-dev.in")]) == ["requirements-dev.txt"]
    assert names([Path("README.md")]) == []
    assert names([Path("pyproject.toml")]) == ["requirements.txt", "requirements-dev.txt"]


def test_changed_files_reach_past_a_remote_include(tmp_path, monkeypatch):
    """Which local files a lock depends on is known without the network: a remote
    ``-c https://…`` is skipped, and the local files after it still count."""
    write(
        tmp_path,
        {
            "pyproject.toml": LAYERED,
            ".git/HEAD": "",
            "requirements.in": (
                "-c https://example.invalid/common_constraints.txt\n"
                "-r requirements/base.in\nflask\n"
            ),
            "requirements/base.in": "idna\n",
            "requirements-dev.in": "pytest\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    prod = load_config(tmp_path).targets[0]
    assert str(tmp_path / "requirements" / "base.in") in input_files(prod, tmp_path)


def test_pip_tools_toml_wins_even_without_a_table(tmp_path):
    """pip-tools reads the first of .pip-tools.toml and pyproject.toml that exists."""
    write(
        tmp_path,
        {
            ".pip-tools.toml": "# nothing yet\n",
            "pyproject.toml": "[tool.pip-tools]\ngenerate-hashes = true\n",
            ".git/HEAD": "",
        },
    )
    config = load_config(tmp_path)
    assert config.path == tmp_path / ".pip-tools.toml"
    assert "generate_hashes" not in config.options


def test_choice_values_take_pip_compiles_spelling(tmp_path):
    write(tmp_path, {"pyproject.toml": "[tool.lockcheck]\nnewline = 'lf'\n", ".git/HEAD": ""})
    assert load_config(tmp_path).options["newline"] == "LF"
    write(tmp_path, {"pyproject.toml": "[tool.pip-tools]\nannotation-style = 'inline'\n"})
    with pytest.raises(ConfigError, match=r"annotation-style=inline: expected one of line"):
        load_config(tmp_path)


def test_sync_takes_index_options_from_either_table(tmp_path):
    from lockcheck.config import sync_defaults
    from lockcheck.settings import NetworkOptions

    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.lockcheck]\nindex-url = 'https://a.invalid/simple'\n"
            "no-build-isolation = true\nvenv = 'env'\n"
            "[[tool.lockcheck.lock]]\ninputs = ['requirements.in']\n",
            ".git/HEAD": "",
        },
    )
    defaults = sync_defaults(tmp_path)
    assert defaults.network == NetworkOptions(
        index_url="https://a.invalid/simple", build_isolation=False
    )
    assert defaults.python == tmp_path / "env"
    assert defaults.locks == (tmp_path / "requirements.txt",)
    assert sync_defaults(tmp_path, no_config=True).network == NetworkOptions()


def test_sync_reads_a_bad_value_as_an_error_naming_the_key(tmp_path):
    from lockcheck.config import sync_defaults

    text = "[tool.pip-tools.sync]\nextra-index-url = 3\n"
    write(tmp_path, {"pyproject.toml": text, ".git/HEAD": ""})
    with pytest.raises(ConfigError, match="extra-index-url must be a string or a list"):
        sync_defaults(tmp_path)


def test_every_option_sets_a_field_of_exactly_one_settings_group():
    """The option table names fields, not groups: each field lives in exactly one group of
    CompileSettings (or in CompileSettings itself), and a change goes to that group."""
    from dataclasses import fields

    from lockcheck.options import TABLE
    from lockcheck.settings import (
        CompileSettings,
        NetworkOptions,
        OutputSettings,
        ResolutionOptions,
        TargetOptions,
        with_changes,
    )

    groups = {"target": TargetOptions, "resolution": ResolutionOptions}
    groups |= {"output": OutputSettings, "network": NetworkOptions}
    own = {f.name for f in fields(CompileSettings)} - set(groups)
    for option in TABLE:
        holders = [g for g, cls in groups.items() if option.field in {f.name for f in fields(cls)}]
        assert len(holders) + (option.field in own) == 1, option.long
    changes = {"universal": True, "pre": True, "generate_hashes": True, "offline": True}
    changed = with_changes(CompileSettings(), {**changes, "dry_run": True})
    assert changed.target.universal and changed.resolution.pre
    assert changed.output.generate_hashes and changed.network.offline and changed.dry_run
