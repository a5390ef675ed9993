"""PackageFinder against real local servers and directories (tests/fixtures/index_server.py)."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from lockcheck.errors import HashMismatch, IndexUnavailable, MetadataError
from lockcheck.index import building
from lockcheck.index import http as index_http
from lockcheck.index import sources as sources_module
from lockcheck.index.finder import PackageFinder
from lockcheck.index.settings import IndexSettings
from lockcheck.models import DistFile
from tests.fixtures.builders import DistFactory, make_sdist, make_wheel


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_http, "_BACKOFF_BASE", 0.0)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Paths handed to the PEP 517 hook (the real lockcheck.build runs underneath)."""
    calls: list[Path] = []
    real = building.prepare_hook

    def counting(path: Path, **kwargs: object) -> object:
        calls.append(Path(path))
        return real(path, **kwargs)

    monkeypatch.setattr(building, "prepare_hook", counting)
    return calls


def _settings(tmp_path: Path, *index_urls: str, **options: object) -> IndexSettings:
    values: dict[str, object] = {"cache_dir": tmp_path / "cache", "build_isolation": False}
    if index_urls:
        values["index_url"] = index_urls[0]
        values["extra_index_urls"] = tuple(index_urls[1:])
    else:
        values["no_index"] = True
    values.update(options)
    return IndexSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def open_finder(tmp_path: Path) -> Iterator:
    finders: list[PackageFinder] = []

    def make(*index_urls: str, environ: dict[str, str] | None = None, **options: object):
        finder = PackageFinder(_settings(tmp_path, *index_urls, **options), environ=environ)
        finders.append(finder)
        return finder

    yield make
    for finder in finders:
        finder.close()


def _big_wheel(directory: Path, name: str, version: str, **kwargs: object) -> Path:
    """A wheel much larger than the Range tail, METADATA near its end."""
    payload = {f"{name}/data.bin": os.urandom(400_000), f"{name}/__init__.py": ""}
    return make_wheel(directory, name, version, files=payload, **kwargs)  # type: ignore[arg-type]


def _wheel(files: list[DistFile], version: str) -> DistFile:
    return next(f for f in files if f.is_wheel and f.version == Version(version))


# --------------------------------------------------------------------------------------
# pages and sources
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_project_files_from_json_and_html(
    fmt: str, dist_factory: DistFactory, make_index, open_finder
) -> None:
    dist_factory.wheel("Foo.Bar", "1.0", requires_python=">=3.8")
    dist_factory.sdist("foo-bar", "1.0")
    dist_factory.wheel("foo-bar", "0.9")
    server = make_index(
        json=fmt == "json",
        html=fmt == "html",
        yanked={"foo_bar-0.9-py3-none-any.whl": "bad build"},
        absolute_urls=fmt == "json",
    )
    files = open_finder(server.url).project_files("FOO_bar")
    assert sorted((f.filename, str(f.version)) for f in files) == [
        ("foo_bar-0.9-py3-none-any.whl", "0.9"),
        ("foo_bar-1.0-py3-none-any.whl", "1.0"),
        ("foo_bar-1.0.tar.gz", "1.0"),
    ]
    new = _wheel(files, "1.0")
    on_disk = (dist_factory.directory / new.filename).read_bytes()
    assert new.hashes["sha256"] == hashlib.sha256(on_disk).hexdigest()
    assert str(new.requires_python) == ">=3.8"
    assert new.url == f"{server.base_url}/files/{new.filename}"
    assert new.has_metadata_file
    old = _wheel(files, "0.9")
    assert (old.yanked, old.yanked_reason) == (True, "bad build")
    assert server.responses[-1].content_type == f"application/vnd.pypi.simple.v1+{fmt}"


def test_several_indexes_first_one_wins(tmp_path: Path, make_index, open_finder) -> None:
    first_dir, second_dir = tmp_path / "one", tmp_path / "two"
    shared = make_wheel(first_dir, "pkg", "1.0")
    second_dir.mkdir()
    (second_dir / shared.name).write_bytes(shared.read_bytes())
    make_wheel(first_dir, "pkg", "1.1")
    make_wheel(second_dir, "pkg", "2.0")
    make_wheel(second_dir, "only-two", "1.0")
    one, two = make_index(first_dir), make_index(second_dir)
    finder = open_finder(one.url, two.url)
    files = finder.project_files("pkg")
    assert [(f.filename, f.index) for f in files] == [
        ("pkg-1.0-py3-none-any.whl", one.url),
        ("pkg-1.1-py3-none-any.whl", one.url),
        ("pkg-2.0-py3-none-any.whl", two.url),
    ]
    assert [f.index for f in finder.project_files("only-two")] == [two.url]
    assert finder.project_files("unknown") == []
    # Memoised: asking again costs nothing.
    before = one.count() + two.count()
    finder.project_files("pkg")
    assert one.count() + two.count() == before


def test_find_links_directory_file_and_html(
    tmp_path: Path, dist_factory: DistFactory, open_finder
) -> None:
    links = tmp_path / "links"
    make_wheel(links, "pkg", "1.0")
    make_sdist(links, "pkg", "0.9")
    (links / "Pkg-0.8.tar.gz").write_bytes((links / "pkg-0.9.tar.gz").read_bytes())
    (links / "pkg-0.7-py2.7.egg").write_bytes(b"egg")
    (links / "notes.txt").write_text("hello")
    make_wheel(links, "other", "1.0")
    single = make_wheel(tmp_path / "single", "pkg", "3.0")
    far = make_wheel(tmp_path / "far", "pkg", "2.0")
    (links / "extra.html").write_text(f'<a href="{far.as_uri()}">{far.name}</a>')
    finder = open_finder(find_links=(str(links), str(single), str(tmp_path / "missing")))
    files = finder.project_files("pkg")
    assert [f.filename for f in files] == [
        "Pkg-0.8.tar.gz",
        "pkg-2.0-py3-none-any.whl",
        "pkg-0.9.tar.gz",
        "pkg-1.0-py3-none-any.whl",
        "pkg-3.0-py3-none-any.whl",
    ]
    assert files[0].url == (links / "Pkg-0.8.tar.gz").as_uri()
    assert files[0].index == links.as_uri()
    assert [f.filename for f in finder.project_files("other")] == ["other-1.0-py3-none-any.whl"]
    assert finder.metadata(files[-1]).version == Version("3.0")


def test_find_links_url_page(dist_factory: DistFactory, make_index, open_finder) -> None:
    dist_factory.wheel("alpha", "1.0")
    dist_factory.wheel("beta", "2.0")
    server = make_index()
    finder = open_finder(find_links=(server.find_links_url,))
    assert [f.filename for f in finder.project_files("alpha")] == ["alpha-1.0-py3-none-any.whl"]
    assert [f.filename for f in finder.project_files("beta")] == ["beta-2.0-py3-none-any.whl"]
    assert server.count("/files/", method="GET") == 1  # one page for every project
    path = finder.download(finder.project_files("beta")[0], Path(server.directory).parent / "o")
    assert path.read_bytes() == (dist_factory.directory / "beta-2.0-py3-none-any.whl").read_bytes()


def test_file_index(tmp_path: Path, open_finder) -> None:
    files_dir = tmp_path / "files"
    wheel = make_wheel(files_dir, "Lib", "1.0", requires_dist=["dep"])
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    page = tmp_path / "simple" / "lib"
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        f'<a href="../../files/{wheel.name}#sha256={digest}">{wheel.name}</a>'
    )
    finder = open_finder((tmp_path / "simple").as_uri())
    (file,) = finder.project_files("lib")
    assert file.url == wheel.as_uri() and file.hashes == {"sha256": digest}
    assert [str(r) for r in finder.metadata(file).requires_dist] == ["dep"]
    assert finder.project_files("absent") == []
    # A plain path works as an index too.
    assert len(open_finder(str(tmp_path / "simple")).project_files("lib")) == 1


def test_prefetch_pages_fetches_each_page_once(
    dist_factory: DistFactory, make_index, open_finder
) -> None:
    names = [f"p{i}" for i in range(6)]
    for name in names:
        dist_factory.wheel(name, "1.0")
    server = make_index()
    finder = open_finder(server.url)
    finder.prefetch_pages(names + names)
    results = [finder.project_files(n) for n in names]
    assert all(len(r) == 1 for r in results)
    for name in names:
        assert server.count(f"/simple/{name}/") == 1


def test_resolver_hints_go_before_the_walks_queued_steps(
    dist_factory: DistFactory, make_index, tmp_path: Path
) -> None:
    """The walk queues far ahead of the resolver; a page the resolver names (its hint about
    what it asks next) must not wait behind those steps (issue 17)."""
    names = ["blocker", "w1", "w2", "w3", "w4", "hint1", "hint2"]
    for name in names:
        dist_factory.wheel(name, "1.0")
    server = make_index()
    server.slow("/simple/blocker/", 0.3)  # keeps the one worker busy while work is queued
    finder = PackageFinder(_settings(tmp_path, server.url), max_workers=1)
    try:
        finder.prefetch_pages(["blocker"])
        deadline = time.monotonic() + 10
        while not server.count("/simple/blocker/") and time.monotonic() < deadline:
            time.sleep(0.01)
        finder.prefetch_graph(
            [(n, frozenset()) for n in ("w1", "w2", "w3", "w4")], lambda _n, _v: (), _no_deps
        )
        finder.prefetch_pages(["hint1", "hint2", "w1"])
        deadline = time.monotonic() + 10  # the worker alone fetches every page
        while server.count("/simple/") < len(names) and time.monotonic() < deadline:
            time.sleep(0.02)
        pages = [r.path for r in server.requests_for("/simple/")]
    finally:
        finder.close()
    # The hints, in their order, right after the page being fetched; each page once.
    assert pages[:3] == ["/simple/blocker/", "/simple/hint1/", "/simple/hint2/"]
    assert sorted(pages) == sorted(f"/simple/{n}/" for n in names)


def _no_deps(_meta: object, _extras: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    return []


def test_what_the_cache_answers_is_read_in_the_asking_thread(
    dist_factory: DistFactory, make_index, tmp_path: Path
) -> None:
    """Background threads are for the network: once pages and metadata are cached and fresh,
    a walk and the resolver's hints read them in the asking thread and start no pool (on
    other threads they only contended for the interpreter lock: issue 17's hook workload)."""
    dist_factory.wheel("top", "1.0", requires_dist=["middle"])
    dist_factory.wheel("middle", "1.0", requires_dist=["leaf"])
    dist_factory.wheel("leaf", "1.0")
    server = make_index()

    def pick(_name: object, versions: dict[Version, list[DistFile]]) -> list[DistFile]:
        return [f for f in versions[max(versions)] if f.is_wheel][:1] if versions else []

    def dependencies(meta: object) -> list[tuple[str, frozenset[str]]]:
        return [(r.name, frozenset()) for r in meta.requires_dist]  # type: ignore[attr-defined]

    walked: list[str] = []

    def walk(finder: PackageFinder) -> None:
        finder.prefetch_graph(
            [("top", frozenset())],
            pick,
            lambda meta, _extras: walked.append(meta.name) or dependencies(meta),
        )
        deadline = time.monotonic() + 10
        while len(walked) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)

    first = PackageFinder(_settings(tmp_path, server.url))
    try:
        walk(first)  # a cold cache: the walk fetches in the background
        assert first._pool is not None
    finally:
        first.close()
    assert sorted(walked) == ["leaf", "middle", "top"]
    asked = len(server.requests)
    walked.clear()
    second = PackageFinder(_settings(tmp_path, server.url))
    try:
        walk(second)
        second.prefetch_pages(["top", "middle", "leaf"])
        assert walked == ["top", "middle", "leaf"]  # done before prefetch_graph returned
        assert second._pool is None
    finally:
        second.close()
    assert len(server.requests) == asked


def test_no_background_work_starts_after_close(
    dist_factory: DistFactory, make_index, tmp_path: Path
) -> None:
    """A walk step still running when the run ends queues its dependencies: that must not
    start a new pool (its requests would delay the exit)."""
    dist_factory.wheel("late", "1.0")
    server = make_index()
    finder = PackageFinder(_settings(tmp_path, server.url))
    finder.close()
    finder.prefetch_pages(["late"])
    finder.prefetch_graph([("late", frozenset())], lambda _n, _v: (), _no_deps)
    time.sleep(0.3)
    assert server.count("/simple/") == 0


# --------------------------------------------------------------------------------------
# auth, faults
# --------------------------------------------------------------------------------------


def test_url_credentials_reach_files(dist_factory: DistFactory, make_index, open_finder) -> None:
    dist_factory.wheel("secret", "1.0", requires_dist=["x"])
    server = make_index(auth=("user", "p@ss word"), pep658=False)
    finder = open_finder(server.url_with_auth)
    (file,) = finder.project_files("secret")
    assert "user" not in file.url and "user" not in file.index
    assert [str(r) for r in finder.metadata(file).requires_dist] == ["x"]
    assert {r.status for r in _no_metadata_requests(server.responses)} <= {200, 206}


def test_wrong_credentials_are_reported_redacted(
    dist_factory: DistFactory, make_index, open_finder
) -> None:
    dist_factory.wheel("secret", "1.0")
    server = make_index(auth=("user", "right"))
    wrong = server.url_with_auth.replace("right", "wrong")
    with pytest.raises(IndexUnavailable) as info:
        open_finder(wrong).project_files("secret")
    assert "HTTP 401" in str(info.value)
    assert "wrong" not in str(info.value) and "****@127.0.0.1" in str(info.value)


def test_netrc_auth(tmp_path: Path, dist_factory: DistFactory, make_index, open_finder) -> None:
    dist_factory.wheel("secret", "1.0")
    server = make_index(auth=("nina", "netrc-pw"))
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\n  login nina\n  password netrc-pw\n")
    finder = open_finder(server.url, environ={**os.environ, "NETRC": str(netrc)})
    assert len(finder.project_files("secret")) == 1
    file = finder.project_files("secret")[0]
    assert finder.download(file, tmp_path / "out").is_file()


def test_5xx_then_success(dist_factory: DistFactory, make_index, open_finder) -> None:
    dist_factory.wheel("flaky", "1.0")
    server = make_index()
    server.fail_next("/simple/flaky/", 503, times=2)
    assert len(open_finder(server.url, retries=2).project_files("flaky")) == 1
    assert server.count("/simple/flaky/") == 3


def test_5xx_forever(dist_factory: DistFactory, make_index, open_finder) -> None:
    dist_factory.wheel("down", "1.0")
    server = make_index()
    server.fail_next("/simple/", 500, times=100)
    with pytest.raises(IndexUnavailable, match=r"HTTP 500.*after 2 retries"):
        open_finder(server.url, retries=2).project_files("down")
    assert server.count("/simple/") == 3


def test_a_metadata_read_that_failed_in_a_prefetch_thread_is_tried_again(
    dist_factory: DistFactory, make_index, open_finder
) -> None:
    """A prefetch thread's failed read (a 503 there) is not the resolver's answer: its own
    call reads the metadata again (both memos forget failures)."""
    dist_factory.wheel("flaky", "1.0")
    server = make_index()
    finder = open_finder(server.url, retries=0)
    file = finder.project_files("flaky")[0]
    server.fail_next("/files/flaky-", 503, times=100)
    failed: list[Exception] = []

    def prefetch() -> None:
        try:
            finder.metadata(file)
        except IndexUnavailable as exc:
            failed.append(exc)

    thread = threading.Thread(target=prefetch)
    thread.start()
    thread.join()
    assert failed  # the fault was hit
    server.clear_faults()
    assert finder.metadata(file).version == Version("1.0")


def test_unreachable_index(open_finder) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://tok:en@127.0.0.1:{port}/simple"
    with pytest.raises(IndexUnavailable) as info:
        open_finder(url, retries=1).project_files("anything")
    assert str(info.value).startswith(
        f"cannot reach http://****@127.0.0.1:{port}/simple: connection refused"
    )
    assert "tok" not in str(info.value)


def test_truncated_download_is_retried_then_fails_cleanly(
    tmp_path: Path, dist_factory: DistFactory, make_index, open_finder
) -> None:
    dist_factory.sdist("cut", "1.0")
    server = make_index()
    finder = open_finder(server.url, retries=1)
    (file,) = finder.project_files("cut")
    server.truncate("/files/")
    with pytest.raises(IndexUnavailable, match="cannot reach"):
        finder.download(file, tmp_path / "out")
    assert server.count("/files/cut-1.0.tar.gz") == 2
    cache = tmp_path / "cache"
    assert not [p for p in cache.rglob("*") if p.is_file() and "files" in p.parts]
    assert not (tmp_path / "out" / file.filename).exists()


def test_truncated_page_is_retried(dist_factory: DistFactory, make_index, open_finder) -> None:
    dist_factory.wheel("cut", "1.0")
    server = make_index()
    server.truncate("/simple/")
    with pytest.raises(IndexUnavailable):
        open_finder(server.url, retries=1).project_files("cut")
    server.clear_faults()
    assert len(open_finder(server.url, retries=1).project_files("cut")) == 1


def test_hash_mismatch_on_download(
    tmp_path: Path, dist_factory: DistFactory, make_index, open_finder
) -> None:
    dist_factory.wheel("evil", "1.0")
    dist_factory.sdist("evil", "1.0")
    server = make_index()
    finder = open_finder(server.url)
    files = finder.project_files("evil")
    for file in files:
        server.corrupt(file.filename)
    with pytest.raises(HashMismatch, match=r"evil-1\.0\.tar\.gz"):
        finder.download(next(f for f in files if not f.is_wheel), tmp_path / "out")
    with pytest.raises(HashMismatch):
        finder.metadata(next(f for f in files if not f.is_wheel))
    assert not list((tmp_path / "out").glob("*"))


def test_pep658_metadata_hash_mismatch(dist_factory: DistFactory, make_index, open_finder) -> None:
    wheel = dist_factory.wheel("evil", "1.0")
    server = make_index()
    server.corrupt(wheel.name + ".metadata")
    finder = open_finder(server.url)
    with pytest.raises(HashMismatch, match="metadata file"):
        finder.metadata(finder.project_files("evil")[0])


# --------------------------------------------------------------------------------------
# metadata
# --------------------------------------------------------------------------------------


def _no_metadata_requests(log: list) -> list:
    """*log* (requests or responses), checked to hold no ``.metadata`` request: a page that
    does not advertise one is not asked for it."""
    assert not [r for r in log if r.path.endswith(".metadata")]
    return log


def test_metadata_via_pep658(dist_factory: DistFactory, make_index, open_finder) -> None:
    _big_wheel(dist_factory.directory, "meta", "1.0", requires_dist=["dep>=1; extra == 'x'"])
    server = make_index()
    finder = open_finder(server.url)
    meta = finder.metadata(finder.project_files("meta")[0])
    assert meta.name == "meta" and meta.version == Version("1.0")
    assert [str(r) for r in meta.requires_dist] == ['dep>=1; extra == "x"']
    paths = [r.path for r in server.requests]
    assert paths == ["/simple/meta/", "/files/meta-1.0-py3-none-any.whl.metadata"]


def test_an_unadvertised_metadata_file_is_never_asked_for(
    dist_factory: DistFactory, make_index, open_finder
) -> None:
    # As pip and uv: only a .metadata file the page advertises is read.  This machine's
    # index mirror serves it for some wheels and answers a slow 404 (it asks upstream) for
    # the rest: trusting it after a few hits held reads up by 0.1 s each.
    for version in ("1.0", "2.0", "3.0", "4.0"):
        _big_wheel(dist_factory.directory, "quiet", version, requires_dist=["six"])
    server = make_index(pep658=False, serve_metadata=True)
    finder = open_finder(server.url)
    for file in finder.project_files("quiet"):
        assert not file.has_metadata_file
        assert [str(r) for r in finder.metadata(file).requires_dist] == ["six"]
    file_requests = server.requests_for("/files/")
    assert file_requests and all("range" in r.headers for r in file_requests)
    assert not any(r.path.endswith(".metadata") for r in file_requests)


def test_metadata_via_range_requests_does_not_download_the_wheel(
    dist_factory: DistFactory, make_index, open_finder
) -> None:
    wheel = _big_wheel(dist_factory.directory, "ranged", "1.0", requires_dist=["idna"])
    size = wheel.stat().st_size
    server = make_index(pep658=False)
    finder = open_finder(server.url)
    meta = finder.metadata(finder.project_files("ranged")[0])
    assert [str(r) for r in meta.requires_dist] == ["idna"]
    file_requests = _no_metadata_requests(server.requests_for("/files/"))
    assert file_requests and all("range" in r.headers for r in file_requests)
    file_responses = _no_metadata_requests(
        [r for r in server.responses if r.path.startswith("/files/")]
    )
    assert {r.status for r in file_responses} == {206}
    assert len(file_requests) <= 3
    assert size > 5 * 64 * 1024  # the tail reads were a fraction of the file


def test_range_with_metadata_far_from_the_tail(tmp_path: Path, make_index, open_finder) -> None:
    # METADATA written first, then a big incompressible member: the first tail read holds
    # only the central directory and METADATA must be fetched by a second range request.
    directory = tmp_path / "w"
    directory.mkdir()
    wheel = directory / "farmeta-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "farmeta-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: farmeta\nVersion: 1.0\nRequires-Dist: six\n\n",
        )
        archive.writestr("farmeta-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        archive.writestr("farmeta/blob.bin", os.urandom(300_000))
    server = make_index(directory, pep658=False)
    finder = open_finder(server.url)
    meta = finder.metadata(finder.project_files("farmeta")[0])
    assert [str(r) for r in meta.requires_dist] == ["six"]
    requests = _no_metadata_requests(server.requests_for("/files/"))
    ranges = [r.headers["range"] for r in requests]
    assert ranges[0] == "bytes=-65536" and len(ranges) == 2
    assert ranges[1].startswith("bytes=0-")
    responses = _no_metadata_requests(server.responses)
    statuses = [r.status for r in responses if r.path.startswith("/files/")]
    assert statuses == [206, 206]


def test_metadata_via_whole_wheel_without_ranges(
    tmp_path: Path, dist_factory: DistFactory, make_index, open_finder
) -> None:
    dist_factory.wheel("whole", "1.0", requires_dist=["attrs"])
    server = make_index(pep658=False, range_support=False)
    finder = open_finder(server.url)
    file = finder.project_files("whole")[0]
    assert [str(r) for r in finder.metadata(file).requires_dist] == ["attrs"]
    assert server.count("/files/") == 1  # the whole wheel
    # The downloaded wheel is reused by download(): no second transfer.
    assert finder.download(file, tmp_path / "out").is_file()
    assert server.count("/files/") == 1


def test_metadata_of_sdist_through_a_build(
    dist_factory: DistFactory, make_index, open_finder, builds: list[Path]
) -> None:
    dist_factory.sdist("built", "1.0", requires_dist=["click>=8"])
    server = make_index()
    finder = open_finder(server.url)
    (file,) = finder.project_files("built")
    meta = finder.metadata(file)
    assert (meta.name, str(meta.version)) == ("built", "1.0")
    assert [str(r) for r in meta.requires_dist] == ["click>=8"]
    assert len(builds) == 1 and builds[0].name == "built-1.0.tar.gz"


def test_metadata_identity_is_checked(tmp_path: Path, make_index, open_finder) -> None:
    wheel = make_wheel(tmp_path / "w", "liar", "1.0")
    wheel.rename(wheel.with_name("liar-2.0-py3-none-any.whl"))
    server = make_index(wheel.parent, pep658=False)
    finder = open_finder(server.url)
    with pytest.raises(MetadataError, match=r"expected liar 2\.0"):
        finder.metadata(finder.project_files("liar")[0])


def test_one_metadata_fetch_per_version_across_threads(
    dist_factory: DistFactory, make_index, open_finder
) -> None:
    dist_factory.wheel("once", "1.0", tag="py3-none-any")
    dist_factory.wheel("once", "1.0", tag="py2-none-any")
    dist_factory.sdist("once", "1.0")
    server = make_index()
    finder = open_finder(server.url)
    files = finder.project_files("once")
    assert len(files) == 3
    results = []
    threads = [
        threading.Thread(target=lambda f=f: results.append(finder.metadata(f))) for f in files * 4
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 12 and len(set(results)) == 1
    assert server.count("/files/") == 1


def test_failed_file_does_not_poison_its_version(
    tmp_path: Path, dist_factory: DistFactory, make_index, open_finder
) -> None:
    dist_factory.wheel("mixed", "1.0", requires_dist=["ok"])
    sdist = dist_factory.sdist("mixed", "1.0")
    server = make_index()
    finder = open_finder(server.url)
    files = finder.project_files("mixed")
    server.corrupt(sdist.name)
    with pytest.raises(HashMismatch):
        finder.metadata(next(f for f in files if not f.is_wheel))
    assert [str(r) for r in finder.metadata(_wheel(files, "1.0")).requires_dist] == ["ok"]


def test_disk_cache_serves_a_second_finder(
    tmp_path: Path,
    dist_factory: DistFactory,
    make_index,
    open_finder,
    builds: list[Path],
) -> None:
    dist_factory.wheel("cached", "1.0", requires_dist=["a"])
    dist_factory.sdist("cached", "0.9", requires_dist=["b"])
    server = make_index()
    first = open_finder(server.url)
    metas = {str(f.version): first.metadata(f) for f in first.project_files("cached")}
    used = server.count()
    assert len(builds) == 1

    second = open_finder(server.url)
    files = second.project_files("cached")
    again = {str(f.version): second.metadata(f) for f in files}
    assert again == metas
    assert server.count() == used  # page fresh, metadata cached: no request at all
    assert len(builds) == 1  # the sdist was not built again


def test_stale_pages_are_revalidated(
    dist_factory: DistFactory, make_index, open_finder, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist_factory.wheel("fresh", "1.0")
    server = make_index()
    open_finder(server.url).project_files("fresh")
    monkeypatch.setattr(sources_module, "PAGE_MAX_AGE", 0.0)
    assert len(open_finder(server.url).project_files("fresh")) == 1
    second = server.requests_for("/simple/fresh/")[-1]
    assert "if-none-match" in second.headers and "if-modified-since" in second.headers
    assert server.responses[-1].status == 304

    # A changed page replaces the cached one.
    dist_factory.wheel("fresh", "2.0")
    assert len(open_finder(server.url).project_files("fresh")) == 2


def test_refresh_revalidates_fresh_pages(
    dist_factory: DistFactory, make_index, open_finder
) -> None:
    dist_factory.wheel("fresh", "1.0")
    server = make_index()
    open_finder(server.url).project_files("fresh")
    open_finder(server.url, refresh=True).project_files("fresh")
    assert server.count("/simple/fresh/") == 2
    assert server.responses[-1].status == 304


def test_refresh_asks_for_each_page_once_per_run(
    dist_factory: DistFactory, make_index, open_finder
) -> None:
    # A page keeps its newest versions' entries at first; an older version is read from the
    # rest of the page later.  With --refresh that second read came from the server again.
    count = sources_module.NEWEST_VERSIONS + 3
    for minor in range(count):
        dist_factory.wheel("many", f"1.{minor}")
    server = make_index()
    for refresh in (False, True):
        before = server.count("/simple/many/")
        finder = open_finder(server.url, refresh=refresh)
        assert len(finder.project_versions("many")) == count
        assert [f.filename for f in finder.project_files("many") if f.version == Version("1.0")]
        assert server.count("/simple/many/") - before == 1, f"refresh={refresh}"


def test_offline_with_and_without_cache(
    tmp_path: Path, dist_factory: DistFactory, make_index, open_finder
) -> None:
    dist_factory.wheel("off", "1.0", requires_dist=["x"])
    dist_factory.wheel("never", "1.0")
    server = make_index(pep658=False, range_support=False)
    online = open_finder(server.url)
    file = online.project_files("off")[0]
    online.metadata(file)
    online.download(file, tmp_path / "dl")
    online.project_files("missing-project")  # a 404 is remembered too
    url = server.url
    server.stop()

    offline = open_finder(url, offline=True)
    (again,) = offline.project_files("off")
    assert [str(r) for r in offline.metadata(again).requires_dist] == ["x"]
    assert (
        offline.download(again, tmp_path / "dl2").read_bytes()
        == (dist_factory.directory / file.filename).read_bytes()
    )
    assert offline.project_files("missing-project") == []
    with pytest.raises(IndexUnavailable, match="offline"):
        offline.project_files("never")


def test_offline_metadata_miss(
    tmp_path: Path, dist_factory: DistFactory, make_index, open_finder
) -> None:
    dist_factory.wheel("half", "1.0")
    server = make_index()
    open_finder(server.url).project_files("half")  # page cached, metadata not
    offline = open_finder(server.url, offline=True)
    with pytest.raises(IndexUnavailable, match="offline"):
        offline.metadata(offline.project_files("half")[0])


def test_corrupt_cache_entries_are_ignored(
    tmp_path: Path, dist_factory: DistFactory, make_index, open_finder
) -> None:
    dist_factory.wheel("rot", "1.0", requires_dist=["z"])
    server = make_index(pep658=False, range_support=False)
    first = open_finder(server.url)
    file = first.project_files("rot")[0]
    first.metadata(file)
    first.download(file, tmp_path / "dl")
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage")
    second = open_finder(server.url)
    (again,) = second.project_files("rot")
    assert [str(r) for r in second.metadata(again).requires_dist] == ["z"]
    path = second.download(again, tmp_path / "dl2")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == again.hashes["sha256"]


# --------------------------------------------------------------------------------------
# download, hashes
# --------------------------------------------------------------------------------------


def test_download_and_sha256(
    tmp_path: Path, dist_factory: DistFactory, make_index, open_finder
) -> None:
    wheel = dist_factory.wheel("dl", "1.0")
    server = make_index()
    finder = open_finder(server.url, find_links=(str(dist_factory.directory),))
    indexed = finder.project_files("dl")[0]
    path = finder.download(indexed, tmp_path / "out")
    assert path == tmp_path / "out" / wheel.name
    assert path.read_bytes() == wheel.read_bytes()
    local = DistFile(
        filename=wheel.name,
        url=wheel.as_uri(),
        name=canonicalize_name("dl"),
        version=Version("1.0"),
        is_wheel=True,
    )
    assert finder.sha256(local) == indexed.hashes["sha256"] == finder.sha256(indexed)
    wrong = DistFile(**{**local.__dict__, "hashes": {"sha256": "0" * 64}})
    with pytest.raises(HashMismatch):
        finder.download(wrong, tmp_path / "out2")


# --------------------------------------------------------------------------------------
# direct references
# --------------------------------------------------------------------------------------


def test_direct_local_directory(
    tmp_path: Path, dist_factory: DistFactory, open_finder, builds: list[Path]
) -> None:
    project = dist_factory.project("localpkg", "0.3", dependencies=["idna>=2"])
    finder = open_finder()
    relative = os.path.relpath(project, tmp_path)
    meta, dist = finder.direct_metadata(relative, base_dir=tmp_path, editable=True)
    assert (meta.name, str(meta.version), dist) == ("localpkg", "0.3", None)
    assert [str(r) for r in meta.requires_dist] == ["idna>=2"]
    meta2, _ = finder.direct_metadata(project.as_uri(), base_dir=tmp_path)
    assert meta2 == meta
    assert builds == [project, project]


def test_direct_local_archives(
    tmp_path: Path, dist_factory: DistFactory, open_finder, builds: list[Path]
) -> None:
    wheel = dist_factory.wheel("arch", "1.0", requires_dist=["a"])
    sdist = dist_factory.sdist("arch", "1.0", requires_dist=["a"])
    finder = open_finder()
    meta, dist = finder.direct_metadata(f"./wheelhouse/{wheel.name}", base_dir=tmp_path)
    assert dist is not None and dist.is_wheel and dist.url == wheel.as_uri()
    assert dist.hashes == {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}
    assert (dist.name, dist.version) == ("arch", Version("1.0"))
    smeta, sdist_file = finder.direct_metadata(str(sdist), base_dir=tmp_path)
    assert smeta.requires_dist == meta.requires_dist
    assert sdist_file is not None and not sdist_file.is_wheel
    assert len(builds) == 1
    with pytest.raises(HashMismatch):
        finder.direct_metadata(f"{wheel.as_uri()}#sha256={'0' * 64}", base_dir=tmp_path)
    with pytest.raises(MetadataError, match="no such file"):
        finder.direct_metadata("./nope", base_dir=tmp_path)
    with pytest.raises(MetadataError, match="editable"):
        finder.direct_metadata(str(wheel), base_dir=tmp_path, editable=True)


def test_direct_remote_archive(dist_factory: DistFactory, make_index, open_finder) -> None:
    wheel = dist_factory.wheel("remote", "1.0", requires_dist=["r"])
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    server = make_index()
    finder = open_finder()
    meta, dist = finder.direct_metadata(
        f"{server.file_url(wheel.name)}#sha256={digest}", base_dir=Path.cwd()
    )
    assert [str(r) for r in meta.requires_dist] == ["r"]
    assert dist is not None and dist.url == server.file_url(wheel.name)
    assert dist.hashes == {"sha256": digest}
    with pytest.raises(HashMismatch):
        open_finder().direct_metadata(
            f"{server.file_url(wheel.name)}#sha256={'1' * 64}", base_dir=Path.cwd()
        )


def _git(*args: str, cwd: Path) -> str:
    import subprocess

    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def test_direct_git_reference(
    tmp_path: Path, dist_factory: DistFactory, open_finder, builds: list[Path]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git("init", "--quiet", "--initial-branch=main", cwd=repo)
    dist_factory.project("sub", "1.0", dependencies=["one"])
    project = repo / "pkgs"
    project.mkdir()
    os.rename(dist_factory.projects_dir / "sub", project / "sub")
    _git("add", "-A", cwd=repo)
    _git("commit", "--quiet", "-m", "v1", cwd=repo)
    _git("tag", "v1", cwd=repo)
    first_commit = _git("rev-parse", "HEAD", cwd=repo)
    pyproject = project / "sub" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"1.0"', '"2.0"'))
    _git("commit", "--quiet", "-am", "v2", cwd=repo)

    url = f"git+{repo.as_uri()}"
    finder = open_finder()
    meta, dist = finder.direct_metadata(
        f"{url}@v1#egg=sub&subdirectory=pkgs/sub", base_dir=tmp_path
    )
    assert (meta.name, str(meta.version), dist) == ("sub", "1.0", None)
    head, _ = finder.direct_metadata(f"{url}@main#subdirectory=pkgs/sub", base_dir=tmp_path)
    assert str(head.version) == "2.0"
    by_sha, _ = finder.direct_metadata(
        f"{url}@{first_commit}#subdirectory=pkgs/sub", base_dir=tmp_path
    )
    assert str(by_sha.version) == "1.0"
    assert len(builds) == 2  # the same commit is built once (cached by commit)

    # A new finder, offline: the mirror, the checkout and the metadata are all cached.
    offline = open_finder(offline=True)
    cached, _ = offline.direct_metadata(f"{url}@v1#subdirectory=pkgs/sub", base_dir=tmp_path)
    assert str(cached.version) == "1.0" and len(builds) == 2
    with pytest.raises(MetadataError, match="no ref 'nope'"):
        finder.direct_metadata(f"{url}@nope#subdirectory=pkgs/sub", base_dir=tmp_path)
    with pytest.raises(IndexUnavailable):
        finder.direct_metadata(f"git+{(tmp_path / 'missing').as_uri()}", base_dir=tmp_path)


# --------------------------------------------------------------------------------------
# the real index
# --------------------------------------------------------------------------------------


@pytest.mark.live
def test_live_pypi(tmp_path: Path) -> None:
    settings = IndexSettings(cache_dir=tmp_path / "cache")
    with PackageFinder(settings) as finder:
        files = finder.project_files("packaging")
        wheel = next(f for f in files if f.is_wheel and f.version == Version("24.2"))
        assert wheel.hashes.get("sha256") and wheel.url.startswith("https://")
        meta = finder.metadata(wheel)
        assert (meta.name, meta.version) == ("packaging", Version("24.2"))
        assert str(meta.requires_python) == ">=3.8"
        assert finder.project_files("this-project-does-not-exist-lockcheck") == []


def test_the_walk_follows_the_extras_asked_of_a_dependency(
    dist_factory: DistFactory, make_index, tmp_path: Path
) -> None:
    """``top`` asks for ``middle[fast]``: what that extra adds is fetched ahead too (a
    jupyter stack reaches a dozen projects through ``jsonschema[format-nongpl]``), and
    a later ask for another extra of a project already walked fetches its part."""
    from lockcheck.resolve.environment import TargetEnvironment
    from lockcheck.resolve.provider import dependencies_in

    dist_factory.wheel("top", "1.0", requires_dist=["middle[fast]"])
    dist_factory.wheel(
        "middle", "1.0", requires_dist=['quick; extra == "fast"', 'slow; extra == "safe"']
    )
    for name in ("quick", "slow", "unrelated"):
        dist_factory.wheel(name, "1.0")
    server = make_index()

    def pick(_name: object, versions: dict[Version, list[DistFile]]) -> list[DistFile]:
        return [f for f in versions[max(versions)] if f.is_wheel][:1] if versions else []

    deps = partial(dependencies_in, [TargetEnvironment.current()])
    finder = PackageFinder(_settings(tmp_path, server.url))
    try:
        finder.prefetch_graph([("top", frozenset())], pick, deps)
        deadline = time.monotonic() + 10
        while not server.count("/simple/quick/") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.count("/simple/quick/") == 1
        finder.prefetch_graph([("middle", frozenset({"safe"}))], pick, deps)
        while not server.count("/simple/slow/") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.count("/simple/slow/") == 1
    finally:
        finder.close()
    assert server.count("/simple/unrelated/") == 0
    assert server.count("/simple/middle/") == 1  # walked once, its extras each once


def test_a_walk_step_waits_for_every_page_it_was_sent_for() -> None:
    """(The step of a project on several indexes is queued once all its pages are in.)"""
    from concurrent.futures import Future

    from lockcheck.index.finder import _when_all

    calls: list[str] = []
    _when_all([], lambda: calls.append("none"))
    assert calls == ["none"]
    pages: list[Future[bool]] = [Future(), Future(), Future()]
    _when_all(pages, lambda: calls.append("all"))
    pages[0].set_result(True)
    pages[2].set_result(False)  # the helper could not: the step fetches it itself
    assert calls == ["none"]
    pages[1].set_result(True)
    assert calls == ["none", "all"]
