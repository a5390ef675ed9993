"""pip-tools users bring their config, their pip-compile options and their locks' headers;
uv users their spellings of the same options.  Everything through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import call_lockcheck, describe, run_pip_compile
from tests.test_sync_engine import freeze, make_venv

LOCK = "requirements.txt"


def _project(folder: Path, files: dict[str, str]) -> Path:
    (folder / ".git").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def _compile(folder: Path, server, *args: str, env=None) -> str:
    result = call_lockcheck("compile", "-i", server.url, *args, cwd=folder, env=env)
    assert result.returncode == 0, describe(result)
    return (folder / LOCK).read_text()


def _header_command(text: str) -> str:
    """The command of a lock's header, without its program name."""
    line = next(line for line in text.splitlines() if line.startswith("#    "))
    command = line[5:]
    for program in ("lockcheck compile ", "pip-compile "):
        command = command.removeprefix(program)
    return command


# ---------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------


def test_pip_tools_toml_is_read_before_pyproject(tmp_path, universe_index):
    """pip-tools takes .pip-tools.toml when it exists, and then not pyproject.toml."""
    _project(
        tmp_path,
        {
            "requirements.in": "idna\n",
            ".pip-tools.toml": "[tool.pip-tools]\ngenerate-hashes = true\n",
            "pyproject.toml": "[tool.pip-tools]\nannotate = false\n",
        },
    )
    text = _compile(tmp_path, universe_index)
    assert "--hash=sha256:" in text, text
    assert "# via -r requirements.in" in text, text


@pytest.mark.parametrize("table", ["tool.pip-tools", "tool.pip-tools.compile", "tool.lockcheck"])
def test_negative_keys(tmp_path, universe_index, table):
    _project(
        tmp_path,
        {
            "requirements.in": "idna\n",
            "pyproject.toml": f"[{table}]\nno-annotate = true\nno_header = true\n"
            "no-emit-index-url = true\n",
        },
    )
    text = _compile(tmp_path, universe_index, "requirements.in")
    assert text == "idna==3.6\n", text


def test_contradicting_keys_are_an_error(tmp_path, universe_index):
    _project(
        tmp_path,
        {
            "requirements.in": "idna\n",
            "pyproject.toml": "[tool.pip-tools]\nannotate = true\nno-annotate = true\n",
        },
    )
    result = call_lockcheck("compile", "-i", universe_index.url, cwd=tmp_path)
    assert result.returncode == 2, describe(result)
    assert "pyproject.toml" in result.stderr and "no-annotate" in result.stderr, describe(result)
    assert "Traceback" not in result.stderr


def test_config_file_in_pip_tools_format(tmp_path, universe_index):
    _project(
        tmp_path,
        {
            "requirements.in": "idna\n",
            "ci.toml": "[tool.pip-tools]\ngenerate-hashes = true\n[tool.pip-tools.compile]\n"
            "no-annotate = true\n",
        },
    )
    text = _compile(tmp_path, universe_index, "--config", "ci.toml")
    assert "--hash=sha256:" in text and "# via" not in text, text


def test_no_config_reads_no_configuration(tmp_path, universe_index):
    _project(
        tmp_path,
        {
            "requirements.in": "idna\n",
            ".pip-tools.toml": "[tool.pip-tools]\ngenerate-hashes = true\n",
        },
    )
    text = _compile(tmp_path, universe_index, "--no-config")
    assert "--hash" not in text, text
    # check --no-config judges the lock by its header alone (no hashes asked for there).
    result = call_lockcheck("check", "--no-config", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    result = call_lockcheck("check", cwd=tmp_path)
    assert result.returncode == 1, describe(result)


def test_sync_reads_index_and_python_executable_from_pip_tools_config(
    tmp_path, dist_factory, make_index
):
    dist_factory.wheel("alpha", "1.0")
    server = make_index()
    venv = make_venv(tmp_path / "venv")
    lock = tmp_path / LOCK
    lock.write_text("alpha==1.0\n")
    _project(
        tmp_path,
        {
            "pyproject.toml": f"[tool.pip-tools]\nindex-url = '{server.url}'\n"
            "[tool.pip-tools.sync]\npython-executable = 'venv/bin/python'\n",
        },
    )
    result = call_lockcheck("sync", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    assert freeze(venv) == {"alpha==1.0"}
    # --no-config: neither the index nor the target come from the file.
    result = call_lockcheck("sync", "--no-config", "--python", venv, cwd=tmp_path)
    assert result.returncode == 0, describe(result)  # already in sync: no index needed


def test_sync_python_executable_and_pip_args_options(tmp_path, dist_factory, make_index):
    dist_factory.wheel("alpha", "1.0")
    server = make_index()
    venv = make_venv(tmp_path / "venv")
    (tmp_path / LOCK).write_text("alpha==1.0\n")
    python = venv / "bin" / "python"
    pip_args = f"--index-url {server.url} --no-cache-dir --timeout 20"
    result = call_lockcheck(
        "sync", "--python-executable", python, "--pip-args", pip_args, cwd=tmp_path
    )
    assert result.returncode == 0, describe(result)
    assert freeze(venv) == {"alpha==1.0"}


# ---------------------------------------------------------------------------------------
# pip-compile's options
# ---------------------------------------------------------------------------------------

#: Options real pip-compile headers carry; lockcheck takes them and writes pip-compile's header.
HEADER_OPTIONS = (
    "--resolver=backtracking",
    "--max-rounds",
    "20",
    "--pip-args",
    "--only-binary :all: --no-build-isolation --timeout 30",
    "--newline",
    "lf",
    "-p",
)


def test_pip_compile_options_give_pip_compiles_header(tmp_path, universe_index):
    _project(tmp_path, {"requirements.in": "idna\nprerelpkg\n"})
    theirs = tmp_path / "theirs"
    _project(theirs, {"requirements.in": "idna\nprerelpkg\n"})
    made = run_pip_compile(
        *HEADER_OPTIONS,
        "--rebuild",
        "--index-url",
        universe_index.url,
        "--cache-dir",
        tmp_path / "pc",
        "--no-emit-index-url",
        "requirements.in",
        "--output-file",
        LOCK,
        cwd=theirs,
    )
    assert made.returncode == 0, describe(made)
    expected = (theirs / LOCK).read_text()
    text = _compile(
        tmp_path, universe_index, *HEADER_OPTIONS, "-r", "--no-emit-index-url", "requirements.in"
    )
    assert _header_command(text) == _header_command(expected)
    assert "prerelpkg==2.0.0b1" in text  # -p is --pre
    assert text.split("\n#\n", 2)[2] == expected.split("\n#\n", 2)[2]


def test_check_accepts_a_pip_compile_header_with_these_options(tmp_path, universe_index):
    _project(tmp_path, {"requirements.in": "idna\n"})
    made = run_pip_compile(
        *HEADER_OPTIONS,
        "--index-url",
        universe_index.url,
        "--cache-dir",
        tmp_path / "pc",
        cwd=tmp_path,
    )
    assert made.returncode == 0, describe(made)
    result = call_lockcheck("check", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    # And a recompile keeps the lock as pip-compile wrote it, header options and all.
    before = (tmp_path / LOCK).read_text()
    text = _compile(tmp_path, universe_index, *HEADER_OPTIONS)
    assert text.split("\n#\n", 2)[2] == before.split("\n#\n", 2)[2]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--resolver", "legacy"), "--resolver=legacy"),
        (("--pip-args", "--prefer-binary --no-deps"), "--prefer-binary"),
        (("--pip-args", "--timeout"), "--timeout"),
        (("--max-rounds", "x"), "max-rounds"),
    ],
)
def test_unsupported_values_are_one_clear_error(tmp_path, universe_index, args, needle):
    _project(tmp_path, {"requirements.in": "idna\n"})
    result = call_lockcheck("compile", "-i", universe_index.url, *args, cwd=tmp_path)
    assert result.returncode == 2, describe(result)
    assert needle in result.stderr, describe(result)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert not (tmp_path / LOCK).exists()


def test_check_names_the_header_line_of_an_unsupported_option(tmp_path):
    _project(tmp_path, {"requirements.in": "idna\n"})
    (tmp_path / LOCK).write_text(
        "#\n# This file is autogenerated by pip-compile with Python 3.11\n"
        "# by the following command:\n#\n#    pip-compile --resolver=legacy\n#\nidna==3.6\n"
    )
    result = call_lockcheck("check", "--offline", cwd=tmp_path)
    assert result.returncode == 2, describe(result)
    assert "requirements.txt:5: " in result.stderr, describe(result)
    assert "--resolver=legacy is not supported" in result.stderr, describe(result)


def test_pip_args_and_resolver_from_pip_tools_config(tmp_path, universe_index):
    _project(
        tmp_path,
        {
            "requirements.in": "prerelpkg\n",
            "pyproject.toml": "[tool.pip-tools]\npip-args = '--pre'\nresolver = 'backtracking'\n"
            "max-rounds = 30\nnewline = 'CRLF'\n",
        },
    )
    data = (tmp_path / LOCK).read_bytes() if (tmp_path / LOCK).exists() else None
    assert data is None
    _compile(tmp_path, universe_index)
    data = (tmp_path / LOCK).read_bytes()
    assert b"prerelpkg==2.0.0b1\r\n" in data, data
    header = data.split(b"\r\n")[4].decode()
    assert "--max-rounds=30 --newline=CRLF --output-file" in header, header
    assert "--pip-args='--pre'" in header and "--resolver" not in header, header


def _drifted(folder: Path) -> None:
    (folder / "requirements.in").write_text("idna>=3.6\n")
    (folder / LOCK).write_text(
        "#\n# This file is autogenerated by pip-compile with Python 3.11\n"
        "# by the following command:\n#\n#    pip-compile\n#\nidna==3.5\n"
    )


def _run_in_pty(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """stderr of ``python -m lockcheck *args`` written to a terminal (stdout piped)."""
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "lockcheck", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=120,
            check=False,
        )
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.returncode == 1, b"".join(chunks)
        return b"".join(chunks).decode()
    finally:
        os.close(master)
        if slave != -1:
            os.close(slave)


def test_color_options_and_no_color(tmp_path):
    _drifted(tmp_path)
    piped = call_lockcheck("check", "--offline", "--color", cwd=tmp_path)
    assert piped.returncode == 1, describe(piped)
    assert "\x1b[" in piped.stderr, describe(piped)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    env["TERM"] = "xterm"
    assert "\x1b[" in _run_in_pty(["check", "--offline"], tmp_path, env)
    assert "\x1b[" not in _run_in_pty(["check", "--offline", "--no-color"], tmp_path, env)
    assert "\x1b[" not in _run_in_pty(["check", "--offline"], tmp_path, {**env, "NO_COLOR": "1"})
    coloured = _run_in_pty(["check", "--offline", "--color"], tmp_path, {**env, "NO_COLOR": "1"})
    assert "\x1b[" in coloured


# ---------------------------------------------------------------------------------------
# uv's spellings
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("triple", "wheel"),
    [
        ("x86_64-unknown-linux-gnu", "manylinux_2_17_x86_64"),
        ("x86_64-manylinux_2_17", "manylinux_2_17_x86_64"),
        ("x86_64-pc-windows-msvc", "win_amd64"),
        ("aarch64-apple-darwin", "macosx"),
    ],
)
def test_python_platform_takes_uvs_target_triples(tmp_path, universe_index, triple, wheel):
    _project(tmp_path, {"requirements.in": "nativelib\n"})
    text = _compile(
        tmp_path,
        universe_index,
        "--python-version",
        "3.11",
        "--python-platform",
        triple,
        "--generate-hashes",
        "--no-annotate",
    )
    assert f"--python-platform={triple}" in text
    assert "nativelib==1.0.0" in text


@pytest.mark.parametrize("triple", ["i686-pc-windows-msvc", "wasm32-pyodide2024"])
def test_a_uv_triple_without_a_lockcheck_platform_is_a_clear_error(
    tmp_path, universe_index, triple
):
    _project(tmp_path, {"requirements.in": "idna\n"})
    result = call_lockcheck(
        "compile", "-i", universe_index.url, "--python-platform", triple, cwd=tmp_path
    )
    assert result.returncode == 2, describe(result)
    assert triple in result.stderr and "Traceback" not in result.stderr, describe(result)


def test_group_qualified_by_its_pyproject(tmp_path, universe_index):
    _project(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'app'\nversion = '1'\ndependencies = ['idna']\n"
            "[dependency-groups]\ndev = ['iniconfig']\n",
        },
    )
    text = _compile(tmp_path, universe_index, "--group", "pyproject.toml:dev", "pyproject.toml")
    assert "iniconfig==" in text and "idna==" in text, text
    assert "--group=pyproject.toml:dev" in text
    result = call_lockcheck(
        "compile", "-i", universe_index.url, "--group", "other/pyproject.toml:dev",
        "pyproject.toml", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, describe(result)
    assert "other/pyproject.toml" in result.stderr, describe(result)


@pytest.mark.parametrize(("spelling", "output"), [("requirements.txt", LOCK), ("pylock.toml", "")])
def test_format_takes_uvs_file_names(tmp_path, universe_index, spelling, output):
    _project(tmp_path, {"requirements.in": "idna\n"})
    result = call_lockcheck("compile", "-i", universe_index.url, "--format", spelling, cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    written = tmp_path / (output or "pylock.toml")
    assert written.exists(), describe(result)
    assert "idna" in written.read_text()
