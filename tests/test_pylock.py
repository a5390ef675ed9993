"""PEP 751 pylock.toml: render, validate with packaging.pylock, read back, install with uv.

Resolutions are built by hand (as the resolver would return them); the install tests build
real wheels, an sdist, an editable project and a git repository, serve the files from the
local index and let uv (an existing PEP 751 installer) install the lock into a fresh venv.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.pylock import Pylock
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from lockcheck.errors import InputError, LockcheckError
from lockcheck.lockfile import ParsedLock, read_lock
from lockcheck.lockfile.pylock import (
    ParsedPylock,
    PylockSettings,
    _toml_string,
    format_upload_time,
    is_pylock_path,
    read_pylock,
    render_pylock,
    with_file_hashes,
)
from lockcheck.models import DistFile, LockedPackage, Resolution

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

PYPI = "https://pypi.org/simple"
FILES = "https://files.pythonhosted.org/packages"
GIT_SHA = "4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def dist(
    filename: str,
    *,
    size: int = 1234,
    upload_time: str | None = "2024-03-05T12:34:56.789012Z",
    index: str = PYPI,
    url: str | None = None,
    requires_python: str | None = None,
    hashes: dict[str, str] | None = None,
) -> DistFile:
    """A DistFile as the index module builds it from a PEP 691 page."""
    if filename.endswith(".whl"):
        name, version, _, tags = parse_wheel_filename(filename)
        is_wheel = True
    else:
        (name, version), tags, is_wheel = parse_sdist_filename(filename), frozenset(), False
    digest = _sha(filename)
    return DistFile(
        filename=filename,
        url=url or f"{FILES}/{digest[:2]}/{digest[2:4]}/{digest[4:]}/{filename}",
        name=name,
        version=version,
        is_wheel=is_wheel,
        hashes={"sha256": digest} if hashes is None else hashes,
        requires_python=SpecifierSet(requires_python) if requires_python else None,
        size=size,
        upload_time=upload_time,
        index=index,
        tags=frozenset(tags),
    )


def pin(
    name: str, version: str | None, files: tuple[DistFile, ...] = (), **kwargs: object
) -> LockedPackage:
    key = canonicalize_name(name)
    return LockedPackage(
        name=key,
        display_name=key,
        version=Version(version) if version else None,
        files=files,
        **kwargs,  # type: ignore[arg-type]
    )


def sample_resolution() -> Resolution:
    """Platform wheels, an sdist, markers, an editable, a local tree, git and an archive."""
    numpy = tuple(
        dist(f, size=size, requires_python=">=3.10", upload_time="2025-02-13T16:51:21.821880Z")
        for f, size in [
            ("numpy-2.2.3-cp312-cp312-win_amd64.whl", 12626357),
            ("numpy-2.2.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", 16116679),
            ("numpy-2.2.3-cp312-cp312-macosx_14_0_arm64.whl", 5091476),
            ("numpy-2.2.3.tar.gz", 20262700),
        ]
    )
    colorama = (
        dist("colorama-0.4.6-py2.py3-none-any.whl", size=25335),
        dist("colorama-0.4.6.tar.gz", size=27697, upload_time="2022-10-25T02:36:22Z"),
    )
    tomli = (dist("tomli-2.2.1-py3-none-any.whl", size=14257, upload_time=None),)
    archive = dist("archived-1.0.tar.gz", url="https://example.com/dl/archived-1.0.tar.gz")
    packages = [
        pin("numpy", "2.2.3", numpy, hashes=_hashes(numpy)),
        pin("colorama", "0.4.6", colorama, marker=Marker('sys_platform == "win32"')),
        pin("tomli", "2.2.1", tomli, marker=Marker('python_version < "3.11"')),
        pin("myapp", None, link="./src/myapp", editable=True),
        pin("vendored", None, link="./vendor/vendored"),
        pin("viagit", None, link=f"git+https://github.com/example/viagit.git@{GIT_SHA}"),
        pin("archived", "1.0", (archive,), link="https://example.com/dl/archived-1.0.tar.gz"),
    ]
    return Resolution(packages={p.name: p for p in packages}, python_version="3.12")


def _hashes(files: tuple[DistFile, ...]) -> tuple[str, ...]:
    return tuple(sorted(f"sha256:{f.hashes['sha256']}" for f in files))


def settings(tmp_path: Path, **kwargs: object) -> PylockSettings:
    base: dict[str, object] = {
        "requires_python": ">=3.10",
        "environments": ('sys_platform == "linux"', 'sys_platform == "win32"'),
        "output_dir": tmp_path,
    }
    base.update(kwargs)
    return PylockSettings(**base)  # type: ignore[arg-type]


def validate(text: str) -> Pylock:
    lock = Pylock.from_dict(tomllib.loads(text))
    lock.validate()
    return lock


# --------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------


def test_small_lock_is_written_exactly(tmp_path: Path) -> None:
    colorama = pin(
        "colorama",
        "0.4.6",
        (
            dist("colorama-0.4.6.tar.gz", size=27697, upload_time="2022-10-25T02:36:22Z"),
            dist("colorama-0.4.6-py2.py3-none-any.whl", size=25335, requires_python=None),
        ),
        marker=Marker("sys_platform == 'win32'"),
    )
    tool = {"inputs": ["requirements.in"], "command": "lockcheck compile -o pylock.toml"}
    text = render_pylock(
        Resolution({colorama.name: colorama}, "3.12"),
        settings(tmp_path, environments=(), extras=(), dependency_groups=(), tool_table=tool),
    )
    wheel = dist("colorama-0.4.6-py2.py3-none-any.whl")
    sdist = dist("colorama-0.4.6.tar.gz")
    assert text == (
        'lock-version = "1.0"\n'
        'requires-python = ">=3.10"\n'
        "extras = []\n"
        "dependency-groups = []\n"
        'created-by = "lockcheck"\n'
        "\n"
        "[[packages]]\n"
        'name = "colorama"\n'
        'version = "0.4.6"\n'
        "marker = 'sys_platform == \"win32\"'\n"
        'index = "https://pypi.org/simple"\n'
        f'sdist = {{ name = "colorama-0.4.6.tar.gz", url = "{sdist.url}", '
        "upload-time = 2022-10-25T02:36:22Z, size = 27697, "
        f'hashes = {{ sha256 = "{sdist.hashes["sha256"]}" }} }}\n'
        "wheels = [\n"
        f'    {{ name = "colorama-0.4.6-py2.py3-none-any.whl", url = "{wheel.url}", '
        "upload-time = 2024-03-05T12:34:56.789012Z, size = 25335, "
        f'hashes = {{ sha256 = "{wheel.hashes["sha256"]}" }} }},\n'
        "]\n"
        "\n"
        "[tool.lockcheck]\n"
        'command = "lockcheck compile -o pylock.toml"\n'
        'inputs = ["requirements.in"]\n'
    )
    validate(text)


def test_sample_lock_validates_with_packaging(tmp_path: Path) -> None:
    text = render_pylock(sample_resolution(), settings(tmp_path))
    lock = validate(text)
    assert str(lock.lock_version) == "1.0"
    assert lock.created_by == "lockcheck"
    assert lock.requires_python == SpecifierSet(">=3.10")
    assert [str(m) for m in lock.environments or ()] == [
        'sys_platform == "linux"',
        'sys_platform == "win32"',
    ]
    by_name = {p.name: p for p in lock.packages}
    assert [p.name for p in lock.packages] == sorted(by_name)
    numpy = by_name["numpy"]
    assert numpy.version == Version("2.2.3")
    assert numpy.index == PYPI
    assert str(numpy.requires_python) == ">=3.10"
    assert numpy.sdist is not None and numpy.sdist.size == 20262700
    assert [w.filename for w in numpy.wheels or ()] == sorted(w.filename for w in numpy.wheels)
    assert len(numpy.wheels or ()) == 3
    assert numpy.wheels[0].upload_time is not None
    assert numpy.wheels[0].upload_time.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert str(by_name["colorama"].marker) == 'sys_platform == "win32"'
    assert by_name["tomli"].wheels[0].upload_time is None  # unknown: omitted, not invented
    # Source trees carry no version (PEP 751: it may not match the code).
    myapp = by_name["myapp"]
    assert myapp.version is None and myapp.directory is not None
    assert (myapp.directory.path, myapp.directory.editable) == ("src/myapp", True)
    assert by_name["vendored"].directory.editable is False  # type: ignore[union-attr]
    viagit = by_name["viagit"]
    assert viagit.version is None and viagit.vcs is not None
    assert (viagit.vcs.type, viagit.vcs.url, viagit.vcs.commit_id) == (
        "git",
        "https://github.com/example/viagit.git",
        GIT_SHA,
    )
    archived = by_name["archived"]
    assert archived.archive is not None
    assert archived.archive.url == "https://example.com/dl/archived-1.0.tar.gz"
    assert archived.archive.hashes == {"sha256": _sha("archived-1.0.tar.gz")}
    assert archived.version == Version("1.0")


def test_select_picks_the_platform_wheel_and_honours_markers(tmp_path: Path) -> None:
    """packaging's own PEP 751 installer logic reads what we wrote as intended."""
    from packaging.tags import Tag

    lock = validate(render_pylock(sample_resolution(), settings(tmp_path)))
    env = {
        "sys_platform": "win32",
        "python_version": "3.12",
        "python_full_version": "3.12.1",
        "platform_system": "Windows",
    }
    chosen = dict(
        (package.name, getattr(what, "filename", None))
        for package, what in lock.select(
            environment=env,  # type: ignore[arg-type]
            tags=[Tag("cp312", "cp312", "win_amd64"), Tag("py3", "none", "any")],
        )
    )
    assert chosen["numpy"] == "numpy-2.2.3-cp312-cp312-win_amd64.whl"
    assert chosen["colorama"] == "colorama-0.4.6-py2.py3-none-any.whl"
    assert "tomli" not in chosen  # python_version < "3.11" does not hold


def test_output_is_byte_stable(tmp_path: Path) -> None:
    resolution = sample_resolution()
    first = render_pylock(resolution, settings(tmp_path))
    shuffled = Resolution(
        {
            name: replace(p, files=tuple(reversed(p.files)))
            for name, p in reversed(list(resolution.packages.items()))
        },
        "3.12",
    )
    assert render_pylock(shuffled, settings(tmp_path)) == first
    assert first.endswith("\n") and not first.endswith("\n\n")
    assert "\r" not in first and "\t" not in first


def test_output_is_the_same_under_other_hash_seeds(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from tests.test_pylock import "
        "sample_resolution, settings; from lockcheck.lockfile.pylock import render_pylock; "
        "sys.stdout.write(render_pylock(sample_resolution(), settings(Path(sys.argv[1]))))"
    )
    root = Path(__file__).resolve().parents[1]
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(run.stdout)
    assert outputs == {render_pylock(sample_resolution(), settings(tmp_path))}


def test_packages_of_one_name_are_sorted_by_version_then_marker(tmp_path: Path) -> None:
    old = pin(
        "numpy",
        "2.0.2",
        (dist("numpy-2.0.2-py3-none-any.whl"),),
        marker=Marker('python_version < "3.10"'),
    )
    new = pin(
        "numpy",
        "2.2.3",
        (dist("numpy-2.2.3-py3-none-any.whl"),),
        marker=Marker('python_version >= "3.10"'),
    )
    # Keys need not be names: a universal resolution may pin one project twice.
    text = render_pylock(Resolution({"b": new, "a": old}, "3.12"), settings(tmp_path))  # type: ignore[dict-item]
    lock = validate(text)
    assert [(p.name, str(p.version)) for p in lock.packages] == [
        ("numpy", "2.0.2"),
        ("numpy", "2.2.3"),
    ]


def test_credentials_never_reach_the_file(tmp_path: Path) -> None:
    private = "https://user:s3cret@private.example"
    wheel = dist(
        "secretpkg-1.0-py3-none-any.whl",
        url=f"{private}/files/secretpkg-1.0-py3-none-any.whl",
        index=f"{private}/simple",
    )
    resolution = Resolution(
        {
            "secretpkg": pin("secretpkg", "1.0", (wheel,)),
            "viagit": pin("viagit", None, link=f"git+https://tok:s3cret@h.example/r.git@{GIT_SHA}"),
            "sshgit": pin("sshgit", None, link=f"git+ssh://git@github.com/o/r.git@{GIT_SHA}"),
        },
        "3.12",
    )
    tool = {"command": f"lockcheck compile --index-url {private}/simple"}
    text = render_pylock(resolution, settings(tmp_path, tool_table=tool))
    assert "s3cret" not in text and "user:" not in text
    lock = validate(text)
    by_name = {p.name: p for p in lock.packages}
    assert by_name["secretpkg"].wheels[0].url == (  # type: ignore[index]
        "https://private.example/files/secretpkg-1.0-py3-none-any.whl"
    )
    assert by_name["secretpkg"].index == "https://private.example/simple"
    assert by_name["viagit"].vcs.url == "https://h.example/r.git"  # type: ignore[union-attr]
    # A bare ssh user is an account name, needed to clone: kept.
    assert by_name["sshgit"].vcs.url == "ssh://git@github.com/o/r.git"  # type: ignore[union-attr]
    assert "https://****@private.example/simple" in text  # the tool table is masked


def test_index_is_written_only_for_simple_api_indexes(tmp_path: Path) -> None:
    from_links = dist("flpkg-1.0-py3-none-any.whl", index="https://example.com/wheels/")
    from_index = dist("idxpkg-1.0-py3-none-any.whl", index="https://pypi.org/simple/")
    resolution = Resolution(
        {
            "flpkg": pin("flpkg", "1.0", (from_links,)),
            "idxpkg": pin("idxpkg", "1.0", (from_index,)),
        },
        "3.12",
    )
    lock = validate(render_pylock(resolution, settings(tmp_path, index_urls=(PYPI,))))
    assert {p.name: p.index for p in lock.packages} == {
        "flpkg": None,
        "idxpkg": "https://pypi.org/simple/",
    }


def test_local_paths_are_relative_to_the_lock_when_inside_it(tmp_path: Path) -> None:
    inside = tmp_path / "wheels" / "local-1.0-py3-none-any.whl"
    outside = Path("/opt/elsewhere/far-1.0-py3-none-any.whl")
    tree = tmp_path / "libs" / "tree"
    tree.mkdir(parents=True)
    resolution = Resolution(
        {
            "local": pin("local", "1.0", (dist(inside.name, url=inside.as_uri(), index=""),)),
            "far": pin("far", "1.0", (dist(outside.name, url=outside.as_uri(), index=""),)),
            "tree": pin("tree", None, link=tree.as_uri()),
            "parent": pin("parent", None, link="../sibling", editable=True),
        },
        "3.12",
    )
    lock = validate(render_pylock(resolution, settings(tmp_path)))
    by_name = {p.name: p for p in lock.packages}
    assert by_name["local"].wheels[0].path == "wheels/local-1.0-py3-none-any.whl"  # type: ignore[index]
    assert by_name["local"].wheels[0].url is None  # type: ignore[index]
    assert by_name["far"].wheels[0].path == outside.as_posix()  # type: ignore[index]
    assert by_name["tree"].directory.path == "libs/tree"  # type: ignore[union-attr]
    assert by_name["parent"].directory.path == "../sibling"  # type: ignore[union-attr]


def test_extras_and_groups_are_sorted_and_normalised(tmp_path: Path) -> None:
    text = render_pylock(
        Resolution({}, "3.12"),
        settings(
            tmp_path,
            extras=("Socks", "fast_io"),
            dependency_groups=("test", "docs"),
            default_groups=("default",),
        ),
    )
    assert 'extras = ["fast-io", "socks"]\n' in text
    assert 'dependency-groups = ["docs", "test"]\n' in text
    assert 'default-groups = ["default"]\n' in text
    assert "environments = [" in text
    lock = validate(text)
    assert lock.packages == []


@pytest.mark.parametrize(
    ("package", "message"),
    [
        (
            pin("nohash", "1.0", (dist("nohash-1.0-py3-none-any.whl", hashes={"md5": "ab"}),)),
            "nohash: nohash-1.0-py3-none-any.whl has no sha256",
        ),
        (
            pin("viagit", None, link="git+https://github.com/o/viagit.git@main"),
            "does not name a commit",
        ),
        (
            pin(
                "viagit", None, link=f"git+https://github.com/o/viagit.git@{GIT_SHA}", editable=True
            ),
            "editable VCS checkout",
        ),
        (pin("ghost", "1.0"), "no file to lock"),
        (pin("ghost", None), "neither a version nor a link"),
        (
            pin("arch", None, link="https://example.com/arch-1.0.tar.gz"),
            "arch: https://example.com/arch-1.0.tar.gz has no sha256",
        ),
    ],
)
def test_what_pep_751_cannot_express_is_an_input_error(
    tmp_path: Path, package: LockedPackage, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        render_pylock(Resolution({package.name: package}, "3.12"), settings(tmp_path))


def test_missing_hash_hint_follows_generate_hashes(tmp_path: Path) -> None:
    bare = pin("bare", "1.0", (dist("bare-1.0-py3-none-any.whl", hashes={}),))
    resolution = Resolution({"bare": bare}, "3.12")
    with pytest.raises(InputError) as info:
        render_pylock(resolution, settings(tmp_path, generate_hashes=False))
    assert info.value.hint is not None and "--generate-hashes" in info.value.hint
    with pytest.raises(InputError) as info:
        render_pylock(resolution, settings(tmp_path))
    assert info.value.hint is not None and "--generate-hashes" not in info.value.hint


def test_vcs_commit_may_come_from_settings(tmp_path: Path) -> None:
    link = "git+https://github.com/o/viagit.git@v1.2#subdirectory=python"
    resolution = Resolution({"viagit": pin("viagit", None, link=link)}, "3.12")
    text = render_pylock(resolution, settings(tmp_path, vcs_commits={link: GIT_SHA}))
    vcs = validate(text).packages[0].vcs
    assert vcs is not None
    assert (vcs.requested_revision, vcs.commit_id, vcs.subdirectory) == ("v1.2", GIT_SHA, "python")


def test_archive_hash_may_come_from_the_link_or_the_pin(tmp_path: Path) -> None:
    digest = _sha("x")
    resolution = Resolution(
        {
            "frag": pin("frag", None, link=f"https://e.example/frag-1.0.zip#sha256={digest}"),
            "pinned": pin(
                "pinned",
                None,
                link="https://e.example/pinned-1.0.zip",
                hashes=(f"sha256:{digest}",),
            ),
        },
        "3.12",
    )
    lock = validate(render_pylock(resolution, settings(tmp_path)))
    for package in lock.packages:
        assert package.archive is not None
        assert package.archive.hashes == {"sha256": digest}
        assert "#" not in (package.archive.url or "")


def test_with_file_hashes_fills_in_missing_digests(tmp_path: Path) -> None:
    bare = dist("bare-1.0-py3-none-any.whl", hashes={})
    resolution = Resolution({"bare": pin("bare", "1.0", (bare,))}, "3.12")
    with pytest.raises(InputError):
        render_pylock(resolution, settings(tmp_path))
    filled = with_file_hashes(resolution, lambda f: _sha(f.filename))
    lock = validate(render_pylock(filled, settings(tmp_path)))
    assert lock.packages[0].wheels[0].hashes == {"sha256": _sha(bare.filename)}  # type: ignore[index]


def test_invalid_settings_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="requires-python"):
        PylockSettings(requires_python=">=three", output_dir=tmp_path)
    with pytest.raises(InputError, match="marker"):
        PylockSettings(environments=("sys_platform = 'linux'",), output_dir=tmp_path)


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        ("2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:00Z"),
        ("2024-03-05T12:34:56.789012Z", "2024-03-05T12:34:56.789012Z"),
        ("2024-03-05T12:34:56.7Z", "2024-03-05T12:34:56.700000Z"),
        ("2024-03-05T14:34:56+02:00", "2024-03-05T12:34:56Z"),
        ("2024-03-05T12:34:56", "2024-03-05T12:34:56Z"),
        ("2024-03-05T12:34:56.1234567891Z", "2024-03-05T12:34:56.123456Z"),
        ("yesterday", None),
        ("2024-13-45T00:00:00Z", None),
        (None, None),
    ],
)
def test_upload_time_is_utc_rfc3339(raw: str | None, written: str | None) -> None:
    assert format_upload_time(raw) == written


@given(st.text())
def test_toml_strings_round_trip(value: str) -> None:
    assert tomllib.loads(f"k = {_toml_string(value)}\n")["k"] == value


def test_tool_table_values_round_trip(tmp_path: Path) -> None:
    tool = {
        "inputs": ["requirements.in", 'odd "name".in', "C:\\proj\\req.in"],
        "options": {"generate-hashes": True, "python-version": "3.12", "z": 1.5, "a": 3},
        "key with space": "x\ny\t\u0001",
    }
    text = render_pylock(Resolution({}, "3.12"), settings(tmp_path, tool_table=tool))
    assert tomllib.loads(text)["tool"]["lockcheck"] == tool
    # Tool tables have no order of their own: keys are sorted at every level.
    assert text.index("a = 3") < text.index("generate-hashes") < text.index("z = 1.5")


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


def _as_read(package: LockedPackage) -> LockedPackage:
    """What a pylock.toml keeps of a resolved package."""
    files = tuple(
        replace(f, upload_time=format_upload_time(f.upload_time))
        for f in sorted(package.files, key=lambda f: f.filename)
    )
    if package.link is None:
        requires = {f.requires_python for f in files}
        rp = requires.pop() if len(requires) == 1 else None
        files = tuple(replace(f, requires_python=rp) for f in files)
        return replace(package, files=files, hashes=_hashes(files))
    if package.link.startswith("git+"):
        return replace(package, version=None)
    if package.link.startswith("https:"):
        files = tuple(replace(f, index="") for f in files)
        return replace(package, files=files, hashes=_hashes(files))
    return replace(package, version=None)


def test_round_trip_gives_back_the_resolution(tmp_path: Path) -> None:
    resolution = sample_resolution()
    text = render_pylock(resolution, settings(tmp_path))
    parsed = read_pylock(text, base_dir=tmp_path)
    assert isinstance(parsed, ParsedPylock) and isinstance(parsed, ParsedLock)
    assert parsed.header is None and parsed.python_version is None
    got = {(e.package.name, e.package.version): e.package for e in parsed.entries}
    want = {(p.name, p.version): _as_read(p) for p in resolution.packages.values()}
    assert set(got) == set(want)
    for key, package in want.items():
        assert got[key] == package, key
    assert parsed.requires_python == SpecifierSet(">=3.10")
    assert parsed.environments == (
        Marker('sys_platform == "linux"'),
        Marker('sys_platform == "win32"'),
    )
    assert parsed.created_by == "lockcheck"
    assert parsed.extras is None and parsed.default_groups is None
    assert parsed.pylock is not None
    # ...and rendering what was read gives the same bytes.
    again = render_pylock(parsed.to_resolution("3.12"), settings(tmp_path))
    assert again == text


def test_entries_point_at_their_packages_tables(tmp_path: Path) -> None:
    text = render_pylock(sample_resolution(), settings(tmp_path, tool_table={"a": 1}))
    lines = text.split("\n")
    parsed = read_pylock(text)
    for entry in parsed.entries:
        assert lines[entry.line - 1] == "[[packages]]"
        assert lines[entry.line] == f'name = "{entry.package.name}"'
        assert lines[entry.end_line - 1].strip()
        assert lines[entry.end_line] == ""  # blank line before the next table
    last = parsed.entries[-1]
    assert lines[last.end_line + 1] == "[tool.lockcheck]"


def test_read_from_disk_resolves_paths_against_the_lock(tmp_path: Path) -> None:
    wheel = tmp_path / "wheels" / "local-1.0-py3-none-any.whl"
    resolution = Resolution(
        {"local": pin("local", "1.0", (dist(wheel.name, url=wheel.as_uri(), index=""),))}, "3.12"
    )
    lock_path = tmp_path / "pylock.toml"
    lock_path.write_text(render_pylock(resolution, settings(tmp_path)), encoding="utf-8")
    parsed = read_pylock(lock_path)
    assert parsed.path == lock_path
    (file,) = parsed.entries[0].package.files
    assert file.url == wheel.as_uri()
    assert file.tags and file.is_wheel


def test_crlf_lock_is_read(tmp_path: Path) -> None:
    text = render_pylock(sample_resolution(), settings(tmp_path)).replace("\n", "\r\n")
    parsed = read_pylock(text.encode())
    assert parsed.newline == "\r\n"
    assert len(parsed.entries) == len(sample_resolution().packages)
    assert parsed.entries[0].line == text.split("\r\n").index("[[packages]]") + 1


def test_foreign_lock_written_by_another_tool_is_read() -> None:
    """The PEP's own example (plus a package without version), as another locker wrote it."""
    text = """\
lock-version = '1.0'
environments = ["sys_platform == 'win32'", "sys_platform == 'linux'"]
requires-python = '==3.12'
created-by = 'mousebender'

[[packages]]
name = 'attrs'
version = '25.1.0'
requires-python = '>=3.8'
wheels = [
  {name = 'attrs-25.1.0-py3-none-any.whl', upload-time = 2025-01-25T11:30:10.164985+00:00, url = 'https://files.pythonhosted.org/packages/fc/30/d4986a882011f9df997a55e6becd864812ccfcd821d64aac8570ee39f719/attrs-25.1.0-py3-none-any.whl', size = 63152, hashes = {sha256 = 'c75a69e28a550a7e93789579c22aa26b0f5b83b75dc4e08fe092980051e1090a'}},
]
[[packages.attestation-identities]]
environment = 'release-pypi'
kind = 'GitHub'

[[packages]]
name = 'cattrs'
dependencies = [{name = 'attrs'}]
wheels = [{url = 'https://example.com/cattrs-24.1.2-py3-none-any.whl', hashes = {sha256 = 'ab'}}]

[tool.mousebender]
command = ['.', 'lock']
"""  # noqa: E501
    parsed = read_pylock(text, name="pylock.toml")
    attrs, cattrs = (e.package for e in parsed.entries)
    assert [e.line for e in parsed.entries] == [6, 17]
    assert parsed.entries[0].end_line == 15
    assert attrs.version == Version("25.1.0")
    assert attrs.files[0].upload_time == "2025-01-25T11:30:10.164985Z"
    assert attrs.files[0].requires_python == SpecifierSet(">=3.8")
    assert attrs.hashes == (
        "sha256:c75a69e28a550a7e93789579c22aa26b0f5b83b75dc4e08fe092980051e1090a",
    )
    assert cattrs.version == Version("24.1.2")  # from the wheel's name
    assert cattrs.files[0].filename == "cattrs-24.1.2-py3-none-any.whl"
    assert parsed.tool == {"mousebender": {"command": [".", "lock"]}}


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('lock-version = "1.0"\ncreated-by = "x"\npackages = [\n', "not valid TOML", 3),
        ('lock-version = "2.0"\ncreated-by = "x"\npackages = []\n', "not supported", None),
        ('lock-version = "1.0"\npackages = []\n', "created-by", None),
        (
            'lock-version = "1.0"\ncreated-by = "x"\n\n[[packages]]\nname = "a"\n'
            'directory = { path = "a" }\n'
            '\n[[packages]]\nname = "Not_Normal"\nversion = "1"\n'
            'wheels = [{ url = "https://e/x-1-py3-none-any.whl", hashes = { sha256 = "ab" } }]\n',
            "not normalized",
            8,
        ),
        (
            'lock-version = "1.0"\ncreated-by = "x"\n\n[[packages]]\nname = "b"\n'
            'wheels = [{ url = "https://e/other-1-py3-none-any.whl", hashes = { sha256 = "a" }}]\n',
            "not consistent with package name",
            4,
        ),
        (
            'lock-version = "1.0"\ncreated-by = "x"\n\n[[packages]]\nname = "c"\n'
            'wheels = [{ url = "https://e/c-1-py3-none-any.whl", hashes = {} }]\n',
            "At least one hash",
            4,
        ),
    ],
)
def test_invalid_locks_are_input_errors_with_a_line(
    text: str, message: str, line: int | None
) -> None:
    with pytest.raises(InputError, match=message) as info:
        read_pylock(text, name="pylock.toml")
    assert info.value.file == "pylock.toml"
    assert info.value.line == line


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(LockcheckError, match="cannot read lock"):
        read_pylock(tmp_path / "pylock.toml")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("pylock.toml", True),
        ("some/dir/pylock.dev.toml", True),
        ("pylock.a.b.toml", False),
        ("pylock.toml.bak", False),
        ("requirements.txt", False),
        ("mypylock.toml", False),
    ],
)
def test_is_pylock_path(path: str, expected: bool) -> None:
    assert is_pylock_path(Path(path)) is expected
    assert is_pylock_path(path) is expected


def test_requirements_reader_is_untouched_by_pylock() -> None:
    """The two readers share ParsedLock; a requirements.txt still reads as before."""
    parsed = read_lock("six==1.16.0\n")
    assert not isinstance(parsed, ParsedPylock)
    assert parsed.entries[0].package.version == Version("1.16.0")


# --------------------------------------------------------------------------------------
# installing with an existing PEP 751 installer (uv)
# --------------------------------------------------------------------------------------


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        pytest.skip("uv (a PEP 751 installer) is not installed")
    return found


def _uv_run(uv: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never"}
    for name in ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_FIND_LINKS", "UV_SYSTEM_PYTHON"):
        env.pop(name, None)
    run = subprocess.run(
        [uv, "pip", *args, "--no-config", "--no-index"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    return run


def _fresh_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    scripts = "Scripts" if os.name == "nt" else "bin"
    return path / scripts / ("python.exe" if os.name == "nt" else "python")


def _installed(python: Path) -> dict[str, tuple[str, bool]]:
    """{name: (version, editable)} read by the venv's own interpreter."""
    code = (
        "import importlib.metadata as m, json\n"
        "out = {}\n"
        "for d in m.distributions():\n"
        "    raw = d.read_text('direct_url.json')\n"
        "    info = json.loads(raw) if raw else {}\n"
        "    editable = bool(info.get('dir_info', {}).get('editable'))\n"
        "    out[d.metadata['Name'].lower()] = (d.version, editable)\n"
        "print(json.dumps(out))\n"
    )
    # -I: neither the working directory nor PYTHON* variables leak other distributions in.
    run = subprocess.run(
        [str(python), "-I", "-c", code], capture_output=True, text=True, check=True
    )
    return {k: tuple(v) for k, v in json.loads(run.stdout).items()}  # type: ignore[misc]


def _served(server: object, path: Path, upload_time: str) -> DistFile:
    """The DistFile the index module would build for a file the local index serves."""
    base = dist(path.name, index=server.url, url=server.file_url(path.name))  # type: ignore[attr-defined]
    return replace(
        base,
        hashes={"sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
        size=path.stat().st_size,
        upload_time=upload_time,
    )


def test_uv_installs_the_lock_into_a_fresh_venv(tmp_path: Path, dist_factory, make_index) -> None:
    uv = _uv()
    alpha = dist_factory.wheel("alpha", "1.0", requires_dist=["beta>=2"])
    beta_any = dist_factory.wheel("beta", "2.0")
    # A wheel for another platform must be listed but not chosen here.
    beta_win = dist_factory.wheel("beta", "2.0", tag="cp311-cp311-win_amd64", files={})
    beta_sdist = dist_factory.sdist("beta", "2.0")
    gamma = dist_factory.wheel("gamma", "1.0")  # windows only: skipped here
    delta_sdist = dist_factory.sdist("delta", "0.5")  # sdist only: uv builds it
    server = make_index()
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    shutil.move(str(dist_factory.project("myapp", "0.3.0")), project / "src" / "myapp")

    def served(*paths: Path) -> tuple[DistFile, ...]:
        return tuple(_served(server, p, "2024-01-02T03:04:05.000000Z") for p in paths)

    packages = [
        pin("alpha", "1.0", served(alpha)),
        pin("beta", "2.0", served(beta_any, beta_win, beta_sdist)),
        pin("gamma", "1.0", served(gamma), marker=Marker('sys_platform == "win32"')),
        pin("delta", "0.5", served(delta_sdist), marker=Marker('sys_platform != "win32"')),
        pin("myapp", None, link="./src/myapp", editable=True),
    ]
    resolution = Resolution({p.name: p for p in packages}, "3.11")
    lock = project / "pylock.toml"
    text = render_pylock(
        resolution,
        PylockSettings(requires_python=">=3.8", output_dir=project, index_urls=(server.url,)),
    )
    lock.write_text(text, encoding="utf-8")
    validate(text)

    python = _fresh_venv(tmp_path / "venv")
    _uv_run(uv, "install", "--python", str(python), "-r", str(lock), cwd=project)
    assert _installed(python) == {
        "alpha": ("1.0", False),
        "beta": ("2.0", False),
        "delta": ("0.5", False),
        "myapp": ("0.3.0", True),
    }
    # The pure wheel was chosen: the win_amd64 one has no code to import.
    subprocess.run([str(python), "-c", "import beta"], check=True)

    # sync: what is no longer in the lock goes away.
    smaller = Resolution({p.name: p for p in packages if p.name != "delta"}, "3.11")
    lock.write_text(render_pylock(smaller, PylockSettings(output_dir=project)), encoding="utf-8")
    _uv_run(uv, "sync", "--python", str(python), str(lock), cwd=project)
    assert set(_installed(python)) == {"alpha", "beta", "myapp"}


def test_uv_installs_a_git_commit_from_the_lock(tmp_path: Path, dist_factory) -> None:
    uv = _uv()
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    from tests.fixtures.hookrepo import git

    repo = dist_factory.project("viagit", "1.2.0")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1.2.0", cwd=repo)
    git("tag", "v1.2.0", cwd=repo)
    sha = git("rev-parse", "HEAD", cwd=repo).stdout.strip()
    link = f"git+{repo.as_uri()}@v1.2.0"
    resolution = Resolution({"viagit": pin("viagit", "1.2.0", link=link)}, "3.11")
    out = tmp_path / "out"
    out.mkdir()
    text = render_pylock(resolution, PylockSettings(output_dir=out, vcs_commits={link: sha}))
    assert f'commit-id = "{sha}"' in text
    (out / "pylock.toml").write_text(text, encoding="utf-8")
    # The branch moves on; the lock still installs the locked commit.
    (repo / "later.txt").write_text("later\n", encoding="utf-8")
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "later", cwd=repo)

    python = _fresh_venv(tmp_path / "venv")
    _uv_run(uv, "install", "--python", str(python), "-r", str(out / "pylock.toml"), cwd=out)
    assert _installed(python) == {"viagit": ("1.2.0", False)}
    parsed = read_pylock(out / "pylock.toml")
    assert parsed.entries[0].package.link == f"git+{repo.as_uri()}@{sha}"


def test_inline_package_array_reads_with_line_one() -> None:
    text = (
        'lock-version = "1.0"\ncreated-by = "x"\n'
        'packages = [{ name = "a", directory = { path = "a" } }, { name = "B" }]\n'
    )
    with pytest.raises(InputError, match="not normalized") as info:
        read_pylock(text)
    assert info.value.line is None  # no table to point at: no made-up line
    parsed = read_pylock(text.replace(', { name = "B" }', ""))
    assert [(e.line, e.package.link) for e in parsed.entries] == [(1, "./a")]
