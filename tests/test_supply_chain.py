"""Supply-chain gate (issue 16): release cut-offs by upload time, yanked pins.

Every test runs the real CLI against a local index whose files carry PEP 700 upload times
chosen here (``PackageSpec.uploaded``), so each WHEN form can be put right at a boundary.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.fixtures.builders import PackageSpec
from tests.helpers import call_lockcheck, describe, run_pip_compile, threads_switching_often


def _ago(**delta: float) -> str:
    moment = dt.datetime.now(dt.timezone.utc) - dt.timedelta(**delta)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _universe(*, lib3_uploaded: str | None = None, **changes: PackageSpec) -> list[PackageSpec]:
    """lib 1.0 (Jan), 2.0 (exactly 2024-03-01 00:00 UTC), 3.0 (an hour ago); dep 1.0 (Jan),
    1.1 (May).  lib depends on dep."""
    specs = {
        "lib1": PackageSpec("lib", "1.0", deps=("dep",), uploaded="2024-01-01T00:00:00Z"),
        "lib2": PackageSpec("lib", "2.0", deps=("dep",), uploaded="2024-03-01T00:00:00Z"),
        "lib3": PackageSpec("lib", "3.0", deps=("dep",), uploaded=lib3_uploaded or _ago(hours=1)),
        "dep1": PackageSpec("dep", "1.0", uploaded="2024-01-01T00:00:00Z"),
        "dep11": PackageSpec("dep", "1.1", uploaded="2024-05-01T00:00:00.123456Z"),
    }
    specs.update(changes)
    return list(specs.values())


def _pins(lock: Path) -> dict[str, str]:
    pins = {}
    for line in lock.read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, _, version = line.split(" ")[0].partition("==")
            pins[name] = version
    return pins


def _compile(folder: Path, server, *args: str, env=None):
    return call_lockcheck("compile", "-i", server.url, *args, cwd=folder, env=env)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "requirements.in").write_text("lib\n")
    return tmp_path


# ----------------------------------------------------------------------------------------
# the WHEN forms
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "lib", "dep"),
    [
        pytest.param("2024-02-01T00:00:00Z", "1.0", "1.0", id="rfc3339"),
        pytest.param("2024-03-01T00:00:00.000001Z", "2.0", "1.0", id="rfc3339-just-after"),
        pytest.param("2024-03-01T01:00:00+01:00", "1.0", "1.0", id="offset-same-instant"),
        pytest.param("2024-03-01", "1.0", "1.0", id="date-is-midnight-utc-exclusive"),
        pytest.param("2024-03-02", "2.0", "1.0", id="date-next-day"),
        pytest.param("2024-05-01T00:00:00.123457Z", "2.0", "1.1", id="microseconds"),
        pytest.param("P1D", "2.0", "1.1", id="duration-days"),
        pytest.param("PT2H", "2.0", "1.1", id="duration-hours"),
        pytest.param("PT30M", "3.0", "1.1", id="duration-minutes"),
    ],
)
def test_each_when_form_cuts_at_its_moment(folder, make_index, when, lib, dep):
    server = make_index(_universe())
    result = _compile(folder, server, "--exclude-newer", when)
    assert result.returncode == 0, describe(result)
    assert _pins(folder / "requirements.txt") == {"dep": dep, "lib": lib}
    # The cut-off as given, so the hook re-runs it (a duration stays a duration).
    assert f"--exclude-newer={when}" in (folder / "requirements.txt").read_text()


def test_pip_compile_spelling_and_a_bad_when(folder, make_index):
    server = make_index(_universe())
    result = _compile(folder, server, "--uploaded-prior-to=2024-02-01T00:00:00Z")
    assert result.returncode == 0, describe(result)
    assert _pins(folder / "requirements.txt")["lib"] == "1.0"
    before = (folder / "requirements.txt").read_bytes()
    for bad in ("yesterday", "P1M", "2024-13-01"):
        result = _compile(folder, server, "--exclude-newer", bad)
        assert result.returncode == 2, describe(result)
        assert "Traceback" not in result.stderr
        assert f"--exclude-newer: {bad!r} is not a cut-off" in result.stderr, describe(result)
    assert (folder / "requirements.txt").read_bytes() == before


def test_same_body_as_pip_compile_uploaded_prior_to(folder, make_index):
    server = make_index(_universe())
    when = "2024-04-01T00:00:00Z"
    lc = _compile(folder, server, "--no-header", "--exclude-newer", when, "-o", "lc.txt")
    pc = run_pip_compile(
        "--no-header",
        "--cache-dir",
        folder / "pc-cache",
        "-i",
        server.url,
        "--uploaded-prior-to=2024-04-01T00:00:00Z",
        "-o",
        "pc.txt",
        "requirements.in",
        cwd=folder,
    )
    assert lc.returncode == 0 and pc.returncode == 0, describe(lc) + describe(pc)
    assert _pins(folder / "lc.txt") == {"dep": "1.0", "lib": "2.0"}
    assert (folder / "lc.txt").read_text() == (folder / "pc.txt").read_text()


def test_a_requirement_only_newer_releases_meet_names_the_cut_off(folder, make_index):
    server = make_index(_universe(fresh=PackageSpec("fresh", "0.1", uploaded=_ago(hours=1))))
    (folder / "requirements.in").write_text("lib>=2\nfresh\n")
    result = _compile(folder, server, "--exclude-newer", "2024-02-01")
    assert result.returncode == 2, describe(result)
    assert "lib 2.0, 3.0 were uploaded after the cut-off (2024-02-01T00:00:00Z)" in result.stderr
    (folder / "requirements.in").write_text("fresh\n")
    result = _compile(folder, server, "--exclude-newer", "2024-02-01")
    assert result.returncode == 2, describe(result)
    assert "fresh 0.1 was uploaded after the cut-off" in result.stderr, describe(result)
    assert "no package named" not in result.stderr


# ----------------------------------------------------------------------------------------
# durations over time: a moving window is no drift, a pin past the cut-off is
# ----------------------------------------------------------------------------------------


def test_a_release_that_aged_in_is_not_drift(folder, make_index, tmp_path):
    server = make_index(_universe(lib3_uploaded=_ago(hours=23)))
    result = _compile(folder, server, "--exclude-newer", "P1D")
    assert result.returncode == 0, describe(result)
    assert _pins(folder / "requirements.txt")["lib"] == "2.0"
    lock = (folder / "requirements.txt").read_bytes()
    # A day later: lib 3.0 is now older than the window, and the clock moved.
    for filename in [f for f in server.upload_times if f.startswith("lib-3.0")]:
        server.upload_times[filename] = _ago(hours=25)
    fresh_cache = {"LOCKCHECK_CACHE_DIR": str(tmp_path / "later-cache")}
    check = call_lockcheck("check", cwd=folder, env=fresh_cache)
    assert check.returncode == 0, describe(check)
    again = _compile(folder, server, "--exclude-newer", "P1D", env=fresh_cache)
    assert again.returncode == 0, describe(again)
    assert (folder / "requirements.txt").read_bytes() == lock
    upgraded = _compile(folder, server, "--exclude-newer", "P1D", "-U", env=fresh_cache)
    assert upgraded.returncode == 0, describe(upgraded)
    assert _pins(folder / "requirements.txt")["lib"] == "3.0"


def test_a_pin_newer_than_the_cut_off_is_drift(folder, make_index):
    server = make_index(_universe())
    assert _compile(folder, server).returncode == 0
    assert _pins(folder / "requirements.txt")["lib"] == "3.0"
    (folder / "pyproject.toml").write_text(
        '[tool.lockcheck]\nexclude-newer = "P1D"\nindex-url = "' + server.url + '"\n'
        '[[tool.lockcheck.lock]]\ninputs = ["requirements.in"]\n'
    )
    check = call_lockcheck("check", cwd=folder)
    assert check.returncode == 1, describe(check)
    assert "lib would change 3.0 -> 2.0" in check.stderr, describe(check)
    assert "--exclude-newer" in check.stderr  # the header does not say the config's cut-off


# ----------------------------------------------------------------------------------------
# per-package exceptions
# ----------------------------------------------------------------------------------------


def test_per_package_exception_on_the_command_line(folder, make_index):
    server = make_index(_universe())
    result = _compile(
        folder,
        server,
        "--exclude-newer=2024-02-01T00:00:00Z",
        "--exclude-newer-package",
        "dep=2024-06-01",
        "--exclude-newer-package",
        "LIB=false",
    )
    assert result.returncode == 0, describe(result)
    assert _pins(folder / "requirements.txt") == {"dep": "1.1", "lib": "3.0"}
    text = (folder / "requirements.txt").read_text()
    assert "--exclude-newer-package=LIB=false --exclude-newer-package=dep=2024-06-01" in text
    check = call_lockcheck("check", cwd=folder)
    assert check.returncode == 0, describe(check)


def test_per_package_exception_in_config(folder, make_index):
    server = make_index(_universe())
    (folder / "pyproject.toml").write_text(
        "[tool.lockcheck]\n"
        f'index-url = "{server.url}"\n'
        'exclude-newer = "2024-02-01T00:00:00Z"\n'
        'exclude-newer-package = { lib = "2024-04-01T00:00:00Z" }\n'
        '[[tool.lockcheck.lock]]\ninputs = ["requirements.in"]\n'
    )
    result = call_lockcheck("compile", cwd=folder)
    assert result.returncode == 0, describe(result)
    assert _pins(folder / "requirements.txt") == {"dep": "1.0", "lib": "2.0"}
    text = (folder / "requirements.txt").read_text()
    assert "--exclude-newer=2024-02-01T00:00:00Z" in text
    assert "--exclude-newer-package=lib=2024-04-01T00:00:00Z" in text
    assert call_lockcheck("check", cwd=folder).returncode == 0


def test_a_bad_cut_off_in_config_names_the_file(folder, make_index):
    (folder / "pyproject.toml").write_text(
        '[tool.lockcheck]\nexclude-newer-package = { lib = "soon" }\n'
        '[[tool.lockcheck.lock]]\ninputs = ["requirements.in"]\n'
    )
    result = call_lockcheck("compile", cwd=folder)
    assert result.returncode == 2, describe(result)
    assert "pyproject.toml" in result.stderr and "'soon' is not a cut-off" in result.stderr


def test_pip_tools_config_uploaded_prior_to_is_the_cut_off(folder, make_index):
    server = make_index(_universe())
    (folder / "pyproject.toml").write_text(
        f'[tool.pip-tools]\nindex-url = "{server.url}"\n'
        'uploaded-prior-to = "2024-02-01T00:00:00Z"\n'
    )
    result = call_lockcheck("compile", cwd=folder)
    assert result.returncode == 0, describe(result)
    assert _pins(folder / "requirements.txt")["lib"] == "1.0"


# ----------------------------------------------------------------------------------------
# files without an upload time (pip's rule)
# ----------------------------------------------------------------------------------------


def test_remote_files_without_upload_time_fail_naming_the_index(folder, make_index):
    specs = _universe(dep1=PackageSpec("dep", "1.0", uploaded=""))
    server = make_index(specs, auth=("alice", "s3cret"))
    url = server.url.replace("http://", "http://alice:s3cret@")
    argv = ("compile", "-i", url, "--exclude-newer", "2024-02-01T00:00:00Z")
    result = call_lockcheck(*argv, cwd=folder)
    assert result.returncode == 2, describe(result)
    assert "s3cret" not in result.stderr + result.stdout
    masked = server.url.replace("http://", "http://****@")
    assert f"{masked} gives no upload time for dep-1.0-py3-none-any.whl" in result.stderr
    assert not (folder / "requirements.txt").exists()
    # The way out the hint gives: no cut-off for that package.
    assert "--exclude-newer-package dep=false" in result.stderr
    lifted = call_lockcheck(*argv, "--exclude-newer-package", "dep=false", cwd=folder)
    assert lifted.returncode == 0, describe(lifted)
    assert _pins(folder / "requirements.txt") == {"dep": "1.1", "lib": "1.0"}


def test_html_only_index_cannot_be_judged(folder, make_index):
    server = make_index(_universe(), json=False)
    result = _compile(folder, server, "--exclude-newer", "P1D")
    assert result.returncode == 2, describe(result)
    assert f"{server.url} gives no upload time for lib-" in result.stderr, describe(result)


def test_local_find_links_are_kept_with_one_warning(folder, make_index, tmp_path):
    server = make_index(_universe())
    argv = ("compile", "--no-index", "-f", server.directory, "--exclude-newer", "2024-02-01")
    result = call_lockcheck(*argv, cwd=folder)
    assert result.returncode == 0, describe(result)
    # Not judged, as pip does for local files: the newest of each is taken...
    assert _pins(folder / "requirements.txt") == {"dep": "1.1", "lib": "3.0"}
    # ... and the location is named once, for both projects.
    warning = f"{server.directory.as_uri()} gives no upload times"
    assert result.stderr.count(warning) == 1, describe(result)
    # A run answered by its stamp says it again.
    again = call_lockcheck(*argv, cwd=folder)
    assert again.stderr.count(warning) == 1, describe(again)


# ----------------------------------------------------------------------------------------
# yanked pins
# ----------------------------------------------------------------------------------------

REASON = "conflicts with the CVE-2024-0001 mitigation"


@pytest.fixture
def yanked_lock(folder, make_index):
    server = make_index(_universe(lib2=PackageSpec("lib", "2.0", deps=("dep",), yanked=REASON)))
    (folder / "requirements.in").write_text("lib==2.0\n")
    result = _compile(folder, server, "--generate-hashes")
    return folder, server, result


def test_compile_allows_an_exact_yanked_pin_with_a_warning(yanked_lock):
    folder, _server, result = yanked_lock
    assert result.returncode == 0, describe(result)
    assert f"lockcheck: warning: lib==2.0 is yanked: {REASON}\n" in result.stderr
    assert _pins(folder / "requirements.txt")["lib"] == "2.0"


def test_check_fails_on_a_yanked_pin_in_every_format(yanked_lock):
    folder, _server, _ = yanked_lock
    text = call_lockcheck("check", cwd=folder)
    assert text.returncode == 1, describe(text)
    assert "requirements.txt: pins a yanked release\n" in text.stderr
    assert f"lib==2.0 is yanked: {REASON}" in text.stderr
    assert "allow-yanked" in text.stderr
    # An exact pin in the input takes a yanked release: the input is what to change.
    assert "fix: pin another version in -r requirements.in (lib), then lockcheck compile" in (
        text.stderr
    )
    js = call_lockcheck("check", "--format", "json", cwd=folder)
    assert js.returncode == 1, describe(js)
    [reason] = json.loads(js.stdout)["locks"][0]["reasons"]
    assert (reason["kind"], reason["name"], reason["version"], reason["reason"]) == (
        "yanked",
        "lib",
        "2.0",
        REASON,
    )
    gh = call_lockcheck("check", "--format", "github", cwd=folder)
    assert gh.returncode == 1, describe(gh)
    assert "::error file=requirements.txt,line=" in gh.stdout
    assert "lib==2.0 is yanked" in gh.stdout


def test_allow_yanked_passes_and_offline_says_yanks_were_not_checked(yanked_lock):
    folder, server, _ = yanked_lock
    offline = call_lockcheck("check", "--offline", cwd=folder)
    assert offline.returncode == 0, describe(offline)
    assert "yanked pins were not checked (offline)" in offline.stdout
    (folder / "pyproject.toml").write_text(
        f'[tool.lockcheck]\nallow-yanked = ["LIB"]\nindex-url = "{server.url}"\n'
        "generate-hashes = true\n"
        '[[tool.lockcheck.lock]]\ninputs = ["requirements.in"]\n'
    )
    allowed = call_lockcheck("check", cwd=folder)
    assert allowed.returncode == 0, describe(allowed)


def test_a_release_yanked_after_the_lock_was_written_fails_check(folder, make_index, tmp_path):
    server = make_index(_universe())
    assert _compile(folder, server).returncode == 0
    assert call_lockcheck("check", cwd=folder).returncode == 0
    for filename in [f for f in server.upload_times if f.startswith("lib-3.0")]:
        server.yanked[filename] = "hijacked account"
    # A later run (the index pages cached by the first one are not fresh any more).
    later = {"LOCKCHECK_CACHE_DIR": str(tmp_path / "later-cache")}
    check = call_lockcheck("check", cwd=folder, env=later)
    assert check.returncode == 1, describe(check)
    assert "lib==3.0 is yanked: hijacked account" in check.stderr
    # The compile keeps an existing pin even yanked (an exact pin may take it, as in
    # pip-compile): the fix moves off it.
    assert "--upgrade-package lib" in check.stderr, describe(check)
    fixed = _compile(folder, server, "--upgrade-package", "lib", env=later)
    assert fixed.returncode == 0, describe(fixed)
    assert _pins(folder / "requirements.txt")["lib"] == "2.0"
    assert call_lockcheck("check", cwd=folder, env=later).returncode == 0


def test_sync_warns_before_installing_a_yanked_release(yanked_lock, tmp_path):
    folder, _server, _ = yanked_lock
    venv = tmp_path / "venv"
    result = call_lockcheck("sync", "--python", venv, cwd=folder)
    assert result.returncode == 0, describe(result)
    assert f"lockcheck: warning: installing lib==2.0 is yanked: {REASON}" in result.stderr
    assert list(venv.glob("lib/python*/site-packages/lib-2.0.dist-info"))


def test_a_clean_full_check_is_not_answered_from_its_stamp_for_longer_than_pages(tmp_path):
    """A yank must not hide behind the stamp of a clean check: a full check's stamp lasts
    as long as the index pages it read (offline checks asked no index: no limit)."""
    import time

    from lockcheck import stamps

    watched = tmp_path / "requirements.txt"
    watched.write_text("x==1\n")
    env = {"LOCKCHECK_CACHE_DIR": str(tmp_path / "cache")}
    stamps.write_stamp("full", [watched], {"output": "", "expires": time.time() - 1}, env)
    stamps.write_stamp("later", [watched], {"output": "", "expires": time.time() + 60}, env)
    stamps.write_stamp("offline", [watched], {"output": ""}, env)
    assert stamps.load_fresh("full", env) is None
    assert stamps.load_fresh("later", env) is not None
    assert stamps.load_fresh("offline", env) is not None


def test_the_unjudged_sources_are_listed_while_prefetch_threads_judge_files():
    """compile lists the local sources the cut-off could not judge while prefetch threads
    may still be judging files (and finding new sources): listing them never fails (it
    raised "dictionary changed size during iteration")."""
    import threading
    from types import SimpleNamespace

    from lockcheck.cutoff import CutOff, UploadJudge

    def local_file(source: int) -> SimpleNamespace:
        return SimpleNamespace(
            name="lib", version="1", filename="lib-1.whl", upload_time=None,
            index=f"/wheels{source}", url=f"file:///wheels{source}/lib-1.whl",
        )  # fmt: skip

    failures: list[str] = []
    with threads_switching_often():
        for _ in range(200):
            judge = UploadJudge(
                CutOff(default=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)), str
            )
            judge.admits(local_file(0))
            worker = threading.Thread(
                target=lambda j=judge: [j.admits(local_file(i)) for i in range(1, 40)]
            )
            worker.start()
            while worker.is_alive():
                try:
                    judge.warnings()
                except RuntimeError as exc:
                    failures.append(repr(exc))
            worker.join()
    assert failures == []
