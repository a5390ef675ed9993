"""The fixtures are real: their wheels install, their sdists build, pip and pip-compile use the
local index, and every server switch and fault does what it says."""

from __future__ import annotations

import base64
import email.parser
import hashlib
import http.client
import io
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import pytest
from packaging.metadata import Metadata
from packaging.utils import canonicalize_name, parse_wheel_filename

from tests.fixtures import backend_template
from tests.fixtures.builders import (
    PackageSpec,
    build_packages,
    make_project,
    make_sdist,
    make_setuptools_project,
    make_wheel,
)
from tests.fixtures.index_server import HTML_V1, JSON_V1, IndexServer
from tests.fixtures.universe import UNIVERSE, by_name
from tests.helpers import describe, run_lockcheck, run_pip_compile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)


# --------------------------------------------------------------------------------------
# small HTTP helpers (no redirects followed, nothing cached)
# --------------------------------------------------------------------------------------


class Reply:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> dict:
        return json.loads(self.body)


def request(
    server: IndexServer, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


class Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs))


def anchors(body: bytes) -> dict[str, dict[str, str | None]]:
    parser = Anchors()
    parser.feed(body.decode("utf-8"))
    return {urlsplit(str(a["href"])).path.rsplit("/", 1)[-1]: a for a in parser.links}


def pip(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )


def read_member(archive: Path, suffix: str) -> bytes:
    with zipfile.ZipFile(archive) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(suffix)]
        return zf.read(name)


def parse_metadata(data: bytes | str) -> Metadata:
    text = data.decode() if isinstance(data, bytes) else data
    return Metadata.from_email(text, validate=True)


# --------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------


def test_wheel_has_valid_metadata_wheel_and_record(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path,
        "Zope.Interface",
        "6.0",
        requires_dist=["idna>=3", 'PySocks>=1.5; extra == "socks"'],
        requires_python=">=3.8",
        provides_extra=["socks"],
        entry_points="[console_scripts]\nzope-hello = zope_interface:main\n",
        metadata_extra={"Summary": "A test package", "Classifier": ["A :: B", "C :: D"]},
    )
    assert path.name == "zope_interface-6.0-py3-none-any.whl"
    name, version, _, tags = parse_wheel_filename(path.name)
    assert (name, str(version), {str(t) for t in tags}) == (
        "zope-interface",
        "6.0",
        {"py3-none-any"},
    )

    meta = parse_metadata(read_member(path, ".dist-info/METADATA"))
    assert meta.name == "Zope.Interface"  # spelled as given
    assert [str(r) for r in meta.requires_dist or []] == [
        "idna>=3",
        'PySocks>=1.5; extra == "socks"',
    ]
    assert str(meta.requires_python) == ">=3.8"
    assert meta.provides_extra == ["socks"]
    assert meta.summary == "A test package"
    assert meta.classifiers == ["A :: B", "C :: D"]

    wheel = email.parser.Parser().parsestr(read_member(path, ".dist-info/WHEEL").decode())
    assert wheel["Wheel-Version"] == "1.0"
    assert wheel["Root-Is-Purelib"] == "true"
    assert wheel.get_all("Tag") == ["py3-none-any"]

    from installer.records import parse_record_file

    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        record = zf.read("zope_interface-6.0.dist-info/RECORD").decode()
        entries = list(parse_record_file(record.splitlines()))
        assert {e[0] for e in entries} == set(names)
        for rel, hash_, size in entries:
            if rel.endswith("RECORD"):
                assert (hash_, size) == ("", "")
                continue
            data = zf.read(rel)
            algo, _, value = hash_.partition("=")
            digest = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b"=")
            assert (digest.decode(), int(size)) == (value, len(data)), rel
    assert names[0] == "zope_interface/__init__.py"
    assert names[-1].endswith(".dist-info/RECORD")
    assert read_member(path, "entry_points.txt").startswith(b"[console_scripts]")


@pytest.mark.parametrize(
    ("tag", "expanded", "purelib"),
    [
        (
            "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
            ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"],
            "false",
        ),
        ("py3-none-win_amd64", ["py3-none-win_amd64"], "false"),
        ("py2.py3-none-any", ["py2-none-any", "py3-none-any"], "true"),
    ],
)
def test_wheel_tags(tmp_path: Path, tag: str, expanded: list[str], purelib: str) -> None:
    path = make_wheel(tmp_path, "native-lib", "1.0", tag=tag)
    assert path.name == f"native_lib-1.0-{tag}.whl"
    assert {str(t) for t in parse_wheel_filename(path.name)[3]} == set(expanded)
    wheel = email.parser.Parser().parsestr(read_member(path, ".dist-info/WHEEL").decode())
    assert wheel.get_all("Tag") == expanded
    assert wheel["Root-Is-Purelib"] == purelib


def test_files_replace_the_default_module(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path, "data-only", "1.0", files={"data_only.py": "X = 1\n", "bin.dat": b"\0"}
    )
    with zipfile.ZipFile(path) as zf:
        payload = [n for n in zf.namelist() if ".dist-info/" not in n]
    assert payload == ["bin.dat", "data_only.py"]
    empty = make_wheel(tmp_path, "empty", "1.0", files={})
    with zipfile.ZipFile(empty) as zf:
        assert all(".dist-info/" in n for n in zf.namelist())


def test_builds_are_byte_for_byte_deterministic(tmp_path: Path) -> None:
    def build(where: Path) -> list[bytes]:
        wheel = make_wheel(where, "Same", "1.0", requires_dist=["a"], tag="py2.py3-none-any")
        sdist = make_sdist(where, "Same", "1.0", requires_dist=["a"], provides_extra=["x"])
        return [wheel.read_bytes(), sdist.read_bytes()]

    first, later = build(tmp_path / "a"), None
    time.sleep(1.1)  # a clock-dependent timestamp would now differ
    later = build(tmp_path / "b")
    assert first == later
    with zipfile.ZipFile(tmp_path / "a" / "same-1.0-py2.py3-none-any.whl") as zf:
        assert {i.date_time for i in zf.infolist()} == {backend_template.ZIP_DATE_TIME}
    with tarfile.open(tmp_path / "a" / "same-1.0.tar.gz") as tar:
        members = tar.getmembers()
    assert {m.mtime for m in members} == {backend_template.TAR_MTIME}
    assert [m.name for m in members if m.isfile()] == sorted(m.name for m in members if m.isfile())


def test_wheels_install_with_installer(tmp_path: Path) -> None:
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    pure = make_wheel(
        tmp_path / "wh",
        "hello-pkg",
        "1.2.3",
        files={"hello_pkg/__init__.py": '__version__ = "1.2.3"\ndef main():\n    print("hi")\n'},
        entry_points="[console_scripts]\nhello = hello_pkg:main\n",
    )
    native = make_wheel(
        tmp_path / "wh", "native-pkg", "2.0", tag="cp311-cp311-manylinux_2_17_x86_64"
    )
    scheme = {
        key: str(tmp_path / "dest" / key)
        for key in ("purelib", "platlib", "headers", "scripts", "data")
    }
    destination = SchemeDictionaryDestination(
        scheme, interpreter=sys.executable, script_kind="posix"
    )
    for wheel in (pure, native):
        with WheelFile.open(wheel) as source:
            install(source, destination, {"INSTALLER": b"lockcheck-tests"})

    purelib, platlib = Path(scheme["purelib"]), Path(scheme["platlib"])
    assert (purelib / "hello_pkg-1.2.3.dist-info" / "INSTALLER").read_bytes() == b"lockcheck-tests"
    assert (platlib / "native_pkg" / "__init__.py").exists()  # Root-Is-Purelib: false
    assert (Path(scheme["scripts"]) / "hello").exists()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import hello_pkg, native_pkg; print(hello_pkg.__version__, native_pkg.__version__)",
        ],
        env={**os.environ, "PYTHONPATH": f"{purelib}{os.pathsep}{platlib}"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["1.2.3", "2.0"]


def test_pip_installs_wheels_from_find_links(tmp_path: Path) -> None:
    house = tmp_path / "wh"
    make_wheel(
        house,
        "App-Core",
        "1.0",
        requires_dist=["helper-lib>=2", 'never-there; extra == "x"'],
        provides_extra=["x"],
    )
    make_wheel(house, "helper_lib", "2.1")
    result = pip(
        "install",
        "--no-index",
        "--find-links",
        str(house),
        "--target",
        str(tmp_path / "t"),
        "app-core",
        cwd=tmp_path,
    )
    assert result.returncode == 0, describe(result)
    installed = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert installed == [
        "app_core",
        "app_core-1.0.dist-info",
        "helper_lib",
        "helper_lib-2.1.dist-info",
    ]


def _hooks(source_dir: Path):
    from pyproject_hooks import BuildBackendHookCaller

    pyproject = tomllib.loads((source_dir / "pyproject.toml").read_text())
    build_system = pyproject["build-system"]
    return BuildBackendHookCaller(
        str(source_dir),
        build_system["build-backend"],
        backend_path=build_system["backend-path"],
        python_executable=sys.executable,
    )


def test_sdist_builds_with_pyproject_hooks(tmp_path: Path) -> None:
    sdist = make_sdist(
        tmp_path,
        "Sdist.Pkg",
        "0.5.0",
        requires_dist=["idna>=3", 'PySocks; (python_version < "3.12") and extra == "socks"'],
        requires_python=">=3.9",
        provides_extra=["socks"],
    )
    assert sdist.name == "sdist_pkg-0.5.0.tar.gz"
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "src", filter="data")
    assert "sdist_pkg-0.5.0/_backend/lockcheck_test_backend.py" in names
    source = tmp_path / "src" / "sdist_pkg-0.5.0"
    pyproject = tomllib.loads((source / "pyproject.toml").read_text())
    assert pyproject["build-system"] == {
        "requires": [],
        "build-backend": "lockcheck_test_backend",
        "backend-path": ["_backend"],
    }
    hooks = _hooks(source)
    assert hooks.get_requires_for_build_wheel() == []
    assert hooks.get_requires_for_build_sdist() == []
    assert hooks.get_requires_for_build_editable() == []

    meta_dir = tmp_path / "meta"
    info = hooks.prepare_metadata_for_build_wheel(str(meta_dir))
    assert info == "sdist_pkg-0.5.0.dist-info"
    meta = parse_metadata((meta_dir / info / "METADATA").read_text())
    assert (meta.name, str(meta.version), str(meta.requires_python)) == (
        "Sdist.Pkg",
        "0.5.0",
        ">=3.9",
    )
    assert [str(r) for r in meta.requires_dist or []] == [
        "idna>=3",
        'PySocks; python_version < "3.12" and extra == "socks"',
    ]

    out = tmp_path / "out"
    wheel = out / hooks.build_wheel(str(out))
    assert wheel.name == "sdist_pkg-0.5.0-py3-none-any.whl"
    assert read_member(wheel, ".dist-info/METADATA") == (meta_dir / info / "METADATA").read_bytes()
    assert read_member(wheel, "sdist_pkg/__init__.py") == b'__version__ = "0.5.0"\n'
    rebuilt = out / hooks.build_sdist(str(out))
    with tarfile.open(rebuilt) as tar:
        assert "sdist_pkg-0.5.0/PKG-INFO" in tar.getnames()


def test_project_static_and_dynamic_metadata(tmp_path: Path) -> None:
    static = make_project(
        tmp_path,
        "my-app",
        "1.0",
        dependencies=['requests>=2; python_version >= "3.8"'],
        optional_dependencies={"dev": ["pytest>=8"], "docs": ['sphinx; python_version < "4"']},
        requires_python=">=3.10",
    )
    project = tomllib.loads((static / "pyproject.toml").read_text())["project"]
    assert project == {
        "name": "my-app",
        "version": "1.0",
        "requires-python": ">=3.10",
        "dependencies": ['requests>=2; python_version >= "3.8"'],
        "optional-dependencies": {"dev": ["pytest>=8"], "docs": ['sphinx; python_version < "4"']},
    }
    meta_dir = tmp_path / "m1"
    meta = parse_metadata(
        (
            meta_dir / _hooks(static).prepare_metadata_for_build_wheel(str(meta_dir)) / "METADATA"
        ).read_text()
    )
    assert meta.provides_extra == ["dev", "docs"]
    assert [str(r) for r in meta.requires_dist or []] == [
        'requests>=2; python_version >= "3.8"',
        'pytest>=8; extra == "dev"',
        'sphinx; python_version < "4" and extra == "docs"',
    ]

    dynamic = make_project(
        tmp_path, "dyn-app", dependencies=["click>=8", "idna"], dynamic_dependencies=True
    )
    project = tomllib.loads((dynamic / "pyproject.toml").read_text())["project"]
    assert project["dynamic"] == ["dependencies"] and "dependencies" not in project
    meta_dir = tmp_path / "m2"
    hooks = _hooks(dynamic)
    meta = parse_metadata(
        (
            meta_dir / hooks.prepare_metadata_for_build_editable(str(meta_dir)) / "METADATA"
        ).read_text()
    )
    assert [str(r) for r in meta.requires_dist or []] == ["click>=8", "idna"]
    editable = tmp_path / "ed" / hooks.build_editable(str(tmp_path / "ed"))
    assert read_member(editable, "_dyn_app_editable.pth").decode().strip() == str(dynamic)


def test_fallback_toml_parser_reads_generated_files(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        "p",
        dependencies=['a; python_version < "3.11"'],
        optional_dependencies={"x-y": ["b"]},
        requires_python=">=3",
    )
    sdist = make_sdist(tmp_path, "s", "1.0", requires_python=">=3", build_requires=["wheel"])
    with tarfile.open(sdist) as tar:
        sdist_pyproject = tar.extractfile("s-1.0/pyproject.toml").read().decode()  # type: ignore[union-attr]
    for text in ((project / "pyproject.toml").read_text(), sdist_pyproject):
        assert backend_template._loads_simple_toml(text) == tomllib.loads(text)


def test_pip_installs_sdist_and_editable_project_with_build_isolation(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "wh", "built-here", "1.0")
    project = make_project(tmp_path, "edit-me", "0.3.0", dependencies=["built-here"])
    prefix = tmp_path / "prefix"
    result = pip(
        "install",
        "--no-index",
        "--find-links",
        str(sdist.parent),
        "--prefix",
        str(prefix),
        "-e",
        str(project),
        cwd=tmp_path,
    )
    assert result.returncode == 0, describe(result)
    (site,) = prefix.glob("lib/python*/site-packages")
    assert (site / "_edit_me_editable.pth").read_text().strip() == str(project)
    code = (
        "import site, sys; site.addsitedir(sys.argv[1]); import edit_me, built_here; "
        "print(edit_me.__file__, built_here.__version__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(site)], capture_output=True, text=True, check=True
    )
    edit_file, version = out.stdout.split()
    assert Path(edit_file) == project / "edit_me" / "__init__.py"
    assert version == "1.0"


def test_python_m_build_builds_a_project(tmp_path: Path) -> None:
    project = make_project(tmp_path, "built-by-build", "2.0", dependencies=["idna"])
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"), str(project)],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert result.returncode == 0, describe(result)
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == [
        "built_by_build-2.0-py3-none-any.whl",
        "built_by_build-2.0.tar.gz",
    ]
    meta = parse_metadata(
        read_member(tmp_path / "dist" / "built_by_build-2.0-py3-none-any.whl", "METADATA")
    )
    assert [str(r) for r in meta.requires_dist or []] == ["idna"]


@pytest.mark.needs_setuptools
@pytest.mark.parametrize("style", ["setup.cfg", "setup.py"])
def test_setuptools_project_builds_without_isolation(tmp_path: Path, style: str) -> None:
    project = make_setuptools_project(
        tmp_path,
        "classic-pkg",
        "1.4",
        install_requires=["idna>=3", 'tomli; python_version < "3.11"'],
        extras_require={"s": ["PySocks"]},
        style=style,  # type: ignore[arg-type]
    )
    assert (project / style).exists() and not (project / "pyproject.toml").exists()
    result = pip(
        "wheel",
        "--no-index",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(tmp_path / "out"),
        str(project),
        cwd=tmp_path,
    )
    assert result.returncode == 0, describe(result)
    (wheel,) = (tmp_path / "out").glob("*.whl")
    meta = parse_metadata(read_member(wheel, ".dist-info/METADATA"))
    assert (canonicalize_name(meta.name), str(meta.version)) == ("classic-pkg", "1.4")
    assert sorted(str(r) for r in meta.requires_dist or []) == sorted(
        ["idna>=3", 'tomli; python_version < "3.11"', 'PySocks; extra == "s"']
    )
    with zipfile.ZipFile(wheel) as zf:
        assert "classic_pkg/__init__.py" in zf.namelist()


def test_build_packages_and_universe(tmp_path: Path, universe_wheelhouse) -> None:
    house = build_packages(
        [
            PackageSpec("a", "1.0", kind="both", yanked="bad"),
            PackageSpec("b", "1.0", kind="sdist", extras={"x": ("a",)}),
        ],
        tmp_path,
    )
    assert sorted(p.name for p in house.files) == [
        "a-1.0-py3-none-any.whl",
        "a-1.0.tar.gz",
        "b-1.0.tar.gz",
    ]
    assert house.yanked == {"a-1.0-py3-none-any.whl": "bad", "a-1.0.tar.gz": "bad"}

    names = {p.name for p in universe_wheelhouse.files}
    assert len(names) == len(universe_wheelhouse.files)  # no two specs wrote the same file
    native = sorted(n for n in names if n.startswith("nativelib-"))
    assert native == [
        "nativelib-1.0.0-cp311-cp311-macosx_11_0_arm64.whl",
        "nativelib-1.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "nativelib-1.0.0-cp311-cp311-win_amd64.whl",
        "nativelib-1.0.0.tar.gz",
    ]
    assert "sdistonly-0.5.0.tar.gz" in names and not any(
        n.startswith("sdistonly-") and n.endswith(".whl") for n in names
    )
    assert universe_wheelhouse.yanked == {"yankme-1.1.0-py3-none-any.whl": "broken build"}
    assert [s.version for s in by_name("FLASK")] == ["2.0.0", "2.3.0", "3.0.0"]
    assert {s.key for s in UNIVERSE} >= {
        "zope-interface",
        "django",
        "pysocks",
        "conflict-c",
        "setuptools",
    }


def test_make_index_from_specs_and_wheelhouse(make_index, universe_wheelhouse) -> None:
    server = make_index([PackageSpec("a", "1.0"), PackageSpec("a", "2.0", yanked="oops")])
    files = request(server, "/simple/a/", {"Accept": JSON_V1}).json()["files"]
    assert [(f["filename"], f["yanked"]) for f in files] == [
        ("a-1.0-py3-none-any.whl", False),
        ("a-2.0-py3-none-any.whl", "oops"),
    ]
    universe = make_index(universe_wheelhouse, pep658=False)
    files = request(universe, "/simple/yankme/", {"Accept": JSON_V1}).json()["files"]
    assert [f["yanked"] for f in files] == [False, "broken build"]
    assert all(f["core-metadata"] is False for f in files)


# --------------------------------------------------------------------------------------
# index server: pages
# --------------------------------------------------------------------------------------


@pytest.fixture
def small_index(make_index, dist_factory):
    """django (wheel, mixed-case name), an sdist with requires-python, a yanked wheel."""
    dist_factory.wheel(
        "Django", "4.2.0", requires_python=">=3.8", requires_dist=["asgiref<4,>=3.6"]
    )
    dist_factory.wheel("Django", "5.0.0", requires_python=">=3.10")
    dist_factory.sdist("Django", "5.0.0", requires_python=">=3.10")
    dist_factory.wheel("zope.interface", "6.0")
    return make_index(yanked={"django-4.2.0-py3-none-any.whl": "use 5.0 <please>"})


def test_json_project_page(small_index: IndexServer, dist_factory) -> None:
    reply = request(small_index, "/simple/django/", {"Accept": PIP_ACCEPT})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == JSON_V1
    page = reply.json()
    assert page["meta"] == {"api-version": "1.1"}
    assert page["name"] == "django"
    assert page["versions"] == ["4.2.0", "5.0.0"]
    files = {f["filename"]: f for f in page["files"]}
    assert list(files) == [
        "django-4.2.0-py3-none-any.whl",
        "django-5.0.0-py3-none-any.whl",
        "django-5.0.0.tar.gz",
    ]
    old = files["django-4.2.0-py3-none-any.whl"]
    wheel_bytes = (dist_factory.directory / old["filename"]).read_bytes()
    assert old["hashes"] == {"sha256": hashlib.sha256(wheel_bytes).hexdigest()}
    assert old["size"] == len(wheel_bytes)
    assert old["url"] == f"{small_index.base_url}/files/django-4.2.0-py3-none-any.whl"
    assert old["requires-python"] == ">=3.8"
    assert old["yanked"] == "use 5.0 <please>"
    metadata = read_member(dist_factory.directory / old["filename"], ".dist-info/METADATA")
    assert (
        old["core-metadata"]
        == old["dist-info-metadata"]
        == {"sha256": hashlib.sha256(metadata).hexdigest()}
    )
    sdist = files["django-5.0.0.tar.gz"]
    assert sdist["requires-python"] == ">=3.10"  # read from PKG-INFO
    assert sdist["core-metadata"] is False and sdist["yanked"] is False
    times = [f["upload-time"] for f in page["files"]]
    assert times == [
        "2024-01-01T00:00:00.000000Z",
        "2024-01-02T00:00:00.000000Z",
        "2024-01-02T00:00:00.000000Z",
    ]


def test_html_project_page(small_index: IndexServer) -> None:
    reply = request(small_index, "/simple/django/", {"Accept": "text/html"})
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert b'data-requires-python="&gt;=3.8"' in reply.body
    links = anchors(reply.body)
    json_files = {
        f["filename"]: f
        for f in request(small_index, "/simple/django/", {"Accept": JSON_V1}).json()["files"]
    }
    assert set(links) == set(json_files)
    for filename, attrs in links.items():
        url, _, fragment = str(attrs["href"]).partition("#")
        assert url == json_files[filename]["url"]
        assert fragment == f"sha256={json_files[filename]['hashes']['sha256']}"
        assert attrs.get("data-requires-python") == json_files[filename]["requires-python"]
    old = links["django-4.2.0-py3-none-any.whl"]
    assert old["data-yanked"] == "use 5.0 <please>"
    expected = f"sha256={json_files['django-4.2.0-py3-none-any.whl']['core-metadata']['sha256']}"
    assert old["data-core-metadata"] == old["data-dist-info-metadata"] == expected
    assert "data-yanked" not in links["django-5.0.0.tar.gz"]
    assert "data-core-metadata" not in links["django-5.0.0.tar.gz"]

    v1 = request(small_index, "/simple/django/", {"Accept": HTML_V1})
    assert v1.headers["Content-Type"] == HTML_V1


def test_relative_urls_switch(small_index: IndexServer) -> None:
    small_index.absolute_urls = False
    page = request(small_index, "/simple/django/", {"Accept": JSON_V1}).json()
    url = page["files"][0]["url"]
    assert url == "../../files/django-4.2.0-py3-none-any.whl"
    resolved = urljoin(f"{small_index.url}/django/", url)
    assert request(small_index, urlsplit(resolved).path).status == 200
    links = anchors(request(small_index, "/simple/django/", {"Accept": "text/html"}).body)
    assert str(links["django-5.0.0.tar.gz"]["href"]).startswith(
        "../../files/django-5.0.0.tar.gz#sha256="
    )


@pytest.mark.parametrize(
    ("accept", "json_on", "html_on", "expected"),
    [
        (PIP_ACCEPT, True, True, JSON_V1),
        (PIP_ACCEPT, False, True, HTML_V1),
        (PIP_ACCEPT, True, False, JSON_V1),
        ("text/html", True, True, "text/html; charset=utf-8"),
        ("*/*", True, True, "text/html; charset=utf-8"),
        (None, True, True, "text/html; charset=utf-8"),
        ("*/*", True, False, JSON_V1),
        ("application/vnd.pypi.simple.latest+json", True, True, JSON_V1),
        ("text/html", True, False, None),
        (JSON_V1, False, True, None),
    ],
)
def test_content_negotiation(small_index: IndexServer, accept, json_on, html_on, expected) -> None:
    small_index.json, small_index.html = json_on, html_on
    reply = request(small_index, "/simple/django/", {"Accept": accept} if accept else {})
    if expected is None:
        assert reply.status == 406
    else:
        assert (reply.status, reply.headers["Content-Type"]) == (200, expected)


def test_format_query_overrides_accept(small_index: IndexServer) -> None:
    for fmt in (quote(JSON_V1, safe=""), JSON_V1):  # encoded, and "+" sent raw
        reply = request(small_index, f"/simple/django/?format={fmt}", {"Accept": "text/html"})
        assert (reply.status, reply.headers["Content-Type"]) == (200, JSON_V1)


def test_names_are_normalised_and_index_lists_projects(small_index: IndexServer) -> None:
    for path, location in [
        ("/simple/Django/", "/simple/django/"),
        ("/simple/zope.interface/", "/simple/zope-interface/"),
        ("/simple/Zope_Interface/", "/simple/zope-interface/"),
        ("/simple/django", "/simple/django/"),
        ("/simple", "/simple/"),
    ]:
        reply = request(small_index, path)
        assert (reply.status, reply.headers["Location"]) == (301, location), path
    assert request(small_index, "/simple/no-such-project/").status == 404
    small_index.redirect_non_normalized = False
    reply = request(small_index, "/simple/Django/", {"Accept": JSON_V1})
    assert reply.status == 200 and reply.json()["name"] == "django"

    listing = request(small_index, "/simple/", {"Accept": JSON_V1}).json()
    assert listing == {
        "meta": {"api-version": "1.1"},
        "projects": [{"name": "django"}, {"name": "zope-interface"}],
    }
    parser = Anchors()
    parser.feed(request(small_index, "/simple/").body.decode())
    assert [a["href"] for a in parser.links] == ["django/", "zope-interface/"]


def test_requires_python_override_and_flat_find_links_page(small_index: IndexServer) -> None:
    small_index.requires_python["django-5.0.0.tar.gz"] = ">=3.12"
    small_index.requires_python["django-4.2.0-py3-none-any.whl"] = None
    files = {
        f["filename"]: f
        for f in request(small_index, "/simple/django/", {"Accept": JSON_V1}).json()["files"]
    }
    assert files["django-5.0.0.tar.gz"]["requires-python"] == ">=3.12"
    assert files["django-4.2.0-py3-none-any.whl"]["requires-python"] is None
    flat = anchors(request(small_index, "/files/").body)
    assert sorted(flat) == sorted([*files, "zope_interface-6.0-py3-none-any.whl"])


def test_files_appear_after_start_and_add(
    small_index: IndexServer, dist_factory, tmp_path: Path
) -> None:
    dist_factory.wheel("late-comer", "1.0")
    assert request(small_index, "/simple/late-comer/").status == 200
    elsewhere = make_wheel(tmp_path / "elsewhere", "outsider", "0.1")
    assert small_index.add(elsewhere) == "outsider-0.1-py3-none-any.whl"
    page = request(small_index, "/simple/outsider/", {"Accept": JSON_V1}).json()
    assert [f["filename"] for f in page["files"]] == ["outsider-0.1-py3-none-any.whl"]
    assert (
        request(small_index, "/files/outsider-0.1-py3-none-any.whl").body == elsewhere.read_bytes()
    )
    small_index.remove("outsider-0.1-py3-none-any.whl")
    assert request(small_index, "/simple/outsider/").status == 404


def test_broken_archives_are_served_without_metadata(
    small_index: IndexServer, dist_factory
) -> None:
    (dist_factory.directory / "broken-1.0-py3-none-any.whl").write_bytes(b"not a zip")
    (dist_factory.directory / "broken-1.0.tar.gz").write_bytes(b"not a tarball")
    (dist_factory.directory / "README.txt").write_text("not a distribution")
    files = request(small_index, "/simple/broken/", {"Accept": JSON_V1}).json()["files"]
    assert [(f["filename"], f["core-metadata"]) for f in files] == [
        ("broken-1.0-py3-none-any.whl", False),
        ("broken-1.0.tar.gz", False),
    ]
    assert request(small_index, "/files/broken-1.0-py3-none-any.whl").body == b"not a zip"
    assert request(small_index, "/files/README.txt").status == 404


def test_upload_times_override(small_index: IndexServer) -> None:
    small_index.upload_times["django-5.0.0.tar.gz"] = "2030-05-05T05:05:05.000000Z"
    files = {
        f["filename"]: f
        for f in request(small_index, "/simple/django/", {"Accept": JSON_V1}).json()["files"]
    }
    assert files["django-5.0.0.tar.gz"]["upload-time"] == "2030-05-05T05:05:05.000000Z"


# --------------------------------------------------------------------------------------
# index server: files, Range, PEP 658, auth, conditional requests
# --------------------------------------------------------------------------------------

WHEEL = "/files/django-4.2.0-py3-none-any.whl"


def test_range_requests(small_index: IndexServer, dist_factory) -> None:
    data = (dist_factory.directory / WHEEL.rsplit("/", 1)[1]).read_bytes()
    size = len(data)
    head = request(small_index, WHEEL, method="HEAD")
    assert (head.status, head.body) == (200, b"")
    assert head.headers["Content-Length"] == str(size)
    assert head.headers["Accept-Ranges"] == "bytes"

    part = request(small_index, WHEEL, {"Range": "bytes=10-19"})
    assert (part.status, part.body, part.headers["Content-Range"]) == (
        206,
        data[10:20],
        f"bytes 10-19/{size}",
    )
    tail = request(small_index, WHEEL, {"Range": "bytes=-100"})
    assert (tail.status, tail.body, tail.headers["Content-Range"]) == (
        206,
        data[-100:],
        f"bytes {size - 100}-{size - 1}/{size}",
    )
    rest = request(small_index, WHEEL, {"Range": f"bytes={size - 5}-"})
    assert (rest.status, rest.body) == (206, data[-5:])
    huge_suffix = request(small_index, WHEEL, {"Range": f"bytes=-{size * 2}"})
    assert (huge_suffix.status, huge_suffix.body) == (206, data)
    beyond = request(small_index, WHEEL, {"Range": f"bytes={size}-"})
    assert (beyond.status, beyond.headers["Content-Range"]) == (416, f"bytes */{size}")

    small_index.range_support = False
    head = request(small_index, WHEEL, method="HEAD")
    assert "Accept-Ranges" not in head.headers and head.headers["Content-Length"] == str(size)
    whole = request(small_index, WHEEL, {"Range": "bytes=-100"})
    assert (whole.status, whole.body) == (200, data)
    assert "Content-Range" not in whole.headers


class RangeReader(io.RawIOBase):
    """A seekable file over HTTP Range requests: what a lazy wheel reader does."""

    def __init__(self, server: IndexServer, path: str) -> None:
        self.server, self.path, self.pos = server, path, 0
        self.size = int(request(server, path, method="HEAD").headers["Content-Length"])

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = [offset, self.pos + offset, self.size + offset][whence]
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        end = min(self.pos + len(buffer), self.size) - 1
        if end < self.pos:
            return 0
        reply = request(self.server, self.path, {"Range": f"bytes={self.pos}-{end}"})
        assert reply.status == 206
        buffer[: len(reply.body)] = reply.body
        self.pos += len(reply.body)
        return len(reply.body)


def test_lazy_wheel_read_over_range_requests(make_index, dist_factory) -> None:
    big = {"big_pkg/__init__.py": "", "big_pkg/blob.bin": os.urandom(200_000)}
    wheel = dist_factory.wheel("big-pkg", "1.0", requires_dist=["idna"], files=big)
    server = make_index()
    reader = RangeReader(server, f"/files/{wheel.name}")
    with zipfile.ZipFile(io.BufferedReader(reader, buffer_size=8192)) as zf:
        metadata = zf.read("big_pkg-1.0.dist-info/METADATA")
    assert b"Requires-Dist: idna" in metadata
    ranged = server.requests_for("/files/", method="GET")
    assert ranged and all("range" in r.headers for r in ranged)
    assert all(resp.status == 206 for resp in server.responses if resp.method == "GET")


def test_pep658_metadata_files(small_index: IndexServer, dist_factory) -> None:
    metadata = read_member(dist_factory.directory / WHEEL.rsplit("/", 1)[1], ".dist-info/METADATA")
    reply = request(small_index, WHEEL + ".metadata")
    assert (reply.status, reply.body) == (200, metadata)
    advertised = request(small_index, "/simple/django/", {"Accept": JSON_V1}).json()["files"][0][
        "core-metadata"
    ]
    assert advertised == {"sha256": hashlib.sha256(reply.body).hexdigest()}
    assert request(small_index, "/files/django-5.0.0.tar.gz.metadata").status == 404

    small_index.pep658 = False
    assert request(small_index, WHEEL + ".metadata").status == 404
    page = request(small_index, "/simple/django/", {"Accept": JSON_V1}).json()
    assert all(f["core-metadata"] is False for f in page["files"])
    assert b"data-core-metadata" not in request(small_index, "/simple/django/").body
    assert b"data-dist-info-metadata" not in request(small_index, "/simple/django/").body


def test_basic_auth(make_index, dist_factory) -> None:
    dist_factory.wheel("secret-pkg", "1.0")
    server = make_index(auth=("alice", "p@ss:word"))
    assert server.url_with_auth == f"http://alice:p%40ss%3Aword@127.0.0.1:{server.port}/simple"
    for path in ("/simple/", "/simple/secret-pkg/", "/files/secret_pkg-1.0-py3-none-any.whl"):
        denied = request(server, path)
        assert denied.status == 401, path
        assert denied.headers["WWW-Authenticate"].startswith("Basic ")
        wrong = "Basic " + base64.b64encode(b"alice:nope").decode()
        assert request(server, path, {"Authorization": wrong}).status == 401
        good = "Basic " + base64.b64encode(b"alice:p@ss:word").decode()
        assert request(server, path, {"Authorization": good}).status == 200, path
    server.auth = None
    assert request(server, "/simple/secret-pkg/").status == 200


def test_conditional_requests(small_index: IndexServer) -> None:
    first = request(small_index, "/simple/django/", {"Accept": JSON_V1})
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "max-age=600, public"
    again = request(small_index, "/simple/django/", {"Accept": JSON_V1, "If-None-Match": etag})
    assert (again.status, again.body, again.headers["ETag"]) == (304, b"", etag)
    html_page = request(
        small_index, "/simple/django/", {"Accept": "text/html", "If-None-Match": etag}
    )
    assert html_page.status == 200 and html_page.headers["ETag"] != etag  # another representation
    stale = request(small_index, "/simple/django/", {"Accept": JSON_V1, "If-None-Match": '"other"'})
    assert stale.status == 200
    since = request(
        small_index, "/simple/django/", {"Accept": JSON_V1, "If-Modified-Since": modified}
    )
    assert since.status == 304
    old = request(
        small_index,
        "/simple/django/",
        {"Accept": JSON_V1, "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
    )
    assert old.status == 200
    file_etag = request(small_index, WHEEL).headers["ETag"]
    assert request(small_index, WHEEL, {"If-None-Match": file_etag}).status == 304
    small_index.yanked["django-5.0.0.tar.gz"] = ""  # the page changed: the old ETag is stale
    changed = request(small_index, "/simple/django/", {"Accept": JSON_V1, "If-None-Match": etag})
    assert changed.status == 200
    assert {f["filename"]: f["yanked"] for f in changed.json()["files"]}[
        "django-5.0.0.tar.gz"
    ] is True


# --------------------------------------------------------------------------------------
# index server: faults and the request log
# --------------------------------------------------------------------------------------


def test_fail_next(small_index: IndexServer) -> None:
    small_index.fail_next("/simple/django/", status=503, times=2)
    assert request(small_index, "/simple/zope-interface/").status == 200  # other paths unaffected
    assert [request(small_index, "/simple/django/").status for _ in range(3)] == [503, 503, 200]
    small_index.fail_next("/files/", status=500)
    assert request(small_index, WHEEL).status == 500
    assert request(small_index, WHEEL).status == 200


def test_slow(small_index: IndexServer) -> None:
    small_index.slow("/simple/django/", 0.6)
    start = time.monotonic()
    assert request(small_index, "/simple/django/").status == 200
    assert time.monotonic() - start >= 0.6
    start = time.monotonic()
    request(small_index, "/simple/zope-interface/")
    assert time.monotonic() - start < 0.5
    small_index.clear_faults()
    start = time.monotonic()
    request(small_index, "/simple/django/")
    assert time.monotonic() - start < 0.5


def test_truncate(small_index: IndexServer, dist_factory) -> None:
    size = (dist_factory.directory / WHEEL.rsplit("/", 1)[1]).stat().st_size
    small_index.truncate("/files/")
    conn = http.client.HTTPConnection("127.0.0.1", small_index.port, timeout=10)
    conn.request("GET", WHEEL)
    resp = conn.getresponse()
    assert resp.headers["Content-Length"] == str(size)
    with pytest.raises(http.client.IncompleteRead) as excinfo:
        resp.read()
    assert len(excinfo.value.partial) == size // 2
    conn.close()
    assert request(small_index, "/simple/django/").status == 200  # pages are whole
    small_index.clear_faults()
    assert len(request(small_index, WHEEL).body) == size


def test_corrupt(small_index: IndexServer, dist_factory) -> None:
    filename = WHEEL.rsplit("/", 1)[1]
    data = (dist_factory.directory / filename).read_bytes()
    small_index.corrupt(filename)
    small_index.corrupt(filename + ".metadata")
    served = request(small_index, WHEEL).body
    assert len(served) == len(data) and served != data
    advertised = {
        f["filename"]: f
        for f in request(small_index, "/simple/django/", {"Accept": JSON_V1}).json()["files"]
    }
    assert advertised[filename]["hashes"]["sha256"] == hashlib.sha256(data).hexdigest()
    metadata = request(small_index, WHEEL + ".metadata").body
    assert hashlib.sha256(metadata).hexdigest() != advertised[filename]["core-metadata"]["sha256"]
    small_index.clear_faults()
    assert request(small_index, WHEEL).body == data


def test_request_log(small_index: IndexServer) -> None:
    small_index.clear_log()
    request(small_index, "/simple/Django/", {"Accept": JSON_V1, "X-Test": "yes"})
    request(small_index, WHEEL, {"Range": "bytes=-10"})
    request(small_index, WHEEL, method="HEAD")
    assert small_index.count("/simple/") == 1
    assert small_index.count("/files/") == 2
    assert small_index.count("/files/", method="HEAD") == 1
    assert small_index.count("/files/", method="GET") == 1
    method, path, headers = small_index.requests[0]
    assert (method, path, headers["x-test"], headers["accept"]) == (
        "GET",
        "/simple/Django/",
        "yes",
        JSON_V1,
    )
    ranged = small_index.requests_for("/files/", method="GET")
    assert ranged[0].headers["range"] == "bytes=-10"
    assert [(r.path, r.status) for r in small_index.responses] == [
        ("/simple/Django/", 301),
        (WHEEL, 206),
        (WHEEL, 200),
    ]
    small_index.clear_log()
    assert small_index.requests == [] and small_index.count() == 0


def test_server_lifecycle(tmp_path: Path) -> None:
    server = IndexServer(tmp_path)
    with pytest.raises(RuntimeError):
        _ = server.url
    with server:
        port = server.port
        assert server.url == f"http://127.0.0.1:{port}/simple"
        assert server.url_with_auth == server.url
        assert request(server, "/simple/", {"Accept": JSON_V1}).json()["projects"] == []
    server.stop()  # idempotent
    with pytest.raises(ConnectionRefusedError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=2).connect()


# --------------------------------------------------------------------------------------
# pip and pip-compile against the server
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "absolute"),
    [("json", True), ("html", False)],
    ids=["json-absolute-urls", "html-relative-urls"],
)
def test_pip_uses_the_index(
    make_index, dist_factory, tmp_path: Path, fmt: str, absolute: bool
) -> None:
    dist_factory.wheel("Flask", "3.0.0", requires_python=">=3.8")
    dist_factory.wheel("flask", "9.0.0", requires_python=">=99")  # must be skipped by pip
    dist_factory.sdist("sdist-thing", "1.0")
    server = make_index(json=fmt == "json", html=fmt == "html", absolute_urls=absolute)
    result = pip(
        "download", "--index-url", server.url, "--no-deps", "--no-cache-dir",
        "-d", str(tmp_path / "dl"), "Flask", "sdist-thing", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, describe(result)
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == [
        "flask-3.0.0-py3-none-any.whl",
        "sdist_thing-1.0.tar.gz",
    ]
    page_types = {
        r.content_type
        for r in server.responses
        if r.path.startswith("/simple/") and r.status == 200
    }
    assert page_types == ({JSON_V1} if fmt == "json" else {HTML_V1})
    assert server.count("/files/flask-9.0.0") == 0


def test_pip_with_basic_auth(make_index, dist_factory, tmp_path: Path) -> None:
    dist_factory.wheel("private-pkg", "1.0")
    server = make_index(auth=("user", "s3cret"))
    target = tmp_path / "t"
    result = pip(
        "install",
        "--index-url",
        server.url_with_auth,
        "--no-deps",
        "--target",
        str(target),
        "private-pkg",
        cwd=tmp_path,
    )
    assert result.returncode == 0, describe(result)
    assert (target / "private_pkg" / "__init__.py").exists()
    denied = pip(
        "download",
        "--index-url",
        server.url,
        "--no-deps",
        "--no-input",
        "-d",
        str(tmp_path / "x"),
        "private-pkg",
        cwd=tmp_path,
    )
    assert denied.returncode != 0
    assert any(r.status == 401 for r in server.responses)


def test_pip_compile_resolves_flask_from_universe(
    universe_index: IndexServer, tmp_path: Path
) -> None:
    (tmp_path / "requirements.in").write_text("flask\nrequests[socks]\npytest\nDjango\nyankme\n")
    result = run_pip_compile(
        "--index-url", universe_index.url, "--cache-dir", str(tmp_path / "cache"),
        "--no-header", "--strip-extras", "--output-file", "requirements.txt", "requirements.in",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, describe(result)
    lock = (tmp_path / "requirements.txt").read_text()
    pins = {line.split("==")[0]: line.split("==")[1] for line in lock.splitlines() if "==" in line}
    assert pins == {
        "asgiref": "3.7.2",
        "blinker": "1.7.0",
        "certifi": "2024.2.2",
        "charset-normalizer": "3.3.2",
        "click": "8.1.7",
        "django": "4.2.0",
        "flask": "3.0.0",
        "idna": "3.6",
        "iniconfig": "2.0.0",
        "itsdangerous": "2.1.2",
        "jinja2": "3.1.2",
        "markupsafe": "3.0.0",
        "packaging": "24.0",
        "pluggy": "1.4.0",
        "pysocks": "1.7.1",
        "pytest": "8.0.0",
        "requests": "2.31.0",
        "sqlparse": "0.4.4",
        "urllib3": "2.0.7",
        "werkzeug": "3.0.0",
        "yankme": "1.0.0",
    }, describe(result) + "\n" + lock
    assert "markupsafe==3.0.0\n    # via\n    #   jinja2\n    #   werkzeug\n" in lock, lock


@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("dynamic-project", ["pyproject.toml", "--extra", "dev"]),
        pytest.param(
            "setuptools", ["setup.cfg", "--no-build-isolation"], marks=pytest.mark.needs_setuptools
        ),
    ],
)
def test_pip_compile_reads_built_project_inputs(
    universe_index: IndexServer, dist_factory, tmp_path: Path, kind: str, args: list[str]
) -> None:
    if kind == "dynamic-project":
        project = dist_factory.project(
            "myapp",
            dependencies=["requests"],
            optional_dependencies={"dev": ["iniconfig"]},
            dynamic_dependencies=True,
        )
        expected = {"certifi", "charset-normalizer", "idna", "iniconfig", "requests", "urllib3"}
        label = "myapp (pyproject.toml)"
    else:
        project = dist_factory.setuptools_project("classic", "1.0", install_requires=["click"])
        expected, label = {"click"}, "classic (setup.cfg)"
    result = run_pip_compile(
        "--index-url", universe_index.url, "--cache-dir", str(tmp_path / "cache"),
        "--no-header", "--strip-extras", "--output-file", "requirements.txt", *args,
        cwd=project,
    )  # fmt: skip
    assert result.returncode == 0, describe(result)
    lock = (project / "requirements.txt").read_text()
    assert {line.split("==")[0] for line in lock.splitlines() if "==" in line} == expected, lock
    assert f"# via {label}" in lock, lock


# --------------------------------------------------------------------------------------
# conftest isolation and helpers
# --------------------------------------------------------------------------------------


def test_environment_is_isolated(_isolated_environment: Path) -> None:
    assert os.environ["PIP_CONFIG_FILE"] == os.devnull
    removed = ["PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"]
    removed += ["PIP_NO_INDEX", "CUSTOM_COMPILE_COMMAND", "LOCKCHECK_CUSTOM_COMPILE_COMMAND"]
    for name in removed:
        assert name not in os.environ, name
    for name in ("XDG_CACHE_HOME", "LOCKCHECK_CACHE_DIR", "NETRC"):
        assert Path(os.environ[name]).is_relative_to(_isolated_environment), name
    assert not Path(os.environ["NETRC"]).exists()
    assert "127.0.0.1" in os.environ["NO_PROXY"].split(",")


def test_run_helpers(tmp_path: Path) -> None:
    result = run_pip_compile("--version", cwd=tmp_path)
    assert result.returncode == 0 and "7.6" in result.stdout, describe(result)
    lockcheck = run_lockcheck("--help", cwd=tmp_path, env={"LOCKCHECK_PROBE": "1"})
    assert lockcheck.args[:3] == [sys.executable, "-m", "lockcheck"]
    assert "exit code" in describe(lockcheck)


def test_live_marker_needs_the_live_option(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    (tmp_path / "test_probe.py").write_text(
        "import pytest\n\n@pytest.mark.live\ndef test_online():\n    pass\n\n"
        "def test_offline():\n    pass\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    def run(*args: str) -> str:
        argv = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            *args,
        ]
        done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
        return done.stdout

    assert "1 passed, 1 skipped" in run(), run()
    assert "2 passed" in run("--live")
