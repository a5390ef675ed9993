"""Against the public index (``pytest --live``): lockcheck writes pip-compile's exact bytes.

The sets are the ones users compare tools on: a small web set, a data-science set and a
Django/Celery/boto3 stack, with hashes, an upgrade of one package, constraints, markers,
extras and a pyproject.toml input.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import describe, run_lockcheck, subprocess_env
from tests.test_differential import compare

pytestmark = [pytest.mark.live, pytest.mark.slow]

STRIP = ("--strip-extras",)

WEB_STACK = (
    "django>=4.2\ncelery[redis]\nboto3\npsycopg[binary]\npydantic\n"
    'tomli ; python_version < "3.11"\n'
)


@pytest.mark.parametrize(
    ("inputs", "args"),
    [
        pytest.param("flask>=2.0\nrequests\n", (*STRIP, "--generate-hashes"), id="flask-requests"),
        pytest.param(
            "pandas\nscikit-learn\nmatplotlib\njupyter\n",
            (*STRIP, "--generate-hashes"),
            id="data-science",
        ),
        pytest.param(WEB_STACK, (*STRIP, "--generate-hashes"), id="web-stack"),
        pytest.param(WEB_STACK, ("--no-strip-extras", "--annotation-style", "line"), id="extras"),
    ],
)
def test_real_sets_match_pip_compile(tmp_path, inputs, args):
    compare(tmp_path, None, {"requirements.in": inputs}, args)


def test_upgrade_package_and_constraints_on_real_index(tmp_path):
    old = "flask==2.2.5\nwerkzeug==2.2.3\njinja2==3.1.2\nmarkupsafe==2.1.3\nclick==8.1.3\n"
    old += "itsdangerous==2.1.2\nrequests==2.31.0\nurllib3==2.0.7\nidna==3.4\n"
    old += "certifi==2023.7.22\ncharset-normalizer==3.2.0\n"
    files = {
        "requirements.in": "flask>=2.0\nrequests\n-c constraints.txt\n",
        "constraints.txt": "urllib3<2.1\n",
    }
    compare(tmp_path, None, files, (*STRIP, "--upgrade-package", "requests"), existing=old)


def test_pyproject_input_on_real_index(tmp_path):
    pyproject = (
        "[project]\nname = 'svc'\nversion = '1.0'\n"
        "dependencies = ['httpx>=0.27', 'rich']\n"
        "[project.optional-dependencies]\ntest = ['pytest>=8', 'hypothesis']\n"
    )
    compare(
        tmp_path,
        None,
        {"pyproject.toml": pyproject},
        (*STRIP, "--extra", "test", "--generate-hashes", "pyproject.toml"),
    )


def test_universal_over_a_lock_for_one_python_ends(tmp_path):
    """Issue 13: a universal compile over the lock written for Python 3.11 alone spun in the
    resolver's backtracking (killed after 60 s); it must end, with the same pins for 3.11 on
    Linux as the lock it started from wherever no fork is needed."""
    import time

    from tests.helpers import describe, run_lockcheck

    (tmp_path / "requirements.in").write_text("jupyter\n")
    single = run_lockcheck("compile", "--python-version", "3.11", cwd=tmp_path, timeout=120)
    assert single.returncode == 0, describe(single)
    started = time.monotonic()
    universal = run_lockcheck(
        "compile", "--python-version", "3.11", "--universal", cwd=tmp_path, timeout=120
    )
    elapsed = time.monotonic() - started
    assert universal.returncode == 0, describe(universal)
    assert elapsed < 60, f"universal compile took {elapsed:.1f}s"
    lock = (tmp_path / "requirements.txt").read_text()
    assert "\njupyter==" in lock and 'sys_platform == "win32"' in lock


def test_upgrade_one_package_on_real_index_moves_only_it_and_what_it_forces(tmp_path):
    """`lockcheck upgrade --format markdown requests` over a two-year-old lock."""
    from tests.helpers import describe, run_lockcheck

    old = {
        "flask": "2.2.5",
        "werkzeug": "2.2.3",
        "jinja2": "3.1.2",
        "markupsafe": "2.1.3",
        "click": "8.1.3",
        "itsdangerous": "2.1.2",
        "requests": "2.28.2",
        "urllib3": "1.26.18",
        "idna": "3.4",
        "certifi": "2023.7.22",
        "charset-normalizer": "3.2.0",
    }
    (tmp_path / "requirements.in").write_text("".join(f"{n}=={v}\n" for n, v in old.items()))
    result = run_lockcheck("compile", "--python-version", "3.11", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    (tmp_path / "requirements.in").write_text("flask>=2.0\nrequests\n")
    result = run_lockcheck("upgrade", "requests", "--format", "markdown", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    rows = [line.split(" | ") for line in result.stdout.splitlines() if line.startswith("| [")]
    moved = {row[0].split("]")[0].lstrip("| ["): row for row in rows}
    assert "requests" in moved, result.stdout
    assert "https://pypi.org/project/requests/" in moved["requests"][0]
    flask_side = {"flask", "werkzeug", "jinja2", "markupsafe", "click", "itsdangerous"}
    assert not flask_side & set(moved), result.stdout
    assert set(moved) <= {"requests", "urllib3", "idna", "certifi", "charset-normalizer"}
    check = run_lockcheck("check", cwd=tmp_path)
    assert check.returncode == 0, describe(check)


# ----------------------------------------------------------------------------------------
# supply chain (issue 16)
# ----------------------------------------------------------------------------------------

CUT_OFF = "2024-06-01T00:00:00Z"
REQUESTS_AT_CUT_OFF = {
    "certifi": "2024.2.2",
    "charset-normalizer": "3.3.2",
    "idna": "3.7",
    "requests": "2.32.3",
    "urllib3": "2.2.1",
}


def _pins_of(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, _, version = line.split(" ")[0].partition("==")
            pins[name] = version
    return pins


def test_cut_off_gives_the_pins_of_pip_compile_and_uv(tmp_path):
    # pip-compile's spelling, the same body as pip-compile (through pip's own filter).
    body = compare(
        tmp_path, None, {"requirements.in": "requests\n"}, ("--uploaded-prior-to", CUT_OFF)
    )
    assert _pins_of(body) == REQUESTS_AT_CUT_OFF
    # lockcheck's spelling, written back in the header so the hook re-runs it.
    folder = tmp_path / "lockcheck"
    own = run_lockcheck("compile", "--exclude-newer", CUT_OFF, "-o", "own.txt", cwd=folder)
    assert own.returncode == 0, describe(own)
    text = (folder / "own.txt").read_text()
    assert f"--exclude-newer={CUT_OFF}" in text
    assert _pins_of(text) == REQUESTS_AT_CUT_OFF
    uv = Path(sys.executable).parent / "uv"  # a test dependency
    env = subprocess_env(
        {
            "UV_NO_CONFIG": "1",
            "UV_INDEX_URL": None,
            "UV_EXTRA_INDEX_URL": None,
            "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        }
    )
    result = subprocess.run(
        [uv, "pip", "compile", "--exclude-newer", CUT_OFF, "--no-header", "-"],
        input="requests\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _pins_of(result.stdout) == REQUESTS_AT_CUT_OFF


def test_a_yanked_requests_pin_fails_check(tmp_path):
    (tmp_path / "requirements.in").write_text("requests==2.32.0\n")
    compiled = run_lockcheck("compile", "--exclude-newer", CUT_OFF, cwd=tmp_path)
    assert compiled.returncode == 0, describe(compiled)
    yank = "requests==2.32.0 is yanked: Yanked due to conflicts with CVE-2024-35195 mitigation"
    assert f"lockcheck: warning: {yank}\n" in compiled.stderr, describe(compiled)
    check = run_lockcheck("check", cwd=tmp_path)
    assert check.returncode == 1, describe(check)
    assert yank in check.stderr
    offline = run_lockcheck("check", "--offline", cwd=tmp_path)
    assert offline.returncode == 0, describe(offline)
    assert "yanked pins were not checked (offline)" in offline.stdout
