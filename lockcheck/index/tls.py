"""Client TLS contexts: the operating system's trust store, or a named CA bundle.

Corporate proxies re-sign TLS with a CA that only the system store knows, so that store is
the default (as in pip).  On macOS and Windows it is asked through truststore (their platform
verifiers).  On Linux and the BSDs the same CAs truststore would choose are loaded once into
a standard-library context: truststore itself re-reads the whole CA file for every new
connection, under a lock that serialises handshakes (25 ms of CPU each, and a cold compile
opens a dozen connections).  Loading a CA file takes about as long, and OpenSSL releases the
interpreter lock meanwhile, so :class:`~lockcheck.index.tlsearly.PendingContext` does it in a
thread while the caller goes on; the first handshake waits for it.
"""

from __future__ import annotations

import os
import re
import ssl
import sys
from collections.abc import Mapping

from lockcheck.errors import ConfigError
from lockcheck.index.settings import IndexSettings
from lockcheck.index.tlsfiles import ca_bundle

__all__ = ["build_context", "insecure_context", "verifying_context"]

#: Where OpenSSL platforms keep their CA bundle when OpenSSL's compiled-in locations hold
#: none (truststore's list, after certifi-system-store).
_CA_FILE_CANDIDATES = (
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/cert.pem",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/ca-bundle.pem",
)
_HASHED_CERT = re.compile(r"^[0-9a-fA-F]{8}\.[0-9]$")


def _openssl_defaults_usable() -> bool:
    defaults = ssl.get_default_verify_paths()
    if defaults.cafile:
        return True
    capath = defaults.capath
    return bool(
        capath and os.path.isdir(capath) and any(map(_HASHED_CERT.match, os.listdir(capath)))
    )


def _system_context() -> ssl.SSLContext:
    if sys.platform in ("darwin", "win32"):
        import truststore

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        # The standard library's client defaults for this Python, with OpenSSL's default
        # locations loaded; when those hold nothing, the first CA file found (truststore's
        # rule).
        ctx = ssl.create_default_context()
        if not _openssl_defaults_usable():
            for cafile in _CA_FILE_CANDIDATES:
                if os.path.isfile(cafile):
                    ctx.load_verify_locations(cafile=cafile)
                    break
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the system CA certificates: {exc}") from exc
    return ctx


def build_context(settings: IndexSettings, environ: Mapping[str, str]) -> ssl.SSLContext:
    """The verifying client context: the CA bundle named by ``--cert`` /
    ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE``, else the system store; plus the client
    certificate.  Raises ConfigError when either cannot be loaded."""
    ctx = verifying_context(ca_bundle(settings, environ))
    _load_client_cert(ctx, settings)
    return ctx


def verifying_context(bundle: str | None) -> ssl.SSLContext:
    """A context that verifies against *bundle* (a CA file or a hashed directory), else
    the system store; ConfigError when it cannot be loaded."""
    if not bundle:
        return _system_context()
    try:
        if os.path.isdir(bundle):
            return ssl.create_default_context(capath=bundle)
        return ssl.create_default_context(cafile=bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load CA bundle {bundle}: {exc}") from exc


def insecure_context(settings: IndexSettings) -> ssl.SSLContext:
    """For ``--trusted-host``: no verification (nothing to load)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    _load_client_cert(ctx, settings)
    return ctx


def _load_client_cert(ctx: ssl.SSLContext, settings: IndexSettings) -> None:
    if settings.client_cert:
        try:
            ctx.load_cert_chain(settings.client_cert)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load client certificate {settings.client_cert}: {exc}"
            ) from exc
