"""DirectReference: one answer to "what kind of link is this?" for every stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockcheck.references import DirectReference, is_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://h/x", True),
        ("git+ssh://git@h/r", True),
        ("FILE:///x", True),
        ("foo @ https://h/x", False),
        ("./pkg", False),
        ("c:/path", False),
    ],
)
def test_is_url(text: str, expected: bool) -> None:
    assert is_url(text) is expected


@pytest.mark.parametrize(
    ("link", "kind", "archive", "hashable"),
    [
        ("git+https://h/r@v1#egg=x", "vcs", None, False),
        ("hg+ssh://h/r", "vcs", None, False),
        ("https://h/x-1.0-py3-none-any.whl", "archive", "wheel", True),
        ("https://h/x-1.0.tar.gz#sha256=ab", "archive", "sdist", True),
        # pip-compile hashes every archive, whatever its compression (issue 14)
        ("https://h/x-1.0.zip", "archive", "sdist", True),
        ("https://h/x-1.0.tar.bz2", "archive", "sdist", True),
        ("file:///srv/x-1.0.ZIP", "archive", "sdist", True),
        ("./dist/x-1.0.tgz", "archive", "sdist", True),
        ("https://h/download?id=3", "url", None, True),
        ("./pkg", "dir", None, False),
        ("file:///srv/pkg#subdirectory=sub", "dir", None, False),
        ("/abs/pkg", "dir", None, False),
    ],
)
def test_kind(link: str, kind: str, archive: str | None, hashable: bool) -> None:
    reference = DirectReference.parse(link)
    assert (reference.kind, reference.archive, reference.hashable) == (kind, archive, hashable)


def test_parts_of_a_link() -> None:
    reference = DirectReference.parse("https://u:p@h/a/x%2B1-1.0.tar.gz#sha256=ab&subdirectory=s")
    assert reference.is_url and reference.is_remote and not reference.is_local
    assert reference.filename == "x+1-1.0.tar.gz"
    assert reference.subdirectory == "s"
    assert reference.hashes == {"sha256": "ab"}
    assert reference.location == "https://u:p@h/a/x%2B1-1.0.tar.gz"
    assert reference.redacted == "https://****@h/a/x%2B1-1.0.tar.gz#sha256=ab&subdirectory=s"


def test_a_bare_ssh_user_is_not_a_secret() -> None:
    assert DirectReference.parse("git+ssh://git@h/r").redacted == "git+ssh://git@h/r"
    assert DirectReference.parse("git+ssh://git@h/r").vcs == "git"


def test_local_paths(tmp_path: Path) -> None:
    (tmp_path / "tree.zip").mkdir()
    assert DirectReference.parse("./tree.zip").is_dir(tmp_path)  # the file system decides
    assert not DirectReference.parse("./gone-1.0.whl").is_dir(tmp_path)  # else the name
    assert DirectReference.parse("./gone").is_dir(tmp_path)
    assert DirectReference.parse("file:rel/x").local_path(tmp_path) == tmp_path / "rel" / "x"
    assert DirectReference.parse(tmp_path.as_uri()).local_path(Path("/")) == tmp_path
    assert not DirectReference.parse("https://h/x").is_dir(tmp_path)


def test_place_compares_links_written_in_different_folders(tmp_path: Path) -> None:
    """An input's ``./dist/x.tar.gz`` (from the working folder) and the lock's
    ``../dist/x.tar.gz`` (from the lock's folder) point at one file."""
    here = DirectReference.parse("./dist/x-1.0.tar.gz").place(tmp_path)
    there = DirectReference.parse("../dist/x-1.0.tar.gz").place(tmp_path / "locks")
    assert here == there == (tmp_path / "dist" / "x-1.0.tar.gz").as_uri()
    assert DirectReference.parse(f"{here}#sha256=ab").place(Path("/")) == here
    assert DirectReference.parse("https://h/x/").place(tmp_path) == "https://h/x"
