"""Lazily built project files: only looked-at versions become DistFiles, order is kept."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from lockcheck.index.filenames import parse_filename
from lockcheck.index.pages import Link
from lockcheck.index.projectfiles import ProjectFiles


def _links(*names: str) -> list[tuple[Link, str]]:
    return [(Link(f"https://files.example/{n}", n, {"sha256": "ab" * 32}), "idx") for n in names]


def test_versions_are_built_on_demand_in_page_order():
    files = ProjectFiles(
        "pkg",
        _links(
            "pkg-1.0.tar.gz",
            "pkg-2.0-py3-none-any.whl",
            "pkg-1.0-py3-none-any.whl",
            "other-1.0-py3-none-any.whl",  # a find-links directory lists every project
            "pkg-2.0.tar.gz",
            "pkg-3.0-py36+-none-any.whl",  # an invalid tag: skipped, as pip does
        ),
    )
    groups = files.by_version()
    assert set(groups) >= {Version("1.0"), Version("2.0")}
    assert files._built == {}  # listing the versions built nothing
    assert [f.filename for f in groups[Version("2.0")]] == [
        "pkg-2.0-py3-none-any.whl",
        "pkg-2.0.tar.gz",
    ]
    assert set(files._built) == {Version("2.0")}
    assert [f.filename for f in files] == [
        "pkg-1.0.tar.gz",
        "pkg-2.0-py3-none-any.whl",
        "pkg-1.0-py3-none-any.whl",
        "pkg-2.0.tar.gz",
    ]
    assert len(files) == 4 and files[0].filename == "pkg-1.0.tar.gz"


def test_invalid_wheel_tags_are_not_an_error():
    assert parse_filename("pydantic-0.18-py36+-none-any.whl", "pydantic") is None


def test_big_pages_keep_newest_versions_and_read_older_ones_on_demand(make_index):
    from lockcheck.index.finder import PackageFinder
    from lockcheck.index.settings import IndexSettings
    from lockcheck.index.sources import NEWEST_VERSIONS
    from tests.fixtures.builders import PackageSpec as P

    count = NEWEST_VERSIONS + 6
    server = make_index([P("many", f"1.{i}") for i in range(count)])
    with PackageFinder(IndexSettings(index_url=server.url)) as finder:
        groups = finder.project_versions("many")
        assert len(groups) == count  # every version is known ...
        files = finder._project("many")
        assert len(files._buckets) == NEWEST_VERSIONS  # ... only the newest were kept
        pages_before = server.count("/simple/many/")
        oldest = groups[Version("1.0")]  # an old pin: the page is read again, once
        assert [f.filename for f in oldest] == ["many-1.0-py3-none-any.whl"]
        assert len(files._buckets) == count
        assert len(finder.project_files("many")) == count
        assert server.count("/simple/many/") <= pages_before + 1


def test_versions_are_whole_while_another_thread_reads_unread_entries():
    """The resolver asks for a project's versions while the prefetch threads read some of
    them: every version is listed every time, and listing them never fails (it raised
    "dictionary changed size during iteration", and could miss a version being read)."""
    import threading

    from tests.helpers import threads_switching_often

    count = 200
    versions = [Version(f"1.{i}") for i in range(count)]

    def entries_of(version: Version):
        return lambda: _links(f"pkg-{version}-py3-none-any.whl")

    failures: list[str] = []
    with threads_switching_often():
        for _ in range(5):
            files = ProjectFiles(
                "pkg",
                (),
                unread={v: entries_of(v) for v in versions},
                order=lambda: [(v, 0) for v in versions],
            )
            done = threading.Event()

            def read_all(files=files, done=done):
                for version in versions:
                    files.files_of(version)
                done.set()

            reader = threading.Thread(target=read_all)
            reader.start()
            while not done.is_set():
                try:
                    listed = files.versions()
                except RuntimeError as exc:
                    failures.append(repr(exc))
                    break
                if len(listed) != count:
                    failures.append(f"{count - len(listed)} versions missing")
                    break
            reader.join()
    assert failures == []


def test_a_listing_that_reads_the_page_again_lists_the_new_entries():
    """Entries that cannot be read any more (another run rewrote the cached page) make the
    page be read again; a listing that met that part-way lists the new page, not the old
    order's positions in the new buckets."""
    from lockcheck.index.projectfiles import UnreadableEntries

    old, new = Version("1.0"), Version("2.0")

    def reread():
        return ProjectFiles(
            "pkg",
            _links(
                "pkg-1.0-py3-none-any.whl", "pkg-1.0.tar.gz", "pkg-2.0.tar.gz", "pkg-3.0.tar.gz"
            ),
        )

    def unreadable():
        raise UnreadableEntries("the entry changed")

    files = ProjectFiles(
        "pkg",
        (),
        unread={old: lambda: _links("pkg-1.0.tar.gz"), new: unreadable},
        order=lambda: [(old, 0), (new, 0)],
        reread=reread,
    )
    assert [f.filename for f in files] == [
        "pkg-1.0-py3-none-any.whl",
        "pkg-1.0.tar.gz",
        "pkg-2.0.tar.gz",
        "pkg-3.0.tar.gz",
    ]


_NAMES = st.sampled_from(
    [
        f"pkg-{version}{suffix}"
        for version in ("1.0", "1.0.0", "2.0", "2.0rc1")
        for suffix in ("-py3-none-any.whl", "-py2.py3-none-any.whl", ".tar.gz", ".zip")
    ]
    + ["other-1.0.tar.gz", "pkg-1.0-py36+-none-any.whl", "pkg_extra-2.0.tar.gz"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_NAMES, max_size=12), min_size=2, max_size=3))
def test_a_project_listed_by_several_sources_is_merged_as_one_listing(sources):
    """Merging version by version (entries read when a version is looked at) lists what
    one merge of the whole listings does: each file once, from the first source listing it,
    in listing order, with the same files for every version."""
    from lockcheck.index.mergedlisting import MergedListing

    listed = [(f"idx{i}", [link for link, _ in _links(*names)]) for i, names in enumerate(sources)]
    seen: set[str] = set()
    whole = []
    for label, links in listed:
        for link in links:
            if link.filename not in seen:
                seen.add(link.filename)
                whole.append((link, label))
    eager = ProjectFiles("pkg", whole)
    merged = MergedListing("pkg", listed)
    lazy = ProjectFiles("pkg", (), unread=merged.unread(), order=merged.order)
    assert lazy.versions() == eager.versions()
    for version in eager.versions():
        assert [(f.filename, f.index) for f in lazy.files_of(version)] == [
            (f.filename, f.index) for f in eager.files_of(version)
        ]
    assert [(f.filename, f.index) for f in lazy] == [(f.filename, f.index) for f in eager]


def test_newest_first_lists_every_version_and_follows_a_page_read_again():
    """The versions newest first, kept, unread and only known alike, sorted once per
    listing: a page read again (with a new release) is sorted again."""
    from lockcheck.index.projectfiles import UnreadableEntries

    def unreadable():
        raise UnreadableEntries("the entry changed")

    def reread():
        return ProjectFiles("pkg", _links("pkg-1.0.tar.gz", "pkg-2.0.tar.gz", "pkg-3.0.tar.gz"))

    files = ProjectFiles(
        "pkg",
        _links("pkg-1.10.tar.gz"),
        known_versions=[Version("0.9")],
        unread={Version("2.0"): unreadable, Version("1.0"): lambda: _links("pkg-1.0.tar.gz")},
        order=lambda: [],
        reread=reread,
    )
    groups = files.by_version()
    assert groups.newest_first() == [Version(v) for v in ("2.0", "1.10", "1.0", "0.9")]
    assert groups.newest_first() is groups.newest_first()  # sorted once
    assert [f.filename for f in groups[Version("1.0")]] == ["pkg-1.0.tar.gz"]
    assert groups.newest_first() == [Version(v) for v in ("2.0", "1.10", "1.0", "0.9")]
    assert [f.filename for f in groups[Version("2.0")]] == ["pkg-2.0.tar.gz"]  # read again
    assert groups.newest_first() == [Version(v) for v in ("3.0", "2.0", "1.0", "0.9")]
    assert set(groups.newest_first()) == files.versions()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["1.0", "1.0.0", "1.1", "1.10", "2.0rc1", "2.0"]), max_size=6))
def test_newest_first_takes_the_kept_entries_spelling_of_equal_versions(known):
    """Whatever order the known versions come in, the listing is sorted; of equal versions
    ("1.0", "1.0.0") the one a kept entry's file name spells is listed."""
    files = ProjectFiles(
        "pkg", _links("pkg-1.0.tar.gz"), known_versions=[Version(v) for v in known]
    )
    newest = files.newest_first()
    assert newest == sorted({Version("1.0"), *map(Version, known)}, reverse=True)
    assert [str(v) for v in newest if v == Version("1.0")] == ["1.0"]


def test_a_packed_page_lists_its_versions_in_the_order_packed():
    """pack_page keeps the versions in the order given (a page filter gives them newest
    first) and each version's entries are listed in that order."""
    from lockcheck.index.packedpage import PackedPage, pack_page

    links = [link for link, _ in _links("pkg-1.0.tar.gz", "pkg-2.0.tar.gz", "pkg-1.5.tar.gz")]
    newest_first = [Version("2.0"), Version("1.5"), Version("1.0"), Version("0.1")]
    packed = pack_page("pkg", 24, links, [], 0, versions=newest_first, kept={}, dropped=True)
    page = PackedPage(packed, "https://idx.example/simple/pkg/", "pkg", 24, lambda *a: None)
    assert page.versions == newest_first
    assert list(page.groups()) == newest_first[:3]


_VERSIONS = st.lists(
    st.sampled_from(["1.0", "1.0.0", "1.1", "1.10", "2.0rc1", "2.0", "2.0.post1", "3.0.dev0"]),
    max_size=8,
)
_SPECIFIERS = st.sampled_from(["", ">=1.1", "<2", "!=1.10", "==1.*", ">=2.0rc1"])


@settings(max_examples=200, deadline=None)
@given(_VERSIONS, _SPECIFIERS, st.booleans())
def test_admitted_versions_of_a_listing_are_those_of_a_sort(versions, spec, pre):
    """Filtering the listing's presorted versions gives what sorting the filtered ones
    gives."""
    from packaging.specifiers import SpecifierSet

    from lockcheck.resolve.candidates import admitted_versions

    files = ProjectFiles("pkg", _links(*(f"pkg-{v}.tar.gz" for v in versions)))
    specifier = SpecifierSet(spec)
    groups = files.by_version()
    expected = sorted(specifier.filter(set(groups), prereleases=pre or None), reverse=True)
    assert admitted_versions(groups, specifier, allow_prereleases=pre) == expected


# -- filename_versions: one page's names at once, the same answers -------------------------

_SDIST_NAMES = st.lists(
    st.sampled_from(
        [
            f"{spelling}-{version}{suffix}"
            for spelling in ("pkg-name", "pkg_name", "Pkg.Name", "pkg--name", "pkg", "pkg-name-x")
            for version in ("1.0", "2.0rc1", "", "nope", "1.0-1", "name-1.0")
            for suffix in (".tar.gz", ".zip", ".TAR.GZ", "-py3-none-any.whl")
        ]
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(_SDIST_NAMES)
def test_a_pages_names_get_the_versions_filename_version_gives_each(names: list[str]) -> None:
    """The shortcut for sdists that spell the project's name as an earlier one did must
    not change any answer, whatever the spellings, separators and version texts."""
    from lockcheck.index.projectfiles import filename_version, filename_versions

    for project in ("pkg-name", "pkg"):
        assert list(filename_versions(names, project)) == [
            (name, filename_version(name, project)) for name in names
        ]


_WHEEL_TAILS = st.sampled_from(
    [
        "py3-none-any",
        "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp311-cp311-win_amd64",
        "cp39-cp39-macosx_11_0_arm64",
        "1-cp311-cp311-win_amd64",  # a build tag
        "py36+-none-any",  # an invalid tag: no file at all
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(
                lambda v, t: f"pkg-{v}-{t}.whl", st.sampled_from(["1.0", "2.0"]), _WHEEL_TAILS
            ),
            st.sampled_from(["pkg-1.0.tar.gz", "pkg-2.0.zip", "other-1.0-py3-none-any.whl"]),
        ),
        max_size=12,
        unique=True,
    ),
    st.sets(_WHEEL_TAILS),
    st.booleans(),
)
def test_files_but_wheels_refused_are_files_of_less_those_wheels(names, refused, built_first):
    """The same files as files_of less the wheels refused by name, in page order; the
    refused ones are never decoded (their entries here are not JSON at all), unless every
    file of the version was built already."""
    from lockcheck.index.pages import PendingLink

    def refuse(filename: str) -> bool:
        return not any(filename.endswith(f"-{tail}.whl") for tail in refused)

    def entry(name: str) -> tuple[PendingLink, str]:
        url = f"https://files.example/{name}"
        raw = (
            b"not json"
            if not refuse(name)
            else f'{{"url": "{url}", "filename": "{name}"}}'.encode()
        )
        return PendingLink(name, raw, "https://idx.example/simple/pkg/"), "idx"

    decodable = ProjectFiles("pkg", _links(*names))
    narrowed = ProjectFiles("pkg", [entry(n) for n in names])
    for version in sorted(decodable.versions()):
        expected = [
            f.filename for f in decodable.files_of(version) if not f.is_wheel or refuse(f.filename)
        ]
        if built_first:
            narrowed = ProjectFiles("pkg", _links(*names))
            narrowed.files_of(version)
        got = narrowed.files_but_wheels_refused(version, refuse)
        assert [f.filename for f in got] == expected
        assert narrowed.files_but_wheels_refused(version, refuse) == got  # kept


def test_a_wheel_name_check_answers_as_the_tags_do():
    """A wheel is refused by name exactly when none of its tags is supported; a name that
    is no wheel name of 5 or 6 parts is never refused (the full parse decides)."""
    from packaging.tags import Tag

    from lockcheck.index.filenames import parse_filename
    from lockcheck.resolve.environment import TargetEnvironment

    env = TargetEnvironment.for_python("3.11")
    check = env.wheel_name_check
    assert check is env.wheel_name_check  # one per environment: it keys what is kept
    names = [
        "pkg-1.0-py3-none-any.whl",
        "pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "pkg-1.0-cp311-cp311-win_amd64.whl",
        "pkg-1.0-cp310-cp310-manylinux_2_17_x86_64.whl",
        "pkg-1.0-1-py2.py3-none-any.whl",
        "pkg-1.0-PY3-NONE-ANY.whl",
        "pkg-1.0-cp311-abi3-macosx_11_0_arm64.whl",
    ]
    for name in names:
        tags = parse_filename(name, "pkg").tags  # type: ignore[union-attr]
        assert check(name) == any(t in env.tag_priority for t in tags), name
    assert Tag("py3", "none", "any") in env.tag_priority
    assert check("pkg-1.0-py36+-none-any.whl")  # unreadable: left to the full parse
    assert check("pkg-py3-none-any.whl")  # four parts
