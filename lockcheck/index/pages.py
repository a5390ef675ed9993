"""Simple-API pages: PEP 691 JSON and PEP 503 HTML into links, links into DistFiles.

A page is parsed once into :class:`Link` objects (any project's files); :func:`dist_files`
then keeps one project's wheels and sdists.  That split lets a find-links HTML page that
lists many projects be parsed once per run.  Relative URLs resolve against the page's final
URL (after redirects) or its ``<base href>``; credentials are dropped from file URLs (the
HTTP layer re-applies them per host) so a DistFile never carries a password.
"""

from __future__ import annotations

import functools
import hashlib
import json
import posixpath
import urllib.parse
from collections.abc import Callable, Container, Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName

from lockcheck.errors import IndexUnavailable
from lockcheck.index.filenames import parse_filename
from lockcheck.index.jsonscan import scan_entries
from lockcheck.index.urls import split_credentials, strip_fragment
from lockcheck.models import DistFile

_NO_HASHES: Mapping[str, str] = MappingProxyType({})
_T = TypeVar("_T")

__all__ = [
    "Link",
    "PendingLink",
    "dist_files",
    "filename_of",
    "link_from_url",
    "load_link",
    "parse_html",
    "parse_json",
    "parse_page",
]

#: Hash names pip accepts in ``#<name>=<hex>`` fragments.
_FRAGMENT_HASHES = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512"})


class Link(NamedTuple):
    """One file entry of a page, before it is matched to a project.

    A tuple, not a dataclass: big projects list thousands of files and most are never looked
    at again, so the entry that waits costs as little memory as possible.
    """

    url: str
    filename: str
    hashes: Mapping[str, str] = _NO_HASHES
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    metadata_hashes: Mapping[str, str] | None = None
    size: int | None = None
    upload_time: str | None = None


def _clean_hashes(hashes: dict) -> bool:
    """PEP 691 writes hash names and hex digests as plain strings; PyPI's are lower case
    already, so its dict is used as it is (an upper-case digest is normalised instead)."""
    return all(
        type(k) is str and k.islower() and type(v) is str and v and v.islower()
        for k, v in hashes.items()
    )


def _fast(cls: type[_T], values: dict[str, object]) -> _T:
    """Build a frozen dataclass without its per-field ``object.__setattr__`` calls.

    Pages list thousands of files; a frozen dataclass's ``__init__`` costs several times a
    dict update, and every field is given here, so the result is the same object.
    """
    obj = cls.__new__(cls)
    obj.__dict__.update(values)
    return obj


def _clean_url(url: str) -> tuple[str, dict[str, str]]:
    """(absolute URL without credentials and fragment, hashes from the fragment)."""
    if "#" not in url and "@" not in url:
        return url, {}  # the common PEP 691 case: nothing to strip
    base, fragment = strip_fragment(url)
    hashes = {
        name.lower(): value.lower()
        for name, value in urllib.parse.parse_qsl(fragment)
        if name.lower() in _FRAGMENT_HASHES and value
    }
    return split_credentials(base)[0], hashes


def filename_of(url: str) -> str:
    """The unquoted last path component of *url* (what pip calls the link's filename)."""
    return urllib.parse.unquote(posixpath.basename(urllib.parse.urlsplit(url).path))


def link_from_url(url: str) -> Link:
    """A Link for a bare file URL (find-links entry, direct reference): fragment hashes kept."""
    clean, hashes = _clean_url(url)
    return Link(url=clean, filename=filename_of(clean), hashes=hashes)


def _metadata_attr(value: str | None) -> Mapping[str, str] | None:
    """``data-core-metadata`` / ``data-dist-info-metadata``: "true" or "<hash>=<hex>"."""
    if value is None:
        return None
    value = value.strip()
    if value.lower() == "true" or value == "":
        return {}
    name, sep, digest = value.partition("=")
    if sep and digest:
        return {name.strip().lower(): digest.strip().lower()}
    if value.lower() == "false":
        return None
    return {}


def _metadata_json(value: object) -> Mapping[str, str] | None:
    if value is True:
        return {}
    if isinstance(value, Mapping):
        return {str(k).lower(): str(v).lower() for k, v in value.items()}
    return None


def parse_html(text: str, page_url: str) -> list[Link]:
    """Links of a PEP 503 page (attribute values arrive HTML-unescaped from html.parser)."""
    from lockcheck.index.anchors import read_anchors  # html.parser: only for HTML pages

    page_base, anchors = read_anchors(text)
    base = urllib.parse.urljoin(page_url, page_base) if page_base else page_url
    links = []
    for attrs in anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, hashes = _clean_url(urllib.parse.urljoin(base, href.strip()))
        if "data-yanked" in attrs:
            yanked, reason = True, attrs["data-yanked"] or None
        else:
            yanked, reason = False, None
        core = attrs.get("data-core-metadata")
        if core is None:
            core = attrs.get("data-dist-info-metadata")
        links.append(
            Link(
                url=url,
                filename=filename_of(url),
                hashes=hashes,
                requires_python=attrs.get("data-requires-python") or None,
                yanked=yanked,
                yanked_reason=reason,
                metadata_hashes=_metadata_attr(core),
            )
        )
    return links


def _json_link(entry: object, page_url: str) -> Link | None:
    """One PEP 691 file entry as a Link (None: not a usable entry)."""
    if not isinstance(entry, Mapping) or not entry.get("url"):
        return None
    raw_url = str(entry["url"])
    if not raw_url.startswith(("https://", "http://")):
        raw_url = urllib.parse.urljoin(page_url, raw_url)
    url, fragment_hashes = _clean_url(raw_url)
    raw_hashes = entry.get("hashes")
    if not fragment_hashes and type(raw_hashes) is dict and _clean_hashes(raw_hashes):
        hashes = raw_hashes  # the page's own dict: already lower-case, nothing to add
    else:
        hashes = dict(fragment_hashes)
        if isinstance(raw_hashes, Mapping):
            hashes.update({str(k).lower(): str(v).lower() for k, v in raw_hashes.items() if v})
    yanked_value = entry.get("yanked", False)
    yanked = bool(yanked_value) or isinstance(yanked_value, str)
    reason = yanked_value if isinstance(yanked_value, str) and yanked_value else None
    core = entry.get("core-metadata", entry.get("dist-info-metadata"))
    size = entry.get("size")
    requires_python = entry.get("requires-python")
    upload_time = entry.get("upload-time")
    return Link(
        url,
        str(entry.get("filename") or filename_of(url)),
        hashes,
        requires_python if isinstance(requires_python, str) else None,
        yanked,
        reason,
        _metadata_json(core) if core else None,
        size if isinstance(size, int) else None,
        upload_time if isinstance(upload_time, str) else None,
    )


class PendingLink(NamedTuple):
    """A JSON page entry kept as its raw text and decoded only when its version is looked at.

    A resolution reads one or two versions of a project whose page lists thousands of
    files: decoding every entry up front was a fifth of a cold compile's CPU time, and the
    raw text of an entry is smaller than the objects it decodes into.
    """

    filename: str
    raw: bytes
    page_url: str

    def load(self) -> Link | None:
        """The entry as a Link (None: not a usable entry); raises IndexUnavailable if the
        text does not decode."""
        try:
            entry, _end = _DECODER.raw_decode(self.raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise IndexUnavailable(
                f"invalid JSON simple page {self.page_url}: {exc}", url=self.page_url
            ) from exc
        return _json_link(entry, self.page_url)


def load_link(link: Link | PendingLink) -> Link | None:
    """A Link whichever form the page entry is in."""
    return link.load() if type(link) is PendingLink else link  # type: ignore[return-value]


_DECODER = json.JSONDecoder()


def _scan_json(
    body: bytes,
    page_url: str,
    keep: Callable[[list[str]], Container[str]],
    spans: list[tuple[int, int]] | None = None,
    texts: bool = True,
) -> list[Link | PendingLink] | None:
    """The kept entries of a JSON page found without decoding the page; None when the page
    is not laid out so that this is certain (then it is decoded as a whole).  Not *texts*:
    the pending entries hold no text (*spans* says where it is)."""
    head = body[:64].lstrip()
    if not head.startswith(b"{"):
        return None
    entries = scan_entries(body)
    if entries is None:
        return None
    names = entries.names
    if "" in names:
        return None  # an entry named only by its URL: the exact way
    last = len(names) - 1
    last_entry = _last_entry(body, entries.last_start())  # also: does the page end whole?
    wanted = entries.indexes_of(keep(names))
    ending = wanted[-1:] == [last]
    pending = wanted[:-1] if ending else wanted
    found = entries.spans(pending)
    if found is None:
        return None
    if texts or spans is None:
        links: list[Link | PendingLink] = [
            PendingLink(names[i], body[begin:end], page_url)
            for i, (begin, end) in zip(pending, found, strict=True)
        ]
    else:  # (a copy of most of a big page, for a caller that only stores where each is)
        links = [PendingLink(names[i], b"", page_url) for i in pending]
    if spans is not None:
        spans.extend(found)
    if ending:
        link = _json_link(last_entry, page_url)
        if link is not None:
            links.append(link)
    return links


class _Unscannable(Exception):
    """The page does not end as a whole PEP 691 page does."""


def _last_entry(body: bytes, begin: int) -> object:
    """Decode the page's last entry and check that the rest closes the page: a body cut
    short right after an entry must not pass for a page without the newest files."""
    text = body[begin:].decode("utf-8")
    entry, end = _DECODER.raw_decode(text)
    rest = text[end:].lstrip()
    if not rest.startswith("]"):
        raise _Unscannable("no end of the file list")
    tail = json.loads('{"files": []' + rest[1:])
    if not isinstance(tail, dict):
        raise _Unscannable("no end of the page")
    return entry


def parse_json(
    data: str | bytes | Mapping[str, object],
    page_url: str,
    keep: Callable[[list[str]], Container[str]] | None = None,
    spans: list[tuple[int, int]] | None = None,
    texts: bool = True,
) -> list[Link] | list[Link | PendingLink]:
    """Links of a PEP 691 JSON page.

    *keep*, given every file name of the page, says which entries to return (the finder
    keeps a project's newest versions and comes back for the rest only when asked); with
    it, entries may come back as :class:`PendingLink` (see :func:`load_link`), and
    *spans* gets (begin, end) in *data* of each, in order.  Not *texts* (with *spans*):
    those entries hold no text, for a caller that stores where each is, not the links.
    """
    if keep is not None and isinstance(data, bytes):
        try:
            scanned = _scan_json(data, page_url, keep, spans, texts)
        except (ValueError, UnicodeDecodeError, _Unscannable):
            scanned = None
            if spans is not None:
                spans.clear()  # the exact parse below says what is wrong
        if scanned is not None:
            return scanned
    try:
        page = json.loads(data) if isinstance(data, (str, bytes)) else data
        files = page.get("files", [])  # type: ignore[union-attr]
        if not isinstance(files, list):
            raise TypeError("'files' is not a list")
    except (ValueError, TypeError, AttributeError) as exc:
        raise IndexUnavailable(f"invalid JSON simple page {page_url}: {exc}", url=page_url) from exc
    kept: Container[str] | None = None
    if keep is not None:
        kept = keep([str(e.get("filename") or "") for e in files if isinstance(e, Mapping)])
    links = []
    for entry in files:
        if kept is not None and isinstance(entry, Mapping):
            filename = entry.get("filename")
            if filename and filename not in kept:
                continue
        link = _json_link(entry, page_url)
        if link is not None:
            links.append(link)
    return links


def parse_page(
    body: bytes | str,
    content_type: str,
    page_url: str,
    keep: Callable[[list[str]], Container[str]] | None = None,
    spans: list[tuple[int, int]] | None = None,
    texts: bool = True,
) -> list[Link] | list[Link | PendingLink]:
    """Dispatch on the Content-Type: JSON for ``*json``, HTML otherwise (*keep*, *spans*,
    *texts*: JSON only)."""
    if "json" in content_type.lower():
        return parse_json(body, page_url, keep, spans, texts)
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    return parse_html(text, page_url)


@functools.lru_cache(maxsize=4096)
def _specifier(value: str | None) -> SpecifierSet | None:
    """Shared per distinct string: thousands of files repeat a handful of values."""
    if not value:
        return None
    try:
        return SpecifierSet(value)
    except InvalidSpecifier:
        # pip ignores an invalid Requires-Python on a link and keeps the link.
        return None


_ALGORITHMS = frozenset(hashlib.algorithms_available)


def dist_files(links: Iterable[Link], project: NormalizedName, index: str) -> list[DistFile]:
    """The wheels and sdists of *project* among *links*, in page order."""
    files = []
    for link in links:
        parsed = parse_filename(link.filename, project)
        if parsed is None:
            continue
        hashes = link.hashes
        if any(k not in _ALGORITHMS for k in hashes):
            hashes = {k: v for k, v in hashes.items() if k in _ALGORITHMS}
        files.append(
            _fast(
                DistFile,
                {
                    "filename": link.filename,
                    "url": link.url,
                    "name": parsed.name,
                    "version": parsed.version,
                    "is_wheel": parsed.is_wheel,
                    "hashes": hashes,
                    "requires_python": _specifier(link.requires_python),
                    "yanked": link.yanked,
                    "yanked_reason": link.yanked_reason,
                    "metadata_hashes": link.metadata_hashes,
                    "size": link.size,
                    "upload_time": link.upload_time,
                    "index": index,
                    "tags": parsed.tags,
                },
            )
        )
    return files
