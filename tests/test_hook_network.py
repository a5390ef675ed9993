"""The commit hook where there is no network (pre-commit.ci runs hooks offline).

``compile --changed`` compiles from the cache when the index cannot be reached and the cache
holds everything; otherwise one error line says the hook needs the network and how to skip it
there.  A plain ``compile`` never falls back: it fails on an unreachable index.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import describe, run_lockcheck

#: No retries: the index is gone for good in these tests.
NO_RETRIES = {"PIP_RETRIES": "0"}


def _compiled(tmp_path: Path, make_index, universe_wheelhouse):
    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\n")
    result = run_lockcheck("compile", "-i", server.url, cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    url = server.url
    server.stop()  # from here on the index does not answer: connection refused
    return url


def test_hook_compiles_from_the_cache_when_the_index_cannot_be_reached(
    tmp_path: Path, make_index, universe_wheelhouse
) -> None:
    _compiled(tmp_path, make_index, universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\nitsdangerous\n")
    # --refresh: the cached pages are young enough to be used without asking the index.
    result = run_lockcheck(
        "compile", "--changed", "--refresh", "requirements.in", cwd=tmp_path, env=NO_RETRIES
    )
    assert result.returncode == 1, describe(result)  # rewritten: the commit stops
    assert "compiled from the cache" in result.stderr, describe(result)
    assert "cannot reach" in result.stderr
    lock = (tmp_path / "requirements.txt").read_text()
    assert "itsdangerous==" in lock and "-r requirements.in" in lock.split("itsdangerous==")[1]


def test_hook_says_in_one_line_that_it_needs_the_network(
    tmp_path: Path, make_index, universe_wheelhouse
) -> None:
    _compiled(tmp_path, make_index, universe_wheelhouse)
    before = (tmp_path / "requirements.txt").read_bytes()
    (tmp_path / "requirements.in").write_text("flask\nrequests\n")  # never fetched: not cached
    result = run_lockcheck("compile", "--changed", "requirements.in", cwd=tmp_path, env=NO_RETRIES)
    assert result.returncode == 2, describe(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("lockcheck: error")]
    assert len(errors) == 1, describe(result)
    assert "this hook needs the network" in errors[0], describe(result)
    assert "/simple/requests/" in errors[0], describe(result)
    assert "ci: skip: [lockcheck]" in result.stderr, describe(result)
    assert (tmp_path / "requirements.txt").read_bytes() == before


def test_plain_compile_does_not_fall_back_to_the_cache(
    tmp_path: Path, make_index, universe_wheelhouse
) -> None:
    url = _compiled(tmp_path, make_index, universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\nitsdangerous\n")
    result = run_lockcheck("compile", "-i", url, "--refresh", cwd=tmp_path, env=NO_RETRIES)
    assert result.returncode == 2, describe(result)
    assert "cannot reach" in result.stderr and "from the cache" not in result.stderr
    # --offline is the explicit way to use the cache.
    result = run_lockcheck("compile", "-i", url, "--offline", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    assert "itsdangerous==" in (tmp_path / "requirements.txt").read_text()
