"""`lockcheck check`: 0 clean, 1 drift (with reasons and the fix), 2 error; never writes."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.helpers import call_lockcheck, describe

LOCK = "requirements.txt"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_clean_lock_passes_and_nothing_is_written(project):
    folder, _ = project
    before = snapshot(folder)
    for args in ((), ("--offline",)):
        result = call_lockcheck("check", *args, cwd=folder)
        assert result.returncode == 0, describe(result)
        assert "requirements.txt: up to date" in result.stdout
    assert snapshot(folder) == before


def test_added_input_is_named_with_the_fix(project):
    folder, server = project
    (folder / "requirements.in").write_text("flask\nrequests\n")
    before = snapshot(folder)
    result = call_lockcheck("check", cwd=folder)
    assert result.returncode == 1, describe(result)
    assert "requests (-r requirements.in) has no pin in requirements.txt" in result.stderr
    assert "idna==3.6 would be added (needed by requests)" in result.stderr
    assert (
        f"fix: lockcheck compile --generate-hashes --index-url={server.url} "
        "--output-file=requirements.txt requirements.in"
    ) in result.stderr
    assert snapshot(folder) == before


def test_offline_check_detects_added_input_without_network(project):
    folder, server = project
    (folder / "requirements.in").write_text("flask\nrequests\n")
    result = call_lockcheck("check", "--offline", cwd=folder)
    assert result.returncode == 1, describe(result)
    assert "requests (-r requirements.in) has no pin" in result.stderr
    assert server.count("/") == 0


def test_removed_input_leaves_orphans(project):
    folder, _ = project
    (folder / "requirements.in").write_text("click\n")
    result = call_lockcheck("check", "--offline", cwd=folder)
    assert result.returncode == 1, describe(result)
    assert "flask==3.0.0 is pinned but no input needs it any more" in result.stderr
    assert "werkzeug==3.0.0 is pinned but no input needs it any more" in result.stderr
    assert "click==" not in result.stderr.split("orphan")[0] or "click==8.1.7 is pinned" not in (
        result.stderr
    )


def test_hand_edited_pin_that_breaks_the_graph(project):
    folder, _ = project
    text = (folder / LOCK).read_text().replace("werkzeug==3.0.0", "werkzeug==2.3.0")
    (folder / LOCK).write_text(text)
    result = call_lockcheck("check", cwd=folder)
    assert result.returncode == 1, describe(result)
    assert "werkzeug would change 2.3.0 -> 3.0.0" in result.stderr


def test_hand_edited_version_keeps_foreign_hashes(project):
    folder, _ = project
    text = (folder / LOCK).read_text().replace("flask==3.0.0", "flask==2.3.0")
    (folder / LOCK).write_text(text)
    result = call_lockcheck("check", cwd=folder)
    assert result.returncode == 1, describe(result)
    assert "flask==2.3.0 lists sha256:" in result.stderr
    assert "not a file of that release" in result.stderr


def test_unsatisfied_pin_is_structural(project):
    folder, _ = project
    (folder / "requirements.in").write_text("flask<3\n")
    result = call_lockcheck("check", "--offline", cwd=folder)
    assert result.returncode == 1, describe(result)
    assert "flask==3.0.0 does not satisfy flask<3 (-r requirements.in)" in result.stderr


def test_credentials_in_a_lock_are_drift(project):
    folder, _ = project
    text = (folder / LOCK).read_text()
    (folder / LOCK).write_text(
        text.replace("--index-url http://", "--index-url http://bob:hunter2@", 1)
    )
    result = call_lockcheck("check", "--offline", cwd=folder)
    assert result.returncode == 1, describe(result)
    assert "the lock contains credentials in http://****@127.0.0.1" in result.stderr
    assert "hunter2" not in result.stderr


def test_a_bare_ssh_user_is_no_credential_in_a_lock(project):
    """compile writes ``hg+ssh://hg@host`` as given (the account name is no secret, and
    masking it breaks the link): check must not call the lock it wrote a leak."""
    folder, _ = project
    (folder / "requirements.in").write_text("flask\nthing @ hg+ssh://hg@host/repo\n")
    text = (folder / LOCK).read_text()
    (folder / LOCK).write_text(
        text + "thing @ hg+ssh://hg@host/repo\n    # via -r requirements.in\n"
    )
    result = call_lockcheck("check", "--offline", cwd=folder)
    assert "credentials" not in result.stderr, describe(result)
    (folder / LOCK).write_text(text + "thing @ hg+ssh://hg:pw@host/repo\n")
    result = call_lockcheck("check", "--offline", cwd=folder)
    assert "the lock contains credentials in hg+ssh://****@host/repo" in result.stderr


def test_malformed_input_is_an_error(project):
    folder, _ = project
    (folder / "requirements.in").write_text("flask\nfoo==\n")
    result = call_lockcheck("check", cwd=folder)
    assert result.returncode == 2, describe(result)
    assert "requirements.in:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bug_is_an_error_report_and_verbose_shows_its_trace(project, monkeypatch):
    """An unexpected exception while checking one lock is that lock's error (exit 2, one
    line); with -v its traceback goes to stderr, so the report of a bug can carry it."""
    import lockcheck.check

    def broken(*args, **kwargs):
        raise RuntimeError("dictionary changed size during iteration")

    monkeypatch.setattr(lockcheck.check, "check_lock", broken)
    folder, _ = project
    quiet = call_lockcheck("check", cwd=folder)
    assert quiet.returncode == 2, describe(quiet)
    assert "dictionary changed size" in quiet.stderr and "Traceback" not in quiet.stderr
    verbose = call_lockcheck("check", "-v", cwd=folder)
    assert verbose.returncode == 2, describe(verbose)
    assert "Traceback" in verbose.stderr and "in broken" in verbose.stderr, describe(verbose)


def test_json_and_github_formats(project):
    folder, _ = project
    (folder / "requirements.in").write_text("flask\nidna\n")
    result = call_lockcheck("check", "--offline", "--format", "json", cwd=folder)
    assert result.returncode == 1, describe(result)
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 1
    (lock,) = payload["locks"]
    assert lock["status"] == "drift"
    assert lock["reasons"][0]["kind"] == "missing-pin"
    assert lock["reasons"][0]["name"] == "idna"
    assert lock["fix"].startswith("lockcheck compile")
    result = call_lockcheck("check", "--offline", cwd=folder, env={"GITHUB_ACTIONS": "true"})
    assert result.returncode == 1, describe(result)
    assert result.stdout.startswith("::error file=requirements.txt,title=lockcheck drift::")


def test_configured_layered_locks(tmp_path, make_index, universe_wheelhouse):
    server = make_index(universe_wheelhouse)
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        "[tool.lockcheck]\n"
        f'index-url = "{server.url}"\n'
        "[[tool.lockcheck.lock]]\ninputs = ['requirements.in']\n"
        "[[tool.lockcheck.lock]]\ninputs = ['requirements-dev.in']\n"
        "constraints = ['requirements.txt']\n"
    )
    (tmp_path / "requirements.in").write_text("requests\n")
    (tmp_path / "requirements-dev.in").write_text("requests\nidna\n")
    result = call_lockcheck("compile", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    dev = (tmp_path / "requirements-dev.txt").read_text()
    assert "urllib3==2.0.7" in dev
    assert "-c requirements.txt" in dev
    result = call_lockcheck("check", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    # The prod input moves: the prod lock drifts; `lockcheck compile` moves both locks.
    (tmp_path / "requirements.in").write_text("requests\nurllib3<2\n")
    result = call_lockcheck("check", cwd=tmp_path)
    assert result.returncode == 1, describe(result)
    assert "urllib3==2.0.7 does not satisfy urllib3<2 (-r requirements.in)" in result.stderr
    assert "fix: lockcheck compile" in result.stderr
    result = call_lockcheck("compile", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    assert "urllib3==1.26.18" in (tmp_path / "requirements.txt").read_text()
    assert "urllib3==1.26.18" in (tmp_path / "requirements-dev.txt").read_text()
    assert call_lockcheck("check", cwd=tmp_path).returncode == 0


def test_configured_hashes_missing_from_lock(tmp_path, make_index, universe_wheelhouse):
    server = make_index(universe_wheelhouse)
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.in").write_text("idna\n")
    assert call_lockcheck("compile", "-i", server.url, cwd=tmp_path).returncode == 0
    (tmp_path / ".lockcheck.toml").write_text(
        f'generate-hashes = true\nindex-url = "{server.url}"\n'
        '[[lock]]\ninputs = ["requirements.in"]\n'
    )
    result = call_lockcheck("check", "--offline", cwd=tmp_path)
    assert result.returncode == 1, describe(result)
    assert "idna has no --hash lines but hashes are configured" in result.stderr
    assert "the lock was compiled with no --generate-hashes" in result.stderr


def test_changed_mode_recompiles_and_exits_1(project):
    folder, _ = project
    (folder / "requirements.in").write_text("flask\nidna\n")
    result = call_lockcheck("compile", "--changed", "requirements.in", cwd=folder)
    assert result.returncode == 1, describe(result)
    assert "requirements.txt was out of date and has been rewritten" in result.stderr
    assert "+ idna==3.6 (asked for by -r requirements.in)" in result.stderr
    assert "git add requirements.txt" in result.stderr
    assert "idna==3.6" in (folder / LOCK).read_text()
    # Second run: nothing to do.
    result = call_lockcheck("compile", "--changed", "requirements.in", cwd=folder)
    assert result.returncode == 0, describe(result)
    result = call_lockcheck("compile", "--changed", "README.md", cwd=folder)
    assert result.returncode == 0, describe(result)
    assert "no lock depends on the changed files" in result.stderr


def test_target_python_mismatch_is_drift(project):
    folder, server = project
    (folder / ".git").mkdir()
    (folder / ".lockcheck.toml").write_text(
        f'python-version = "3.12"\ngenerate-hashes = true\nindex-url = "{server.url}"\n'
        '[[lock]]\ninputs = ["requirements.in"]\n'
    )
    result = call_lockcheck("check", "--offline", cwd=folder)
    assert result.returncode == 1, describe(result)
    assert "the lock targets Python 3.11 but the settings target Python 3.12" in result.stderr


def test_repeated_clean_check_answers_before_the_cli_loads(project):
    import subprocess
    import sys

    folder, server = project
    assert call_lockcheck("check", cwd=folder).returncode == 0  # writes the stamp
    probe = (
        "import sys\nfrom lockcheck._entry import main\nsys.argv = ['lockcheck', 'check']\n"
        "code = main(['check'])\nprint('click' in sys.modules, 'httpx' in sys.modules, code)"
    )
    server.clear_log()
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=folder, capture_output=True, text=True, check=True
    )
    assert out.stdout.endswith("False False 0\n"), out.stdout + out.stderr
    assert "requirements.txt: up to date" in out.stdout
    assert server.count("/") == 0
    # Any change to what the check read makes it a real check again.
    (folder / "requirements.in").write_text("flask\nidna\n")
    result = call_lockcheck("check", cwd=folder)
    assert result.returncode == 1, describe(result)


def _pip_compile(folder, server, *args, env=None, cache=None, output=LOCK):
    """pip-compile *args* in *folder* against *server*; the lock it wrote, as text."""
    from tests.helpers import run_pip_compile

    cache = cache or folder / "pc"
    made = run_pip_compile(
        "--index-url", server.url, "--cache-dir", str(cache), *args, cwd=folder, env=env
    )
    assert made.returncode == 0, describe(made)
    return (folder / output).read_text()


def test_a_lock_written_by_pip_compile_is_checked_by_its_body(
    tmp_path, make_index, universe_wheelhouse
):
    """pip-tools users can put lockcheck in CI before everyone switches."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\n")
    text = _pip_compile(tmp_path, server, "--strip-extras")
    assert text.startswith("#\n# This file is autogenerated by pip-compile")
    result = call_lockcheck("check", LOCK, cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    (tmp_path / "requirements.in").write_text("flask\nidna\n")
    result = call_lockcheck("check", LOCK, cwd=tmp_path)
    assert result.returncode == 1, describe(result)
    assert "idna (-r requirements.in) has no pin" in result.stderr


def test_a_pip_tools_5_header_keeps_every_input_and_option(
    tmp_path, make_index, universe_wheelhouse
):
    """pip-tools 5 wrote "autogenerated by pip-compile" with no Python and "To update, run:";
    the gate must still read the command's inputs and options from it (issue 12, item 4),
    not fall back to the sibling requirements.in and report the other input's pins as orphans
    and the --allow-unsafe pins as removed."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\n")
    (tmp_path / "extra.in").write_text("uses-setuptools\n")
    options = ("--strip-extras", "--allow-unsafe", "--output-file=requirements.txt")
    text = _pip_compile(tmp_path, server, *options, "extra.in", "requirements.in")
    lock = tmp_path / LOCK
    assert "setuptools==" in text
    old_style = text.replace(
        "# This file is autogenerated by pip-compile with Python 3.11\n"
        "# by the following command:\n",
        "# This file is autogenerated by pip-compile\n# To update, run:\n",
    )
    assert old_style != text
    lock.write_text(old_style)
    for args in (("--offline",), ()):
        result = call_lockcheck("check", LOCK, *args, cwd=tmp_path)
        assert result.returncode == 0, describe(result)


def test_a_pip_compile_lock_keeps_extras_by_pip_compiles_default(
    tmp_path, make_index, universe_wheelhouse
):
    """pip-compile 7 keeps extras unless its command says --strip-extras: a header without it
    is read with pip-compile's default, not lockcheck's (issue 12, item 2)."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask[dotenv]\n")
    assert "flask[dotenv]==" in _pip_compile(tmp_path, server)
    for args in (("--offline",), ()):
        result = call_lockcheck("check", LOCK, *args, cwd=tmp_path)
        assert result.returncode == 0, describe(result)


def test_the_header_python_stands_over_requires_python(tmp_path, make_index, universe_wheelhouse):
    """A pyproject.toml with requires-python and no tool table beside an existing lock: the
    Python the lock's header names stands (issue 12, item 3), for check and for compile."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\n")
    text = _pip_compile(tmp_path, server, "--strip-extras")
    assert "with Python 3.11" in text
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\nrequires-python = ">=3.9"\n'
    )
    for args in (("--offline",), ()):
        result = call_lockcheck("check", LOCK, *args, cwd=tmp_path)
        assert result.returncode == 0, describe(result)
    result = call_lockcheck("compile", "-i", server.url, "--strip-extras", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    assert "with Python 3.11" in (tmp_path / LOCK).read_text()


def test_dependencies_of_an_unsafe_package_are_not_orphans(
    tmp_path, make_index, universe_wheelhouse
):
    """pip-compile --unsafe-package=requests comments requests out but still pins what it
    needs (certifi, "# via requests"): those pins are not orphans (issue 12, item 1)."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("requests\nclick\n")
    text = _pip_compile(tmp_path, server, "--strip-extras", "--unsafe-package=requests")
    assert "\n# requests\n" in text and "certifi==" in text
    for args in (("--offline",), ()):
        result = call_lockcheck("check", LOCK, *args, cwd=tmp_path)
        assert result.returncode == 0, describe(result)


def test_a_custom_compile_command_header_is_read_from_the_content(
    tmp_path, make_index, universe_wheelhouse
):
    """CUSTOM_COMPILE_COMMAND ("make upgrade") hides the options: those that change content
    are read from the lock itself (hashes, a pinned unsafe section, extras), so
    --allow-unsafe pins are not reported as removed (issue 12, item 5)."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("uses-setuptools\nflask[dotenv]\n")
    custom = {"CUSTOM_COMPILE_COMMAND": "make upgrade"}
    text = _pip_compile(tmp_path, server, "--allow-unsafe", "--generate-hashes", env=custom)
    assert "#    make upgrade\n" in text and "\nsetuptools==" in text and "--hash=" in text
    for args in (("--offline",), ()):
        result = call_lockcheck(
            "check", LOCK, *args, cwd=tmp_path, env={"PIP_INDEX_URL": server.url}
        )
        assert result.returncode == 0, describe(result)


def test_a_custom_command_that_hides_the_inputs_reports_no_guessed_drift(
    tmp_path, make_index, universe_wheelhouse
):
    """`make upgrade` compiled two inputs; the gate cannot know that, so it says in one line
    that the inputs are unknown and checks only what can be known: no orphans from the input
    it cannot see, no resolution against a guessed input (issue 12, item 5)."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\n")
    (tmp_path / "extra.in").write_text("requests\n")
    options = ("--strip-extras", "--output-file=requirements.txt", "requirements.in", "extra.in")
    _pip_compile(tmp_path, server, *options, env={"CUSTOM_COMPILE_COMMAND": "make upgrade"})
    env = {"PIP_INDEX_URL": server.url}
    for args in (("--offline",), ()):
        result = call_lockcheck("check", LOCK, *args, cwd=tmp_path, env=env)
        assert result.returncode == 0, describe(result)
        assert "orphan" not in result.stderr and "no input needs" not in result.stderr
        assert "does not name its inputs" in result.stdout + result.stderr, describe(result)
    # What the lock itself shows is still checked: credentials written in the file.
    text = (tmp_path / LOCK).read_text()
    (tmp_path / LOCK).write_text(text.replace(server.url, server.url.replace("//", "//u:pw@")))
    result = call_lockcheck("check", LOCK, "--offline", cwd=tmp_path, env=env)
    assert result.returncode == 1, describe(result)


def test_a_custom_command_lock_without_a_sibling_input_is_checked_as_far_as_it_shows(
    tmp_path, make_index, universe_wheelhouse
):
    server = make_index(universe_wheelhouse)
    (tmp_path / "deps.in").write_text("click\n")
    custom = {"CUSTOM_COMPILE_COMMAND": "./build.sh upgrade-requirements"}
    options = ("--strip-extras", "--output-file=locked.txt", "deps.in")
    _pip_compile(tmp_path, server, *options, env=custom, output="locked.txt")
    result = call_lockcheck("check", "locked.txt", cwd=tmp_path, env={"PIP_INDEX_URL": server.url})
    assert result.returncode == 0, describe(result)
    assert "does not name its inputs" in result.stdout + result.stderr, describe(result)


def _swap_blocks(text: str, first: str, second: str) -> str:
    """Swap the entries (pin line to the next pin) starting with *first* and *second*."""
    lines = text.split("\n")

    def block(start: str) -> tuple[int, int]:
        i = next(n for n, line in enumerate(lines) if line.startswith(start))
        j = i + 1
        while j < len(lines) and (lines[j].startswith(" ") or not lines[j]):
            if not lines[j]:
                break
            j += 1
        return i, j

    (a0, a1), (b0, b1) = block(first), block(second)
    assert a1 <= b0
    out = lines[:a0] + lines[b0:b1] + lines[a1:b0] + lines[a0:a1] + lines[b1:]
    return "\n".join(out)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda t: t.replace("    # via flask\n", "    # via werkzeug\n", 1), "annotation"),
        (lambda t: _swap_blocks(t, "blinker==", "click=="), "order"),
    ],
    ids=["annotation", "order"],
)
def test_a_text_only_change_is_named_for_what_the_fix_changes(project, edit, words):
    """The reason names what the fix would change (issue 12, "wrong reasons"): an edited
    annotation or a pin out of order is not an orphan or a removed pin."""
    folder, _ = project
    lock = folder / LOCK
    changed = edit(lock.read_text())
    assert changed != lock.read_text()
    lock.write_text(changed)
    result = call_lockcheck("check", "--format", "json", cwd=folder)
    assert result.returncode == 1, describe(result)
    reasons = json.loads(result.stdout)["locks"][0]["reasons"]
    assert [r["kind"] for r in reasons] == ["text"], reasons
    assert words in reasons[0]["message"], reasons


def _no_drift(folder: Path) -> None:
    """Nothing: the lock as pip-compile wrote it."""


def _build_requires_added(folder: Path) -> None:
    _edit(
        folder / "pyproject.toml",
        'requires = ["itsdangerous"]',
        'requires = ["itsdangerous", "sdistdep"]',
    )


def _build_requires_removed(folder: Path) -> None:
    _edit(folder / "pyproject.toml", 'requires = ["itsdangerous"]', "requires = []")


def _backend_requires_added(folder: Path) -> None:
    _edit(folder / "pyproject.toml", '["blinker"]', '["blinker", "sdistdep"]')


def _build_pin_edited(folder: Path) -> None:
    _edit(folder / LOCK, "blinker==1.7.0", "blinker==9.9.9")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new))


#: drift -> (make it, {offline: (exit code, [(kind, name)] named), full: ...}); the
#: structural level asks no backend, so what only the backend's hooks say is full-level.
BUILD_DEPS_DRIFTS = {
    "input-added": (
        _build_requires_added,
        {"offline": (1, {("missing-pin", "sdistdep")}), "full": (1, {("missing-pin", "sdistdep")})},
    ),
    "input-removed": (
        _build_requires_removed,
        {
            "offline": (1, {("orphan-pin", "itsdangerous")}),
            "full": (1, {("orphan-pin", "itsdangerous")}),
        },
    ),
    "backend-added": (
        _backend_requires_added,
        {"offline": (0, set()), "full": (1, {("pin-added", "sdistdep")})},
    ),
    "pin-edited": (
        _build_pin_edited,
        {"offline": (0, set()), "full": (1, {("pin-changed", "blinker")})},
    ),
}


class _BuildDepsLock:
    """A pip-compile --all-build-deps lock of a project whose [build-system] requires and
    wheel hook each add a pin, made on first use (inside a test, so pip's settings are
    already isolated) and then copied."""

    def __init__(self, root: Path, server) -> None:
        self.root, self.server = root, server
        self._project: Path | None = None

    def copy(self, destination: Path) -> Path:
        import shutil

        if self._project is None:
            self._project = self._make()
        return Path(shutil.copytree(self._project, destination / self._project.name))

    def _make(self) -> Path:
        from tests.fixtures.builders import make_project

        project = make_project(
            self.root,
            "myapp",
            dependencies=["click"],
            build_requires=["itsdangerous"],
            backend_requires={"wheel": ["blinker"]},
        )
        options = ("--all-build-deps", "--strip-extras", "--output-file=requirements.txt")
        env = {"PIP_INDEX_URL": self.server.url}  # pip-compile's build environment
        text = _pip_compile(project, self.server, *options, "pyproject.toml", env=env)
        assert (
            "itsdangerous==2.1.2\n    # via myapp (pyproject.toml::build-system.requires)" in text
        )
        assert "blinker==1.7.0\n    # via myapp (pyproject.toml::build-system.backend::wheel)" in (
            text
        )
        return project


@pytest.fixture(scope="module")
def build_deps_lock(tmp_path_factory):
    from tests.fixtures.builders import PackageSpec, build_packages
    from tests.fixtures.index_server import IndexServer

    root = tmp_path_factory.mktemp("build-deps")
    specs = [
        PackageSpec("click", "8.1.7"),
        PackageSpec("itsdangerous", "2.1.2"),
        PackageSpec("blinker", "1.7.0"),
        PackageSpec("sdistdep", "2.0"),
    ]
    wheelhouse = build_packages(specs, root / "wheelhouse")
    with IndexServer(wheelhouse.directory) as server:
        yield _BuildDepsLock(root, server)


@pytest.mark.parametrize("drift", ["none", *BUILD_DEPS_DRIFTS])
def test_a_pip_compile_lock_with_build_dependencies_gets_the_full_check(
    build_deps_lock, tmp_path, drift
):
    """pip-compile --all-build-deps pins what building the project needs; lockcheck compiles
    that too, so the untouched lock passes both levels with no note, and each real drift
    fails with the reason that names what compile then changes (issue 12)."""
    project = build_deps_lock.copy(tmp_path)
    make, expected = BUILD_DEPS_DRIFTS.get(drift, (_no_drift, {}))
    make(project)
    for level, args in (("offline", ("--offline",)), ("full", ())):
        code, named = expected.get(level, (0, set()))
        result = call_lockcheck("check", LOCK, "--format", "json", *args, cwd=project)
        assert result.returncode == code, describe(result)
        report = json.loads(result.stdout)["locks"][0]
        # Offline, the only note is that yanks were not asked about.
        offline_note = "yanked pins were not checked (offline)" if args else ""
        assert report.get("note") in (None, "", offline_note), describe(result)
        reasons = {(r["kind"], r.get("name", "")) for r in report["reasons"]}
        assert named <= reasons, describe(result)
    if drift != "none":
        fix = shlex.split(report["fix"])
        assert "--all-build-deps" in fix, report["fix"]
        fixed = call_lockcheck(*fix[1:], cwd=project)
        assert fixed.returncode == 0, describe(fixed)
        assert call_lockcheck("check", LOCK, cwd=project).returncode == 0


#: The two ways a lock hides its inputs: a custom header command, and no header at all.
HIDDEN_INPUTS = [
    pytest.param({"CUSTOM_COMPILE_COMMAND": "make upgrade"}, (), id="custom-command"),
    pytest.param(None, ("--no-header",), id="no-header"),
]


def _lock_with_index_lines(tmp_path, server, env, header, *options):
    """A lock whose command passed --index-url and an --extra-index-url with credentials,
    its inputs hidden.  pip-compile writes the credentials in clear (drift of its own): the
    team masked them as ``****``, as lockcheck writes them."""
    (tmp_path / "requirements.in").write_text("flask\n")
    private = server.url.replace("://", "://deploy:s3cret@").replace("/simple", "/private")
    args = ("--strip-extras", f"--extra-index-url={private}", *header, *options)
    text = _pip_compile(tmp_path, server, *args, env=env).replace("deploy:s3cret@", "****@")
    (tmp_path / LOCK).write_text(text)
    assert f"--index-url {server.url}" in text and "--extra-index-url http://****@" in text
    return text


@pytest.mark.parametrize(("env", "header"), HIDDEN_INPUTS)
def test_index_lines_of_a_lock_whose_inputs_are_unknown_are_taken_as_written(
    tmp_path, make_index, universe_wheelhouse, env, header
):
    """`make upgrade` passed --index-url on its command line; CI's own pip settings (none, or
    PIP_INDEX_URL elsewhere) say nothing about this lock, so they make no index-option drift:
    the lock's index lines are taken as written, and the one-line note says so with the
    credentials masked."""
    server = make_index(universe_wheelhouse)
    _lock_with_index_lines(tmp_path, server, env, header)
    ambient = [{}, {"PIP_INDEX_URL": "https://pypi.invalid/simple/"}]
    for extra_env in ambient:
        for args in (("--offline",), ()):
            result = call_lockcheck("check", LOCK, *args, cwd=tmp_path, env=extra_env)
            assert result.returncode == 0, describe(result)
            assert "index-option" not in result.stderr and "--index-url is" not in result.stderr
            out = result.stdout
            assert "up to date as far as can be known" in out, describe(result)
            assert "index lines were taken as written" in out, describe(result)
            assert "****@127.0.0.1" in out and "s3cret" not in out, describe(result)


@pytest.mark.parametrize(("env", "header"), HIDDEN_INPUTS)
def test_index_lines_are_compared_when_the_projects_own_settings_name_an_index(
    tmp_path, make_index, universe_wheelhouse, env, header
):
    """The project's explicit settings (command line, its config file) naming an index make
    the comparison: a lock whose index lines differ from them is drift, whatever its header."""
    server = make_index(universe_wheelhouse)
    _lock_with_index_lines(tmp_path, server, env, header)
    other = "https://other.example/simple/"
    result = call_lockcheck("check", LOCK, "--offline", "--index-url", other, cwd=tmp_path)
    assert result.returncode == 1, describe(result)
    assert f"--index-url is {server.url} but the settings give {other}" in result.stderr
    (tmp_path / ".pip-tools.toml").write_text(f'[tool.pip-tools]\nindex-url = "{other}"\n')
    result = call_lockcheck("check", LOCK, "--offline", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, describe(result)
    kinds = {r["kind"] for r in json.loads(result.stdout)["locks"][0]["reasons"]}
    assert kinds == {"index-option"}, describe(result)


@pytest.mark.parametrize(("env", "header"), HIDDEN_INPUTS)
def test_a_foreign_hash_in_a_lock_whose_inputs_are_unknown_is_still_drift(
    tmp_path, make_index, universe_wheelhouse, env, header
):
    """Index lines taken as written leave the hashes as tamper evidence: a digest that is no
    file of the pinned release on the lock's index is drift at the full level."""
    import re

    server = make_index(universe_wheelhouse)
    text = _lock_with_index_lines(tmp_path, server, env, header, "--generate-hashes")
    result = call_lockcheck("check", LOCK, cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    digest = re.search(r"^flask==3\.0\.0 \\\n    --hash=(\S+)", text, re.M)
    assert digest, text
    bogus = "sha256:" + "0" * 64
    (tmp_path / LOCK).write_text(text.replace(digest.group(1), bogus, 1))
    result = call_lockcheck("check", LOCK, "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, describe(result)
    reasons = json.loads(result.stdout)["locks"][0]["reasons"]
    assert [(r["kind"], r["name"]) for r in reasons] == [("foreign-hash", "flask")], reasons


@pytest.mark.parametrize(("env", "header"), HIDDEN_INPUTS)
def test_a_guessed_input_that_cannot_be_read_leaves_the_lock_checked_as_far_as_it_shows(
    tmp_path, make_index, universe_wheelhouse, env, header
):
    """openedx's `make upgrade` locks: the sibling .in (only a guess at the inputs) names a
    remote constraints file (`-c https://raw.githubusercontent.com/.../common_constraints.txt`),
    which cannot be fetched here.  What cannot be known is said in the note, not made an
    error that stops every pull request."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "constraints.txt").write_text("click<9\n")
    (tmp_path / "requirements.in").write_text("-c constraints.txt\nflask\n")
    _pip_compile(tmp_path, server, "--strip-extras", *header, env=env)
    remote = "https://raw.example.invalid/common_constraints.txt"
    (tmp_path / "constraints.txt").write_text(f"-c {remote}\nclick<9\n")
    env = {"PIP_INDEX_URL": server.url, "PIP_RETRIES": "0"}
    result = call_lockcheck("check", LOCK, "--offline", cwd=tmp_path, env=env)
    assert result.returncode == 0, describe(result)
    assert f"{remote} was not checked (no copy from an online run)" in result.stdout
    result = call_lockcheck("check", LOCK, cwd=tmp_path, env=env)
    assert result.returncode == 0, describe(result)
    assert "requirements.in could not be read" in result.stdout, describe(result)
    assert f"constraints.txt:1: could not fetch constraint file: cannot reach {remote}" in (
        result.stdout
    ), describe(result)
    # A lock whose inputs are known still stops on the input it cannot read.
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.lockcheck]\nindex-url = "{server.url}"\n'
        '[[tool.lockcheck.lock]]\ninputs = ["requirements.in"]\n'
    )
    result = call_lockcheck("check", cwd=tmp_path, env={"PIP_RETRIES": "0"})
    assert result.returncode == 2, describe(result)
    assert "could not fetch constraint file" in result.stderr, describe(result)


@pytest.mark.parametrize(("env", "header"), HIDDEN_INPUTS)
def test_a_pin_the_custom_command_took_out_is_no_drift(
    tmp_path, make_index, universe_wheelhouse, env, header
):
    """openedx's `make upgrade` compiles test.in, then deletes the Django pin ("let tox
    control the Django version"): the sibling .in is only a guess at what made the lock, so
    its unpinned requirement is said in the note, not reported as drift."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\nidna\n")
    text = _pip_compile(tmp_path, server, "--strip-extras", *header, env=env)
    start = text.index("idna==")
    (tmp_path / LOCK).write_text(text[:start] + text[text.index("itsdangerous==") :])
    for args in (("--offline",), ()):
        result = call_lockcheck(
            "check", LOCK, *args, cwd=tmp_path, env={"PIP_INDEX_URL": server.url}
        )
        assert result.returncode == 0, describe(result)
        assert "idna (-r requirements.in) has no pin" in result.stdout, describe(result)


def test_an_input_dropped_but_still_needed_is_drift_offline(
    tmp_path, make_index, universe_wheelhouse
):
    """Found on a real lock (Hochfrequenz/ahbicht): pytz taken out of requirements.in but
    still needed by another pin.  pip-compile then only drops "-r requirements.in" from its
    "# via"; the offline check must see that too (the lock says an input asks for it), and
    both levels name the pin and the input rather than "the text differs"."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\nclick\n")
    text = _pip_compile(tmp_path, server, "--strip-extras")
    assert "click==8.1.7\n    # via\n    #   -r requirements.in\n    #   flask\n" in text
    (tmp_path / "requirements.in").write_text("flask\n")
    _assert_only_stale_via(tmp_path, "click", "which no longer asks for it")
    assert run_pip_compile_changes_only_the_via(tmp_path, server)


def _assert_only_stale_via(folder, name: str, words: str) -> None:
    """Both levels exit 1 with one reason: *name*'s "# via", in *words*."""
    for args in (("--offline",), ()):
        result = call_lockcheck("check", LOCK, *args, "--format", "json", cwd=folder)
        assert result.returncode == 1, describe(result)
        reasons = json.loads(result.stdout)["locks"][0]["reasons"]
        assert [(r["kind"], r["name"]) for r in reasons] == [("stale-via", name)], reasons
        assert f"asked for by -r requirements.in, {words}" in reasons[0]["message"], reasons


def run_pip_compile_changes_only_the_via(folder, server) -> bool:
    before = (folder / LOCK).read_text()
    after = _pip_compile(folder, server, "--strip-extras")
    return after == before.replace(
        "    # via\n    #   -r requirements.in\n    #   flask\n", "    # via flask\n"
    )


def test_an_input_added_that_is_already_pinned_is_drift_offline(
    tmp_path, make_index, universe_wheelhouse
):
    """Found on a real lock (Hochfrequenz/ahbicht docs): requests added to the .in while
    sphinx already pulled it in.  pip-compile only adds "-r ..." to its "# via"; the offline
    check must see that too, and both levels name the pin and the input."""
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\n")
    _pip_compile(tmp_path, server, "--strip-extras")
    (tmp_path / "requirements.in").write_text("flask\nclick\n")
    _assert_only_stale_via(tmp_path, "click", "which its # via does not name")


def test_structural_drift_stands_when_the_full_resolution_fails(project):
    """Found on a real lock (Hochfrequenz/ahbicht tests, `pytest` narrowed to `pytest<8`): the
    resolution behind the full level failed, and check exited 2 with a build error although
    the drift was certain.  A reason the lock itself shows is reported (exit 1); the note
    says why the full level stopped."""
    folder, _ = project
    (folder / "requirements.in").write_text("flask\nwerkzeug<0.1\n")
    result = call_lockcheck("check", "--format", "json", cwd=folder)
    assert result.returncode == 1, describe(result)
    (lock,) = json.loads(result.stdout)["locks"]
    assert [r["kind"] for r in lock["reasons"]] == ["unsatisfied-pin"], lock
    assert lock["note"].startswith("the full check stopped: "), lock
    assert "werkzeug" in lock["note"], lock


def _zip_sdist(folder: Path, name: str, version: str) -> Path:
    """A real ``.zip`` sdist (the format setuptools wrote before 2020): the tar.gz sdist's
    members repacked."""
    import tarfile
    import zipfile

    from tests.fixtures.builders import make_sdist

    built = make_sdist(folder / "build", name, version)
    target = folder / f"{name}-{version}.zip"
    with tarfile.open(built) as tar, zipfile.ZipFile(target, "w") as archive:
        for member in tar.getmembers():
            if member.isfile():
                archive.writestr(member.name, tar.extractfile(member).read())
    return target


def test_a_zip_sdist_reference_needs_its_hash_as_pip_compile_writes_it(
    tmp_path, make_index, universe_wheelhouse
):
    """pip-compile hashes every direct archive, ``.zip`` sdists included; the structural
    check once took ``.zip`` (and ``.tar.bz2``) links for unhashable ones."""
    server = make_index(universe_wheelhouse)
    sdist = _zip_sdist(tmp_path, "zipped", "1.0")
    (tmp_path / "requirements.in").write_text(f"zipped @ {sdist.as_uri()}\n")
    pip_compiled = _pip_compile(
        tmp_path, server, "--generate-hashes", "--output-file", "pc.txt", output="pc.txt"
    )
    assert "zipped @ file://" in pip_compiled and "--hash=sha256:" in pip_compiled
    made = call_lockcheck("compile", "-i", server.url, "--generate-hashes", cwd=tmp_path)
    assert made.returncode == 0, describe(made)
    lock = (tmp_path / LOCK).read_text()
    assert "--hash=sha256:" in lock
    (tmp_path / ".lockcheck.toml").write_text(
        f'generate-hashes = true\nindex-url = "{server.url}"\n'
        '[[lock]]\ninputs = ["requirements.in"]\n'
    )
    assert call_lockcheck("check", "--offline", cwd=tmp_path).returncode == 0
    unhashed = "".join(line for line in lock.splitlines(True) if "--hash" not in line)
    (tmp_path / LOCK).write_text(unhashed.replace(" \\\n", "\n"))
    result = call_lockcheck("check", "--offline", cwd=tmp_path)
    assert result.returncode == 1, describe(result)
    assert "zipped has no --hash lines but hashes are configured" in result.stderr


def test_a_bare_archive_path_is_no_orphan(tmp_path, make_index, universe_wheelhouse):
    """``./name-1.0.tar.gz`` has no name before its metadata is read; the structural check
    must not call the pin it locks an orphan."""
    from tests.fixtures.builders import make_sdist

    server = make_index(universe_wheelhouse)
    make_sdist(tmp_path, "bare", "1.0")
    (tmp_path / "requirements.in").write_text("./bare-1.0.tar.gz\n")
    made = call_lockcheck("compile", "-i", server.url, cwd=tmp_path)
    assert made.returncode == 0, describe(made)
    result = call_lockcheck("check", "--offline", LOCK, cwd=tmp_path)
    assert result.returncode == 0, describe(result)


def test_main_called_in_process_stamps_its_own_command_line(project, monkeypatch, capsys):
    """``main(argv)`` is the library's entry: its stamp is keyed on *argv*, not on whatever
    ``sys.argv`` the host process has, so the same command line answers from it next time."""
    import sys

    from lockcheck.cli import main
    from lockcheck.stamps import fast_answer

    folder, _server = project
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "argv", ["host-program", "--its-own-flag"])
    assert main(["check"]) == 0
    capsys.readouterr()
    assert fast_answer(["check"]) == 0
    assert "requirements.txt: up to date" in capsys.readouterr().out
