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

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from lockcheck import __version__
from lockcheck.errors import IndexUnavailable, IndexUnreachable, redact_url
from lockcheck.index.auth import Credentials
from lockcheck.index.settings import IndexSettings
from lockcheck.index.urls import netloc_key, split_credentials

if TYPE_CHECKING:
    import ssl

    import httpx

    from lockcheck.index.sending import DirectSender
    from lockcheck.index.tlsearly import PendingContext

__all__ = ["OK_STATUSES", "HttpSession"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

#: Backoff before retry n (1-based) is min(_BACKOFF_BASE * 2**(n-1), _BACKOFF_MAX) seconds.
_BACKOFF_BASE = 0.25
_BACKOFF_MAX = 4.0
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 527})
#: Statuses handed back to the caller; anything else is an error.
OK_STATUSES = frozenset({304, 404, 410, 416})
#: ``get`` reads the whole body: the transport may read it in one piece (transport.py).
_WHOLE = {"lockcheck.whole_body": True}


class _RetryStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.reason_phrase = response.reason_phrase


def _reason(exc: BaseException) -> str:
    from lockcheck.index._httpx import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    text = str(exc) or type(exc).__name__
    match = re.search(r"\[Errno [^\]]*\]\s*(.+)", text)
    if match:
        text = match.group(1)
    return text[:1].lower() + text[1:]


def _is_tls_error(exc: BaseException) -> bool:
    import ssl  # here: a compile the cache answers makes no request and needs no TLS

    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _answer(label: str, what: str, url: str) -> str:
    """``<label> <what> for <url>``, or ``<url> <what>`` when the label is the URL itself."""
    return f"{url} {what}" if label == url else f"{label} {what} for {url}"


def _trusted_pattern(host: str) -> str:
    return f"all://{host.lower()}"


class HttpSession:
    """A pooled httpx.Client plus the policy around it (thread-safe).

    The client is built on the first request: a run that reads everything from the cache
    (the commit hook's, with a warm cache) never imports httpx nor loads a trust store.
    Requests go through its transports by :class:`~lockcheck.index.sending.DirectSender`,
    which does what ``Client.send`` does for them at a fraction of the CPU.
    """

    def __init__(
        self,
        settings: IndexSettings,
        *,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        environ = os.environ if environ is None else environ
        self.settings = settings
        self._environ = environ
        self._transport = transport
        self.credentials = Credentials(environ)
        for url in (*settings.index_urls, *settings.find_links):
            self.credentials.remember(url)
        self._trusted = {h.lower() for h in settings.trusted_hosts}
        self._pending: PendingContext | None = None
        self._client: httpx.Client | None = None
        self._sender: DirectSender | None = None
        self._client_lock = threading.Lock()
        self._forgotten: list[object] = []  # see forget_connections
        if transport is None:
            from lockcheck.index.tlsfiles import check_tls_files

            check_tls_files(settings, environ)  # a wrong --cert path fails before any work

    @property
    def client(self) -> httpx.Client:
        client = self._client
        if client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._build_client()
                client = self._client
        return client

    @property
    def sender(self) -> DirectSender:
        """The client's ``send`` for GETs, without its per-request costs (sending.py)."""
        sender = self._sender
        if sender is None:
            from lockcheck.index.sending import DirectSender

            client = self.client
            with self._client_lock:
                if self._sender is None:
                    self._sender = DirectSender(client)
                sender = self._sender
        return sender

    def _build_client(self) -> httpx.Client:
        from lockcheck.index._httpx import httpx
        from lockcheck.index.heap import release_big_buffers

        # Pages of several MB each are on their way: keep them off the heap once freed.
        release_big_buffers()
        settings, environ = self.settings, self._environ
        timeout = httpx.Timeout(settings.timeout)
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        headers = {"User-Agent": f"lockcheck/{__version__} httpx/{httpx.__version__}"}
        if self._transport is not None:
            return httpx.Client(
                transport=self._transport, timeout=timeout, follow_redirects=True, headers=headers
            )
        # Direct connections go through the lean http.client transport; proxies named by
        # the environment keep httpx's own transport (httpx mounts no environment proxies
        # once a transport is given, so they are mounted here, by httpx's own reading).
        from httpx._utils import get_environment_proxies

        from lockcheck.index.tls import insecure_context
        from lockcheck.index.tlsearly import PendingContext, context_for
        from lockcheck.index.transport import StdlibTransport

        proxies = get_environment_proxies()
        mounts: dict[str, httpx.BaseTransport | None] = {}
        context: ssl.SSLContext | Callable[[], ssl.SSLContext]
        if any(proxies.values()):
            # httpx's proxy transports take a context as it is: build it now.
            context = context_for(settings, environ)
            for pattern, proxy in proxies.items():
                mounts[pattern] = (
                    httpx.HTTPTransport(proxy=proxy, verify=context, limits=limits, trust_env=True)
                    if proxy
                    else None
                )
        else:
            # Built in a thread while the client gets ready; the first handshake waits for it.
            self._pending = PendingContext(lambda: context_for(settings, environ))
            context = self._pending.get
            mounts.update(dict.fromkeys(proxies))  # NO_PROXY entries: the default transport
        if self._trusted:
            insecure = StdlibTransport(insecure_context(settings))
            for host in self._trusted:
                mounts[_trusted_pattern(host)] = insecure
        return httpx.Client(
            transport=StdlibTransport(context),
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
        if not creds:
            return None
        from lockcheck.index._httpx import httpx

        return httpx.BasicAuth(*creds)

    def _check(self, response: httpx.Response, url: str, label: str) -> None:
        status = response.status_code
        if status < 300 or status in OK_STATUSES:
            return
        phrase = f"HTTP {status} {response.reason_phrase}".rstrip()
        if status in (401, 403):
            detail, hint = self.credentials.refusal(url)
            raise IndexUnavailable(
                _answer(label, f"refused access ({phrase})", url) + detail, url=url, hint=hint
            )
        raise IndexUnavailable(_answer(label, f"answered {phrase}", url), url=url)

    def _backoff(self, attempt: int) -> None:
        delay = min(_BACKOFF_BASE * 2 ** (attempt - 1), _BACKOFF_MAX)
        if delay > 0:
            time.sleep(delay)

    def _retrying(self, url: str, label: str, attempt_once: Callable[[], T]) -> T:
        if self.settings.offline:
            raise IndexUnavailable(
                f"cannot fetch {url}: offline mode and it is not in the cache", url=url
            )
        from lockcheck.index._httpx import httpx

        retryable = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
        last: BaseException | None = None
        for attempt in range(self.settings.retries + 1):
            if attempt:
                self._backoff(attempt)
            try:
                return attempt_once()
            except _RetryStatus as exc:
                last = exc
                _log.debug("HTTP %s from %s, retrying", exc.status_code, redact_url(url))
            except retryable as exc:
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
                _answer(label, f"answered HTTP {last.status_code} {last.reason_phrase}", url)
                + retries,
                url=url,
            )
        assert last is not None
        raise IndexUnreachable(f"cannot reach {label}: {_reason(last)}{retries}", url=url) from last

    # -- requests ------------------------------------------------------------------------

    def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, label: str | None = None
    ) -> httpx.Response:
        """GET with the whole body read; status is 2xx or one of :data:`OK_STATUSES`."""
        clean, _ = split_credentials(url)
        shown = redact_url(url)  # in messages: credentials masked, not dropped
        label = label or shown

        def once() -> httpx.Response:
            response = self.sender.get(
                clean, headers=headers, auth=self._auth(url), extensions=_WHOLE
            )
            if response.status_code in _RETRY_STATUSES:
                raise _RetryStatus(response)
            self._check(response, shown, label)
            return response

        return self._retrying(shown, label, once)

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
        shown = redact_url(url)  # in messages: credentials masked, not dropped
        label = label or shown

        def once() -> T:
            resp = self.sender.get(clean, headers=headers, auth=self._auth(url), stream=True)
            try:
                if resp.status_code in _RETRY_STATUSES:
                    raise _RetryStatus(resp)
                self._check(resp, shown, label)
                return handle(resp)
            finally:
                resp.close()

        return self._retrying(shown, label, once)

    def settle(self, timeout: float) -> bool:
        """Wait up to *timeout* s for no thread of this session to work (the TLS context
        built); whether none does."""
        pending = self._pending
        return pending is None or pending.wait(timeout)

    def forget_connections(self) -> None:  # pragma: no cover (in a forked copy)
        """(In a forked copy of the run.) Its connections are the run's: the next request
        builds a client of its own.  The copied one is kept unclosed, so nothing of the
        run's connections is shut down from here."""
        self._client_lock = threading.Lock()  # another thread may have held it at the fork
        self._forgotten.append((self._client, self._sender, self._pending))
        self._client = self._sender = self._pending = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._pending is not None:
            self._pending.wait()
