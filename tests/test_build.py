"""PEP 517 metadata and wheels (lockcheck.build) and core-metadata parsing (lockcheck.metadata).

Projects use dependency-free in-tree backends (``backend-path``), so everything builds offline,
with or without isolation.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from lockcheck.build import build_wheel, prepare_metadata, unpack_sdist
from lockcheck.errors import BuildError, MetadataError
from lockcheck.metadata import parse_core_metadata
from tests.fixtures.builders import make_project, make_sdist, make_wheel


def backend_project(root: Path, backend_source: str, requires: tuple[str, ...] = ()) -> Path:
    """A project whose in-tree backend is *backend_source* (module ``tbackend``)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "_be").mkdir(exist_ok=True)
    (root / "_be" / "tbackend.py").write_text(textwrap.dedent(backend_source), encoding="utf-8")
    reqs = ", ".join(f'"{r}"' for r in requires)
    (root / "pyproject.toml").write_text(
        f"[build-system]\nrequires = [{reqs}]\n"
        'build-backend = "tbackend"\nbackend-path = ["_be"]\n',
        encoding="utf-8",
    )
    return root


WHEEL_ONLY_BACKEND = """\
    import os, zipfile

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        name = "nohook-1.0-py3-none-any.whl"
        with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
            info = "nohook-1.0.dist-info/"
            zf.writestr(info + "METADATA",
                "Metadata-Version: 2.1\\nName: nohook\\nVersion: 1.0\\nRequires-Dist: alpha>=2\\n")
            zf.writestr(info + "WHEEL",
                "Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
            zf.writestr(info + "RECORD", "")
        return name
    """

FAILING_BACKEND = """\
    import sys

    def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
        for i in range(40):
            print("noise line", i)
        print("the compiler said: missing header foo.h", file=sys.stderr)
        raise RuntimeError("kaboom")

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        raise RuntimeError("no wheel either")
    """


WARNING_BACKEND = """\
    import os, warnings

    def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
        warnings.warn("License classifiers are deprecated.")
        info = os.path.join(metadata_directory, "noisy-1.0.dist-info")
        os.makedirs(info)
        with open(os.path.join(info, "METADATA"), "w") as fh:
            fh.write("Metadata-Version: 2.1\\nName: noisy\\nVersion: 1.0\\n")
        return "noisy-1.0.dist-info"

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        raise RuntimeError("not needed")
    """


# --------------------------------------------------------------------------------------
# prepare_metadata
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("isolation", [False, True])
def test_metadata_of_source_tree(tmp_path: Path, isolation: bool) -> None:
    root = make_project(
        tmp_path,
        "Tree.App",
        "2.1",
        dependencies=["alpha>=1", 'beta; python_version < "3.99"'],
        optional_dependencies={"X": ["gamma"]},
        requires_python=">=3.8",
        dynamic_dependencies=True,
    )
    meta = prepare_metadata(root, isolation=isolation)
    assert meta.name == "Tree.App"
    assert meta.version == Version("2.1")
    assert meta.requires_dist == (
        Requirement("alpha>=1"),
        Requirement('beta; python_version < "3.99"'),
        Requirement('gamma; extra == "x"'),
    )
    assert meta.requires_python == SpecifierSet(">=3.8")
    assert meta.provides_extra == frozenset({"x"})


def test_metadata_of_sdist_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sdist = make_sdist(tmp_path, "Some.Pkg", "3.0", requires_dist=["delta<2"])
    cache = tmp_path / "cache"
    meta = prepare_metadata(sdist, isolation=False, cache_dir=cache)
    assert (meta.name, meta.version, meta.requires_dist) == (
        "Some.Pkg",
        Version("3.0"),
        (Requirement("delta<2"),),
    )
    [cached] = cache.iterdir()
    assert cached.name.endswith(".METADATA") and len(cached.stem) == 64

    import lockcheck.build

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again despite the cache")

    monkeypatch.setattr(lockcheck.build, "_make_builder", no_build)
    assert prepare_metadata(sdist, isolation=False, cache_dir=cache) == meta


def test_metadata_of_zip_sdist(tmp_path: Path) -> None:
    tar = make_sdist(tmp_path, "zipped", "1.0", requires_dist=["epsilon"])
    zpath = tmp_path / "zipped-1.0.zip"
    with tarfile.open(tar) as tf, zipfile.ZipFile(zpath, "w") as zf:
        for member in tf.getmembers():
            if member.isfile():
                data = tf.extractfile(member)
                assert data is not None
                zf.writestr(member.name, data.read())
    meta = prepare_metadata(zpath, isolation=False)
    assert meta.requires_dist == (Requirement("epsilon"),)


def test_fallback_to_wheel_when_hook_is_missing(tmp_path: Path) -> None:
    root = backend_project(tmp_path / "nohook", WHEEL_ONLY_BACKEND)
    meta = prepare_metadata(root, isolation=False)
    assert (meta.name, meta.requires_dist) == ("nohook", (Requirement("alpha>=2"),))


def test_build_failure_message(tmp_path: Path) -> None:
    root = backend_project(tmp_path / "broken", FAILING_BACKEND)
    with pytest.raises(BuildError) as info:
        prepare_metadata(root, isolation=False)
    message = str(info.value)
    first, *rest = message.splitlines()
    assert first == (
        f"{root}: failed to prepare metadata: "
        "Backend subprocess exited when trying to invoke prepare_metadata_for_build_wheel"
    )
    tail = "\n".join(rest)
    assert "the compiler said: missing header foo.h" in tail
    assert "RuntimeError: kaboom" in tail
    assert "noise line 0" not in tail  # only the last lines are kept
    assert 0 < len(rest) <= 25
    assert info.value.output_tail[-1].strip() == "RuntimeError: kaboom"


def test_missing_backend(tmp_path: Path) -> None:
    root = tmp_path / "nobackend"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "no_such_backend_xyz"\n', encoding="utf-8"
    )
    with pytest.raises(BuildError, match="Backend 'no_such_backend_xyz' is not available"):
        prepare_metadata(root, isolation=False)


def test_invalid_build_system_table(tmp_path: Path) -> None:
    root = tmp_path / "badtable"
    root.mkdir()
    (root / "pyproject.toml").write_text('[build-system]\nrequires = "x"\n', encoding="utf-8")
    with pytest.raises(BuildError, match="cannot set up the build"):
        prepare_metadata(root, isolation=False)


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="no such file or directory"):
        prepare_metadata(tmp_path / "nope", isolation=False)


def test_index_env_reaches_build_requirement_install(tmp_path: Path) -> None:
    """Build requirements come from the indexes in index_env (here a find-links folder)."""
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "helper-dep", "1.0")
    backend = WHEEL_ONLY_BACKEND.replace(
        "import os, zipfile", "import os, zipfile\n    import helper_dep"
    )
    root = backend_project(tmp_path / "needs-helper", backend, requires=("helper-dep",))
    meta = prepare_metadata(
        root, isolation=True, index_env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)}
    )
    assert meta.name == "nohook"

    with pytest.raises(BuildError) as info:
        prepare_metadata(root, isolation=True, index_env={"PIP_NO_INDEX": "1"})
    first = str(info.value).splitlines()[0]
    assert first.endswith("cannot install build requirements (helper-dep): pip exited with 1")
    assert "helper-dep" in "\n".join(info.value.output_tail)


# --------------------------------------------------------------------------------------
# build_wheel
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tree", "sdist"])
def test_build_wheel(tmp_path: Path, kind: str) -> None:
    if kind == "tree":
        source = make_project(tmp_path, "wheely", "0.3", dependencies=["alpha"])
    else:
        source = make_sdist(tmp_path, "wheely", "0.3", requires_dist=["alpha"])
    wheel = build_wheel(source, tmp_path / "out", isolation=False)
    assert wheel.parent == tmp_path / "out"
    assert wheel.name == "wheely-0.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        meta = parse_core_metadata(zf.read("wheely-0.3.dist-info/METADATA"))
    assert meta.requires_dist == (Requirement("alpha"),)


def test_build_wheel_failure(tmp_path: Path) -> None:
    root = backend_project(tmp_path / "broken", FAILING_BACKEND)
    with pytest.raises(BuildError, match=r"failed to build a wheel: .*build_wheel") as info:
        build_wheel(root, tmp_path / "out", isolation=False)
    assert "no wheel either" in str(info.value)


# --------------------------------------------------------------------------------------
# safe unpacking
# --------------------------------------------------------------------------------------


def _tar(path: Path, members: list[tarfile.TarInfo]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        tf.addfile(_file_info("pkg-1.0/pyproject.toml"), io.BytesIO(b"[project]\n"))
        for member in members:
            tf.addfile(member, io.BytesIO(b"x") if member.isfile() else None)
    return path


def _file_info(name: str, **attrs: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(b"x") if name != "pkg-1.0/pyproject.toml" else len(b"[project]\n")
    for key, value in attrs.items():
        setattr(info, key, value)
    return info


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def _device(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    return info


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (_file_info("../evil.txt"), "member '../evil.txt' points outside"),
        (_file_info("pkg-1.0/../../evil.txt"), "points outside"),
        (_file_info("/etc/evil.txt"), "member '/etc/evil.txt' points outside"),
        (_link("pkg-1.0/link", "../../outside"), "link 'pkg-1.0/link' points outside"),
        (_link("pkg-1.0/abs", "/etc/passwd"), "link 'pkg-1.0/abs' points outside"),
        (_link("pkg-1.0/hard", "../x", tarfile.LNKTYPE), "link 'pkg-1.0/hard' points outside"),
        (_device("pkg-1.0/dev"), "is not a regular file"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink", "abs-symlink", "hardlink", "device"],
)
def test_unpack_rejects_traversal(tmp_path: Path, member: tarfile.TarInfo, message: str) -> None:
    archive = _tar(tmp_path / "pkg-1.0.tar.gz", [member])
    dest = tmp_path / "dest"
    with pytest.raises(BuildError, match=f"refusing to unpack pkg-1.0.tar.gz: .*{message}"):
        unpack_sdist(archive, dest)
    assert not (tmp_path / "evil.txt").exists()
    assert not any(dest.rglob("*"))  # nothing was written


def test_unpack_allows_inner_symlink(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "pkg-1.0.tar.gz", [_link("pkg-1.0/sub/link", "../pyproject.toml")])
    root = unpack_sdist(archive, tmp_path / "dest")
    assert root == tmp_path / "dest" / "pkg-1.0"


def test_unpack_rejects_zip_traversal(tmp_path: Path) -> None:
    archive = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg-1.0/pyproject.toml", "")
        zf.writestr("../evil.txt", "x")
    with pytest.raises(BuildError, match=r"member '\.\./evil\.txt' points outside"):
        unpack_sdist(archive, tmp_path / "dest")
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("pkg-1.0.tar.gz", b"not a tarball", "cannot unpack pkg-1.0.tar.gz"),
        ("pkg-1.0.zip", b"not a zip", "cannot unpack pkg-1.0.zip"),
        ("pkg-1.0.rar", b"", "not an sdist archive: pkg-1.0.rar"),
    ],
)
def test_unpack_bad_archives(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BuildError, match=message):
        unpack_sdist(path, tmp_path / "dest")


def test_unpack_without_project(tmp_path: Path) -> None:
    archive = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("pkg-1.0/README")
        tf.addfile(info, io.BytesIO(b""))
    with pytest.raises(BuildError, match=r"is not an sdist: no pyproject\.toml or setup\.py"):
        unpack_sdist(archive, tmp_path / "dest")


# --------------------------------------------------------------------------------------
# parse_core_metadata
# --------------------------------------------------------------------------------------

STRICT = """\
Metadata-Version: 2.3
Name: Foo.Bar
Version: 1.0.post1
Requires-Python: >=3.9
Provides-Extra: Socks_Proxy
Requires-Dist: idna>=2
Requires-Dist: pysocks; extra == "socks-proxy"
"""


@pytest.mark.parametrize("as_bytes", [False, True])
def test_parse_strict(as_bytes: bool) -> None:
    meta = parse_core_metadata(STRICT.encode() if as_bytes else STRICT)
    assert meta.name == "Foo.Bar"
    assert meta.version == Version("1.0.post1")
    assert meta.requires_python == SpecifierSet(">=3.9")
    assert meta.requires_dist == (
        Requirement("idna>=2"),
        Requirement('pysocks; extra == "socks-proxy"'),
    )
    assert meta.provides_extra == frozenset({"socks-proxy"})


def test_parse_lenient(caplog: pytest.LogCaptureFixture) -> None:
    text = (
        "Metadata-Version: 1.2\nName: old\nVersion: 0.9\n"
        "Requires-Dist: good (>=1.0)\nRequires-Dist: bad; python_version >>> '3'\n"
        "Requires-Python: >=2.6, !=3.0.*, <4.*\nProvides-Extra: Tests\n"
    )
    with caplog.at_level(logging.WARNING, logger="lockcheck.metadata"):
        meta = parse_core_metadata(text, origin="old-0.9.tar.gz")
    assert (meta.name, meta.version) == ("old", Version("0.9"))
    assert meta.requires_dist == (Requirement("good>=1.0"),)
    assert meta.requires_python is None
    assert meta.provides_extra == frozenset({"tests"})
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "ignoring invalid Requires-Dist \"bad; python_version >>> '3'\"" in m for m in messages
    )
    assert any("old 0.9 (old-0.9.tar.gz): ignoring invalid Requires-Python" in m for m in messages)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Metadata-Version: 2.1\nVersion: 1.0\n", "has no Name field"),
        ("Metadata-Version: 2.1\nName: x\n", r"metadata of x \(<metadata>\) has no Version field"),
        ("Metadata-Version: 2.1\nName: x\nVersion: banana\n", "has an invalid version 'banana'"),
    ],
)
def test_parse_fatal(text: str, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        parse_core_metadata(text)


@pytest.mark.parametrize(
    "text",
    [
        STRICT,  # the plain header block, read by hand
        STRICT.replace("\n", "\r\n"),  # CRLF lines: the email parser
        STRICT.replace("Requires-Dist: idna>=2\n", "Requires-Dist: idna\n  >=2\n"),  # folded
        STRICT + "\nDescription body\r\nwith: colons\r\n\r\nName: not-a-header\n",
        "From nobody\n" + STRICT,  # an mbox line first: the email parser
    ],
)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_parse_agrees_with_the_email_parser(text: str, as_bytes: bool) -> None:
    """The hand-split header block gives what packaging's parse_email gives, and the texts it
    does not take on go to parse_email itself."""
    from packaging.metadata import parse_email

    data = text.encode() if as_bytes else text
    meta = parse_core_metadata(data)
    raw, _unparsed = parse_email(data)
    assert meta.name == raw["name"]
    assert meta.version == Version(raw["version"])
    parsed = []
    for line in raw["requires_dist"]:
        with contextlib.suppress(InvalidRequirement):  # skipped with a warning, as pip does
            parsed.append(Requirement(line))
    assert meta.requires_dist == tuple(parsed)
    assert meta.provides_extra == frozenset({"socks-proxy"})


_WANTED_RAW = ("name", "version", "requires_dist", "requires_python", "provides_extra")


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        (STRICT.replace("\n", "\r\n"), True),  # CRLF lines (tabulate's METADATA)
        (STRICT.replace("\n", "\r\n") + "\r\nBody: text\r\n", True),
        (STRICT.replace("\n", "\r\n").rstrip("\n"), True),  # ends on a lone "\r"
        (STRICT.replace("Version: 1.0.post1\n", "Version: 1.0.post1\r\n"), True),  # mixed
        (STRICT.replace("Version: 1.0.post1\n", "Version: 1.0\r.post1\n"), False),  # lone CR
        (STRICT.replace("\n", "\r"), False),  # old Mac lines
        (STRICT.replace("\n", "\r\n").replace("idna>=2\r\n", "idna\r\n  >=2\r\n"), False),
        ("\r\n" + STRICT.replace("\n", "\r\n"), False),  # a blank line first: all body
    ],
)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_crlf_header_blocks_split_by_hand_as_the_email_parser_does(
    text: str, plain: bool, as_bytes: bool
) -> None:
    """CRLF METADATA needs no email parser (and no 70 ms import of it); what the hand split
    gives is what parse_email gives, and what it does not take on goes to parse_email."""
    from packaging.metadata import parse_email

    from lockcheck.metadata import _plain_fields

    data = text.encode() if as_bytes else text
    fields = _plain_fields(data)
    assert (fields is not None) == plain
    raw, _unparsed = parse_email(data)
    if fields is not None:
        expected = {k: raw[k] for k in _WANTED_RAW if k in raw}  # type: ignore[literal-required]
        got = {k: v for k, v in fields.items() if v != [] or k in raw}
        assert got == expected


def test_parse_non_utf8_and_repeated_fields() -> None:
    latin = STRICT.replace("Name: Foo.Bar", "Name: Foo.Bar\nAuthor: Jos\xe9").encode("latin-1")
    assert parse_core_metadata(latin).name == "Foo.Bar"
    with pytest.raises(MetadataError, match="has no Name field"):
        parse_core_metadata(STRICT + "Name: Other\n")  # two Names: neither is trusted


def test_parse_header_block_without_body_and_leading_blank_line() -> None:
    from lockcheck.metadata import _plain_fields

    assert _plain_fields("Name: foo\nVersion: 1.0\n") is not None  # no body: still plain
    with pytest.raises(MetadataError, match="has no Name field"):
        parse_core_metadata("\nName: foo\nVersion: 1.0\n")  # all body, as the email parser says


def test_a_backends_warnings_stay_out_of_the_output(tmp_path: Path) -> None:
    """pyproject-hooks raises the backend's warnings again in the caller (an old sdist's
    setuptools deprecations, say): a compile shows none of them, as pip and pip-compile
    show none.  Run as the program, whose warnings go to the terminal."""
    from tests.helpers import run_lockcheck

    backend_project(tmp_path / "noisy", WARNING_BACKEND)
    (tmp_path / "requirements.in").write_text("./noisy\n")
    result = run_lockcheck("compile", "--no-index", "-o", "-", "requirements.in", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "\n./noisy\n" in result.stdout
    assert "deprecated" not in result.stderr, result.stderr


def test_a_builds_bound_comes_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from lockcheck.build import STEP_TIMEOUT, TIMEOUT_VAR, step_timeout
    from lockcheck.errors import ConfigError

    monkeypatch.delenv(TIMEOUT_VAR, raising=False)
    assert step_timeout() == STEP_TIMEOUT
    monkeypatch.setenv(TIMEOUT_VAR, " 2.5 ")
    assert step_timeout() == 2.5
    for bad in ("abc", "0", "-1", "inf", "nan"):
        monkeypatch.setenv(TIMEOUT_VAR, bad)
        with pytest.raises(ConfigError, match=f"{TIMEOUT_VAR} must be a number of seconds"):
            step_timeout()


def test_a_bounded_child_and_what_it_started_end_at_the_bound(tmp_path: Path) -> None:
    """The child's own children (holding its output pipe) end with it: the call returns at
    the bound, not when they would have ended."""
    import subprocess
    import sys
    import time

    from lockcheck.subprocs import run_bounded

    script = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as info:
        run_bounded([sys.executable, "-c", script], timeout=1.0, text=True)
    assert time.monotonic() - started < 10
    assert "started" in (info.value.output or "")
    done = run_bounded([sys.executable, "-c", "print('ok')"], timeout=30, text=True)
    assert (done.returncode, done.stdout) == (0, "ok\n")
