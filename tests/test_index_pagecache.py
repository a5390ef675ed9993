"""The page cache: a warm run reads a page's parsed form, not its raw body.

Each project page is one file, ``v1/index-pages/<key>.page``: a format tag, the sizes, the
validators with the parsed form (the kept newest versions, every version seen), then the raw
body (for complete reads and for the entries left as raw text).  These tests run a real
finder against a real loopback index and then change the files on disk.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from lockcheck.index import sources as sources_module
from lockcheck.index.cache import Cache, CachedPage
from lockcheck.index.finder import PackageFinder
from lockcheck.index.settings import IndexSettings
from tests.fixtures.builders import DistFactory
from tests.fixtures.builders import PackageSpec as P


@pytest.fixture
def finder_for(tmp_path: Path) -> Iterator:
    finders: list[PackageFinder] = []

    def make(url: str, **options: object) -> PackageFinder:
        settings = IndexSettings(cache_dir=tmp_path / "cache", index_url=url, **options)  # type: ignore[arg-type]
        finder = PackageFinder(settings)
        finders.append(finder)
        return finder

    yield make
    for finder in finders:
        finder.close()


def _entry(tmp_path: Path) -> Path:
    (path,) = (tmp_path / "cache").rglob("*.page")
    return path


def _names(finder: PackageFinder, project: str) -> list[str]:
    return [f.filename for f in finder.project_files(project)]


_SIZES = struct.Struct("<QQI")


def _split(page: Path) -> tuple[bytes, bytes, bytes]:
    """(format tag, marshalled head, raw body) of a page entry."""
    raw = page.read_bytes()
    tag_end = raw.index(b"\n") + 1
    head_size, body_size, _crc = _SIZES.unpack_from(raw, tag_end)
    head_at = tag_end + _SIZES.size
    body_at = head_at + head_size
    assert len(raw) == body_at + body_size
    return raw[:tag_end], raw[head_at:body_at], raw[body_at:]


def _rewrite_body(page: Path, body: bytes) -> None:
    """Another body under the same head (sizes adjusted, mtime kept: still fresh)."""
    tag, head, _ = _split(page)
    times = page.stat()
    page.write_bytes(tag + _SIZES.pack(len(head), len(body), zlib.crc32(head)) + head + body)
    os.utime(page, ns=(times.st_atime_ns, times.st_mtime_ns))


def test_a_warm_run_reads_the_parsed_entry_not_the_raw_body(
    tmp_path: Path, dist_factory: DistFactory, make_index, finder_for
) -> None:
    dist_factory.wheel("warm", "1.0")
    server = make_index()
    assert _names(finder_for(server.url), "warm") == ["warm-1.0-py3-none-any.whl"]
    requests = server.count()
    # Another body under the same header: whoever reads it lists another file.
    other = {"meta": {"api-version": "1.0"}, "name": "warm", "files": []}
    other["files"] = [{"filename": "warm-9.0.tar.gz", "url": "x/warm-9.0.tar.gz", "hashes": {}}]
    _rewrite_body(_entry(tmp_path), json.dumps(other).encode())

    assert _names(finder_for(server.url), "warm") == ["warm-1.0-py3-none-any.whl"]
    assert server.count() == requests  # fresh: no request either


def _cut_short(page: Path) -> bytes:
    return page.read_bytes()[:-1]


def _old_format(page: Path) -> bytes:
    return page.read_bytes().replace(b"lockcheck-page-5\n", b"lockcheck-page-4\n", 1)


def _longer_head(page: Path) -> bytes:
    tag, head, body = _split(page)
    longer = head + body[:1]
    return tag + _SIZES.pack(len(longer), len(body) - 1, zlib.crc32(head)) + head + body


@pytest.mark.parametrize(
    "damage",
    [
        lambda page: b"\x00garbage",
        lambda page: b"",
        _cut_short,
        _old_format,
        _longer_head,
        lambda page: page.read_bytes()[:40],
    ],
    ids=["garbage", "empty", "cut-short", "old-format", "sizes-wrong", "head-cut"],
)
def test_a_damaged_entry_is_a_miss_and_is_written_again(
    tmp_path: Path, dist_factory: DistFactory, make_index, finder_for, damage
) -> None:
    dist_factory.wheel("rot", "1.0")
    dist_factory.sdist("rot", "1.0")
    server = make_index()
    first = _names(finder_for(server.url), "rot")
    page = _entry(tmp_path)
    damaged = damage(page)
    page.write_bytes(damaged)
    cache = Cache(tmp_path / "cache")
    assert cache.load_parsed(server.url + "/rot/") is None
    assert cache.load_page(server.url + "/rot/") is None
    requests = server.count()

    assert _names(finder_for(server.url), "rot") == first
    assert server.count() == requests + 1  # fetched again
    assert page.read_bytes() != damaged  # and written again
    assert cache.load_parsed(server.url + "/rot/") is not None


def test_an_entry_for_another_url_is_a_miss(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    url = "https://i.example/simple/a/"
    page = CachedPage(url, url, 200, "", None, None, 1.0, b"{}")
    cache.store_page(page, parsed=("anything",))
    assert cache.load_parsed(url) is not None
    other = "https://i.example/simple/b/"
    os.replace(next(tmp_path.rglob("*.page")), cache._page_path(other))
    assert cache.load_parsed(other) is None
    assert cache.load_page(other) is None


def test_a_new_body_stored_without_a_parsed_form_replaces_both(tmp_path: Path) -> None:
    """Body and parsed form are one file: storing a body alone leaves no parsed form of
    the body it replaced."""
    cache = Cache(tmp_path)
    url = "https://i.example/simple/a/"
    old = CachedPage(url, url, 200, "application/json", '"1"', None, 1.0, b"{}")
    cache.store_page(old, parsed="old parse")
    assert cache.load_parsed(url).parsed == "old parse"  # type: ignore[union-attr]

    new = CachedPage(url, url, 200, "application/json", '"2"', None, 2.0, b'{"files": []}')
    cache.store_page(new)
    assert cache.load_parsed(url) is None
    loaded = cache.load_page(url)
    assert loaded is not None and loaded.etag == '"2"' and loaded.body == new.body
    assert loaded.fetched_at == 2.0  # the fetch time is the entry's mtime


def test_a_cache_without_parsed_entries_still_works_offline(
    tmp_path: Path, dist_factory: DistFactory, make_index, finder_for
) -> None:
    """An entry stored without a parsed form (a complete read stores the body alone)."""
    dist_factory.wheel("old", "1.0")
    dist_factory.wheel("old", "2.0")
    server = make_index()
    first = _names(finder_for(server.url), "old")
    cache = Cache(tmp_path / "cache")
    cache.drop_parsed(server.url + "/old/")
    assert cache.load_parsed(server.url + "/old/") is None
    url = server.url
    server.stop()

    assert _names(finder_for(url, offline=True), "old") == first
    assert cache.load_parsed(url + "/old/") is not None  # and the parsed form is kept now
    assert _names(finder_for(url, offline=True), "old") == first


def _cached_long_ago(
    tmp_path: Path, finder: PackageFinder, project: str
) -> tuple[Path, bytes, int]:
    """*project*'s page cached by *finder*, its entry then dated 2001 (stale): the entry,
    its bytes and its inode."""
    finder.project_files(project)
    entry = _entry(tmp_path)
    raw, inode = entry.read_bytes(), entry.stat().st_ino
    os.utime(entry, (1e9, 1e9))
    return entry, raw, inode


def test_a_304_sets_the_entrys_mtime_and_rewrites_nothing(
    tmp_path: Path,
    dist_factory: DistFactory,
    make_index,
    finder_for,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dist_factory.wheel("stale", "1.0")
    server = make_index()
    entry, raw, inode = _cached_long_ago(tmp_path, finder_for(server.url), "stale")
    before = Cache(tmp_path / "cache").load_parsed(server.url + "/stale/")
    assert before is not None and before.page.fetched_at == 1e9

    monkeypatch.setattr(sources_module, "PAGE_MAX_AGE", 0.0)
    assert _names(finder_for(server.url), "stale") == ["stale-1.0-py3-none-any.whl"]
    assert server.responses[-1].status == 304
    assert "if-none-match" in server.requests_for("/simple/stale/")[-1].headers
    # 1 MB bodies are not rewritten: the same file, its mtime the new fetch time.
    assert entry.read_bytes() == raw and entry.stat().st_ino == inode
    after = Cache(tmp_path / "cache").load_parsed(server.url + "/stale/")
    assert after is not None and after.page.fetched_at > before.page.fetched_at + 1e6

    dist_factory.wheel("stale", "2.0")  # a changed page replaces both
    assert len(_names(finder_for(server.url), "stale")) == 2
    assert len(_names(finder_for(server.url, offline=True), "stale")) == 2


def test_a_page_sent_again_byte_for_byte_is_not_parsed_again(
    tmp_path: Path,
    dist_factory: DistFactory,
    make_index,
    finder_for,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An index without ETag or Last-Modified cannot answer 304: a stale page comes back
    # whole.  When it is the stored page byte for byte, it is a 304 all the same.
    dist_factory.wheel("resent", "1.0")
    server = make_index(validators=False)
    entry, raw, inode = _cached_long_ago(tmp_path, finder_for(server.url), "resent")
    parses: list[str] = []
    real_parse = sources_module.parse_page

    def counting_parse(body: bytes | str, content_type: str, page_url: str, *args: object):
        parses.append(page_url)
        return real_parse(body, content_type, page_url, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sources_module, "parse_page", counting_parse)
    server.clear_log()
    assert _names(finder_for(server.url), "resent") == ["resent-1.0-py3-none-any.whl"]
    assert [r.status for r in server.responses] == [200]  # asked, and sent whole
    assert parses == []
    assert entry.read_bytes() == raw and entry.stat().st_ino == inode  # not rewritten
    after = Cache(tmp_path / "cache").load_parsed(server.url + "/resent/")
    assert after is not None and after.page.fetched_at > 1e9 + 1e6

    dist_factory.wheel("resent", "2.0")  # a changed page is parsed and stored
    os.utime(entry, (1e9, 1e9))
    assert len(_names(finder_for(server.url), "resent")) == 2
    assert len(parses) == 1
    assert len(_names(finder_for(server.url, offline=True), "resent")) == 2


def test_a_missing_project_is_remembered_in_the_parsed_entry(
    tmp_path: Path, make_index, dist_factory: DistFactory, finder_for
) -> None:
    dist_factory.wheel("here", "1.0")
    server = make_index()
    assert finder_for(server.url).project_files("absent") == []
    entry = Cache(tmp_path / "cache").load_parsed(server.url + "/absent/")
    assert entry is not None and entry.page.status == 404 and entry.parsed is None
    url = server.url
    server.stop()
    assert finder_for(url, offline=True).project_files("absent") == []


def test_older_versions_come_from_the_raw_body_on_a_warm_run(
    tmp_path: Path, make_index, finder_for
) -> None:
    count = sources_module.NEWEST_VERSIONS + 3
    server = make_index([P("many", f"1.{i}") for i in range(count)])
    finder_for(server.url).project_versions("many")
    url = server.url
    server.stop()

    warm = finder_for(url, offline=True)
    groups = warm.project_versions("many")
    assert len(groups) == count  # every version known from the parsed entry
    files = warm._project("many")
    assert len(files._unread) == sources_module.NEWEST_VERSIONS  # kept, not decoded yet
    assert files._buckets == {}
    assert [f.filename for f in groups[Version("1.0")]] == ["many-1.0-py3-none-any.whl"]
    assert len(warm.project_files("many")) == count


def test_a_warm_run_reads_only_the_looked_at_versions_entries(
    tmp_path: Path, make_index, finder_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries the page scan left as raw text are stored as their place in the raw body and
    read back one span per looked-at version; the raw page is never read whole."""
    count = sources_module.NEWEST_VERSIONS + 3
    server = make_index([P("many", f"1.{i}") for i in range(count)])
    cold = finder_for(server.url)
    wanted = [f.filename for f in cold.project_versions("many")[Version(f"1.{count - 2}")]]

    spans: list[tuple[int, int]] = []
    real_span = Cache.read_body_span

    def span(self: Cache, url: str, place, size: int, begin: int, end: int) -> bytes | None:  # type: ignore[no-untyped-def]
        spans.append((begin, end))
        return real_span(self, url, place, size, begin, end)

    def whole(self: Cache, url: str) -> None:
        raise AssertionError(f"raw page read whole: {url}")

    monkeypatch.setattr(Cache, "read_body_span", span)
    monkeypatch.setattr(Cache, "load_page", whole)
    warm = finder_for(server.url)
    groups = warm.project_versions("many")
    assert len(groups) == count and spans == []
    assert [f.filename for f in groups[Version(f"1.{count - 2}")]] == wanted
    assert len(spans) == 1 and spans[0][1] - spans[0][0] < 1000


def test_a_changed_raw_body_under_a_parsed_entry_is_read_whole(
    tmp_path: Path, make_index, finder_for
) -> None:
    """A parsed form that no longer matches the raw body after it (a damaged disk): the
    page is read whole from the raw body instead, and the parsed form is forgotten."""
    server = make_index([P("pair", f"1.{i}") for i in range(3)])
    cold = finder_for(server.url)
    versions = cold.project_versions("pair")
    assert len(versions) == 3
    page = _entry(tmp_path)
    body = _split(page)[2]
    # The same page, with the second entry renamed: same size, other text at the spans.
    _rewrite_body(page, body.replace(b"pair-1.1-", b"pair-1.7-"))

    files = finder_for(server.url, offline=True)._project("pair")
    assert files.files_of(Version("1.1")) == ()  # the raw body lists it no more
    assert [f.filename for f in files] == [
        "pair-1.0-py3-none-any.whl",
        "pair-1.7-py3-none-any.whl",  # what the raw body says now
        "pair-1.2-py3-none-any.whl",
    ]
    cache = Cache(tmp_path / "cache")
    assert cache.load_parsed(server.url + "/pair/") is None  # forgotten: rebuilt next run
    assert cache.load_page(server.url + "/pair/") is not None  # the body is kept


def _described(finder: PackageFinder, project: str) -> list[tuple[object, ...]]:
    fields = ("filename", "url", "hashes", "requires_python", "yanked", "yanked_reason")
    fields += ("upload_time", "size", "metadata_hashes")
    return [tuple(str(getattr(f, name)) for name in fields) for f in finder.project_files(project)]


@pytest.mark.parametrize("json_pages", [True, False], ids=["json", "html"])
def test_a_warm_run_sees_every_field_a_cold_run_saw(
    tmp_path: Path, make_index, finder_for, json_pages: bool
) -> None:
    """Yanked files and reasons, Requires-Python, hashes, upload times, JSON and HTML pages."""
    specs = [
        P("fields", "1.0", kind="both", requires_python=">=3.8"),
        P("fields", "1.1", yanked="broken build"),
        P("fields", "1.2", yanked=""),
        P("fields", "1.3", kind="sdist", uploaded="2024-01-02T03:04:05Z"),
    ]
    server = make_index(specs, json=json_pages)
    cold = _described(finder_for(server.url), "fields")
    assert [row[4:6] for row in cold if row[4] == "True"] == [
        ("True", "broken build"),
        ("True", "None"),
    ]
    assert Cache(tmp_path / "cache").load_parsed(server.url + "/fields/") is not None
    url = server.url
    server.stop()
    assert _described(finder_for(url, offline=True), "fields") == cold


def test_a_warm_run_over_several_indexes_keeps_the_first_index_first(
    tmp_path: Path, make_index
) -> None:
    """Two pages of one project, both read from their parsed form: merged in index order, a
    file listed by both counted once, from the first index."""
    from tests.fixtures.builders import make_wheel

    first_dir, second_dir = tmp_path / "one", tmp_path / "two"
    shared = make_wheel(first_dir, "pkg", "1.0")
    second_dir.mkdir()
    (second_dir / shared.name).write_bytes(shared.read_bytes())
    for version in ("1.1", "1.2"):
        make_wheel(first_dir, "pkg", version)
    for version in ("2.0", "2.1"):
        make_wheel(second_dir, "pkg", version)
    one, two = make_index(first_dir), make_index(second_dir)

    def listing(**options: object) -> list[tuple[str, str]]:
        settings = IndexSettings(
            cache_dir=tmp_path / "cache",
            index_url=one.url,
            extra_index_urls=(two.url,),
            **options,  # type: ignore[arg-type]
        )
        with PackageFinder(settings) as finder:
            return [(f.filename, f.index) for f in finder.project_files("pkg")]

    cold = listing()
    assert [name for name, _ in cold][:3] == [
        "pkg-1.0-py3-none-any.whl",
        "pkg-1.1-py3-none-any.whl",
        "pkg-1.2-py3-none-any.whl",
    ]
    assert cold[0][1] == one.url and len(cold) == 5
    cache = Cache(tmp_path / "cache")
    assert [cache.load_parsed(f"{index.url}/pkg/") is not None for index in (one, two)] == [
        True,
        True,
    ]
    assert listing(offline=True) == cold


def test_a_warm_run_over_two_indexes_reads_only_the_looked_at_versions_entries(
    tmp_path: Path, make_index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project both indexes list (an extra index mirroring the first): a warm run merges
    them version by version, reading the packed entries of the looked-at version only (it
    decoded every kept version of both pages), the first index's file first."""
    from tests.fixtures.builders import make_wheel

    first_dir, second_dir = tmp_path / "one", tmp_path / "two"
    for version in range(8):
        wheel = make_wheel(first_dir, "mirrored", f"1.{version}")
        second_dir.mkdir(exist_ok=True)
        (second_dir / wheel.name).write_bytes(wheel.read_bytes())
    make_wheel(second_dir, "mirrored", "1.3", tag="py2.py3-none-any")  # the second index only
    one, two = make_index(first_dir), make_index(second_dir)
    settings = IndexSettings(
        cache_dir=tmp_path / "cache", index_url=one.url, extra_index_urls=(two.url,)
    )
    with PackageFinder(settings) as cold:
        wanted = [(f.filename, f.index) for f in cold.project_versions("mirrored")[Version("1.3")]]
    assert wanted == [
        ("mirrored-1.3-py3-none-any.whl", one.url),
        ("mirrored-1.3-py2.py3-none-any.whl", two.url),
    ]

    spans: list[str] = []
    real_span = Cache.read_body_span

    def span(self: Cache, url: str, place, size: int, begin: int, end: int) -> bytes | None:  # type: ignore[no-untyped-def]
        spans.append(url)
        return real_span(self, url, place, size, begin, end)

    monkeypatch.setattr(Cache, "read_body_span", span)
    with PackageFinder(settings) as warm:
        groups = warm.project_versions("mirrored")
        assert len(groups) == 8 and spans == []
        assert [(f.filename, f.index) for f in groups[Version("1.3")]] == wanted
        assert sorted(spans) == sorted([f"{one.url}/mirrored/", f"{two.url}/mirrored/"])
        listing = [(f.filename, f.index) for f in warm.project_files("mirrored")]
    assert len(listing) == 9 and listing[:8] == [
        (f"mirrored-1.{v}-py3-none-any.whl", one.url) for v in range(8)
    ]
    assert listing[8] == ("mirrored-1.3-py2.py3-none-any.whl", two.url)


def test_entries_left_out_of_the_packed_page_keep_the_spans_in_step() -> None:
    """An egg (no version of the project) is a pending entry with a span too: skipping it
    must not shift the spans of the entries after it."""
    from lockcheck.index.packedpage import PackedPage, pack_page
    from lockcheck.index.pages import parse_page

    url = "https://i.example/simple/pkg/"
    names = ["pkg-1.0.tar.gz", "pkg-1.0-py3.8.egg", "pkg-1.1.tar.gz", "pkg-1.2.tar.gz"]
    files = [{"filename": n, "url": f"../../f/{n}", "hashes": {"sha256": "ab" * 32}} for n in names]
    body = json.dumps({"meta": {"api-version": "1.0"}, "name": "pkg", "files": files}).encode()
    keep = sources_module._NewestVersions("pkg")
    spans: list[tuple[int, int]] = []
    links = parse_page(body, "application/vnd.pypi.simple.v1+json", url, keep, spans)
    assert len(spans) == 3  # every entry but the last stays raw text
    packed = pack_page(
        "pkg",
        keep.count,
        links,
        spans,
        len(body),
        versions=keep.versions,
        kept=keep.kept,
        dropped=False,
    )
    page = PackedPage(
        packed, url, "pkg", keep.count, read_span=lambda size, begin, end: body[begin:end]
    )
    assert {str(v): [e.filename for e in entries()] for v, entries in page.groups().items()} == {
        "1.0": ["pkg-1.0.tar.gz"],
        "1.1": ["pkg-1.1.tar.gz"],
        "1.2": ["pkg-1.2.tar.gz"],
    }


_PAGE_NAMES = st.lists(
    st.sampled_from(
        [
            f"{project}-{version}{suffix}"
            for project in ("pkg", "pkg_name", "Pkg.Name")
            for version in ("1.0", "1.0.0", "1.2", "2.0rc1", "10.1", "nope")
            for suffix in (
                "-py3-none-any.whl",
                "-1-py3-none-any.whl",  # a build tag: six parts
                "-py3-none.whl",  # four parts: no wheel name
                ".tar.gz",
                ".zip",
            )
        ]
        + ["pkg-name-1.0-1.tar.gz", "pkg--py3-none-any.whl", "other-1.0.tar.gz", "pkg-1.0.egg"]
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_PAGE_NAMES, st.integers(min_value=1, max_value=4))
def test_the_page_filter_keeps_the_files_of_the_newest_versions(names, count):
    """The filter's answer is that of naming each file's version one by one: every
    version remembered (newest first: a packed page keeps that order for its readers), the
    newest *count* kept with the files of no version."""
    from lockcheck.index.projectfiles import filename_version

    for project in ("pkg", "pkg-name"):
        keep = sources_module._NewestVersions(project, count)
        kept = keep(names)
        version = {n: filename_version(n, project) for n in names}
        every = {v for v in version.values() if v is not None}
        newest = set(sorted(every, reverse=True)[:count])
        assert list(keep.versions) == sorted(every, reverse=True)
        assert keep.dropped == (len(every) > count)
        assert kept == {n: v for n, v in version.items() if v is None or v in newest}
