"""Shared pytest setup: isolation from the machine's pip setup, builders and local indexes.

Fixtures
--------
``dist_factory``
    A :class:`~tests.fixtures.builders.DistFactory` writing into a per-test wheelhouse
    (``dist_factory.directory``) with ``.wheel()``, ``.sdist()``, ``.project()``,
    ``.setuptools_project()`` and ``.packages(specs)``.
``make_index`` (alias ``index_server``)
    Factory ``make_index(source=None, **switches) -> IndexServer``, started, stopped at
    teardown.  ``source`` is ``None`` (serve ``dist_factory.directory``, files built later
    included), a directory, a ``Wheelhouse`` (its yanked reasons are applied) or an iterable
    of ``PackageSpec`` (built into a fresh directory; their ``yanked`` and ``uploaded``
    reach the server).  ``switches`` are IndexServer keywords.
``private_index``
    A started :class:`~tests.fixtures.private_index.PrivateIndex`: pypiserver on loopback
    whose every action needs ``private_index.user`` / ``.password`` (htpasswd); drop wheels
    and sdists into ``private_index.packages``.  Skipped when pypiserver or passlib is
    not installed (the ``test`` extra has them).
``universe_wheelhouse`` / ``universe_index`` (session)
    The default universe of ``tests/fixtures/universe.py`` built once and served by one
    shared server.  Do not flip switches or inject faults on ``universe_index``, and do not
    count its requests (other tests use it too): for that, make your own server with
    ``make_index(universe_wheelhouse, ...)``, which costs a few milliseconds.
``project``
    ``(folder, server)``: ``requirements.in`` (flask) compiled with ``--generate-hashes``
    into ``requirements.txt`` against its own server of the universe (for ``check`` tests).

Markers
-------
``live``: needs the public index; skipped unless ``--live`` is given.
``needs_setuptools``: builds a setuptools project (``--no-build-isolation`` with the running
venv's setuptools); skipped when setuptools is not importable.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from hypothesis import HealthCheck, settings

from tests.fixtures.builders import DistFactory, PackageSpec, Wheelhouse, build_packages
from tests.fixtures.index_server import IndexServer
from tests.fixtures.private_index import PrivateIndex
from tests.fixtures.universe import UNIVERSE

#: Environment variables removed for every test (pip settings that would redirect or narrow
#: resolution, a developer's lockcheck settings, a venv a sync could wrongly target).
_REMOVED_ENV = (
    "PIP_FIND_LINKS",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_CONSTRAINT",
    "PIP_NO_INDEX",
    "PIP_TRUSTED_HOST",
    "PIP_PRE",
    "PIP_REQUIRE_VIRTUALENV",
    "PIP_USER",
    "PIP_CACHE_DIR",
    "PIP_NO_CACHE_DIR",
    "CUSTOM_COMPILE_COMMAND",
    "VIRTUAL_ENV",
    "UV_INDEX",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
)


# Hypothesis profiles: "dev" (the default) explores new examples on every run; "ci" (chosen
# when CI is set) is derandomized so a CI run is reproducible and never flaky on a new
# example; "fuzz" is for hunting by hand (HYPOTHESIS_PROFILE=fuzz): the property tests take
# their example counts from tests.fixtures.strategies.examples(n), which it raises to 3000.
settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz", max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--live",
        action="store_true",
        default=False,
        help="run tests marked 'live' (they talk to the public package index)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "live: talks to the public package index (skipped unless --live is given)"
    )
    config.addinivalue_line(
        "markers",
        "needs_setuptools: builds a setuptools project with --no-build-isolation "
        "(skipped when setuptools is missing)",
    )
    _interruptible_children()


def _interruptible_children() -> None:
    """Every process a test starts begins with SIGINT's default disposition, as a terminal's
    foreground job does, however the suite was launched.

    A shell without job control starts a background command (``pytest ... &``, a CI step
    wrapped that way) with SIGINT ignored; an ignored signal stays ignored across ``exec``,
    so every lockcheck a test starts would ignore the Ctrl-C the interrupt tests send it, and
    lockcheck rightly honours that.  A handler instead of the ignore is reset to the default
    in each child at ``exec``.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    live = config.getoption("--live")
    has_setuptools = importlib.util.find_spec("setuptools") is not None
    for item in items:
        if "live" in item.keywords and not live:
            item.add_marker(pytest.mark.skip(reason="needs --live (public package index)"))
        if "needs_setuptools" in item.keywords and not has_setuptools:
            item.add_marker(pytest.mark.skip(reason="setuptools is not installed"))


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Keep every test away from the machine's pip configuration and the user's caches.

    pip config files are disabled (``PIP_CONFIG_FILE=/dev/null``), PIP_* index settings and
    every ``LOCKCHECK_*`` variable removed, ``XDG_CACHE_HOME`` and ``LOCKCHECK_CACHE_DIR``
    point into a per-test directory, ``NETRC`` at a file that does not exist, and loopback
    bypasses any proxy.  ``HOME`` is left alone.  Temporary files (``TMPDIR``, and
    :mod:`tempfile` in this process) go to the per-test directory too, so what a killed run
    leaves behind does not pile up in the machine's ``/tmp``.  Returns the per-test directory.
    """
    root = tmp_path_factory.mktemp("isolated")
    scratch = root / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in _REMOVED_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("LOCKCHECK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "xdg-cache"))
    monkeypatch.setenv("LOCKCHECK_CACHE_DIR", str(root / "lockcheck-cache"))
    monkeypatch.setenv("UV_CACHE_DIR", str(root / "uv-cache"))
    monkeypatch.setenv("NETRC", str(root / "no-such-netrc"))
    for name in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(name, "")
        monkeypatch.setenv(name, ",".join(filter(None, [current, "127.0.0.1", "localhost"])))
    return root


@pytest.fixture
def dist_factory(tmp_path: Path) -> DistFactory:
    """Builders writing into ``tmp_path/wheelhouse`` (projects into ``tmp_path/projects``)."""
    return DistFactory(tmp_path / "wheelhouse", tmp_path / "projects")


class MakeIndex(Protocol):
    def __call__(
        self,
        source: str | Path | Wheelhouse | Iterable[PackageSpec] | None = None,
        **switches: Any,
    ) -> IndexServer: ...


@pytest.fixture
def make_index(
    dist_factory: DistFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MakeIndex]:
    """Factory of started :class:`IndexServer` objects, all stopped at teardown."""
    servers: list[IndexServer] = []

    def factory(
        source: str | Path | Wheelhouse | Iterable[PackageSpec] | None = None,
        **switches: Any,
    ) -> IndexServer:
        yanked: dict[str, str] = {}
        uploads: dict[str, str | None] = {}
        if source is None:
            directory = dist_factory.directory
        elif isinstance(source, Wheelhouse):
            directory, yanked = source.directory, dict(source.yanked)
            uploads = dict(source.upload_times)
        elif isinstance(source, (str, Path)):
            directory = Path(source)
        else:
            house = build_packages(source, tmp_path_factory.mktemp("index"))
            directory, yanked, uploads = house.directory, house.yanked, house.upload_times
        yanked.update(switches.pop("yanked", None) or {})
        uploads.update(switches.pop("upload_times", None) or {})
        server = IndexServer(directory, yanked=yanked, upload_times=uploads, **switches).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def index_server(make_index: MakeIndex) -> MakeIndex:
    """Alias of :func:`make_index`."""
    return make_index


@pytest.fixture
def private_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateIndex]:
    """pypiserver with an htpasswd file on 127.0.0.1 (stopped at teardown)."""
    for module in ("pypiserver", "passlib"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install -e '.[test]' brings it)")
    index = PrivateIndex.start(
        tmp_path_factory.mktemp("private-index"), user="alice", password="pw-Zq81xK3v-secret"
    )
    try:
        yield index
    finally:
        index.stop()


@pytest.fixture(scope="session")
def universe_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Wheelhouse:
    """The default universe (tests/fixtures/universe.py), built once per session."""
    return build_packages(UNIVERSE, tmp_path_factory.mktemp("universe"))


@pytest.fixture(scope="session")
def universe_index(universe_wheelhouse: Wheelhouse) -> Iterator[IndexServer]:
    """One shared, read-only server of the default universe (default switches)."""
    server = IndexServer(universe_wheelhouse.directory, yanked=universe_wheelhouse.yanked)
    with server:
        yield server


@pytest.fixture
def project(tmp_path: Path, make_index: MakeIndex, universe_wheelhouse: Wheelhouse):
    """A compiled project: requirements.in -> requirements.txt against a private index."""
    from tests.helpers import describe, run_lockcheck

    server = make_index(universe_wheelhouse)
    (tmp_path / "requirements.in").write_text("flask\n")
    result = run_lockcheck("compile", "-i", server.url, "--generate-hashes", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    server.clear_log()
    return tmp_path, server
