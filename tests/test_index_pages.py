"""Simple-API page parsing (PEP 503 HTML, PEP 691 JSON) and distribution file names."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from lockcheck.errors import IndexUnavailable
from lockcheck.index.filenames import is_archive, parse_filename
from lockcheck.index.pages import dist_files, link_from_url, parse_html, parse_json, parse_page

PAGE = "https://index.example/simple/foo-bar/"
SHA = "a" * 64
META_SHA = "b" * 64

HTML = f"""<!DOCTYPE html>
<html><body>
<a href="../../files/foo_bar-1.0-py3-none-any.whl#sha256={SHA}"
   data-requires-python="&gt;=3.8,&lt;4"
   data-core-metadata="sha256={META_SHA}">foo_bar-1.0-py3-none-any.whl</a>
<a href="https://cdn.example/f/Foo-Bar-1.0.tar.gz#md5=0123abcd" data-yanked="">x</a>
<a href="/files/foo_bar-0.9-py2.py3-none-any.whl" data-yanked="broken &amp; bad"
   data-dist-info-metadata="true">foo_bar-0.9</a>
<a href="foo_bar-0.8.tar.gz" data-requires-python="not a specifier">old</a>
<a href="foo_bar-0.7.egg">egg</a>
<a href="foo_bar-0.6.exe">installer</a>
<a href="other_project-1.0-py3-none-any.whl">other</a>
<a>no href</a>
</body></html>
"""


def test_html_page_links_hashes_and_attributes() -> None:
    links = parse_html(HTML, PAGE)
    assert [link.filename for link in links][:4] == [
        "foo_bar-1.0-py3-none-any.whl",
        "Foo-Bar-1.0.tar.gz",
        "foo_bar-0.9-py2.py3-none-any.whl",
        "foo_bar-0.8.tar.gz",
    ]
    wheel, sdist, old_wheel, old_sdist = links[:4]
    assert wheel.url == "https://index.example/files/foo_bar-1.0-py3-none-any.whl"
    assert wheel.hashes == {"sha256": SHA}
    assert wheel.requires_python == ">=3.8,<4"  # HTML-unescaped
    assert wheel.metadata_hashes == {"sha256": META_SHA}
    assert not wheel.yanked
    assert sdist.url == "https://cdn.example/f/Foo-Bar-1.0.tar.gz"
    assert sdist.hashes == {"md5": "0123abcd"}
    assert (sdist.yanked, sdist.yanked_reason, sdist.metadata_hashes) == (True, None, None)
    assert old_wheel.url == "https://index.example/files/foo_bar-0.9-py2.py3-none-any.whl"
    assert (old_wheel.yanked, old_wheel.yanked_reason) == (True, "broken & bad")
    assert old_wheel.metadata_hashes == {}  # "true": advertised, no hash
    assert old_sdist.url == PAGE + "foo_bar-0.8.tar.gz"


def test_dist_files_keep_only_the_projects_archives() -> None:
    files = dist_files(parse_html(HTML, PAGE), canonicalize_name("Foo.Bar"), "https://i/simple")
    assert [(f.filename, str(f.version), f.is_wheel) for f in files] == [
        ("foo_bar-1.0-py3-none-any.whl", "1.0", True),
        ("Foo-Bar-1.0.tar.gz", "1.0", False),
        ("foo_bar-0.9-py2.py3-none-any.whl", "0.9", True),
        ("foo_bar-0.8.tar.gz", "0.8", False),
    ]
    wheel = files[0]
    assert wheel.name == "foo-bar" and wheel.index == "https://i/simple"
    assert wheel.requires_python == SpecifierSet(">=3.8,<4")
    assert wheel.has_metadata_file and wheel.metadata_hashes == {"sha256": META_SHA}
    assert {str(t) for t in wheel.tags} == {"py3-none-any"}
    assert files[3].requires_python is None  # invalid: ignored, file kept (pip)
    assert files[1].hashes == {"md5": "0123abcd"}


def test_base_href_and_credentials_are_handled() -> None:
    html = (
        '<html><head><base href="https://mirror.example/pkgs/"></head>'
        '<a href="foo-1.0.tar.gz">foo</a>'
        '<a href="https://user:pw@private.example/f/foo-1.1.tar.gz#sha256=' + SHA + '">foo</a>'
    )
    links = parse_html(html, "https://user:pw@index.example/simple/foo/")
    assert [link.url for link in links] == [
        "https://mirror.example/pkgs/foo-1.0.tar.gz",
        "https://private.example/f/foo-1.1.tar.gz",
    ]
    relative = parse_html('<a href="foo-1.0.tar.gz">x</a>', "https://u:p@h/simple/foo/")
    assert relative[0].url == "https://h/simple/foo/foo-1.0.tar.gz"  # no password kept


def test_json_page() -> None:
    body = {
        "meta": {"api-version": "1.1"},
        "name": "foo-bar",
        "files": [
            {
                "filename": "foo_bar-1.0-py3-none-any.whl",
                "url": "../../files/foo_bar-1.0-py3-none-any.whl",
                "hashes": {"sha256": SHA.upper(), "blake2b_256": "c" * 64},
                "requires-python": ">=3.9",
                "core-metadata": {"sha256": META_SHA},
                "yanked": False,
                "size": 1234,
                "upload-time": "2024-01-01T00:00:00.000000Z",
            },
            {
                "filename": "foo_bar-0.9.tar.gz",
                "url": "https://files.example/foo_bar-0.9.tar.gz",
                "hashes": {},
                "dist-info-metadata": True,
                "yanked": "security issue",
            },
            {
                "filename": "foo_bar-0.8.tar.gz",
                "url": "https://files.example/foo_bar-0.8.tar.gz",
                "hashes": {},
                "core-metadata": False,
                "yanked": True,
            },
            {"filename": "not-a-dist.txt", "url": "x.txt", "hashes": {}},
        ],
    }
    links = parse_json(json.dumps(body), PAGE)
    files = dist_files(links, canonicalize_name("foo-bar"), "idx")
    assert [f.filename for f in files] == [
        "foo_bar-1.0-py3-none-any.whl",
        "foo_bar-0.9.tar.gz",
        "foo_bar-0.8.tar.gz",
    ]
    wheel, yanked_reason, yanked_plain = files
    assert wheel.url == "https://index.example/files/foo_bar-1.0-py3-none-any.whl"
    assert wheel.hashes["sha256"] == SHA  # lower-cased
    assert wheel.requires_python == SpecifierSet(">=3.9")
    assert wheel.metadata_hashes == {"sha256": META_SHA}
    assert (wheel.size, wheel.upload_time) == (1234, "2024-01-01T00:00:00.000000Z")
    assert (yanked_reason.yanked, yanked_reason.yanked_reason) == (True, "security issue")
    assert yanked_reason.metadata_hashes == {}
    assert (yanked_plain.yanked, yanked_plain.yanked_reason) == (True, None)
    assert yanked_plain.metadata_hashes is None


def test_content_type_dispatch_and_bad_json() -> None:
    html_links = parse_page(b'<a href="foo-1.0.tar.gz">x</a>', "text/html; charset=utf-8", PAGE)
    assert html_links[0].filename == "foo-1.0.tar.gz"
    json_body = b'{"files": [{"filename": "foo-1.0.tar.gz", "url": "foo-1.0.tar.gz"}]}'
    json_links = parse_page(json_body, "application/vnd.pypi.simple.v1+json", PAGE)
    assert json_links[0].url == PAGE + "foo-1.0.tar.gz"
    with pytest.raises(IndexUnavailable, match="invalid JSON"):
        parse_page(b"{not json", "application/vnd.pypi.simple.v1+json", PAGE)
    with pytest.raises(IndexUnavailable):
        parse_page(b'{"files": 3}', "application/vnd.pypi.simple.v1+json", PAGE)


def test_link_from_url_keeps_fragment_hash() -> None:
    link = link_from_url(f"https://u:p@h/x/pkg-1.0-py3-none-any.whl#sha256={SHA}")
    assert link.url == "https://h/x/pkg-1.0-py3-none-any.whl"
    assert (link.filename, link.hashes) == ("pkg-1.0-py3-none-any.whl", {"sha256": SHA})


@pytest.mark.parametrize(
    ("filename", "project", "expected"),
    [
        ("foo_bar-1.0-py3-none-any.whl", "foo-bar", ("foo-bar", "1.0", True)),
        ("Foo_Bar-1.0.tar.gz", "foo-bar", ("foo-bar", "1.0", False)),
        ("foo-bar-1.0.tar.gz", "foo-bar", ("foo-bar", "1.0", False)),  # legacy dashes
        ("foo-bar-1.0.tar.gz", None, ("foo-bar", "1.0", False)),
        ("foo-bar-1.0-dev.zip", "foo-bar", ("foo-bar", "1.0.dev0", False)),
        ("foo.bar-2.0.tar.bz2", "foo-bar", ("foo-bar", "2.0", False)),
        ("foo-bar-1.0.tar.gz", "foo", None),  # foo's page must not take foo-bar's files
        ("foo-1.0-py3-none-any.whl", "foo-bar", None),
        ("foo_bar-1.0-py2.7.egg", "foo-bar", None),
        ("foo_bar-1.0.win32.exe", "foo-bar", None),
        ("foo_bar-not.a.version.tar.gz", "foo-bar", None),
        ("foo_bar-1.0-invalid.whl", "foo-bar", None),
        ("foo_bar-1.0.txt", "foo-bar", None),
    ],
)
def test_parse_filename(
    filename: str, project: str | None, expected: tuple[str, str, bool] | None
) -> None:
    parsed = parse_filename(filename, canonicalize_name(project) if project else None)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert (parsed.name, str(parsed.version), parsed.is_wheel) == expected
        assert parsed.version == Version(expected[1])


def test_is_archive() -> None:
    assert is_archive("a-1.whl") and is_archive("a-1.tar.gz") and is_archive("A-1.ZIP")
    assert not is_archive("a-1.egg") and not is_archive("index.html")


def _keep_all(names: list[str]) -> set[str]:
    return set(names)


def _as_links(entries: list) -> list:
    from lockcheck.index.pages import load_link

    return [load_link(e) for e in entries]


def test_json_page_scanned_lazily_equals_the_full_parse() -> None:
    """With a keep filter, entries come back undecoded (PendingLink) and decode to exactly
    what the full parse gives; dropped entries are never decoded."""
    from lockcheck.index.pages import PendingLink

    files = [
        {
            "filename": f"foo_bar-{v}-py3-none-any.whl",
            "hashes": {"sha256": SHA},
            "requires-python": ">=3.8",
            "size": 10 + v,
            "upload-time": "2024-01-01T00:00:00Z",
            "url": f"https://files.example/foo_bar-{v}-py3-none-any.whl",
            "yanked": 'reason, with "quotes" and a } brace' if v == 2 else False,
        }
        for v in range(1, 6)
    ]
    body = json.dumps({"files": files, "meta": {"api-version": "1.1"}, "name": "foo-bar"})
    keep = {f"foo_bar-{v}-py3-none-any.whl" for v in (2, 3, 5)}
    lazy = parse_json(body.encode(), PAGE, lambda names: keep)
    assert any(isinstance(e, PendingLink) for e in lazy)
    full = [link for link in parse_json(body, PAGE) if link.filename in keep]
    assert _as_links(lazy) == full
    assert full[0].yanked_reason == 'reason, with "quotes" and a } brace'


def _spaced_page(versions: range | list[int], **dumps: object) -> bytes:
    files = [
        {
            "filename": f"foo_bar-{v}.tar.gz",
            "hashes": {"sha256": SHA},
            "url": f"https://files.example/foo_bar-{v}.tar.gz",
            "yanked": '{"filename": "quoted"}' if v == 2 else False,
        }
        for v in versions
    ]
    return json.dumps({"files": files, "meta": {"api-version": "1.1"}}, **dumps).encode()


@pytest.mark.parametrize(
    "dumps",
    [{}, {"separators": (",", ":")}, {"indent": 2}],
    ids=["as-pypi-writes-it", "compact", "indented"],
)
def test_json_pages_of_any_spacing_are_scanned_lazily(dumps: dict, monkeypatch) -> None:
    """PyPI's spacing is split at its entries' starts without the regex; other spacings
    take the regex; both give each kept entry undecoded, as the full parse reads it."""
    from lockcheck.index import jsonscan
    from lockcheck.index.pages import PendingLink

    body = _spaced_page(range(1, 6), **dumps)
    keep = {"foo_bar-2.tar.gz", "foo_bar-4.tar.gz", "foo_bar-5.tar.gz"}
    if not dumps:

        class _NoRegex:
            def finditer(self, *args: object) -> None:
                raise AssertionError("the regex was used on a page laid out as PyPI's")

        monkeypatch.setattr(jsonscan, "ENTRY_START", _NoRegex())
    lazy = parse_json(body, PAGE, lambda names: keep)
    assert isinstance(lazy[0], PendingLink)
    assert _as_links(lazy) == [link for link in parse_json(body, PAGE) if link.filename in keep]
    assert _as_links(lazy)[0].yanked_reason == '{"filename": "quoted"}'


@settings(max_examples=200, deadline=None)
@given(
    versions=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=60),
    kept_versions=st.sets(st.integers(min_value=0, max_value=30), max_size=8),
    compact=st.booleans(),
)
def test_any_few_or_many_entries_kept_are_the_ones_the_full_parse_reads(
    versions: list[int], kept_versions: set[int], compact: bool
) -> None:
    """Whatever is kept of a page (none, a few of many, all, the last entry, a name the
    page lists twice), the scan gives those entries, in page order, as the full parse
    reads them; and each entry's span is its text on the page."""
    dumps: dict = {"separators": (",", ":")} if compact else {}
    body = _spaced_page(versions, **dumps)  # type: ignore[arg-type]
    keep = {f"foo_bar-{v}.tar.gz" for v in kept_versions}
    spans: list[tuple[int, int]] = []
    lazy = parse_json(body, PAGE, lambda names: keep, spans)
    assert _as_links(lazy) == [link for link in parse_json(body, PAGE) if link.filename in keep]
    pending = [e for e in lazy if type(e).__name__ == "PendingLink"]
    assert [body[begin:end] for begin, end in spans] == [e.raw for e in pending]


def test_a_raw_newline_in_a_file_name_is_one_clean_error() -> None:
    """No JSON string holds a raw newline: such a page is invalid, and says so (the scan
    must not take the name for two)."""
    body = _spaced_page(range(1, 9)).replace(b"foo_bar-2.tar.gz", b"foo_bar-2\n.tar.gz", 1)
    with pytest.raises(IndexUnavailable, match="invalid JSON simple page"):
        parse_json(body, PAGE, lambda names: {"foo_bar-5.tar.gz"})


def test_a_json_page_of_mixed_spacing_is_scanned_whole() -> None:
    """Entries of two spacings on one page: every entry is still found (the plain split
    finds only some, and the regex takes over), none is lost."""
    from lockcheck.index.pages import PendingLink

    plain = _spaced_page(range(1, 4))
    compact = _spaced_page(range(4, 6), separators=(",", ":"))
    head, _, _ = plain.rpartition(b"]")
    entries = compact[compact.index(b"[") + 1 : compact.rindex(b"]")]
    body = head + b", " + entries + b"]" + plain[plain.rindex(b"]") + 1 :]
    lazy = parse_json(body, PAGE, _keep_all)
    assert all(isinstance(entry, PendingLink) for entry in lazy[:-1])  # scanned, not parsed
    assert [link.filename for link in _as_links(lazy)] == [
        f"foo_bar-{v}.tar.gz" for v in range(1, 6)
    ]
    assert _as_links(lazy) == parse_json(body, PAGE)


@pytest.mark.parametrize(
    "entry",
    [
        # an escaped file name, another key order, a missing file name
        {"filename": "foo_bar-1.0-py3-none-any.whl", "url": "a.whl"},
        {"url": "https://files.example/foo_bar-1.0.tar.gz", "filename": "foo_bar-1.0.tar.gz"},
        {"url": "https://files.example/foo_bar-1.0.tar.gz"},
    ],
)
def test_json_page_with_an_unusual_layout_is_parsed_in_full(entry: dict) -> None:
    body = json.dumps(
        {"files": [{"filename": "foo_bar-2.0.tar.gz", "url": "b.tar.gz"}, entry]},
        ensure_ascii=True,
    )
    # A file name written with a JSON escape cannot be read off the raw text.
    body = body.replace('"foo_bar-1.0-py3-none-any.whl"', '"foo_bar-1.0-py3-none-any.wh\\u006c"')
    lazy = parse_json(body.encode(), PAGE, _keep_all)
    assert _as_links(lazy) == parse_json(body, PAGE)
    assert len(lazy) == 2


def test_pending_link_with_broken_text_names_the_page() -> None:
    from lockcheck.index.pages import PendingLink

    with pytest.raises(IndexUnavailable, match="invalid JSON simple page"):
        PendingLink("foo-1.0.tar.gz", b'{"filename": "foo-1.0.tar.gz", "url": ', PAGE).load()


def _page_of(versions: range) -> bytes:
    files = [
        {"filename": f"foo-{v}.0.tar.gz", "hashes": {}, "url": f"foo-{v}.0.tar.gz"}
        for v in versions
    ]
    return json.dumps({"files": files, "meta": {"api-version": "1.1"}, "name": "foo"}).encode()


def test_json_page_cut_short_after_an_entry_is_refused() -> None:
    """Without the rest of the page the newest files would silently be missing."""
    body = _page_of(range(1, 41))
    cut = body[: body.index(b"}", body.index(b'"foo-30.0.tar.gz"')) + 1]
    with pytest.raises(IndexUnavailable, match="invalid JSON simple page"):
        parse_json(cut, PAGE, _keep_all)
    assert len(parse_json(body, PAGE, _keep_all)) == 40


def test_json_entry_named_only_by_its_url_is_kept() -> None:
    body = json.dumps(
        {
            "files": [
                {"filename": "foo-1.0.tar.gz", "url": "foo-1.0.tar.gz"},
                {"filename": "", "url": "https://files.example/foo-2.0.tar.gz"},
            ]
        }
    ).encode()
    links = _as_links(parse_json(body, PAGE, _keep_all))
    assert [link.filename for link in links] == ["foo-1.0.tar.gz", "foo-2.0.tar.gz"]
