"""Differential tests: lockcheck and pip-compile, same inputs, same index, same bytes.

Each scenario writes the same input files (and, where it matters, the same existing output
file) into two folders, runs ``pip-compile --no-header`` in one and ``lockcheck compile
--no-header`` in the other against the same local index, and compares the lock files byte for
byte.  pip-compile's default ``--strip-extras`` is still off (pip-tools 7), lockcheck's is on
(pip-tools 8, uv), so the scenarios pass ``--strip-extras`` or ``--no-strip-extras`` to both.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fixtures.builders import PackageSpec as P
from tests.fixtures.builders import make_project
from tests.helpers import describe, run_lockcheck, run_pip_compile

pytestmark = pytest.mark.slow


def _prepare(folder: Path, files: dict[str, str], existing: str | None, output: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if existing is not None:
        (folder / output).parent.mkdir(parents=True, exist_ok=True)
        (folder / output).write_text(existing)


def compare(
    tmp_path: Path,
    index_url: str | None,
    files: dict[str, str],
    args: tuple[str, ...] = (),
    *,
    existing: str | None = None,
    output: str = "requirements.txt",
    expect_exit: int = 0,
    normalise=None,
) -> str:
    """Run both tools; assert identical output (or both failing); return lockcheck's lock."""
    pc_dir, lc_dir = tmp_path / "pip-compile", tmp_path / "lockcheck"
    _prepare(pc_dir, files, existing, output)
    _prepare(lc_dir, files, existing, output)
    index_args = ("--index-url", index_url) if index_url else ()
    pc = run_pip_compile(
        "--no-header",
        "--cache-dir",
        str(tmp_path / "pc-cache"),
        *index_args,
        *args,
        cwd=pc_dir,
    )
    lc = run_lockcheck("compile", "--no-header", *index_args, *args, cwd=lc_dir)
    if expect_exit:
        # pip-compile fails too, though often with a traceback and exit 1.
        assert pc.returncode != 0, describe(pc)
        assert lc.returncode == expect_exit, describe(lc)
        return lc.stderr
    assert pc.returncode == 0, describe(pc)
    assert lc.returncode == 0, describe(lc)
    if "-" in args and "--output-file" not in " ".join(args):
        pc_text, lc_text = pc.stdout, lc.stdout
    else:
        pc_text = (pc_dir / output).read_text()
        lc_text = (lc_dir / output).read_text()
    if normalise:
        pc_text, lc_text = normalise(pc_text, pc_dir), normalise(lc_text, lc_dir)
    assert lc_text == pc_text, f"lockcheck:\n{lc_text}\npip-compile:\n{pc_text}\n{describe(lc)}"
    return lc_text


STRIP = ("--strip-extras",)


@pytest.mark.parametrize(
    ("inputs", "args"),
    [
        pytest.param("flask\n", STRIP, id="web-framework"),
        pytest.param("flask\nrequests\n", (*STRIP, "--annotation-style", "line"), id="line-style"),
        pytest.param("flask>=2.0\nrequests\n", (*STRIP, "--generate-hashes"), id="hashes"),
        pytest.param(
            'pytest\ntomli ; python_version < "3.99"\nexceptiongroup; python_version < "3.0"\n',
            STRIP,
            id="markers",
        ),
        pytest.param("requests[socks]\n", STRIP, id="extras-stripped"),
        pytest.param(
            "requests[socks]\ntoolbox[yaml,color]\n", ("--no-strip-extras",), id="extras-kept"
        ),
        pytest.param("uses-setuptools\n", STRIP, id="unsafe-commented"),
        pytest.param("uses-setuptools\n", (*STRIP, "--allow-unsafe"), id="unsafe-allowed"),
        pytest.param("flask\n", (*STRIP, "--unsafe-package", "click"), id="unsafe-package"),
        pytest.param("sdistonly\n", STRIP, id="sdist-only"),
        pytest.param("yankme\nmodernlib\n", STRIP, id="yanked-and-requires-python"),
        pytest.param("yankme==1.1.0\n", STRIP, id="yanked-pinned"),
        pytest.param("prerelpkg\n", (*STRIP, "--pre"), id="pre-flag"),
        pytest.param("prerelpkg>=2.0b1\n", STRIP, id="pre-in-specifier"),
        pytest.param("Django\nzope.interface\n", STRIP, id="name-normalisation"),
        pytest.param("nativelib\n", (*STRIP, "--generate-hashes"), id="platform-wheels-hashes"),
        pytest.param(
            "flask\nrequests\n", (*STRIP, "--no-annotate", "--no-emit-options"), id="no-annotate"
        ),
        pytest.param("flask\n", (*STRIP, "--newline", "crlf"), id="crlf"),
    ],
)
def test_same_lock_as_pip_compile(tmp_path, universe_index, inputs, args):
    compare(tmp_path, universe_index.url, {"requirements.in": inputs}, args)


def test_constraints_file_and_nested_requirements(tmp_path, universe_index):
    files = {
        "requirements.in": "-r requirements/base.in\n-c constraints.txt\nflask\n",
        "requirements/base.in": "requests\n",
        "constraints.txt": "urllib3<2\n",
    }
    text = compare(tmp_path, universe_index.url, files, STRIP)
    assert "urllib3==1.26.18" in text
    assert "-c constraints.txt" in text


def test_constraint_option(tmp_path, universe_index):
    files = {"requirements.in": "requests\n", "c.txt": "urllib3<2\n"}
    text = compare(tmp_path, universe_index.url, files, (*STRIP, "-c", "c.txt"))
    assert "urllib3==1.26.18" in text


OLD_LOCK = """\
--index-url {url}

click==8.1.3
    # via flask
flask==2.3.0
    # via -r requirements.in
itsdangerous==2.1.2
    # via flask
jinja2==3.1.2
    # via flask
markupsafe==2.1.3
    # via
    #   jinja2
    #   werkzeug
werkzeug==2.3.0
    # via flask
"""


def test_existing_pins_are_kept(tmp_path, universe_index):
    existing = OLD_LOCK.format(url=universe_index.url)
    text = compare(
        tmp_path, universe_index.url, {"requirements.in": "flask\n"}, STRIP, existing=existing
    )
    assert "flask==2.3.0" in text
    assert "blinker==" in text  # a new dependency of the kept pin still comes in


@pytest.mark.parametrize("spec", ["flask", "flask<3", "werkzeug"])
def test_upgrade_package(tmp_path, universe_index, spec):
    existing = OLD_LOCK.format(url=universe_index.url)
    compare(
        tmp_path,
        universe_index.url,
        {"requirements.in": "flask\n"},
        (*STRIP, "--upgrade-package", spec),
        existing=existing,
    )


def test_upgrade_all(tmp_path, universe_index):
    existing = OLD_LOCK.format(url=universe_index.url)
    text = compare(
        tmp_path,
        universe_index.url,
        {"requirements.in": "flask\n"},
        (*STRIP, "--upgrade"),
        existing=existing,
    )
    assert "flask==3.0.0" in text


def test_input_change_moves_only_what_it_must(tmp_path, universe_index):
    existing = OLD_LOCK.format(url=universe_index.url)
    text = compare(
        tmp_path,
        universe_index.url,
        {"requirements.in": "flask\nwerkzeug>=3\n"},
        STRIP,
        existing=existing,
    )
    assert "werkzeug==3.0.0" in text


def test_hashes_of_the_existing_lock_are_reused_when_they_are_the_releases(
    tmp_path, universe_index, universe_wheelhouse
):
    """pip-compile reuses an existing pin's hashes (``--reuse-hashes``); so does lockcheck
    when every one of them is a file of the release: the same bytes as pip-compile."""
    import hashlib

    wheel = next(universe_wheelhouse.directory.glob("flask-3.0.0-*.whl"))
    one = f"sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}"
    existing = (
        f"--index-url {universe_index.url}\n\n"
        f"flask==3.0.0 \\\n    --hash={one}\n    # via -r requirements.in\n"
    )
    text = compare(
        tmp_path,
        universe_index.url,
        {"requirements.in": "flask==3.0.0\n"},
        (*STRIP, "--generate-hashes"),
        existing=existing,
    )
    assert re.search(rf"flask==3\.0\.0 \\\n    --hash={one}\n", text), text


def test_a_foreign_existing_hash_is_replaced_not_reused(tmp_path, universe_index):
    """A deliberate difference: pip-compile copies an existing pin's hashes unchecked, so a
    bogus or foreign hash in a lock survives every recompile.  lockcheck writes the hashes
    of the release's files instead, and says which one it dropped."""
    bogus = "sha256:" + "0" * 64
    existing = (
        f"--index-url {universe_index.url}\n\n"
        f"idna==3.6 \\\n    --hash={bogus}\n    # via -r requirements.in\n"
    )
    _prepare(tmp_path, {"requirements.in": "idna\n"}, existing, "requirements.txt")
    pc = run_pip_compile(
        "--no-header",
        "--cache-dir",
        str(tmp_path / "pc-cache"),
        "--index-url",
        universe_index.url,
        *STRIP,
        "--generate-hashes",
        "--dry-run",
        cwd=tmp_path,
    )
    assert pc.returncode == 0 and bogus in pc.stdout + pc.stderr, describe(pc)
    args = ("--index-url", universe_index.url, *STRIP, "--generate-hashes")
    lc = run_lockcheck("compile", "--no-header", *args, cwd=tmp_path)
    assert lc.returncode == 0, describe(lc)
    text = (tmp_path / "requirements.txt").read_text()
    assert bogus not in text
    assert re.search(r"idna==3\.6 \\\n    --hash=sha256:[0-9a-f]{64}\n", text), text
    assert f"dropped --hash={bogus} of idna==3.6" in lc.stderr


def test_pyproject_with_extras(tmp_path, universe_index):
    pyproject = """\
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]

[project]
name = "my-app"
version = "0.1.0"
dependencies = ["flask>=2", "requests[socks]"]

[project.optional-dependencies]
test = ["pytest"]
yaml = ["toolbox[yaml]"]
"""
    files = {"pyproject.toml": pyproject, "backend.py": _BACKEND}
    compare(
        tmp_path,
        universe_index.url,
        files,
        (*STRIP, "--extra", "test", "pyproject.toml"),
    )


def test_conflict_fails_in_both(tmp_path, universe_index):
    err = compare(
        tmp_path,
        universe_index.url,
        {"requirements.in": "conflict-a\nconflict-b\n"},
        STRIP,
        expect_exit=2,
    )
    assert "conflict-c" in err
    assert "Traceback" not in err


def test_several_indexes(tmp_path, universe_index, make_index):
    private = make_index([P("private-tool", "1.0.0", deps=("requests",))])
    files = {"requirements.in": "private-tool\nflask\n"}
    compare(
        tmp_path,
        universe_index.url,
        files,
        (*STRIP, "--extra-index-url", private.url),
    )


def test_options_in_requirement_file(tmp_path, universe_index, make_index, universe_wheelhouse):
    private = make_index([P("private-tool", "1.0.0", deps=("idna",))])
    files = {
        "requirements.in": (
            f"--extra-index-url {private.url}\n--trusted-host 127.0.0.1\nprivate-tool\n"
        )
    }
    text = compare(tmp_path, universe_index.url, files, STRIP)
    assert f"--extra-index-url {private.url}" in text


def test_find_links_without_index(tmp_path, universe_wheelhouse):
    files = {"requirements.in": "requests\n"}
    text = compare(
        tmp_path,
        None,
        files,
        (*STRIP, "--no-index", "--find-links", str(universe_wheelhouse.directory)),
    )
    assert "--find-links" in text


def test_direct_reference_to_a_wheel(tmp_path, universe_index, dist_factory):
    wheel = dist_factory.wheel("localpkg", "0.3.0", requires_dist=("idna",))
    files = {"requirements.in": f"localpkg @ {wheel.as_uri()}\n"}
    compare(tmp_path, universe_index.url, files, STRIP)


def test_editable_local_project(tmp_path, universe_index, dist_factory):
    def relative(text: str, folder: Path) -> str:
        return text.replace(folder.as_uri(), "file://.").replace("-e ./", "-e file://./")

    pc_project = tmp_path / "pip-compile"
    lc_project = tmp_path / "lockcheck"
    for root in (pc_project, lc_project):
        make_project(root, "myproj", dependencies=("requests",))
    files = {"requirements.in": "-e ./myproj\n"}
    text = compare(tmp_path, universe_index.url, files, STRIP, normalise=relative)
    assert "-e file://./myproj" in text


_BACKEND = '''\
"""A tiny PEP 517 backend for the differential tests' pyproject inputs."""
import tomllib, os, zipfile, base64, hashlib

def _meta():
    with open("pyproject.toml", "rb") as f:
        p = tomllib.load(f)["project"]
    lines = ["Metadata-Version: 2.1", f"Name: {p['name']}", f"Version: {p['version']}"]
    for d in p.get("dependencies", []):
        lines.append(f"Requires-Dist: {d}")
    for extra, deps in p.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for d in deps:
            lines.append(f'Requires-Dist: {d} ; extra == "{extra}"')
    return p, "\\n".join(lines) + "\\n"

def get_requires_for_build_wheel(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(directory, config_settings=None):
    p, text = _meta()
    name = p["name"].replace("-", "_") + "-" + p["version"] + ".dist-info"
    os.makedirs(os.path.join(directory, name))
    with open(os.path.join(directory, name, "METADATA"), "w") as f:
        f.write(text)
    return name

def build_wheel(directory, config_settings=None, metadata_directory=None):
    p, text = _meta()
    dist = p["name"].replace("-", "_") + "-" + p["version"]
    fn = dist + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, fn), "w") as z:
        z.writestr(dist + ".dist-info/METADATA", text)
        wheel = "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        z.writestr(dist + ".dist-info/WHEEL", wheel)
        z.writestr(dist + ".dist-info/RECORD", "")
    return fn
'''


@pytest.mark.parametrize("spelling", ["PyJWT[crypto]", "pyjwt[crypto]"])
def test_extra_pulled_by_a_dependency(tmp_path, make_index, spelling):
    """pip-compile's annotation when a dependency asks for another's extra (msal -> PyJWT)."""
    index = make_index(
        [
            P("msal", "1.0", deps=(f"{spelling}<3,>=1",)),
            P("PyJWT", "2.8.0", extras={"crypto": ("cryptography>=3.4",)}),
            P("cryptography", "42.0.0"),
        ]
    )
    compare(tmp_path, index.url, {"requirements.in": "msal\n"}, STRIP)
