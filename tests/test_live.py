"""Against the public index (``pytest --live``): lockcheck writes pip-compile's exact bytes.

The sets are the ones users compare tools on: a small web set, a data-science set and a
Django/Celery/boto3 stack, with hashes, an upgrade of one package, constraints, markers,
extras and a pyproject.toml input.
"""

from __future__ import annotations

import pytest

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
