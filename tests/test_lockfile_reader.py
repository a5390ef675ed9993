"""Reading locks back: pip-compile's real files, round trips through the writer, bad lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from lockcheck.errors import InputError
from lockcheck.lockfile.reader import ParsedLock, read_lock
from lockcheck.lockfile.settings import UNSAFE_PACKAGES
from lockcheck.models import IndexOptions, LockedPackage, Resolution
from tests.writing import Written, written

DATA = Path(__file__).parent / "data" / "lockfile"
GOLDENS = sorted(p.name for p in DATA.glob("*.txt"))


def settings_from(parsed: ParsedLock) -> Written:
    """What the writer was evidently given for a parsed lock."""
    packages = [e.package for e in parsed.entries]
    opts = parsed.options
    return written(
        header=parsed.header is not None,
        python_version=parsed.python_version,
        compile_command=parsed.header.command if parsed.header else None,
        annotate=parsed.annotation_style is not None,
        annotation_style=parsed.annotation_style or "split",
        strip_extras=not any(p.extras for p in packages),
        generate_hashes=any(p.hashes for p in packages),
        allow_unsafe=any(e.package.unsafe and not e.commented for e in parsed.entries),
        index_url=opts.index_url,
        extra_index_urls=opts.extra_index_urls,
        find_links=opts.find_links,
        trusted_hosts=opts.trusted_hosts,
        no_binary=opts.no_binary,
        only_binary=opts.only_binary,
    )


def golden_as_lockcheck(name: str) -> bytes:
    return (DATA / name).read_bytes().replace(b"by pip-compile with", b"by lockcheck with", 1)


# --------------------------------------------------------------------------------------
# pip-compile's own files
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in GOLDENS if n != "options.txt"])
def test_pip_compile_files_round_trip_through_the_writer(name: str) -> None:
    parsed = read_lock(DATA / name)
    settings = settings_from(parsed)
    rendered = settings.render(parsed.to_resolution(), existing_text=(DATA / name).read_bytes())
    assert rendered.encode() == golden_as_lockcheck(name)


def test_split_file_in_detail() -> None:
    parsed = read_lock(DATA / "split.txt")
    assert parsed.path == DATA / "split.txt"
    assert parsed.header is not None
    assert (parsed.header.tool, parsed.header.python_version) == ("pip-compile", "3.11")
    assert parsed.header.line == 2
    assert parsed.header.command_line == 5
    assert parsed.header.options == {
        "--constraint": ("constraints.txt",),
        "--find-links": ("/tmp/lfexp/wheels",),
        "--no-index": True,
        "--output-file": "requirements.txt",
    }
    assert parsed.header.sources == ("requirements.in",)
    assert parsed.options == IndexOptions(find_links=("/tmp/lfexp/wheels",))
    assert parsed.option_lines == ((7, "--find-links", "/tmp/lfexp/wheels"),)
    assert parsed.newline == "\n"
    assert parsed.annotation_style == "split"

    certifi = parsed.entry("certifi")
    assert certifi is not None
    assert (certifi.line, certifi.end_line) == (9, 10)
    markupsafe = parsed.entry("MarkupSafe")
    assert markupsafe is not None
    assert markupsafe.package.via == ("flask", "jinja2", "werkzeug")
    assert (markupsafe.line, markupsafe.end_line) == (17, 21)
    requests = parsed.packages[NormalizedName("requests")]
    assert requests.extras == frozenset({"socks"})
    assert requests.version == Version("2.34.2")
    tomli = parsed.packages[NormalizedName("tomli")]
    assert str(tomli.marker) == 'python_version < "3.12"'
    urllib3 = parsed.packages[NormalizedName("urllib3")]
    assert urllib3.via == ("-c constraints.txt", "requests")
    zope = parsed.packages[NormalizedName("zope-interface")]
    assert (zope.display_name, zope.version) == ("zope-interface", Version("7.2"))

    assert parsed.unsafe_section_line == 47
    setuptools = parsed.entries[-1]
    assert setuptools.commented and setuptools.line == 48
    assert setuptools.package == LockedPackage(
        name=NormalizedName("setuptools"), display_name="setuptools", version=None, unsafe=True
    )
    assert not any(e.package.unsafe for e in parsed.entries[:-1])


def test_hashes_line_style_and_allowed_unsafe() -> None:
    parsed = read_lock(DATA / "hashes-line-allow-unsafe.txt")
    assert parsed.annotation_style == "line"
    setuptools = parsed.entry("setuptools")
    assert setuptools is not None and not setuptools.commented
    assert setuptools.package.unsafe
    assert setuptools.package.version == Version("80.9.0")
    assert setuptools.package.via == ("setuptools-scm", "zope-interface")
    assert setuptools.package.hashes == (
        "sha256:2d97b72444114683299056426cab8b60aa6b66b495d9b335372688e00be25ffb",
    )
    tomli = parsed.entry("tomli")
    assert tomli is not None
    assert (tomli.line, tomli.end_line) == (36, 38)
    assert str(tomli.package.marker) == 'python_version < "3.12"'


def test_hashes_with_commented_unsafe_warning() -> None:
    parsed = read_lock(DATA / "hashes-split.txt")
    entry = parsed.entries[-1]
    assert entry.commented and entry.package.name == "setuptools"
    assert parsed.packages[NormalizedName("flask")].hashes == (
        "sha256:351db1e223ff317fad4929bde6de4e9aa6d0aa47d08075684959a6de7ad97b28",
    )


def test_editables_and_direct_references() -> None:
    editable = read_lock(DATA / "editable-hashes.txt").entries[0]
    assert editable.package.editable
    assert editable.package.link == "file:///tmp/lfexp/localpkg"
    assert editable.package.name == "localpkg"
    assert editable.package.via == ("-r requirements.in",)
    assert editable.line == 11  # after the "WARNING ... hashed" comment

    inline = read_lock(DATA / "editable-line.txt").entries[0]
    assert inline.package.via == ("-r requirements.in",)

    direct = read_lock(DATA / "direct.txt").packages
    requests = direct[NormalizedName("requests")]
    assert requests.link == (
        "file:///tmp/lfexp/wheels/requests-2.34.2-py3-none-any.whl"
        "#sha256=2495320fc4d938dca52d0c95689f3198eec19447c5d80cb7be147aedeb780fff"
    )
    assert requests.extras == frozenset({"socks"})
    assert requests.version is None
    assert direct[NormalizedName("tomli")].link == (
        "file:///tmp/lfexp/wheels/tomli-2.5.0-py3-none-any.whl"
    )


def test_options_block_and_custom_command() -> None:
    parsed = read_lock(DATA / "options.txt")
    assert parsed.options == IndexOptions(
        index_url="http://127.0.0.1:8765/simple/",
        extra_index_urls=(
            "http://user:s3cret@127.0.0.1:8765/simple",
            "http://tok@localhost:8765/simple",
        ),
        find_links=("/tmp/lfexp/wheels", "http://u:p@127.0.0.1:8765/wheels/"),
        trusted_hosts=("127.0.0.1", "localhost:8765"),
    )
    fc = read_lock(DATA / "format-control.txt").options
    assert fc.no_binary == frozenset({"flask"})
    assert fc.only_binary == frozenset({"click", "jinja2"})

    custom = read_lock(DATA / "custom-command-crlf.txt")
    assert custom.newline == "\r\n"
    assert custom.header is not None
    assert custom.header.command == "make lock"
    assert custom.header.options is None and custom.header.sources is None
    assert custom.packages[NormalizedName("click")].via == ("flask",)


def test_older_pip_compile_header_and_no_header() -> None:
    text = (
        "#\n"
        "# This file is autogenerated by pip-compile with python 3.8\n"
        "# To update, run:\n"
        "#\n"
        "#    pip-compile --output-file=requirements.txt requirements.in\n"
        "#\n"
        "six==1.16.0              # via -r requirements.in\n"
    )
    parsed = read_lock(text)
    assert parsed.header is not None
    assert parsed.header.python_version == "3.8"
    assert parsed.header.sources == ("requirements.in",)
    assert parsed.entries[0].line == 7
    bare = read_lock("six==1.16.0\n")
    assert bare.header is None and bare.annotation_style is None
    assert bare.path is None
    assert read_lock("").entries == ()


def test_pip_tools_5_header_without_python() -> None:
    """pip-tools 5.x named no Python: the header is still pip-compile's, with its command,
    every source and every option (issue 12: the gate lost them and fell back to one .in)."""
    text = (
        "#\n"
        "# This file is autogenerated by pip-compile\n"
        "# To update, run:\n"
        "#\n"
        "#    pip-compile --allow-unsafe --generate-hashes --output-file=requirements.txt"
        " a.in requirements.in\n"
        "#\n"
        "six==1.16.0 \\\n"
        "    --hash=sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926\n"
        "    # via -r requirements.in\n"
    )
    parsed = read_lock(text)
    assert parsed.header is not None
    assert parsed.header.tool == "pip-compile"
    assert parsed.header.python_version is None
    assert parsed.header.sources == ("a.in", "requirements.in")
    assert parsed.header.options is not None
    assert parsed.header.options.get("--allow-unsafe") is True
    assert parsed.header.options.get("--generate-hashes") is True
    assert parsed.python_version is None


def test_bare_links_and_tolerated_options() -> None:
    parsed = read_lock(
        "-i https://example.com/simple\n"
        "--extra-index-url=https://b/simple\n"
        "--no-index\n"
        "--pre\n"
        "-e git+https://host/org/repo.git@v1#egg=My_Pkg\n"
        "./vendor/wheel_thing-2.0-py3-none-any.whl ; python_version >= '3.10'\n"
        "# a comment someone added\n"
        "attrs==25.1.0  # pinned by hand\n"
    )
    assert parsed.options.index_url == "https://example.com/simple"
    assert parsed.options.extra_index_urls == ("https://b/simple",)
    assert parsed.options.no_index and parsed.options.pre
    egg = parsed.packages[NormalizedName("my-pkg")]
    assert egg.editable and egg.display_name == "My_Pkg"
    wheel = parsed.packages[NormalizedName("wheel-thing")]
    assert wheel.version == Version("2.0")
    assert wheel.link == "./vendor/wheel_thing-2.0-py3-none-any.whl"
    assert str(wheel.marker) == 'python_version >= "3.10"'
    assert parsed.packages[NormalizedName("attrs")].via == ()


def test_crlf_text_from_bytes() -> None:
    parsed = read_lock(b"a==1 \\\r\n    --hash=sha256:ab\r\n    # via b\r\n")
    assert parsed.newline == "\r\n"
    package = parsed.entries[0].package
    assert (package.hashes, package.via) == (("sha256:ab",), ("b",))
    assert parsed.entries[0].end_line == 3


# --------------------------------------------------------------------------------------
# malformed locks
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a==1\nflask>=3\n", 2, "not pinned"),
        ("flask==3.*\n", 1, "not pinned"),
        ("flask\n", 1, "not pinned"),
        ("a==1 \\\n    --hash=nothex\n", 1, "malformed hash"),
        ("a==1 \\\n    --no-deps\n", 1, "unexpected option"),
        ("#\n==1.0\n", 2, "not a requirement"),
        ("--requirement other.txt\n", 1, "unexpected option line"),
        ("--index-url\n", 1, "needs a value"),
        ("--no-index yes\n", 1, "takes no value"),
        ("a==1\nb==2\nA==1\n", 3, "twice"),
        ("-e\n", 1, "missing location"),
        ("a==1 ; python_version <\n", 1, "not a requirement"),
        ("-e ./x ; python_version ~ 3\n", 1, "invalid marker"),
        ("a===not-a-version\n", 1, "invalid version"),
    ],
)
def test_malformed_lines(text: str, line: int, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        read_lock(text, name="requirements.txt")
    assert info.value.file == "requirements.txt"
    assert info.value.line == line
    assert str(info.value).startswith(f"requirements.txt:{line}: ")


def test_errors_name_the_file(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_bytes(b"a==1\r\nb>2\r\n")
    with pytest.raises(InputError) as info:
        read_lock(lock)
    assert (info.value.file, info.value.line) == (str(lock), 2)
    lock.write_bytes(b"a==1\n\xff\n")
    with pytest.raises(InputError, match="UTF-8"):
        read_lock(lock)
    with pytest.raises(InputError, match="cannot read"):
        read_lock(tmp_path / "missing.txt")


# --------------------------------------------------------------------------------------
# property: render -> read -> same data, and render again -> same bytes
# --------------------------------------------------------------------------------------

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_NAMES = st.builds(
    lambda first, rest, tail: first + rest + (f"-{tail}" if tail else ""),
    st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
    st.text(_ALNUM, max_size=6),
    st.text(_ALNUM, max_size=3),
)
_VERSIONS = st.builds(
    lambda parts, post: ".".join(map(str, parts)) + (f".post{post}" if post else ""),
    st.lists(st.integers(0, 30), min_size=1, max_size=3),
    st.one_of(st.none(), st.integers(1, 3)),
)
_MARKERS = st.sampled_from(
    [
        None,
        'python_version < "3.12"',
        'sys_platform == "win32"',
        'python_version >= "3.9" and platform_machine != "arm64"',
    ]
)
_HASHES = st.lists(
    st.binary(min_size=32, max_size=32).map(lambda b: f"sha256:{b.hex()}"), max_size=3
)
_LABELS = st.sampled_from(["-r requirements.in", "-c constraints.txt", "myapp (pyproject.toml)"])


def _spelled(name: str, style: int) -> str:
    """Another spelling of a canonical name (display names vary, canonical output does not)."""
    return [name, name.upper(), name.replace("-", "_"), name.replace("-", ".").title()][style]


@st.composite
def _packages(draw: st.DrawFn) -> LockedPackage:
    name = draw(_NAMES)
    kind = draw(st.sampled_from(["pin", "pin", "pin", "editable", "direct"]))
    via = tuple(draw(st.lists(st.one_of(_LABELS, _NAMES), max_size=4, unique=True)))
    marker = draw(_MARKERS)
    common = {
        "name": canonicalize_name(name),
        "display_name": _spelled(name, draw(st.integers(0, 3))),
        "via": via,
        "marker": Marker(marker) if marker else None,
    }
    if kind == "editable":
        return LockedPackage(version=None, link=f"./src/{name}", editable=True, **common)
    extras = frozenset(draw(st.lists(_NAMES, max_size=2)))
    hashes = tuple(sorted(set(draw(_HASHES))))
    if kind == "direct":
        link = f"https://files.example/{name}-1.0.tar.gz"
        return LockedPackage(version=None, link=link, extras=extras, hashes=hashes, **common)
    return LockedPackage(
        version=Version(draw(_VERSIONS)),
        extras=extras,
        hashes=hashes,
        unsafe=draw(st.booleans()) and draw(st.booleans()),
        **common,
    )


_SETTINGS = st.builds(
    written,
    header=st.booleans(),
    annotate=st.booleans(),
    annotation_style=st.sampled_from(["split", "line"]),
    strip_extras=st.booleans(),
    allow_unsafe=st.booleans(),
    generate_hashes=st.booleans(),
    newline=st.sampled_from(["lf", "crlf"]),
    compile_command=st.just("lockcheck compile --output-file=requirements.txt requirements.in"),
    python_version=st.sampled_from(["3.10", "3.13"]),
    extra_index_urls=st.sampled_from([(), ("https://extra.example/simple",)]),
    find_links=st.sampled_from([(), ("./wheels",)]),
)


def _expected(package: LockedPackage, written: Written) -> tuple[object, ...]:
    """What a lock written with *written* can say about *package*."""
    s = written.output
    unsafe = package.unsafe or package.name in UNSAFE_PACKAGES
    if unsafe and not s.allow_unsafe:
        return (package.name, None, None, False, frozenset(), None, (), (), True)
    extras = (
        frozenset(canonicalize_name(e) for e in package.extras)
        if not s.strip_extras and not package.editable
        else frozenset()
    )
    version = None if package.link else package.version
    hashes = package.hashes if s.generate_hashes else ()
    via = tuple(sorted(set(package.via))) if s.annotate else ()
    marker = str(package.marker) if package.marker else None
    return (
        package.name,
        version,
        package.link,
        package.editable,
        extras,
        marker,
        hashes,
        via,
        unsafe,
    )


def _seen(package: LockedPackage) -> tuple[object, ...]:
    marker = str(package.marker) if package.marker else None
    return (
        package.name,
        package.version,
        package.link,
        package.editable,
        package.extras,
        marker,
        package.hashes,
        package.via,
        package.unsafe,
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_packages(), max_size=12, unique_by=lambda p: p.name), _SETTINGS)
def test_render_read_round_trip(packages: list[LockedPackage], s: Written) -> None:
    resolution = Resolution({p.name: p for p in packages}, python_version="3.12")
    text = s.render(resolution)
    parsed = read_lock(text)

    assert {name: _seen(p) for name, p in parsed.packages.items()} == {
        p.name: _expected(p, s) for p in packages
    }
    assert parsed.newline == ("\r\n" if s.output.newline == "CRLF" else "\n")
    if s.output.header:
        assert parsed.header is not None
        assert parsed.header.python_version == s.header.python_version
        assert parsed.header.command == s.header.command
    assert s.index is not None
    assert parsed.options.extra_index_urls == s.index.extra_index_urls
    assert parsed.options.find_links == s.index.find_links
    # every entry's first line is really where its name is written
    lines = text.replace("\r\n", "\n").split("\n")
    for entry in parsed.entries:
        line = lines[entry.line - 1]
        assert entry.package.name in line.lower().replace("_", "-").replace(".", "-") or (
            entry.package.editable and entry.package.link in line
        )

    again = s.render(parsed.to_resolution())
    assert again == text
