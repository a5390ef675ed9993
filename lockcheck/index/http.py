"""The one HTTP adapter of the index layer: httpx with TLS, auth, retries and clean errors.

Everything network-shaped that can go wrong is translated here into
:class:`~lockcheck.errors.IndexUnavailable` with the URL redacted, so callers only see
responses worth reading (2xx, 304, 404/410 meaning "not here", 416).  Retries use exponential
backoff (``_BACKOFF_BASE * 2**n``, capped at ``_BACKOFF_MAX``; tests set the base to 0) on
connection errors, timeouts, broken bodies, 429 and 5xx.  TLS verifies against the
operating system's trust store (corporate proxies re-sign TLS with a CA only that store
knows: truststore on macOS and Windows, OpenSSL's system CAs loaded once elsewhere) unless a
CA bundle is named by ``cert`` / ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE``.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import ssl
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from lockcheck import __version__
from lockcheck.errors import ConfigError, IndexUnavailable, redact_url
from lockcheck.index._httpx import httpx
from lockcheck.index.auth import Credentials
from lockcheck.index.settings import IndexSettings
from lockcheck.index.urls import netloc_key, split_credentials

__all__ = ["OK_STATUSES", "HttpSession", "make_ssl_context"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

#: Backoff before retry n (1-based) is min(_BACKOFF_BASE * 2**(n-1), _BACKOFF_MAX) seconds.
_BACKOFF_BASE = 0.25
_BACKOFF_MAX = 4.0
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 527})
#: Statuses handed back to the caller; anything else is an error.
OK_STATUSES = frozenset({304, 404, 410, 416})
_RETRYABLE_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


class _RetryStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.reason_phrase = response.reason_phrase


#: Where OpenSSL-based systems keep their CA bundle when OpenSSL's compiled-in defaults are
#: missing (truststore's list, after certifi-system-store).
_CA_FILE_CANDIDATES = (
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/cert.pem",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/ca-bundle.pem",
)
_HASHED_CERT = re.compile(r"^[0-9a-fA-F]{8}\.[0-9]$")


def _load_openssl_trust(ctx: ssl.SSLContext) -> None:
    """The operating system's CAs on an OpenSSL platform, chosen as truststore chooses them:
    OpenSSL's default locations when they hold certificates, else the first CA file found."""
    defaults = ssl.get_default_verify_paths()
    capath = defaults.capath
    if defaults.cafile or (
        capath and os.path.isdir(capath) and any(map(_HASHED_CERT.match, os.listdir(capath)))
    ):
        ctx.set_default_verify_paths()
        return
    for cafile in _CA_FILE_CANDIDATES:
        if os.path.isfile(cafile):
            ctx.load_verify_locations(cafile=cafile)
            return


def _no_wait() -> None:
    return None


class _TrustLoader:
    """Loads CAs into a context in a thread (OpenSSL releases the interpreter lock while it
    parses them, 25 ms for a system bundle); :meth:`wait` re-raises a failure as the
    ConfigError a synchronous load would have given."""

    def __init__(self, load: Callable[[], None]) -> None:
        self._load = load
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="lockcheck-ca", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._load()
        except BaseException as exc:  # handed to whoever waits
            self._error = exc

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def _load_bundle(ctx: ssl.SSLContext, bundle: str) -> None:
    try:
        if os.path.isdir(bundle):
            ctx.load_verify_locations(capath=bundle)
        else:
            ctx.load_verify_locations(cafile=bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load CA bundle {bundle}: {exc}") from exc


def make_ssl_context(
    settings: IndexSettings,
    environ: Mapping[str, str],
    *,
    verify: bool = True,
    background: bool = False,
) -> tuple[ssl.SSLContext, Callable[[], None]]:
    """The client TLS context (system trust store, or the configured CA bundle) and a
    callable that returns once the context is ready for a handshake.

    With *background*, the CAs load in a thread while the caller goes on (the first
    handshake waits for them).  On Linux and the BSDs the system CAs are loaded once into a
    plain context, as truststore would choose them: truststore itself re-reads the whole CA
    file for every connection, under a lock that serialises handshakes (25 ms of CPU each).
    macOS and Windows keep truststore, which asks their platform verifier.
    """
    ready: Callable[[], None] = _no_wait
    load: Callable[[], None] | None = None
    if not verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        bundle = settings.cert or environ.get("REQUESTS_CA_BUNDLE") or environ.get("SSL_CERT_FILE")
        if bundle:
            if not os.path.exists(bundle):
                raise ConfigError(f"cannot load CA bundle {bundle}: no such file or directory")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            load = functools.partial(_load_bundle, ctx, bundle)
        elif sys.platform in ("darwin", "win32"):
            import truststore

            ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            load = functools.partial(_load_openssl_trust, ctx)
    if settings.client_cert:
        try:
            ctx.load_cert_chain(settings.client_cert)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load client certificate {settings.client_cert}: {exc}"
            ) from exc
    if load is not None:
        if background:
            ready = _TrustLoader(load).wait
        else:
            load()
    return ctx, ready


def _reason(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    text = str(exc) or type(exc).__name__
    match = re.search(r"\[Errno [^\]]*\]\s*(.+)", text)
    if match:
        text = match.group(1)
    return text[:1].lower() + text[1:]


def _is_tls_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _trusted_pattern(host: str) -> str:
    return f"all://{host.lower()}"


class HttpSession:
    """A pooled httpx.Client plus the policy around it (thread-safe)."""

    def __init__(
        self,
        settings: IndexSettings,
        *,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        environ = os.environ if environ is None else environ
        self.settings = settings
        self.credentials = Credentials(environ)
        for url in (*settings.index_urls, *settings.find_links):
            self.credentials.remember(url)
        self._trusted = {h.lower() for h in settings.trusted_hosts}
        timeout = httpx.Timeout(settings.timeout)
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        headers = {"User-Agent": f"lockcheck/{__version__} httpx/{httpx.__version__}"}
        if transport is not None:
            self.client = httpx.Client(
                transport=transport, timeout=timeout, follow_redirects=True, headers=headers
            )
            return
        # Direct connections go through the lean http.client transport; proxies named by
        # the environment keep httpx's own transport (httpx mounts no environment proxies
        # once a transport is given, so they are mounted here, by httpx's own reading).
        from httpx._utils import get_environment_proxies

        from lockcheck.index.transport import StdlibTransport

        # httpx's proxy transports take the context as it is: load it first when any is set.
        proxies = get_environment_proxies()
        verify, ready = make_ssl_context(settings, environ, background=not proxies)
        mounts: dict[str, httpx.BaseTransport | None] = {
            pattern: None
            if proxy is None
            else httpx.HTTPTransport(proxy=proxy, verify=verify, limits=limits, trust_env=True)
            for pattern, proxy in proxies.items()
        }
        if self._trusted:
            insecure, _ = make_ssl_context(settings, environ, verify=False)
            for host in self._trusted:
                mounts[_trusted_pattern(host)] = StdlibTransport(insecure)
        self.client = httpx.Client(
            verify=verify,
            transport=StdlibTransport(verify, tls_ready=ready),
            timeout=timeout,
            limits=limits,
            follow_redirects=True,
            headers=headers,
            mounts=mounts,
            trust_env=True,
        )

    # -- policy --------------------------------------------------------------------------

    def is_trusted(self, url: str) -> bool:
        key = netloc_key(url)
        return key in self._trusted or key.rsplit(":", 1)[0] in self._trusted

    def _auth(self, url: str) -> httpx.BasicAuth | None:
        creds = self.credentials.lookup(url)
        return httpx.BasicAuth(*creds) if creds else None

    def _check(self, response: httpx.Response, url: str, label: str) -> None:
        status = response.status_code
        if status < 300 or status in OK_STATUSES:
            return
        phrase = f"HTTP {status} {response.reason_phrase}".rstrip()
        if status in (401, 403):
            raise IndexUnavailable(
                f"{label} refused access ({phrase}) for {url}",
                url=url,
                hint="check the credentials in the index URL or in ~/.netrc",
            )
        raise IndexUnavailable(f"{label} answered {phrase} for {url}", url=url)

    def _backoff(self, attempt: int) -> None:
        delay = min(_BACKOFF_BASE * 2 ** (attempt - 1), _BACKOFF_MAX)
        if delay > 0:
            time.sleep(delay)

    def _retrying(self, url: str, label: str, attempt_once: Callable[[], T]) -> T:
        if self.settings.offline:
            raise IndexUnavailable(
                f"cannot fetch {url}: offline mode and it is not in the cache", url=url
            )
        last: BaseException | None = None
        for attempt in range(self.settings.retries + 1):
            if attempt:
                self._backoff(attempt)
            try:
                return attempt_once()
            except _RetryStatus as exc:
                last = exc
                _log.debug("HTTP %s from %s, retrying", exc.status_code, redact_url(url))
            except _RETRYABLE_ERRORS as exc:
                if _is_tls_error(exc):
                    raise IndexUnavailable(
                        f"cannot reach {label}: TLS verification failed ({_reason(exc)})",
                        url=url,
                        hint="pass --cert with your CA bundle (or set SSL_CERT_FILE), or "
                        "--trusted-host for a host without valid TLS",
                    ) from exc
                last = exc
                _log.debug("%s for %s, retrying", _reason(exc), redact_url(url))
            except httpx.HTTPError as exc:
                raise IndexUnavailable(f"cannot reach {label}: {_reason(exc)}", url=url) from exc
        retries = f" (after {self.settings.retries} retries)" if self.settings.retries else ""
        if isinstance(last, _RetryStatus):
            raise IndexUnavailable(
                f"{label} answered HTTP {last.status_code} {last.reason_phrase} for {url}{retries}",
                url=url,
            )
        assert last is not None
        raise IndexUnavailable(f"cannot reach {label}: {_reason(last)}{retries}", url=url) from last

    # -- requests ------------------------------------------------------------------------

    def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, label: str | None = None
    ) -> httpx.Response:
        """GET with the whole body read; status is 2xx or one of :data:`OK_STATUSES`."""
        clean, _ = split_credentials(url)
        label = label or clean

        def once() -> httpx.Response:
            response = self.client.get(clean, headers=headers, auth=self._auth(url))
            if response.status_code in _RETRY_STATUSES:
                raise _RetryStatus(response)
            self._check(response, clean, label)
            return response

        return self._retrying(clean, label, once)

    def stream(
        self,
        url: str,
        handle: Callable[[httpx.Response], T],
        *,
        headers: Mapping[str, str] | None = None,
        label: str | None = None,
    ) -> T:
        """GET and let *handle* consume the streamed response; a broken body retries the
        whole request (so *handle* must start afresh each time)."""
        clean, _ = split_credentials(url)
        label = label or clean

        def once() -> T:
            with self.client.stream("GET", clean, headers=headers, auth=self._auth(url)) as resp:
                if resp.status_code in _RETRY_STATUSES:
                    raise _RetryStatus(resp)
                self._check(resp, clean, label)
                return handle(resp)

        return self._retrying(clean, label, once)

    def close(self) -> None:
        self.client.close()
