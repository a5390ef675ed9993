"""Where packages come from and how to reach them: one frozen object per run.

Built once by the caller from pip's settings, lockcheck config and the command line
(:meth:`IndexSettings.from_pip_config`), then handed to the finder; nothing below reads the
environment for index options again.  Importing this module stays cheap (no httpx).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lockcheck.errors import ConfigError
from lockcheck.index.urls import is_masked, split_credentials

__all__ = ["DEFAULT_INDEX_URL", "IndexSettings"]

DEFAULT_INDEX_URL = "https://pypi.org/simple"

_TRUE = {"y", "yes", "t", "true", "on", "1"}
_FALSE = {"n", "no", "f", "false", "off", "0"}


def _strtobool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"pip setting {name}={value!r} is not a valid boolean")


def _number(name: str, value: str, kind: type[float] | type[int]) -> float | int:
    try:
        return kind(value.strip())
    except ValueError as exc:
        raise ConfigError(f"pip setting {name}={value!r} is not a valid number") from exc


def _absolute_location(location: str) -> str:
    """A relative find-links path made absolute: the child pip runs in another directory."""
    if "://" in location or location.startswith("file:"):
        return location
    return os.path.abspath(os.path.expanduser(location))


def _unmasked(url: str) -> str:
    """*url* without masked credentials: pip would send ``****`` as a user name, where
    without any it looks in ~/.netrc and its keyring."""
    clean, creds = split_credentials(url)
    return clean if is_masked(creds) else url


@dataclass(frozen=True)
class IndexSettings:
    """Index, find-links, TLS, cache and network options of one run."""

    #: Simple-API base URL of the main index (pip's ``--index-url``).
    index_url: str = DEFAULT_INDEX_URL
    #: Further indexes, consulted after ``index_url`` in this order.
    extra_index_urls: tuple[str, ...] = ()
    #: Ignore every index (``index_url`` and ``extra_index_urls``); find-links still apply.
    no_index: bool = False
    #: Local directories, local files and URLs of HTML pages listing distributions.
    find_links: tuple[str, ...] = ()
    #: ``host`` or ``host:port``: http allowed, TLS not verified.
    trusted_hosts: tuple[str, ...] = ()
    #: CA bundle (file or directory) that replaces the system trust store.
    cert: str | None = None
    #: PEM file holding a client certificate and its private key.
    client_cert: str | None = None
    #: None: ``$LOCKCHECK_CACHE_DIR``, else ``platformdirs.user_cache_dir("lockcheck")``.
    cache_dir: Path | None = None
    #: Never touch the network; answer from the cache or fail.
    offline: bool = False
    #: Revalidate every cached index page once in this run.
    refresh: bool = False
    #: Seconds per network operation (connect, read).
    timeout: float = 15.0
    #: Retries after the first attempt for connection errors, timeouts and 5xx answers.
    retries: int = 5
    #: Build sdists and source trees in an isolated environment (PEP 517).
    build_isolation: bool = True

    @property
    def index_urls(self) -> tuple[str, ...]:
        """Indexes in the order they are consulted ((), with ``no_index``)."""
        return () if self.no_index else (self.index_url, *self.extra_index_urls)

    @classmethod
    def from_pip_config(
        cls,
        environ: Mapping[str, str] | None = None,
        overrides: Mapping[str, object] | None = None,
        *,
        command: str = "install",
    ) -> IndexSettings:
        """Settings from pip's configuration, then ``PIP_*`` variables, then *overrides*.

        *overrides* maps field names to values and replaces the field (``None`` values mean
        "not given" and are skipped).  pip appends command-line list options
        (``--extra-index-url``, ``--find-links``, ``--trusted-host``) to the configured ones;
        a caller wanting that passes ``base.extra_index_urls + given``.
        """
        from lockcheck.index.pipconfig import read_pip_options

        environ = os.environ if environ is None else environ
        options = read_pip_options(environ, command)
        values: dict[str, object] = {}
        if "index-url" in options:
            values["index_url"] = options["index-url"].strip()
        if "extra-index-url" in options:
            values["extra_index_urls"] = tuple(options["extra-index-url"].split())
        if "find-links" in options:
            values["find_links"] = tuple(options["find-links"].split())
        if "trusted-host" in options:
            values["trusted_hosts"] = tuple(options["trusted-host"].split())
        if "no-index" in options:
            values["no_index"] = _strtobool("no-index", options["no-index"])
        if "cert" in options:
            values["cert"] = options["cert"].strip()
        if "client-cert" in options:
            values["client_cert"] = options["client-cert"].strip()
        # pip's --timeout has the alias --default-timeout (PIP_DEFAULT_TIMEOUT).
        for key in ("default-timeout", "timeout"):
            if key in options:
                values["timeout"] = float(_number(key, options[key], float))
        if "retries" in options:
            values["retries"] = int(_number("retries", options["retries"], int))
        fields = {f.name for f in dataclasses.fields(cls)}
        for key, value in (overrides or {}).items():
            if key not in fields:
                raise ConfigError(f"unknown index setting {key!r}")
            if value is not None:
                values[key] = value
        for key in ("extra_index_urls", "find_links", "trusted_hosts"):
            if key in values:
                values[key] = tuple(values[key])  # type: ignore[arg-type]
        if values.get("cache_dir") is not None:
            values["cache_dir"] = Path(values["cache_dir"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]

    def with_credentials(self, configured: Iterable[str]) -> IndexSettings:
        """These settings with every masked index / find-links URL (``https://****@host``,
        as read from a lock) given the credentials of the *configured* URL naming the same
        index; a URL no configured one matches stays masked (its host's credentials are
        then looked up elsewhere: see :mod:`lockcheck.index.auth`)."""
        from lockcheck.index.auth import fill_masked

        configured = tuple(configured)
        return dataclasses.replace(
            self,
            index_url=fill_masked(self.index_url, configured),
            extra_index_urls=tuple(fill_masked(u, configured) for u in self.extra_index_urls),
            find_links=tuple(fill_masked(u, configured) for u in self.find_links),
        )

    def pip_env(self) -> dict[str, str]:
        """``PIP_*`` variables that make a child pip (a build environment) see these settings.

        Merge over the parent's environment (``{**os.environ, **settings.pip_env()}``):
        every key is present, unset ones as ``""`` which pip ignores, so the parent's own
        ``PIP_EXTRA_INDEX_URL`` cannot leak in; pip.conf files are disabled because these
        settings already include them.  Offline runs get ``PIP_NO_INDEX`` (find-links only).
        """
        no_index = self.no_index or self.offline
        return {
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": "" if no_index else _unmasked(self.index_url),
            "PIP_EXTRA_INDEX_URL": (
                "" if no_index else " ".join(map(_unmasked, self.extra_index_urls))
            ),
            "PIP_NO_INDEX": "1" if no_index else "",
            "PIP_FIND_LINKS": " ".join(
                _absolute_location(_unmasked(loc)) for loc in self.find_links
            ),
            "PIP_TRUSTED_HOST": " ".join(self.trusted_hosts),
            "PIP_CERT": self.cert or "",
            "PIP_CLIENT_CERT": self.client_cert or "",
            "PIP_TIMEOUT": f"{self.timeout:g}",
            "PIP_DEFAULT_TIMEOUT": "",
            "PIP_RETRIES": str(self.retries),
        }
