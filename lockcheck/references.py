"""Direct references: the one place that decides what kind of link a requirement names.

A requirement may name a link instead of (or besides) a version: ``-e ./pkg``,
``name @ https://host/name-1.0.tar.gz``, ``./dist/name-1.0-py3-none-any.whl``,
``git+https://host/repo@v1#egg=name``.  Inputs, the resolver, both lock formats, check and
sync each need to know which kind it is (a VCS checkout, an archive, a local source tree or
some other URL), whether pip-compile would hash it and how to show it without its secrets.
:class:`DirectReference` parses the link once and answers all of those, with pip's rules
(``pip._internal.models.link.Link``, ``pip._internal.vcs``), so every stage agrees.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lockcheck.errors import redact_url
from lockcheck.index.filenames import SDIST_EXTENSIONS
from lockcheck.index.urls import url_to_path

__all__ = [
    "ARCHIVE_EXTENSIONS",
    "VCS_NAMES",
    "DirectReference",
    "ReferenceKind",
    "is_url",
    "url_scheme",
]

#: ``vcs`` (a repository at a ref), ``archive`` (a wheel or sdist, local or remote), ``dir``
#: (a local source tree) or ``url`` (a remote URL that names no archive).
ReferenceKind = Literal["vcs", "archive", "dir", "url"]

#: The version control systems pip knows, as spelled before the ``+`` of a VCS URL.
VCS_NAMES = ("git", "hg", "svn", "bzr")
# pip's VcsSupport: the bare schemes it registers, then each backend's own.
_VCS_SCHEMES = (
    "ssh", "git", "hg", "bzr", "sftp", "svn",
    "git+http", "git+https", "git+ssh", "git+git", "git+file",
    "hg+file", "hg+http", "hg+https", "hg+ssh", "hg+static-http",
    "svn+ssh", "svn+http", "svn+https", "svn+svn", "svn+file",
    "bzr+http", "bzr+https", "bzr+ssh", "bzr+sftp", "bzr+ftp", "bzr+lp", "bzr+file",
)  # fmt: skip
# pip's is_url(): what a requirement line may start with to be read as a URL.
_URL_SCHEMES = frozenset(("http", "https", "file", "ftp", *_VCS_SCHEMES))
#: File name endings of the archives pip installs from (wheels and sdists).
ARCHIVE_EXTENSIONS = (".whl", *SDIST_EXTENSIONS)
_HASH_NAMES = ("sha256", "sha384", "sha512", "md5")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def url_scheme(text: str) -> str:
    """The lower-cased scheme of *text* (``""`` when none), read as urllib reads it but
    without urllib's validation of the host: a malformed host is reported where the URL is
    used."""
    match = _SCHEME_RE.match(text.lstrip())
    return match.group(1).lower() if match else ""


def is_url(text: str) -> bool:
    """pip's ``is_url``: *text* starts with a scheme pip reads as a URL (``http``, ``file``,
    ``git+https`` ...), so ``C:\\pkg`` and ``name @ url`` are not URLs."""
    return url_scheme(text) in _URL_SCHEMES


@dataclass(frozen=True)
class DirectReference:
    """A link as written in an input or a lock, and what kind of link it is.

    The kind is decided from the text alone, as pip's ``Link`` decides it; only
    :meth:`is_dir` looks at the file system, for a local path that exists.
    """

    #: The link exactly as written (credentials, ``@ref`` and ``#fragment`` included).
    link: str
    kind: ReferenceKind
    #: Lower-cased scheme (``https``, ``file``, ``git+ssh``); ``""`` for a path.
    scheme: str
    #: The link without its ``#fragment``.
    location: str
    #: The ``#fragment``'s parameters (``egg``, ``subdirectory``, hashes).
    params: Mapping[str, str]

    @classmethod
    def parse(cls, link: str) -> DirectReference:
        scheme = url_scheme(link)
        location, _, fragment = link.partition("#")
        params = dict(urllib.parse.parse_qsl(fragment)) if fragment else {}
        kind: ReferenceKind
        if "+" in scheme and scheme.split("+", 1)[0] in VCS_NAMES:
            kind = "vcs"
        elif _path_of(location, scheme).lower().endswith(ARCHIVE_EXTENSIONS):
            kind = "archive"
        elif _names_a_url(link, scheme) and scheme != "file":
            kind = "url"
        else:
            kind = "dir"
        return cls(link, kind, scheme, location, params)

    @property
    def is_url(self) -> bool:
        """A URL rather than a path: a scheme pip reads as one, or any ``scheme://``."""
        return _names_a_url(self.link, self.scheme)

    @property
    def is_remote(self) -> bool:
        """Fetched over HTTP(S) (not a local file, not a VCS checkout)."""
        return self.scheme in ("http", "https")

    @property
    def is_local(self) -> bool:
        """A path or a ``file:`` URL."""
        return self.scheme == "file" or not self.is_url

    @property
    def vcs(self) -> str | None:
        """``git``, ``hg``, ``svn`` or ``bzr`` for a VCS link, else None."""
        return self.scheme.split("+", 1)[0] if self.kind == "vcs" else None

    @property
    def repository(self) -> tuple[str, str | None]:
        """(repository URL, requested ref) of a VCS link: ``git+https://h/r@v1#egg=x`` is
        (``https://h/r``, ``v1``)."""
        parts = urllib.parse.urlsplit(self.location.partition("+")[2])
        path, ref = parts.path, None
        if "@" in path:
            path, _, ref = path.rpartition("@")
        return urllib.parse.urlunsplit(parts._replace(path=path)), ref or None

    @property
    def filename(self) -> str:
        """The last segment of the path (unquoted), e.g. ``name-1.0.tar.gz``."""
        path = _path_of(self.location, self.scheme).replace("\\", "/").rstrip("/")
        return urllib.parse.unquote(path.rsplit("/", 1)[-1])

    @property
    def archive(self) -> Literal["wheel", "sdist"] | None:
        """Which archive an ``archive`` link names."""
        if self.kind != "archive":
            return None
        return "wheel" if self.filename.lower().endswith(".whl") else "sdist"

    @property
    def hashable(self) -> bool:
        """Whether pip-compile writes ``--hash`` lines for it: every file it downloads or
        reads, never a VCS checkout or a source tree (pip-tools' ``get_hashes``)."""
        return self.kind in ("archive", "url")

    @property
    def subdirectory(self) -> str | None:
        return self.params.get("subdirectory") or None

    @property
    def hashes(self) -> dict[str, str]:
        """Hashes the ``#fragment`` gives (``#sha256=<hex>``), by algorithm."""
        return {name: self.params[name] for name in _HASH_NAMES if self.params.get(name)}

    @property
    def redacted(self) -> str:
        """The link with its credentials masked, keeping a bare SSH user
        (``git+ssh://git@host``): an account name, not a secret, and masking it would make
        the requirement uninstallable."""
        try:
            parts = urllib.parse.urlsplit(self.link)
        except ValueError:
            return redact_url(self.link)
        if parts.scheme.endswith("ssh") and parts.username and parts.password is None:
            return self.link
        return redact_url(self.link)

    def local_path(self, base_dir: Path) -> Path:
        """Absolute path of a local link (a ``file:`` URL, an absolute, relative or ``~``
        path); relative paths are relative to *base_dir*."""
        if self.scheme == "file" and self.location[5:].startswith("//"):
            path = url_to_path(self.location)
        else:
            text = self.location[5:] if self.scheme == "file" else self.location
            path = Path(os.path.expanduser(text))
        if not path.is_absolute():
            path = base_dir / path
        return Path(os.path.abspath(path))

    def place(self, base_dir: Path) -> str:
        """Where the link points, comparable between files: the URL without its fragment,
        or a local path as an absolute ``file:`` URL (relative to *base_dir*)."""
        if self.is_url:
            return self.location.rstrip("/")
        return self.local_path(base_dir).as_uri().rstrip("/")

    def is_dir(self, base_dir: Path) -> bool:
        """Whether a local link names a source tree: the file system says so when the path
        exists, else the name does (no archive ending)."""
        if not self.is_local or self.kind == "vcs":
            return False
        path = self.local_path(base_dir)
        return path.is_dir() if path.exists() else self.kind == "dir"


def _names_a_url(link: str, scheme: str) -> bool:
    return scheme in _URL_SCHEMES or "://" in link


def _path_of(location: str, scheme: str) -> str:
    if not _names_a_url(location, scheme):
        return location
    try:
        return urllib.parse.urlsplit(location).path
    except ValueError:  # an unbalanced "[" host: judged by its text
        return location
