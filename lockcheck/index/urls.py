"""Small URL helpers shared by the index modules: credentials, file URLs, locations."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

__all__ = [
    "MASK",
    "is_masked",
    "is_remote",
    "location_key",
    "location_to_url",
    "netloc_key",
    "split_credentials",
    "strip_fragment",
    "url_to_path",
]

#: What stands for a secret in a written URL: ``https://****@host`` (lockcheck's
#: :func:`~lockcheck.errors.redact_url`) or ``https://user:****@host`` (pip, pip-compile).
MASK = "****"


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``https://u:p@host/x`` -> (``https://host/x``, ("u", "p")); user-only gives ("u", "")."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urllib.parse.urlunsplit(parts._replace(netloc=hostport))
    return clean, (urllib.parse.unquote(user), urllib.parse.unquote(password))


def is_masked(credentials: tuple[str, str] | None) -> bool:
    """Whether URL credentials are a mask: "they live elsewhere", never a user name to send."""
    return credentials is not None and MASK in credentials


def netloc_key(url: str) -> str:
    """``host[:port]`` of *url* in lower case, without credentials (the auth/trust key)."""
    netloc = urllib.parse.urlsplit(url).netloc.rpartition("@")[2].lower()
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return netloc


def location_key(url: str) -> tuple[str, str, str]:
    """(scheme, ``host[:port]``, path without trailing ``/``): which index a URL names,
    whatever credentials it carries (``https://****@h/simple/`` is ``https://u:p@h/simple``)."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), netloc_key(url), parts.path.rstrip("/")


def strip_fragment(url: str) -> tuple[str, str]:
    """(url without ``#...``, fragment)."""
    base, _, fragment = url.partition("#")
    return base, fragment


def is_remote(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def url_to_path(url: str) -> Path:
    """Local path of a ``file:`` URL (``file:///abs``, ``file://localhost/abs``)."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc if parts.netloc not in ("", "localhost") else ""
    from urllib.request import url2pathname  # here: it pulls in http.client and email

    return Path(url2pathname((f"//{netloc}" if netloc else "") + parts.path))


def location_to_url(location: str, base_dir: Path | None = None) -> str:
    """A configured index / find-links location as a URL: paths become ``file://`` URLs."""
    if "://" in location:
        return location
    if location.startswith("file:"):
        # "file:relative/path" (pip accepts it): relative to base_dir.
        location = location[len("file:") :]
    path = Path(os.path.expanduser(location))
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    return Path(os.path.abspath(path)).as_uri()
