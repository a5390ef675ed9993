"""The parsed-page cache: a warm run reads a page's parsed form, not its raw body.

Each project page is stored twice: ``<key>.page`` (validators + raw body, for complete
reads) and ``<key>.parsed`` (the kept newest versions, every version seen).  These tests
run a real finder against a real loopback index and then change the files on disk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.version import Version

from lockcheck.index import sources as sources_module
from lockcheck.index.cache import Cache, CachedPage, ParsedPage
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


def _entry(tmp_path: Path, suffix: str) -> Path:
    (path,) = (tmp_path / "cache").rglob(f"*{suffix}")
    return path


def _names(finder: PackageFinder, project: str) -> list[str]:
    return [f.filename for f in finder.project_files(project)]


def _rewrite_body(page: Path, body: bytes) -> None:
    header = page.read_bytes().partition(b"\n")[0]
    page.write_bytes(header + b"\n" + body)


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
    _rewrite_body(_entry(tmp_path, ".page"), json.dumps(other).encode())

    assert _names(finder_for(server.url), "warm") == ["warm-1.0-py3-none-any.whl"]
    assert server.count() == requests  # fresh: no request either


@pytest.mark.parametrize(
    "damage",
    [b"\x00garbage", b"", b"\xe3\x00\x00\x00"],
    ids=["garbage", "empty", "truncated"],
)
def test_a_damaged_parsed_entry_falls_back_to_the_raw_body(
    tmp_path: Path, dist_factory: DistFactory, make_index, finder_for, damage: bytes
) -> None:
    dist_factory.wheel("rot", "1.0")
    dist_factory.sdist("rot", "1.0")
    server = make_index()
    first = _names(finder_for(server.url), "rot")
    parsed = _entry(tmp_path, ".parsed")
    parsed.write_bytes(damage)
    requests = server.count()

    assert _names(finder_for(server.url), "rot") == first
    assert server.count() == requests  # the raw body was still fresh
    assert parsed.read_bytes() != damage  # written again from the raw body
    assert Cache(tmp_path / "cache").load_parsed(server.url + "/rot/") is not None


def test_an_entry_of_another_format_or_url_is_a_miss(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    page = CachedPage(
        "https://i.example/simple/a/", "https://i.example/simple/a/", 200, "", None, None, 1.0
    )
    cache.store_page(page)
    cache.store_parsed(ParsedPage(page, ("anything",)))
    assert cache.load_parsed(page.url) is not None
    path = next(tmp_path.rglob("*.parsed"))

    import marshal

    kind, fields, parsed = marshal.loads(path.read_bytes())
    path.write_bytes(marshal.dumps(("lockcheck-parsed-page-1", fields, parsed)))
    assert cache.load_parsed(page.url) is None
    fields["url"] = "https://i.example/simple/b/"
    path.write_bytes(marshal.dumps((kind, fields, parsed)))
    assert cache.load_parsed(page.url) is None


def test_a_cache_without_parsed_entries_still_works_offline(
    tmp_path: Path, dist_factory: DistFactory, make_index, finder_for
) -> None:
    """A cache written before parsed entries existed: raw bodies only."""
    dist_factory.wheel("old", "1.0")
    dist_factory.wheel("old", "2.0")
    server = make_index()
    first = _names(finder_for(server.url), "old")
    _entry(tmp_path, ".parsed").unlink()
    url = server.url
    server.stop()

    assert _names(finder_for(url, offline=True), "old") == first
    assert _entry(tmp_path, ".parsed").is_file()  # and the parsed form is kept now
    assert _names(finder_for(url, offline=True), "old") == first


def test_storing_a_new_raw_body_first_removes_the_parsed_entry(tmp_path: Path) -> None:
    """The write order that keeps a pair consistent when a run is killed between writes:
    the parsed entry goes, the raw body is replaced, the new parsed entry comes last."""
    cache = Cache(tmp_path)
    url = "https://i.example/simple/a/"
    old = CachedPage(url, url, 200, "application/json", '"1"', None, 1.0, b"{}")
    cache.store_page(old)
    cache.store_parsed(ParsedPage(old, "old parse"))
    assert cache.load_parsed(url).parsed == "old parse"  # type: ignore[union-attr]

    new = CachedPage(url, url, 200, "application/json", '"2"', None, 2.0, b'{"files": []}')
    cache.store_page(new)  # killed here: the raw body alone, read the slow way
    assert cache.load_parsed(url) is None
    assert cache.load_page(url).etag == '"2"'  # type: ignore[union-attr]


def test_a_304_refreshes_the_parsed_entry_and_leaves_the_raw_body_alone(
    tmp_path: Path,
    dist_factory: DistFactory,
    make_index,
    finder_for,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dist_factory.wheel("stale", "1.0")
    server = make_index()
    finder_for(server.url).project_files("stale")
    raw = _entry(tmp_path, ".page").read_bytes()
    before = Cache(tmp_path / "cache").load_parsed(server.url + "/stale/")
    assert before is not None

    monkeypatch.setattr(sources_module, "PAGE_MAX_AGE", 0.0)
    assert _names(finder_for(server.url), "stale") == ["stale-1.0-py3-none-any.whl"]
    assert server.responses[-1].status == 304
    assert "if-none-match" in server.requests_for("/simple/stale/")[-1].headers
    assert _entry(tmp_path, ".page").read_bytes() == raw  # 1 MB bodies are not rewritten
    after = Cache(tmp_path / "cache").load_parsed(server.url + "/stale/")
    assert after is not None and after.page.fetched_at > before.page.fetched_at

    dist_factory.wheel("stale", "2.0")  # a changed page replaces both
    assert len(_names(finder_for(server.url), "stale")) == 2
    assert len(_names(finder_for(server.url, offline=True), "stale")) == 2


def test_a_missing_project_is_remembered_in_the_parsed_entry(
    tmp_path: Path, make_index, dist_factory: DistFactory, finder_for
) -> None:
    dist_factory.wheel("here", "1.0")
    server = make_index()
    assert finder_for(server.url).project_files("absent") == []
    assert Cache(tmp_path / "cache").load_parsed(server.url + "/absent/") is not None
    _entry(tmp_path, ".page").unlink()  # the 404 answer is read from the parsed entry
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

    def span(self: Cache, url: str, size: int, begin: int, end: int) -> bytes | None:
        spans.append((begin, end))
        return real_span(self, url, size, begin, end)

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
    """A parsed entry that no longer matches the raw body beside it (another process wrote
    the body between the two writes): the page is read whole from the raw body instead, and
    the entry is forgotten."""
    server = make_index([P("pair", f"1.{i}") for i in range(3)])
    cold = finder_for(server.url)
    versions = cold.project_versions("pair")
    assert len(versions) == 3
    page = _entry(tmp_path, ".page")
    header, _, body = page.read_bytes().partition(b"\n")
    # The same page, with the second entry renamed: same size, other text at the spans.
    page.write_bytes(header + b"\n" + body.replace(b"pair-1.1-", b"pair-1.7-"))

    files = finder_for(server.url, offline=True)._project("pair")
    assert files.files_of(Version("1.1")) == ()  # the raw body lists it no more
    assert [f.filename for f in files] == [
        "pair-1.0-py3-none-any.whl",
        "pair-1.7-py3-none-any.whl",  # what the raw body says now
        "pair-1.2-py3-none-any.whl",
    ]
    assert not list((tmp_path / "cache").rglob("*.parsed"))  # forgotten: rebuilt next run


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
    assert len(list((tmp_path / "cache").rglob("*.parsed"))) == 2
    assert listing(offline=True) == cold


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
