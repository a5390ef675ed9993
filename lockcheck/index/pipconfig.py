"""Read pip's own configuration (pip.conf files and ``PIP_*`` variables) without pip.

Teams put their private index in pip.conf or ``PIP_INDEX_URL``; honouring those keeps such a
project working the day it switches from pip-compile.  The rules copy pip's
``configuration.py`` and ``cli/parser.py``:

* files, lowest to highest priority: global (``$XDG_CONFIG_DIRS``/pip/pip.conf, default
  ``/etc/xdg/pip/pip.conf``, then ``/etc/pip.conf``), user (``~/.pip/pip.conf`` then
  ``$XDG_CONFIG_HOME/pip/pip.conf``; skipped when ``PIP_CONFIG_FILE`` names an existing
  file), base (``sys.base_prefix/pip.conf``), site (``sys.prefix/pip.conf``, plus
  ``$VIRTUAL_ENV/pip.conf`` when that is another environment), then the file named by
  ``PIP_CONFIG_FILE``.  ``PIP_CONFIG_FILE=/dev/null`` (``os.devnull``) disables every file.
* within the merged result the section decides first: ``[global]`` < ``[<command>]``
  (``install``, the command pip-compile drives) < environment variables.  Empty values are
  ignored, as pip does.
* names are normalised (``index_url`` == ``index-url``, ``PIP_INDEX_URL`` -> ``index-url``).
"""

from __future__ import annotations

import locale
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from lockcheck.errors import ConfigError

__all__ = ["config_files", "read_pip_options"]

_BASENAME = "pip.conf"
#: System configuration directory (a module constant so tests can point it elsewhere).
_ETC_DIR = Path("/etc")
_ENV_NAMES_IGNORED = {"version", "help"}


def _normalize(name: str) -> str:
    name = name.lower().replace("_", "-")
    return name[2:] if name.startswith("--") else name


def _prefixes() -> list[Path]:
    """Base and site environment roots of the running interpreter (pip's BASE and SITE)."""
    return [Path(sys.base_prefix), Path(sys.prefix)]


def config_files(environ: Mapping[str, str]) -> list[Path]:
    """pip's configuration files for *environ*, lowest priority first ([] when disabled)."""
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    xdg_dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d) / "pip" / _BASENAME for d in xdg_dirs.split(os.pathsep) if d]
    files.append(_ETC_DIR / _BASENAME)
    if not (env_file and os.path.exists(env_file)):
        xdg_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
        files += [home / ".pip" / _BASENAME, xdg_home / "pip" / _BASENAME]
    files += [prefix / _BASENAME for prefix in _prefixes()]
    venv = environ.get("VIRTUAL_ENV")
    if venv and Path(venv) / _BASENAME not in files:
        files.append(Path(venv) / _BASENAME)
    if env_file:
        files.append(Path(env_file))
    # A file listed twice (base == site outside a venv) counts once, at its first place.
    seen: set[Path] = set()
    unique = []
    for path in files:
        if path not in seen:
            seen.add(path)
            unique.append(path)
    return unique


def _file_items(path: Path) -> Iterator[tuple[str, str, str]]:
    if not path.is_file():
        return
    import configparser  # here: most runs find no pip configuration file

    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding=locale.getpreferredencoding(False))
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read pip configuration: {exc}", file=path) from exc
    for section in parser.sections():
        for name, value in parser.items(section):
            yield section, _normalize(name), value


def read_pip_options(environ: Mapping[str, str], command: str = "install") -> dict[str, str]:
    """pip's effective option values for *command*: ``{"index-url": "...", ...}``.

    Values are raw strings as pip would see them before type conversion (list options are
    whitespace separated).  A later file overrides an earlier one per ``section.key``; then
    ``[global]``, ``[command]`` and environment variables are applied in that order.
    """
    merged: dict[tuple[str, str], str] = {}
    for path in config_files(environ):
        for section, name, value in _file_items(path):
            if value.strip():
                merged[(section, name)] = value
    for key, value in environ.items():
        if key.startswith("PIP_") and value.strip():
            name = _normalize(key[4:])
            if name not in _ENV_NAMES_IGNORED:
                merged[(":env:", name)] = value
    options: dict[str, str] = {}
    for section in ("global", command, ":env:"):
        for (sec, name), value in merged.items():
            if sec == section:
                options[name] = value
    return options
