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
from typing import TYPE_CHECKING

from lockcheck.errors import ConfigError
from lockcheck.index.auth import fill_masked
from lockcheck.index.pipconfig import read_pip_options
from lockcheck.index.urls import is_masked, split_credentials

if TYPE_CHECKING:
    from lockcheck.models import IndexOptions
    from lockcheck.settings import NetworkOptions

__all__ = ["DEFAULT_INDEX_URL", "IndexSettings", "merge_index_options"]

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


def _pip_values(options: Mapping[str, str]) -> dict[str, object]:
    """IndexSettings fields from pip's options (``index-url`` ... as pip.conf names them)."""
    values: dict[str, object] = {}
    if "index-url" in options:
        values["index_url"] = options["index-url"].strip()
    for key, name in _PIP_LISTS.items():
        if key in options:
            values[name] = tuple(options[key].split())
    if "no-index" in options:
        values["no_index"] = _strtobool("no-index", options["no-index"])
    for key in ("cert", "client-cert"):
        if key in options:
            values[key.replace("-", "_")] = options[key].strip()
    # pip's --timeout has the alias --default-timeout (PIP_DEFAULT_TIMEOUT).
    for key in ("default-timeout", "timeout"):
        if key in options:
            values["timeout"] = float(_number(key, options[key], float))
    if "retries" in options:
        values["retries"] = int(_number("retries", options["retries"], int))
    return values


_PIP_LISTS = {
    "extra-index-url": "extra_index_urls",
    "find-links": "find_links",
    "trusted-host": "trusted_hosts",
}


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
        environ = os.environ if environ is None else environ
        values = _pip_values(read_pip_options(environ, command))
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


def merge_index_options(
    network: NetworkOptions, file_opts: IndexOptions, environ: Mapping[str, str]
) -> IndexSettings:
    """pip's precedence: pip.conf < PIP_* env < command line < requirement-file lines.

    Shared by compile, check and sync (a lock's options block plays the requirement file's
    part).  *network* is what the project gave (command line and config, ``--pip-args``
    included); masked credentials in the result are filled from it and from pip's settings.
    """
    given = network.with_pip_args()
    base = IndexSettings.from_pip_config(environ=environ)
    merged = dataclasses.replace(
        base,
        index_url=given.index_url or base.index_url,
        extra_index_urls=tuple(given.extra_index_urls) or base.extra_index_urls,
        no_index=True if given.no_index else base.no_index,
        find_links=tuple(given.find_links) or base.find_links,
        trusted_hosts=tuple(given.trusted_hosts) or base.trusted_hosts,
        cert=given.cert or base.cert,
        client_cert=given.client_cert or base.client_cert,
        cache_dir=given.cache_dir or base.cache_dir,
        timeout=base.timeout if given.timeout is None else given.timeout,
        retries=base.retries if given.retries is None else given.retries,
        offline=given.offline,
        refresh=given.refresh,
        build_isolation=given.build_isolation,
    )
    final = _with_file_options(merged, file_opts)
    # A lock's "https://****@host/simple/" takes the credentials given for that index on
    # the command line or in pip's settings (which the lock's own line outranks).
    configured = (
        given.index_url or "",
        *given.extra_index_urls,
        *given.find_links,
        base.index_url,
        *base.extra_index_urls,
        *base.find_links,
    )
    return final.with_credentials(configured)


def _with_file_options(merged: IndexSettings, file_opts: IndexOptions) -> IndexSettings:
    """*merged* with a requirement file's own option lines, which outrank everything."""
    if file_opts.index_url:
        # pip replaces its whole index list when a requirement file names an index.
        merged = dataclasses.replace(
            merged,
            index_url=file_opts.index_url,
            extra_index_urls=tuple(file_opts.extra_index_urls),
        )
    elif file_opts.extra_index_urls:
        extra = _dedup((*merged.extra_index_urls, *file_opts.extra_index_urls))
        merged = dataclasses.replace(merged, extra_index_urls=extra)
    if file_opts.no_index:
        merged = dataclasses.replace(merged, no_index=True)
    if file_opts.find_links:
        find_links = _dedup((*merged.find_links, *file_opts.find_links))
        merged = dataclasses.replace(merged, find_links=find_links)
    if file_opts.trusted_hosts:
        hosts = _dedup((*merged.trusted_hosts, *file_opts.trusted_hosts))
        merged = dataclasses.replace(merged, trusted_hosts=hosts)
    return merged


def _dedup(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
