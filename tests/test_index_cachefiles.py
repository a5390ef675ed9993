"""The cache's files: few of them, each whole (issue 17).

A cold compile creates one file per index page and one per metadata entry, in one flat
directory each (creating files and directories is most of what a cold run's cache costs).
A run killed at any point of a cache write leaves no entry that is half written or wrong:
the next run gives the same lock, and every entry on disk reads back whole.
"""

from __future__ import annotations

import marshal
import signal
import struct
import zlib
from pathlib import Path

import pytest

from lockcheck.crashpoint import ENV_VAR
from lockcheck.index.cache import Cache
from lockcheck.index.finder import PackageFinder
from lockcheck.index.settings import IndexSettings
from tests.fixtures.builders import DistFactory
from tests.fixtures.builders import PackageSpec as P
from tests.fixtures.index_server import IndexServer
from tests.helpers import describe, run_lockcheck

KILLED = -signal.SIGKILL

SPECS = [
    P("app", "1.0", deps=("lib-a>=1", "lib-b")),
    P("lib-a", "1.0"),
    P("lib-a", "1.1", deps=("lib-c",)),
    P("lib-b", "2.0", deps=("lib-c<2",)),
    P("lib-c", "1.5"),
    P("lib-c", "2.0"),
]


def _compile(  # type: ignore[no-untyped-def]
    tmp_path: Path, server: IndexServer, cache: Path, crash: str | None = None, helper: bool = True
):
    (tmp_path / "requirements.in").write_text("app\n")
    env = {ENV_VAR: crash} if crash else {}
    if not helper:
        env["LOCKCHECK_FETCH_HELPER"] = "0"
    return run_lockcheck(
        "compile", "-q", "-i", server.url, "--cache-dir", cache, "-o", "-",
        cwd=tmp_path, env=env or None, timeout=60,
    )  # fmt: skip


def _entries(cache: Path) -> list[Path]:
    return sorted(p for p in (cache / "v1").rglob("*") if p.is_file())


def test_a_cold_compile_makes_one_file_per_entry_and_no_directory_per_entry(
    tmp_path: Path, make_index
) -> None:
    server = make_index(SPECS)
    cache = tmp_path / "cache"
    result = _compile(tmp_path, server, cache)
    assert result.returncode == 0, describe(result)
    assert "lib-c==1.5" in result.stdout

    directories = sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_dir())
    # (v1/tmp held the fetch helper's unfinished entries, and is empty now)
    assert directories in (
        ["v1", "v1/core-metadata", "v1/index-pages"],
        ["v1", "v1/core-metadata", "v1/index-pages", "v1/tmp"],
    )
    assert not any((cache / "v1" / "tmp").glob("*"))
    pages = [p for p in _entries(cache) if p.parent.name == "index-pages"]
    metadata = [p for p in _entries(cache) if p.parent.name == "core-metadata"]
    asked = {r.path for r in server.requests_for("/simple/")}
    assert len(pages) == len(asked) == 4  # one file per page: no raw + parsed pair
    assert all(p.suffix == ".page" for p in pages)
    read = {r.path for r in server.requests_for("/files/") if r.path.endswith(".metadata")}
    assert len(metadata) == len(read) >= 4  # one file per metadata read
    assert all(p.suffix == ".metadata" for p in metadata)
    assert len(_entries(cache)) == len(pages) + len(metadata)


def test_entries_of_the_old_layout_are_not_read(
    tmp_path: Path, dist_factory: DistFactory, make_index
) -> None:
    """``v1/pages/ab/<key>.page`` (lockcheck before issue 17) is not looked at: the page is
    fetched and kept in the new layout; the old file stays as it was (an older lockcheck
    sharing the cache may still use it)."""
    import hashlib

    dist_factory.wheel("here", "1.0")
    server = make_index()
    url = f"{server.url}/here/"
    key = hashlib.sha256(url.encode()).hexdigest()
    old = tmp_path / "cache" / "v1" / "pages" / key[:2] / f"{key}.page"
    old.parent.mkdir(parents=True)
    header = b'{"content_type": "text/html", "etag": null, "fetched_at": 9e99, "final_url": '
    header += f'"{url}", "last_modified": null, "status": 200, "url": "{url}"}}'.encode()
    old.write_bytes(header + b'\n<a href="here-9.0.tar.gz">here-9.0.tar.gz</a>')
    before = old.read_bytes()

    settings = IndexSettings(cache_dir=tmp_path / "cache", index_url=server.url)
    with PackageFinder(settings) as finder:
        assert [f.filename for f in finder.project_files("here")] == ["here-1.0-py3-none-any.whl"]
    assert len(server.requests_for("/simple/here/")) == 1
    assert old.read_bytes() == before
    assert Cache(tmp_path / "cache").load_parsed(url) is not None


def _check_whole(cache: Path) -> None:
    """Every entry in place reads back whole; what else is there is a temporary file."""
    reader = Cache(cache)
    for path in _entries(cache):
        if path.name.startswith(".tmp-"):
            continue  # a killed write's leftover: never read
        if path.suffix == ".page":
            raw = path.read_bytes()
            tag_end = raw.index(b"\n") + 1
            head_size, body_size, crc = struct.unpack_from("<QQI", raw, tag_end)
            head = raw[tag_end + 20 : tag_end + 20 + head_size]
            assert len(raw) == tag_end + 20 + head_size + body_size, path
            assert zlib.crc32(head) == crc, path
            url = marshal.loads(head)[0]["url"]
            assert reader._page_path(url) == path
            page = reader.load_page(url)
            assert page is not None and len(page.body) == body_size, path
        else:
            assert path.suffix == ".metadata", path
            assert path.read_bytes().startswith(b"Metadata-Version: "), path


@pytest.mark.parametrize("helper", [False, True], ids=["run-writes", "helper-writes"])
def test_a_run_killed_while_writing_the_cache_leaves_it_consistent(
    tmp_path: Path, make_index, helper: bool
) -> None:
    """Killed (SIGKILL) at points spread over every write of a cold run: before a file's
    first byte, between its head and its body, before it is renamed into place; the next
    run gives the lock a clean run gives, and leaves every entry whole.

    With the fetch helper, the helper writes and is the one killed: the run does the rest
    itself (and is killed in turn if its own writes reach the point)."""
    server = make_index(SPECS)
    clean = _compile(tmp_path, server, tmp_path / "clean-cache")
    assert clean.returncode == 0, describe(clean)
    # A page's write passes 3 points (before its head, before its body, before the rename),
    # a metadata entry's 2 (no body).
    written = [p.suffix for p in _entries(tmp_path / "clean-cache")]
    points = 3 * written.count(".page") + 2 * written.count(".metadata")
    assert points >= 20
    for point in sorted({1, 2, 3, 4, 7, 11, 14, 17, points - 1, points}):
        cache = tmp_path / f"cache-{point}"
        killed = _compile(tmp_path, server, cache, crash=f"cache-write:{point}", helper=helper)
        if helper:
            assert killed.returncode in (0, KILLED), f"point {point}\n{describe(killed)}"
            if killed.returncode == 0:
                assert killed.stdout == clean.stdout, f"point {point}"
        else:
            assert killed.returncode == KILLED, f"point {point}\n{describe(killed)}"
        _check_whole(cache)
        again = _compile(tmp_path, server, cache)
        assert again.returncode == 0, f"point {point}\n{describe(again)}"
        assert again.stdout == clean.stdout, f"point {point}"
        _check_whole(cache)
    last = _compile(
        tmp_path, server, tmp_path / "cache-last", crash=f"cache-write:{points + 1}", helper=helper
    )
    assert last.returncode == 0, describe(last)  # there is no later point: the count is right


@pytest.mark.parametrize("offline", [False, True])
def test_a_page_entry_whose_body_went_missing_is_a_miss(
    tmp_path: Path, make_index, offline: bool
) -> None:
    """An entry cut short after its head (a disk that lost the end of the file)."""
    server = make_index(SPECS)
    cache = tmp_path / "cache"
    assert _compile(tmp_path, server, cache).returncode == 0
    for page in (cache / "v1" / "index-pages").iterdir():
        page.write_bytes(page.read_bytes()[:-10])
    settings = IndexSettings(cache_dir=cache, index_url=server.url, offline=offline)
    with PackageFinder(settings) as finder:
        if offline:
            with pytest.raises(Exception, match="offline"):
                finder.project_files("app")
        else:
            assert [f.filename for f in finder.project_files("app")] == ["app-1.0-py3-none-any.whl"]


def test_holds_no_metadata_tells_a_cold_cache_from_a_used_one(tmp_path: Path) -> None:
    # A cold run (no metadata cached) builds its HTTP client while the helper fetches the
    # first pages; a warm one, whose reads the cache answers, never builds it.
    cache = Cache(tmp_path / "cache")
    assert cache.holds_no_metadata()  # not even the directory yet
    key = Cache.metadata_key(sha256="ab" * 32)
    cache.store_metadata(key, b"Metadata-Version: 2.1\nName: x\nVersion: 1\n")
    assert not cache.holds_no_metadata()
    cache.drop_metadata(key)
    assert cache.holds_no_metadata()
