"""IndexSettings from pip's configuration: file order, sections, PIP_* variables, overrides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lockcheck.errors import ConfigError
from lockcheck.index import pipconfig
from lockcheck.index.cache import default_cache_dir
from lockcheck.index.settings import DEFAULT_INDEX_URL, IndexSettings


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A fake machine: /etc, XDG dirs, HOME and interpreter prefixes all under tmp_path."""
    dirs = {
        "etc": tmp_path / "etc",
        "xdg": tmp_path / "xdg-etc",
        "home": tmp_path / "home",
        "prefix": tmp_path / "prefix",
    }
    for path in dirs.values():
        path.mkdir()
    monkeypatch.setattr(pipconfig, "_ETC_DIR", dirs["etc"])
    monkeypatch.setattr(pipconfig, "_prefixes", lambda: [dirs["prefix"]])
    return dirs


def _env(machine: dict[str, Path], **extra: str) -> dict[str, str]:
    return {
        "HOME": str(machine["home"]),
        "XDG_CONFIG_DIRS": str(machine["xdg"]),
        **extra,
    }


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_configuration(machine: dict[str, Path]) -> None:
    settings = IndexSettings.from_pip_config(environ=_env(machine))
    assert settings == IndexSettings()
    assert settings.index_url == DEFAULT_INDEX_URL == "https://pypi.org/simple"
    assert settings.index_urls == ("https://pypi.org/simple",)
    assert (settings.timeout, settings.retries, settings.build_isolation) == (15.0, 5, True)


def test_file_order_user_overrides_global_and_site_overrides_user(
    machine: dict[str, Path],
) -> None:
    _write(machine["xdg"] / "pip" / "pip.conf", "[global]\nindex-url = https://xdg/simple\n")
    _write(machine["etc"] / "pip.conf", "[global]\nindex-url = https://etc/simple\ntimeout = 7\n")
    env = _env(machine)
    assert IndexSettings.from_pip_config(environ=env).index_url == "https://etc/simple"

    _write(machine["home"] / ".pip" / "pip.conf", "[global]\nindex-url = https://legacy/simple\n")
    assert IndexSettings.from_pip_config(environ=env).index_url == "https://legacy/simple"

    _write(
        machine["home"] / ".config" / "pip" / "pip.conf",
        "[global]\nindex_url = https://user/simple\n",  # underscores are normalised
    )
    settings = IndexSettings.from_pip_config(environ=env)
    assert settings.index_url == "https://user/simple"
    assert settings.timeout == 7.0  # still from /etc: keys merge one by one

    _write(machine["prefix"] / "pip.conf", "[global]\nindex-url = https://site/simple\n")
    assert IndexSettings.from_pip_config(environ=env).index_url == "https://site/simple"


def test_install_section_beats_global_section_whatever_the_file(
    machine: dict[str, Path],
) -> None:
    # pip applies [global] from every file, then [install] from every file, then env vars.
    _write(machine["etc"] / "pip.conf", "[install]\nindex-url = https://etc-install/simple\n")
    _write(
        machine["home"] / ".config" / "pip" / "pip.conf",
        "[global]\nindex-url = https://user-global/simple\n"
        "[download]\nindex-url = https://ignored/simple\n",
    )
    settings = IndexSettings.from_pip_config(environ=_env(machine))
    assert settings.index_url == "https://etc-install/simple"


def test_environment_beats_files_and_overrides_beat_environment(
    machine: dict[str, Path],
) -> None:
    _write(
        machine["home"] / ".config" / "pip" / "pip.conf",
        "[global]\n"
        "index-url = https://file/simple\n"
        "extra-index-url =\n    https://extra-a/simple\n    https://extra-b/simple\n"
        "find-links = /wheels\n"
        "trusted-host = file-host\n",
    )
    env = _env(
        machine,
        PIP_INDEX_URL="https://env/simple",
        PIP_FIND_LINKS="/env-a /env-b",
        PIP_TRUSTED_HOST="h1 h2:8080",
        PIP_NO_INDEX="false",
        PIP_CERT="/ca.pem",
        PIP_CLIENT_CERT="/client.pem",
        PIP_DEFAULT_TIMEOUT="180",
        PIP_RETRIES="2",
    )
    settings = IndexSettings.from_pip_config(environ=env)
    assert settings.index_url == "https://env/simple"
    assert settings.extra_index_urls == ("https://extra-a/simple", "https://extra-b/simple")
    assert settings.find_links == ("/env-a", "/env-b")
    assert settings.trusted_hosts == ("h1", "h2:8080")
    assert settings.no_index is False
    assert (settings.cert, settings.client_cert) == ("/ca.pem", "/client.pem")
    assert (settings.timeout, settings.retries) == (180.0, 2)

    overridden = IndexSettings.from_pip_config(
        environ=env,
        overrides={
            "index_url": "https://cli/simple",
            "extra_index_urls": ["https://cli-extra/simple"],
            "find_links": None,  # not given: keeps the environment's value
            "offline": True,
            "cache_dir": "/tmp/somewhere",
        },
    )
    assert overridden.index_url == "https://cli/simple"
    assert overridden.extra_index_urls == ("https://cli-extra/simple",)
    assert overridden.find_links == ("/env-a", "/env-b")
    assert overridden.offline is True
    assert overridden.cache_dir == Path("/tmp/somewhere")


def test_pip_config_file_skips_user_files_and_devnull_skips_all(
    machine: dict[str, Path], tmp_path: Path
) -> None:
    _write(machine["etc"] / "pip.conf", "[global]\nextra-index-url = https://etc/simple\n")
    _write(machine["home"] / ".config" / "pip" / "pip.conf", "[global]\nno-index = yes\n")
    own = _write(tmp_path / "own.conf", "[global]\nfind-links = /own\n")

    with_file = IndexSettings.from_pip_config(environ=_env(machine, PIP_CONFIG_FILE=str(own)))
    assert with_file.find_links == ("/own",)
    assert with_file.extra_index_urls == ("https://etc/simple",)  # global still read
    assert with_file.no_index is False  # user file skipped, as pip does

    missing = IndexSettings.from_pip_config(
        environ=_env(machine, PIP_CONFIG_FILE=str(tmp_path / "missing.conf"))
    )
    assert missing.no_index is True  # a missing PIP_CONFIG_FILE does not hide user files

    nothing = IndexSettings.from_pip_config(
        environ=_env(machine, PIP_CONFIG_FILE=os.devnull, PIP_RETRIES="1")
    )
    assert nothing.extra_index_urls == () and nothing.no_index is False
    assert nothing.retries == 1  # variables still apply


def test_empty_values_are_ignored_and_bad_values_rejected(machine: dict[str, Path]) -> None:
    _write(machine["etc"] / "pip.conf", "[global]\nindex-url = https://etc/simple\n")
    _write(machine["home"] / ".config" / "pip" / "pip.conf", "[global]\nindex-url =\n")
    env = _env(machine, PIP_EXTRA_INDEX_URL="")
    settings = IndexSettings.from_pip_config(environ=env)
    assert settings.index_url == "https://etc/simple"
    assert settings.extra_index_urls == ()
    assert IndexSettings.from_pip_config(environ=_env(machine, PIP_NO_INDEX="on")).no_index

    with pytest.raises(ConfigError, match="no-index"):
        IndexSettings.from_pip_config(environ=_env(machine, PIP_NO_INDEX="maybe"))
    with pytest.raises(ConfigError, match="timeout"):
        IndexSettings.from_pip_config(environ=_env(machine, PIP_TIMEOUT="soon"))
    with pytest.raises(ConfigError, match="bogus"):
        IndexSettings.from_pip_config(environ=_env(machine), overrides={"bogus": 1})
    _write(machine["prefix"] / "pip.conf", "not an ini file\n")
    with pytest.raises(ConfigError) as info:
        IndexSettings.from_pip_config(environ=_env(machine))
    assert info.value.file == str(machine["prefix"] / "pip.conf")


def test_pip_env_round_trips_through_pip_rules(machine: dict[str, Path], tmp_path: Path) -> None:
    settings = IndexSettings(
        index_url="https://user:secret@private/simple",
        extra_index_urls=("https://a/simple", "https://b/simple"),
        find_links=(str(tmp_path / "wheels"), "https://host/links/"),
        trusted_hosts=("private", "other:8443"),
        cert="/ca.pem",
        timeout=30.0,
        retries=3,
    )
    env = settings.pip_env()
    assert env["PIP_CONFIG_FILE"] == os.devnull
    assert env["PIP_EXTRA_INDEX_URL"] == "https://a/simple https://b/simple"
    assert env["PIP_NO_INDEX"] == "" and env["PIP_CLIENT_CERT"] == ""
    # What a child pip would make of it is exactly these settings.
    back = IndexSettings.from_pip_config(environ={**_env(machine), **env})
    for field in ("index_url", "extra_index_urls", "find_links", "trusted_hosts", "cert"):
        assert getattr(back, field) == getattr(settings, field), field
    assert (back.timeout, back.retries, back.no_index) == (30.0, 3, False)


def test_pip_env_hides_parent_settings_and_absolutises_paths(
    machine: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    env = IndexSettings(no_index=True, find_links=("wheels",)).pip_env()
    assert env["PIP_NO_INDEX"] == "1" and env["PIP_INDEX_URL"] == ""
    assert env["PIP_FIND_LINKS"] == str(tmp_path / "wheels")
    parent = {**_env(machine), "PIP_EXTRA_INDEX_URL": "https://leak/simple"}
    back = IndexSettings.from_pip_config(environ={**parent, **env})
    assert back.extra_index_urls == () and back.no_index is True
    offline = IndexSettings(offline=True).pip_env()
    assert offline["PIP_NO_INDEX"] == "1"


def test_cache_dir_resolution(tmp_path: Path) -> None:
    assert default_cache_dir({"LOCKCHECK_CACHE_DIR": str(tmp_path / "c")}) == tmp_path / "c"
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path / "x")}) == (
        tmp_path / "x" / "lockcheck"
    )
