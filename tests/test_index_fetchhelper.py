"""The fetch helper: a forked process that fetches and parses a cold run's index pages on
another core (issue 17).

It only warms the cache: the lock is the same with it and without it, whatever becomes of
it (killed at any request, or the run killed or interrupted around it), and it never
outlives the run.
"""

from __future__ import annotations

import marshal
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lockcheck.crashpoint import ENV_VAR
from tests.fixtures.builders import PackageSpec as P
from tests.fixtures.index_server import IndexServer
from tests.helpers import describe, run_lockcheck
from tests.test_index_cachefiles import SPECS  # the same small graph: app, lib-a, lib-b, lib-c

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the helper is forked on Linux only"
)

REPORT = "LOCKCHECK_TEST_HELPER_REPORT"


def _compile(  # type: ignore[no-untyped-def]
    tmp_path: Path, server: IndexServer, cache: Path, **env: str
):
    (tmp_path / "requirements.in").write_text("app\n")
    return run_lockcheck(
        "compile", "-q", "-i", server.url, "--cache-dir", cache, "-o", "-",
        cwd=tmp_path, env=env or None, timeout=60,
    )  # fmt: skip


def _report(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _gone(pid: int, within: float) -> bool:
    """Whether process *pid* is gone (or a zombie nobody waits for) within *within* s."""
    deadline = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z" or time.monotonic() >= deadline:
            return state == "Z"
        time.sleep(0.02)


def test_a_cold_compile_has_the_helper_fetch_every_index_page(tmp_path: Path, make_index) -> None:
    server = make_index(SPECS)
    report = tmp_path / "report"
    helped = _compile(tmp_path, server, tmp_path / "cache", **{REPORT: str(report)})
    assert helped.returncode == 0, describe(helped)
    pages = [r.path for r in server.requests_for("/simple/")]
    lines = _report(report)
    assert lines[0].startswith("started "), lines
    # Every page was asked of the helper, fetched once (the run fetched none again) and
    # answered: each is one the lock needs.
    assert lines[1:] == [f"asked {len(pages)} ok {len(pages)}"]
    assert sorted(pages) == ["/simple/app/", "/simple/lib-a/", "/simple/lib-b/", "/simple/lib-c/"]
    pid = int(lines[0].split()[1])
    assert _gone(pid, 0.0)  # reaped by the run before it ended

    alone = _compile(tmp_path, server, tmp_path / "cache-alone", LOCKCHECK_FETCH_HELPER="0")
    assert alone.returncode == 0, describe(alone)
    assert helped.stdout == alone.stdout
    assert "lib-c==1.5" in helped.stdout


def _parsed_entries(cache: Path) -> dict[str, object]:
    """Each stored page's URL -> the parsed form stored beside its raw body."""
    from tests.test_index_pagecache import _split

    entries: dict[str, object] = {}
    for page in cache.rglob("*.page"):
        fields, has_parsed, parsed = marshal.loads(_split(page)[1])
        assert has_parsed, page
        entries[fields["url"]] = parsed
    return entries


def test_the_helper_stores_the_parsed_pages_the_run_would_store(tmp_path: Path, make_index) -> None:
    # The helper parses a page only to store it: its entries keep where each file's text
    # is in the raw body, not the text.  What it stores must be what the run stores.
    server = make_index(SPECS + [P("lib-c", f"1.{minor}") for minor in range(6, 40)])
    helped = _compile(tmp_path, server, tmp_path / "cache", **{REPORT: str(tmp_path / "r")})
    alone = _compile(tmp_path, server, tmp_path / "cache-alone", LOCKCHECK_FETCH_HELPER="0")
    assert helped.returncode == alone.returncode == 0, describe(helped) + describe(alone)
    assert _report(tmp_path / "r")[1:] == ["asked 4 ok 4"]
    by_helper, by_run = (
        _parsed_entries(tmp_path / "cache"),
        _parsed_entries(tmp_path / "cache-alone"),
    )
    assert len(by_helper) == 4
    assert by_helper == by_run
    # lib-c lists more versions than are kept: its entries are stored as places in the body.
    (lib_c,) = (parsed for url, parsed in by_helper.items() if url.endswith("/lib-c/"))
    groups = [marshal.loads(blob) for blob in lib_c[4].values()]  # type: ignore[index]
    assert any(len(entry) == 3 for group in groups for entry in group), groups


def test_a_compile_the_cache_answers_forks_no_helper(tmp_path: Path, make_index) -> None:
    server = make_index(SPECS)
    assert _compile(tmp_path, server, tmp_path / "cache").returncode == 0
    report = tmp_path / "report"
    warm = _compile(tmp_path, server, tmp_path / "cache", **{REPORT: str(report)})
    assert warm.returncode == 0, describe(warm)
    assert _report(report) == []


def test_offline_or_refresh_forks_no_helper(tmp_path: Path, make_index) -> None:
    server = make_index(SPECS)
    assert _compile(tmp_path, server, tmp_path / "cache").returncode == 0
    report = tmp_path / "report"
    for flag in ("--offline", "--refresh"):
        result = run_lockcheck(
            "compile", "-q", flag, "-i", server.url, "--cache-dir", tmp_path / "cache",
            "-o", "-", cwd=tmp_path, env={REPORT: str(report)}, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, describe(result)
    assert _report(report) == []


def test_a_helper_killed_at_any_request_leaves_the_run_to_do_the_rest(
    tmp_path: Path, make_index
) -> None:
    server = make_index(SPECS)
    clean = _compile(tmp_path, server, tmp_path / "clean")
    assert clean.returncode == 0, describe(clean)
    asked = len(server.requests_for("/simple/"))
    for point in range(1, asked + 1):
        report = tmp_path / f"report-{point}"
        cache = tmp_path / f"cache-{point}"
        env = {ENV_VAR: f"fetch-helper:{point}", REPORT: str(report)}
        result = _compile(tmp_path, server, cache, **env)
        assert result.returncode == 0, f"point {point}\n{describe(result)}"
        assert result.stdout == clean.stdout, f"point {point}"
        asked, ok = (int(n) for n in _report(report)[-1].split()[1::2])
        assert asked >= point > ok, point  # it died at that request; the run did the rest
        again = _compile(tmp_path, server, cache, LOCKCHECK_FETCH_HELPER="0")
        assert again.stdout == clean.stdout, f"point {point}"


def _slow_run(tmp_path: Path, server: IndexServer, report: Path) -> subprocess.Popen[bytes]:
    """A cold compile whose pages each take 2 s, started in a process group of its own."""
    server.slow("/simple/", 2.0)
    (tmp_path / "requirements.in").write_text("app\n")
    env = {**os.environ, REPORT: str(report), "PIP_CONFIG_FILE": os.devnull}
    env.pop("PIP_FIND_LINKS", None)
    argv = [
        sys.executable, "-m", "lockcheck", "compile", "-q", "-i", server.url,
        "--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "out.txt"),
    ]  # fmt: skip
    return subprocess.Popen(argv, cwd=tmp_path, env=env, start_new_session=True)


def _helper_pid(report: Path) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lines = _report(report)
        if lines and lines[0].startswith("started "):
            return int(lines[0].split()[1])
        time.sleep(0.02)
    raise AssertionError("the helper did not start")


@pytest.mark.parametrize("stop", ["sigkill", "ctrl-c"])
def test_the_helper_ends_with_its_run(tmp_path: Path, make_index, stop: str) -> None:
    """The run killed (SIGKILL), or interrupted as a terminal does on Ctrl-C (SIGINT to the
    process group, the helper included): within a second no helper is left, and no lock
    was written."""
    server = make_index(SPECS)
    report = tmp_path / "report"
    run = _slow_run(tmp_path, server, report)
    try:
        helper = _helper_pid(report)
        time.sleep(0.3)  # asking for pages now
        started = time.monotonic()
        if stop == "sigkill":
            run.kill()
        else:
            os.killpg(run.pid, signal.SIGINT)
        code = run.wait(5)
        if stop == "ctrl-c":
            assert time.monotonic() - started < 1.0
            assert code == 130
        assert _gone(helper, 1.0), "the helper outlived its run"
    finally:
        run.kill()
        run.wait(5)
    assert not (tmp_path / "out.txt").exists()


def test_on_a_terminal_the_helper_runs_beside_the_spinner(tmp_path: Path, make_index) -> None:
    """A developer at a terminal sees rich's spinner, whose thread runs before any page is
    fetched: the helper is forked all the same, and the lock is the same."""
    import pty

    server = make_index(SPECS)
    report = tmp_path / "report"
    (tmp_path / "requirements.in").write_text("app\n")
    env = {**os.environ, REPORT: str(report), "TERM": "xterm", "PIP_CONFIG_FILE": os.devnull}
    for name in ("CI", "PIP_FIND_LINKS", "NO_COLOR"):
        env.pop(name, None)
    leader, follower = pty.openpty()
    try:
        argv = [
            sys.executable, "-m", "lockcheck", "compile", "-i", server.url,
            "--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "out.txt"),
        ]  # fmt: skip
        run = subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=follower, stdout=follower)
        os.close(follower)
        follower = -1
        seen = b""
        while True:  # the terminal must be read, or a chatty run blocks on it
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        assert run.wait(60) == 0, seen.decode(errors="replace")
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    lines = _report(report)
    assert lines and lines[0].startswith("started "), lines
    assert lines[1] == "asked 4 ok 4", lines
    alone = _compile(tmp_path, server, tmp_path / "cache-alone", LOCKCHECK_FETCH_HELPER="0")
    assert (tmp_path / "out.txt").read_text().split("\n", 6)[-1] == alone.stdout.split("\n", 6)[-1]


def test_a_program_calling_the_library_forks_no_helper(tmp_path: Path, make_index) -> None:
    """The helper is the ``lockcheck`` program's: a program that calls the library (here
    the same command line through ``lockcheck._entry.main``) stays one process."""
    server = make_index(SPECS)
    report = tmp_path / "report"
    (tmp_path / "requirements.in").write_text("app\n")
    argv = ["compile", "-q", "-i", server.url, "--cache-dir", "cache", "-o", "-"]
    code = f"import sys; from lockcheck._entry import main; sys.exit(main({argv!r}))"
    env = {**os.environ, REPORT: str(report), "PIP_CONFIG_FILE": os.devnull}
    env.pop("PIP_FIND_LINKS", None)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "lib-c==1.5" in done.stdout
    assert _report(report) == []


def test_a_killed_runs_unfinished_helper_entries_are_removed_by_the_next_cold_run(
    tmp_path: Path, make_index
) -> None:
    """A run killed with SIGKILL cannot remove its helper's directory of unfinished entries
    (``v1/tmp/helper-<pid>-*``): the next cold run removes it once that run is gone, and
    keeps a live run's."""
    server = make_index(SPECS)
    cache = tmp_path / "cache"
    tmp = cache / "v1" / "tmp"
    tmp.mkdir(parents=True)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    orphan = tmp / f"helper-{gone.stdout.strip()}-x1"
    orphan.mkdir()
    (orphan / ".tmp-half").write_bytes(b"half an entry")
    live = tmp / f"helper-{os.getpid()}-x2"  # this test's own process: alive
    live.mkdir()
    result = _compile(tmp_path, server, cache)
    assert result.returncode == 0, describe(result)
    assert not orphan.exists()
    assert live.exists()
    assert sorted(p.name for p in tmp.iterdir()) == [live.name]  # and none of its own left


def test_the_helpers_queue_takes_requests_in_order_but_hurried_ones_first() -> None:
    from lockcheck.index.fetchhelper import _Queue

    queue = _Queue()
    for number in "1234":
        queue.put(number, ["page", f"p{number}"])
    assert queue.take() == ("1", ["page", "p1"])
    queue.put("3", ["!"])
    queue.put("1", ["!"])  # started already: nothing to hurry
    queue.put("9", ["!"])  # never sent: nothing either
    assert queue.take() == ("3", ["page", "p3"])
    queue.put("5", ["page", "p5"])
    queue.close()
    assert [queue.take() for _ in range(4)] == [
        ("2", ["page", "p2"]), ("4", ["page", "p4"]), ("5", ["page", "p5"]), None,
    ]  # fmt: skip


_SENT_AHEAD = """
import sys, time
from pathlib import Path
from lockcheck.index import fetchhelper

served = Path(sys.argv[1])

def make_server():
    def serve(fields):
        with served.open("a") as fh:
            fh.write(fields[1] + "\\n")
        time.sleep(0.2)  # long enough for the rest to be queued meanwhile
        return fields[1] != "nope"
    return serve

fetchhelper.HELPER_THREADS = 1
helper = fetchhelper.FetchHelper(make_server, answer_wait=30)
assert helper.start()
try:
    first = helper.send("page", "a")
    deadline = time.monotonic() + 20
    while not served.exists() and time.monotonic() < deadline:
        time.sleep(0.01)  # the helper's one thread is busy from now on
    later = [helper.send("page", name) for name in ("b", "c", "nope")]
    assert helper.send("page", "b") is later[0]  # out already: the same request
    assert helper.ask("page", "nope", first=True) is False  # its answer, and at once
    assert helper.ask("page", "b") is True
    assert helper.ask("page", "c") is True
    assert first.result(timeout=10) is True
finally:
    helper.close()
print(" ".join(served.read_text().split()))
"""


def test_a_request_sent_ahead_is_sent_once_and_a_hurried_one_is_served_next(
    tmp_path: Path,
) -> None:
    """What a forked helper with one thread serves, and in which order: the run sends the
    pages it learns of without waiting, a thread that needs one later waits for that same
    request, and the page the resolver waits for goes before the others queued.  (In a
    process of its own: a fork needs a process that runs one thread.)"""
    done = subprocess.run(
        [sys.executable, "-c", _SENT_AHEAD, str(tmp_path / "served")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["a", "nope", "b", "c"]
