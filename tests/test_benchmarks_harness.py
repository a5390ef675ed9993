"""Unit tests for the pure parts of the benchmark harness (benchmarks/benchlib); no network."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
# Appended so the stdlib `profile` module is not shadowed by benchmarks/profile.py.
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))

from benchlib import commands, indexprobe, lockdiff, machine, measure, report, stats, trash  # noqa: E402
from benchlib.runner import detect_capabilities  # noqa: E402
from benchlib.tools import parse_click_commands, tool_paths  # noqa: E402


def _load_run_module():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- statistics ---------------------------------------------------------------------------


def test_summarize_median_spread_and_memory() -> None:
    samples = [stats.Sample(s, kib, 0) for s, kib in [(3.0, 2048), (1.0, 1024), (2.0, 4096)]]
    summary = stats.summarize(samples, "cmd")
    assert (summary.median_s, summary.min_s, summary.max_s) == (2.0, 1.0, 3.0)
    assert summary.median_rss_mib == 2.0
    assert summary.max_rss_mib == 4.0
    assert summary.error is None


def test_summarize_even_count_median_is_mean_of_middle_pair() -> None:
    summary = stats.summarize([stats.Sample(s, 1, 0) for s in (4.0, 1.0, 2.0, 3.0)])
    assert summary.median_s == 2.5


def test_failed_samples_are_excluded_and_reported() -> None:
    samples = [stats.Sample(1.0, 1024, 0), stats.Sample(9.0, 1024, 2)]
    summary = stats.summarize(samples)
    assert summary.times == [1.0]
    assert summary.error == "exit 2"
    timed_out = stats.summarize([stats.Sample(5.0, 1, -9, timed_out=True)])
    assert timed_out.error == "timed out"
    assert timed_out.median_s is None


def test_summary_json_round_trip() -> None:
    summary = stats.summarize([stats.Sample(1.5, 2048, 0), stats.Sample(0.5, 1024, 0)], "x")
    data = summary.to_dict()
    assert data["median_s"] == 1.0
    assert data["runs"] == 2
    again = stats.Summary.from_dict(data)
    assert again.samples == summary.samples
    assert again.command == "x"


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [(3.0, 1.5, 2.0), (None, 1.0, None), (1.0, None, None), (1.0, 0.0, None)],
)
def test_ratio(num: float | None, den: float | None, expected: float | None) -> None:
    assert stats.ratio(num, den) == expected


def test_rss_units() -> None:
    assert measure.rss_to_kib(2048, platform="linux") == 2048
    assert measure.rss_to_kib(2048 * 1024, platform="darwin") == 2048


# --- measuring one process (local subprocesses only) ---------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="wait4 rusage units differ")
def test_run_measured_reports_exit_code_and_peak_memory(tmp_path: Path) -> None:
    code = "b = bytearray(80 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); raise SystemExit(3)"
    sample = measure.run_measured(
        [sys.executable, "-c", code], cwd=tmp_path, env={}, timeout=60, log_path=tmp_path / "l"
    )
    assert sample.returncode == 3
    assert not sample.ok
    assert sample.max_rss_kib > 80 * 1024
    assert sample.seconds > 0


def test_run_measured_kills_after_timeout(tmp_path: Path) -> None:
    sample = measure.run_measured(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        cwd=tmp_path,
        env={},
        timeout=0.5,
        log_path=tmp_path / "log",
    )
    assert sample.timed_out
    assert sample.seconds < 20


# --- commands and environments --------------------------------------------------------------


@pytest.fixture
def paths(tmp_path: Path) -> commands.ToolPaths:
    return tool_paths(tmp_path / "tools")


def test_compile_commands(paths: commands.ToolPaths, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    pc = commands.compile_command("pip-compile", paths, cache)
    assert pc == [str(paths.pip_compile), "--quiet", "--strip-extras", "--cache-dir", str(cache),
                  "-o", "requirements.txt", "requirements.in"]  # fmt: skip
    uv = commands.compile_command("uv", paths, cache)
    assert uv[:3] == [str(paths.uv), "pip", "compile"]
    assert uv[uv.index("--python") + 1] == str(paths.uv_python)
    assert uv[uv.index("--cache-dir") + 1] == str(cache)
    assert "--no-config" in uv
    assert uv[-3:] == ["-o", "requirements.txt", "requirements.in"]
    lc = commands.compile_command("lockcheck", paths, cache, "in.txt", "out.txt")
    assert lc == [str(paths.lockcheck), "compile", "--quiet", "--cache-dir", str(cache),
                  "-o", "out.txt", "in.txt"]  # fmt: skip
    with pytest.raises(ValueError, match="unknown tool"):
        commands.compile_command("poetry", paths, cache)


def test_tool_paths_live_in_their_own_venvs(tmp_path: Path) -> None:
    p = tool_paths(tmp_path)
    assert p.pip_compile == tmp_path / "pip-tools" / "bin" / "pip-compile"
    assert p.uv.parent == p.uv_python.parent == tmp_path / "uv" / "bin"
    assert p.executable("lockcheck") == tmp_path / "lockcheck" / "bin" / "lockcheck"


def test_check_and_sync_commands(tmp_path: Path) -> None:
    lc, target = tmp_path / "lockcheck", tmp_path / "venv" / "bin" / "python"
    assert commands.check_command(lc, None) == [str(lc), "check", "requirements.txt"]
    assert commands.check_command(lc, tmp_path)[2:4] == ["--cache-dir", str(tmp_path)]
    dry = commands.sync_command(lc, target, dry_run=True, cache_dir=None)
    assert dry == [str(lc), "sync", "--python", str(target), "--dry-run", "requirements.txt"]
    noop = commands.sync_command(lc, target, dry_run=False, cache_dir=tmp_path)
    assert "--dry-run" not in noop
    assert noop[-1] == "requirements.txt"
    assert commands.bare_command(target) == [str(target), "-c", "pass"]


def test_clean_env_keeps_only_public_index_settings(tmp_path: Path) -> None:
    base = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "PIP_FIND_LINKS": "/opt/wheels",
        "PIP_INDEX_URL": "https://example/simple",
        "PIP_EXTRA_INDEX_URL": "file:///opt/pypi/simple",
        "PIP_CACHE_DIR": "/elsewhere",
        "PIP_CERT": "/etc/ssl/certs/ca.crt",
        "UV_INDEX_URL": "https://example/simple",
        "UV_CACHE_DIR": "/elsewhere",
        "VIRTUAL_ENV": "/work/venv",
        "CUSTOM_COMPILE_COMMAND": "make lock",
        "LOCKCHECK_INDEX_URL": "https://example/simple",
        "SSL_CERT_FILE": "/etc/ssl/certs/ca.crt",
    }
    env = commands.clean_env(base, tool="uv", cache_dir=tmp_path, bin_dir=tmp_path / "bin")
    for dropped in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CACHE_DIR",
                    "UV_INDEX_URL", "UV_CACHE_DIR", "VIRTUAL_ENV", "CUSTOM_COMPILE_COMMAND",
                    "LOCKCHECK_INDEX_URL"):  # fmt: skip
        assert dropped not in env, dropped
    assert env["PIP_CONFIG_FILE"] == "/dev/null"
    assert env["PIP_CERT"] == base["PIP_CERT"]
    assert env["SSL_CERT_FILE"] == base["SSL_CERT_FILE"]
    assert env["XDG_CACHE_HOME"] == str(tmp_path / "xdg")
    assert env["PATH"] == f"{tmp_path / 'bin'}:/usr/bin"
    pip_env = commands.clean_env(base, tool="pip-compile", cache_dir=tmp_path)
    assert pip_env["PIP_CACHE_DIR"] == str(tmp_path / "pip")
    assert pip_env["PATH"] == "/usr/bin"


def test_blocked_network_env_points_every_proxy_at_a_closed_port() -> None:
    env = commands.blocked_network_env({"NO_PROXY": "*", "no_proxy": "*", "HOME": "/root"})
    assert "NO_PROXY" not in env and "no_proxy" not in env
    for name in ("HTTP_PROXY", "https_proxy", "ALL_PROXY"):
        assert env[name] == "http://127.0.0.1:9"
    assert env["HOME"] == "/root"


def test_display_command_hides_machine_paths() -> None:
    argv = ["/x/.tools/uv/bin/uv", "pip", "compile", "--python", "/x/.tools/uv/bin/python",
            "--cache-dir", "/x/.work/web/uv/cache", "-o", "requirements.txt"]  # fmt: skip
    shown = commands.display_command(
        argv,
        {"/x/.work/web/uv": "WORK", "/x/.work/web/uv/cache": "CACHE",
         "/x/.tools/uv/bin/python": "python"},
    )  # fmt: skip
    assert shown == "uv pip compile --python python --cache-dir CACHE -o requirements.txt"


# --- lock comparison ------------------------------------------------------------------------

PIP_COMPILE_LOCK = """\
#
# This file is autogenerated by pip-compile with Python 3.11
# by the following command:
#
#    pip-compile --output-file=requirements.txt requirements.in
#
click==8.1.7
    # via flask
flask==3.0.0
    # via -r requirements.in

# The following packages are considered to be unsafe in a requirements file:
# setuptools
"""


def test_strip_header_and_count_pins() -> None:
    body = lockdiff.strip_header(PIP_COMPILE_LOCK)
    assert body[0] == "click==8.1.7"
    assert lockdiff.count_pins(PIP_COMPILE_LOCK) == 2
    assert lockdiff.count_pins("psycopg[binary]==3.2.1\n    # via x\n# pip==24\n") == 1


def test_compare_locks_ignores_only_the_header() -> None:
    other = PIP_COMPILE_LOCK.replace("pip-compile with", "lockcheck with").replace(
        "#    pip-compile", "#    lockcheck compile"
    )
    assert lockdiff.compare_locks(PIP_COMPILE_LOCK, other).same
    changed = other.replace("click==8.1.7", "click==8.1.8")
    result = lockdiff.compare_locks(PIP_COMPILE_LOCK, changed, names=("pip-compile", "lockcheck"))
    assert not result.same
    assert result.changed_lines == 2
    assert "-click==8.1.7" in result.diff and "+click==8.1.8" in result.diff
    uv_style = "# This file was autogenerated by uv\n#    uv pip compile\n" + "\n".join(
        lockdiff.strip_header(PIP_COMPILE_LOCK)[:4]
    )
    assert not lockdiff.compare_locks(PIP_COMPILE_LOCK, uv_style).same  # no unsafe section


def test_compare_locks_caps_the_diff() -> None:
    many = "\n".join(f"p{i}==1" for i in range(100))
    result = lockdiff.compare_locks(many, many.replace("==1", "==2"), limit=10)
    assert result.changed_lines == 200
    assert len(result.diff.splitlines()) == 11
    assert result.diff.endswith("more diff lines)")


# --- machine and help parsing -----------------------------------------------------------------


def test_machine_parsers() -> None:
    assert machine.parse_cpu_model("processor: 0\nmodel name\t: Intel Xeon\n") == "Intel Xeon"
    assert machine.parse_mem_total("MemTotal:       24576000 kB\n") == pytest.approx(23.4, 0.01)
    assert machine.parse_os_release('NAME="Debian"\nPRETTY_NAME="Debian 12"\n') == "Debian 12"
    assert machine.parse_cpu_model("") is None


LOCKCHECK_HELP = """\
Usage: lockcheck [OPTIONS] COMMAND [ARGS]...

  Keep pinned requirements honest: compile, check and sync lock files.

Options:
  --version   Show the version and exit.
  -h, --help  Show this message and exit.

Commands:
  check    Exit 0 when every lock matches its inputs, 1 on drift, 2 on...
  compile  Resolve inputs into a fully pinned requirements.txt...
  sync     Make a virtualenv match its locks exactly (not implemented yet).
"""


def test_parse_click_commands() -> None:
    found = parse_click_commands(LOCKCHECK_HELP)
    assert list(found) == ["check", "compile", "sync"]
    assert "not implemented" in found["sync"]
    assert "--version" not in found


def test_detect_capabilities() -> None:
    caps = detect_capabilities(
        parse_click_commands(LOCKCHECK_HELP), "--offline\n--cache-dir DIR", ""
    )
    assert caps.check and caps.check_cache_dir and caps.check_offline
    assert not caps.sync
    assert any("not implemented" in note for note in caps.notes)
    ready = detect_capabilities(
        {"compile": "", "sync": "Make a venv match"}, "", "--python PATH\n--dry-run"
    )
    assert ready.sync and not ready.check and not ready.sync_cache_dir
    assert any("check" in note for note in ready.notes)


# --- report -------------------------------------------------------------------------------------


def _summary(*seconds: float, rss_kib: int = 102400, code: int = 0) -> dict:
    return stats.summarize([stats.Sample(s, rss_kib, code) for s in seconds], "cmd").to_dict()


def test_fmt_time_and_ratio() -> None:
    assert report.fmt_time(_summary(1.0, 2.0, 3.0)) == "2.00 (1.00-3.00)"
    assert report.fmt_time(_summary(0.0123), unit="ms") == "12"
    assert report.fmt_time(None) == "—"
    assert report.fmt_time(_summary(1.0, code=2)) == "failed (exit 2)"
    assert report.fmt_ratio(None) == "—"
    assert report.fmt_ratio(1.5, 1.5) == "1.50x ✓"
    assert report.fmt_ratio(1.0, 1.0, strict=True) == "1.00x ✗"
    assert report.fmt_ratio(2.0) == "2.00x"


def _results() -> dict:
    def tool(cold: float, warm: float, rss: int, same: bool | None, changed: int = 0) -> dict:
        return {
            "cold": _summary(cold, rss_kib=rss),
            "warm": _summary(warm, rss_kib=rss),
            "pins": 12,
            "same_as_pip_compile": same,
            "changed_lines": changed,
            "diff": "-a==1\n+a==2" if changed else "",
        }

    return {
        "date": "2025-01-02 03:04 UTC",
        "options": {"tools": ["pip-compile", "uv", "lockcheck"], "cold_runs": 1, "warm_runs": 1},
        "machine": {"cpu": "Test CPU", "cores": 2, "ram_gib": 8.0, "os": "Linux", "kernel": "6"},
        "versions": {
            "pip-compile": "7.6.2",
            "pip": "26.3",
            "uv": "0.13.9",
            "lockcheck": "0.1.0",
            "python": "3.11.7",
        },
        "notes": ["a note"],
        "commands": {"lockcheck": "lockcheck compile"},
        "sets": [
            {
                "name": "web",
                "compile": {
                    "pip-compile": tool(4.0, 3.0, 100 * 1024, None),
                    "uv": tool(0.5, 0.25, 40 * 1024, True),
                    "lockcheck": tool(1.0, 0.5, 50 * 1024, False, changed=2),
                },
                "startup": {
                    "bare": _summary(0.02),
                    "check": _summary(0.1),
                    "check_no_network": True,
                },
            }
        ],
    }


def test_render_markdown_tables() -> None:
    text = report.render_markdown(_results())
    assert "Measured 2025-01-02 03:04 UTC on Test CPU (2 cores, 8.0 GiB RAM)" in text
    assert "pip-compile 7.6.2 (pip 26.3), uv 0.13.9, lockcheck 0.1.0" in text
    lines = text.splitlines()
    assert "| web | pip-compile | 12 | 4.00 | 3.00 | 100 / 100 | (reference) |" in lines
    assert "| web | uv | 12 | 0.50 | 0.25 | 40 / 40 | yes |" in lines
    assert "| web | lockcheck | 12 | 1.00 | 0.50 | 50 / 50 | no (2 lines differ) |" in lines
    # cold 1.0/0.5, warm 0.5/0.25, pip-compile/lockcheck 4 and 6, RSS 50/100
    assert "| web | 2.00x ✗ | 2.00x ✗ | 4.00x | 6.00x | 0.50x ✓ |" in lines
    startup = next(line for line in lines if line.startswith("| web | 20 "))
    assert "| 100 | 5.00x ✗ |" in startup  # issue 17 holds start-up at <= 3x
    assert startup.endswith("| check: yes |")
    assert "```diff\n-a==1\n+a==2\n```" in text
    assert "- a note" in lines
    assert "- lockcheck: `lockcheck compile`" in lines


def test_cold_target_only_on_web_and_datascience() -> None:
    results = _results()
    results["sets"][0]["name"] = "large"
    ratio_row = next(
        line for line in report.render_markdown(results).splitlines() if "| large | 2.00x" in line
    )
    assert ratio_row.startswith("| large | 2.00x | 2.00x ✗ |")


def test_peak_rss_takes_the_larger_state() -> None:
    assert report.peak_rss({"cold": _summary(1, rss_kib=2048), "warm": _summary(1)}) == 100.0
    assert report.peak_rss({"cold": None, "warm": None}) is None


# --- run.py options ---------------------------------------------------------------------------


def test_run_options_defaults_quick_and_repeat() -> None:
    run = _load_run_module()
    parser = run.build_parser()
    full = run.options_from_args(parser.parse_args([]))
    assert (full.cold_runs, full.warm_runs) == (3, 5)
    assert full.sets == ("web", "django", "datascience", "large")
    assert full.sync and full.upgrade_tools
    quick = run.options_from_args(parser.parse_args(["--quick"]))
    assert (quick.cold_runs, quick.warm_runs) == (1, 2)
    assert quick.sets == ("web", "datascience")
    assert not quick.sync and not quick.upgrade_tools
    custom = run.options_from_args(
        parser.parse_args(
            [
                "--sets",
                "large,web",
                "--tools",
                "uv,lockcheck",
                "--repeat",
                "4",
                "--cold-repeat",
                "2",
            ]
        )
    )
    assert custom.sets == ("large", "web")
    assert custom.tools == ("uv", "lockcheck")
    assert (custom.cold_runs, custom.warm_runs) == (2, 4)
    assert custom.repo_root == BENCH.parent


def test_run_rejects_unknown_sets_and_tools(capsys: pytest.CaptureFixture[str]) -> None:
    parser = _load_run_module().build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--sets", "web,nope"])
    assert "unknown set nope" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["--tools", "poetry"])


def test_every_set_file_exists() -> None:
    run = _load_run_module()
    for name in run.SETS:
        text = (BENCH / "sets" / f"{name}.in").read_text(encoding="utf-8")
        assert [line for line in text.splitlines() if line and not line.startswith("#")]


def test_render_readme_section() -> None:
    text = report.render_readme_section(_results())
    lines = text.splitlines()
    assert lines[0] == "## Performance"
    assert "Measured 2025-01-02 03:04 UTC on Test CPU, 2 cores, 8.0 GiB RAM" in text
    row = (
        "| web | 12 | 4.00 / 3.00 s | 0.50 / 0.25 s | 1.00 / 0.50 s | 2.00x / 2.00x | 4.00x / 6.00x"
    )
    assert f"{row} | no (2 lines differ) |" in lines
    assert "| set | `check` |" in lines
    assert "| web | 100 ms (5.0x) |" in lines
    failed = _results()
    failed["sets"][0]["compile"]["lockcheck"]["cold"] = _summary(1.0, code=2)
    failed["sets"][0]["compile"]["lockcheck"]["warm"] = None
    row = next(r for r in report.render_readme_section(failed).splitlines() if "| web |" in r)
    assert "| failed (exit 2) | — | — |" in row


# --- index facts --------------------------------------------------------------------------------


def test_summarize_index_without_cache_headers_or_pep658() -> None:
    page = {
        "meta": {"api-version": "1.1"},
        "files": [
            {"filename": "a-1.tar.gz", "url": "u"},
            {"filename": "a-1-py3-none-any.whl", "url": "u"},
        ],
    }
    facts = indexprobe.summarize_index(page, {"Content-Type": "x"}, {"Accept-Ranges": "bytes"}, 200)
    assert facts == {
        "api_version": "1.1",
        "page_cache_headers": [],
        "core_metadata_advertised": False,
        "metadata_file_served": True,
        "wheel_range_requests": True,
    }
    text = indexprobe.describe_index({**facts, "url": "https://pypi.org/simple"})
    assert "no Cache-Control/ETag/Last-Modified" in text
    assert "no PEP 658 core-metadata although `.metadata` files are served" in text


def test_summarize_index_with_caching_and_pep658() -> None:
    page = {"files": [{"filename": "a-1-py3-none-any.whl", "core-metadata": {"sha256": "x"}}]}
    facts = indexprobe.summarize_index(
        page, {"ETag": '"1"', "Cache-Control": "max-age=600"}, None, None
    )
    assert facts["page_cache_headers"] == ["cache-control", "etag"]
    assert facts["core_metadata_advertised"]
    assert facts["wheel_range_requests"] is None
    text = indexprobe.describe_index(facts)
    assert "pages carry cache-control, etag" in text and "advertise PEP 658" in text
    assert (
        indexprobe.describe_index({"error": "URLError: down"})
        == "Index probe failed: URLError: down."
    )


# --- the sync column (issue 17) ---------------------------------------------------------------


def test_sync_commands_byte_compile_alike(paths: commands.ToolPaths, tmp_path: Path) -> None:
    from benchlib.synccol import sync_tool_command

    target, cache = tmp_path / "venv", tmp_path / "cache"
    off = {t: sync_tool_command(t, paths, target, cache, "a.txt", bytecode=False)
           for t in ("lockcheck", "uv", "pip-sync")}  # fmt: skip
    on = {t: sync_tool_command(t, paths, target, cache, "a.txt", bytecode=True)
          for t in ("lockcheck", "uv", "pip-sync")}  # fmt: skip
    assert off["lockcheck"][:5] == [str(paths.lockcheck), "sync", "--quiet", "--python",
                                    str(target)]  # fmt: skip
    assert "--no-compile" in off["lockcheck"] and "--compile" in on["lockcheck"]
    assert off["uv"][:3] == [str(paths.uv), "pip", "sync"]
    assert off["uv"][off["uv"].index("--python") + 1] == str(target / "bin" / "python")
    assert "--compile-bytecode" not in off["uv"] and "--compile-bytecode" in on["uv"]
    assert off["pip-sync"][0] == str(paths.pip_compile.parent / "pip-sync")
    assert off["pip-sync"][-3:] == ["--pip-args", "--no-compile", "a.txt"]
    assert "--no-compile" not in on["pip-sync"]
    assert all(argv[-1] == "a.txt" for argv in [*off.values(), *on.values()])


def test_sync_table_and_target() -> None:
    results = _results()
    results["sets"][0]["sync"] = {
        "bytecode": False,
        "changed": ["anyio 4.1 -> 4.0"],
        "new_venv": {"pip-sync": _summary(60.0), "uv": _summary(1.0), "lockcheck": _summary(1.4)},
        "switch": {"pip-sync": _summary(6.0), "uv": _summary(0.2), "lockcheck": _summary(0.5)},
    }
    lines = report.render_markdown(results).splitlines()
    # The target is the data-science lock's: another set's ratio is shown, not judged.
    assert "| web | new venv | 60.00 | 1.00 | 1.40 | 1.40x | 42.86x |" in lines
    results["sets"][0]["name"] = "datascience"
    judged = report.render_markdown(results).splitlines()
    assert "| datascience | new venv | 60.00 | 1.00 | 1.40 | 1.40x ✓ | 42.86x |" in judged
    results["sets"][0]["sync"]["new_venv"]["lockcheck"] = _summary(1.6)
    judged = report.render_markdown(results).splitlines()
    assert "| datascience | new venv | 60.00 | 1.00 | 1.60 | 1.60x ✗ | 37.50x |" in judged
    results["sets"][0]["name"] = "web"
    assert "| web | branch switch | 6.00 | 0.20 | 0.50 | 2.50x | 12.00x |" in lines
    assert "Pins the branch switch changes: web: anyio 4.1 -> 4.0." in lines
    results["mode"] = "sync"
    only = report.render_markdown(results)
    assert "## Sync" in only and "## Compile" not in only


def test_sync_only_options() -> None:
    run = _load_run_module()
    parser = run.build_parser()
    full = run.options_from_args(parser.parse_args([]))
    assert full.sync_column and not full.sync_only and not full.sync_bytecode
    only = run.options_from_args(parser.parse_args(["--sync-only", "--sync-bytecode"]))
    assert only.sync_only and only.sync_bytecode and only.mode == "sync"
    assert not run.options_from_args(parser.parse_args(["--quick"])).sync_column


# --- issue 17 columns -----------------------------------------------------------------------


def test_run_measured_reports_cpu_time(tmp_path: Path) -> None:
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    sample = measure.run_measured(
        [sys.executable, "-c", busy], cwd=tmp_path, env={}, timeout=60, log_path=tmp_path / "l"
    )
    assert sample.ok
    assert sample.cpu_s is not None and sample.cpu_s >= 0.3
    summary = stats.summarize([sample, stats.Sample(1.0, 1, 0, cpu_s=9.0)])
    assert summary.to_dict()["median_cpu_s"] == pytest.approx((sample.cpu_s + 9.0) / 2)


def test_universal_compile_commands(paths: commands.ToolPaths, tmp_path: Path) -> None:
    for tool in ("uv", "lockcheck"):
        argv = commands.compile_command(tool, paths, tmp_path, outfile="u.txt", universal=True)
        assert argv[-2:] == ["--universal", "requirements.in"]
        assert argv[argv.index("-o") + 1] == "u.txt"
    with pytest.raises(ValueError, match="no universal"):
        commands.compile_command("pip-compile", paths, tmp_path, universal=True)


def test_hook_line_is_a_package_the_lock_does_not_pin() -> None:
    lock = "# header\ntabulate==0.9\nIniConfig==2.0\n    # via x\ntomli_w==1.0 \\\n"
    assert lockdiff.pinned_names(lock) == {"tabulate", "iniconfig", "tomli-w"}
    assert lockdiff.hook_line(lock) == "humanize"
    assert lockdiff.hook_line("flask==3.0\n") == "tabulate"


def test_column_flags_select_only_those_columns() -> None:
    run = _load_run_module()
    parser = run.build_parser()
    assert run.options_from_args(parser.parse_args([])).columns == run.COLUMNS
    assert "sync" not in run.options_from_args(parser.parse_args(["--quick"])).columns
    only = run.options_from_args(parser.parse_args(["--sets", "datascience", "--hook", "--cold"]))
    assert only.columns == ("cold", "hook")
    assert only.sets == ("datascience",)


def test_issue17_tables_and_targets() -> None:
    results = _results()
    results["sets"][0]["name"] = "datascience"
    comp = results["sets"][0]["compile"]
    comp["lockcheck"]["warm_resolve"] = _summary(0.5)
    comp["lockcheck"]["hook"] = _summary(0.3)
    comp["uv"]["hook"] = _summary(0.5)
    comp["lockcheck"]["hook_stale"] = _summary(0.45)
    comp["uv"]["hook_stale"] = _summary(0.5)
    comp["lockcheck"]["universal"] = {**_summary(2.0), "pins": 140}
    comp["uv"]["universal"] = {**_summary(1.0), "pins": 150}
    lines = report.render_markdown(results).splitlines()
    assert "## lockcheck against uv (issue 17)" in lines
    # cold 1.0/0.5, warm 0.5/0.25, resolving 0.5/0.25 (uv's warm), hook 0.3/0.5, stale hook
    # 0.45/0.5 (no target), universal 2/1
    section = lines[lines.index("## lockcheck against uv (issue 17)") :]
    row = next(line for line in section if line.startswith("| datascience | 2.00x ✗ |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3:8] == ["2.00x", "2.00x", "0.60x ✓", "0.90x", "2.00x ✗"]
    assert cells[9] == "1.25x"  # peak RSS 50 / 40, no target on this set
    workload = next(line for line in lines if line.startswith("| datascience | lockcheck | 1.00"))
    assert "| 140 |" in workload and "| 0.45 " in workload


# --- what the harness discards while it measures -------------------------------------------


def test_discarded_trees_keep_their_inodes_until_the_trash_is_emptied(tmp_path: Path) -> None:
    # On a journal-less ext4 every inode freed lately slows each new one of the measured
    # tools: the harness frees none while it measures.
    bin_dir = tmp_path / "work" / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text("x")
    inode = (bin_dir / "python").stat().st_ino
    other_bin_dir = tmp_path / "other" / "venv" / "bin"
    other_bin_dir.mkdir(parents=True)
    discards = trash.Trash(tmp_path / "work" / ".trash")
    discards.discard(tmp_path / "work" / "venv")
    discards.discard(tmp_path / "other" / "venv")  # the same name again
    discards.discard(tmp_path / "missing")  # nothing to do
    assert not (tmp_path / "work" / "venv").exists()
    kept = sorted(p.name for p in discards.root.iterdir())
    assert kept == ["0-venv", "1-venv"]
    assert (discards.root / "0-venv" / "bin" / "python").stat().st_ino == inode
    assert discards.empty()
    assert not discards.root.exists()
    assert not discards.empty()  # emptied already
