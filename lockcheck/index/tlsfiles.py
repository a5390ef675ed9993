"""The TLS files the settings name (CA bundle, client certificate), checked before any work.

Apart from :mod:`lockcheck.index.tls` because it needs no :mod:`ssl`: every run checks the
files, but a compile the cache answers makes no connection and should not load ssl.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from lockcheck.errors import ConfigError
from lockcheck.index.settings import IndexSettings

__all__ = ["ca_bundle", "check_tls_files"]


def ca_bundle(settings: IndexSettings, environ: Mapping[str, str]) -> str | None:
    """The CA bundle named by ``--cert``/pip's ``cert``, else the environment (as requests)."""
    return settings.cert or environ.get("REQUESTS_CA_BUNDLE") or environ.get("SSL_CERT_FILE")


def check_tls_files(settings: IndexSettings, environ: Mapping[str, str]) -> None:
    """Fail now, not at the first handshake, when a named CA bundle or client certificate
    does not exist."""
    bundle = ca_bundle(settings, environ)
    if bundle and not os.path.exists(bundle):
        raise ConfigError(f"cannot load CA bundle {bundle}: no such file or directory")
    if settings.client_cert and not os.path.exists(settings.client_cert):
        raise ConfigError(
            f"cannot load client certificate {settings.client_cert}: no such file or directory"
        )
