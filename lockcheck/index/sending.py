"""``httpx.Client.send`` for lockcheck's GETs, without the client's per-request costs.

A cold compile makes hundreds of requests while the resolver competes for the interpreter
lock, and ``Client.get`` spends more CPU around the transport than the transport spends on
the wire: it parses the URL twice, merges headers, cookies and query parameters into new
models, runs the cookie jar over every response, wraps the body for ``elapsed`` and walks
the event hooks.  :class:`DirectSender` does what ``Client.send`` does for a GET with no
body, no query parameters and no event hooks (the only kind lockcheck sends, through a client
it builds itself), and skips only what such a request provably does not need:

- the same transport for the URL (``Client._transport_for_url``: proxies, trusted hosts);
- the same headers in the same order (the client's, updated by the caller's, ``Host`` first),
  the client's cookies when it holds any, and the client's timeouts;
- the caller's ``auth`` through its own flow (``Authorization`` on the first request only);
- redirects followed by the client's own ``_build_redirect_request`` (method, ``Location``
  resolution, ``Authorization`` dropped across origins, cookies) with its ``max_redirects``;
- ``Set-Cookie`` answers go to the client's cookie jar (the jar is not run over the others:
  with no such header it stores nothing), and the client's ``HTTP Request`` log line is
  written when the ``httpx`` logger would show it;
- not done: ``response.elapsed`` (nothing reads it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from lockcheck.index._httpx import httpx

__all__ = ["DirectSender"]

_httpx_log = logging.getLogger("httpx")


class DirectSender:
    """Sends GETs through the transports of *client*, as its ``send`` would (thread-safe:
    it keeps no per-request state)."""

    def __init__(self, client: httpx.Client) -> None:
        if any(client.event_hooks.values()) or client.params or client.auth is not None:
            raise ValueError("DirectSender sends for a client without hooks, params or auth")
        self._client = client
        self._timeout = client.timeout.as_dict()

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        extensions: Mapping[str, Any] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """``client.send(client.build_request("GET", url, ...), auth=auth, stream=stream)``
        with ``follow_redirects`` as the client has it."""
        client = self._client
        if client.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        merged = client.headers.copy()
        if headers:
            merged.update(headers)
        request = httpx.Request(
            "GET",
            url,
            headers=merged,
            cookies=client.cookies if client.cookies else None,
            extensions={**(extensions or {}), "timeout": self._timeout},
        )
        flow = (auth or httpx.Auth()).sync_auth_flow(request)
        try:
            request = next(flow)
            response = self._follow(request)
        finally:
            flow.close()
        if not stream:
            try:
                response.read()
            except BaseException:
                response.close()
                raise
        return response

    def _follow(self, request: httpx.Request) -> httpx.Response:
        """``Client._send_handling_redirects`` (without event hooks)."""
        client = self._client
        history: list[httpx.Response] = []
        while True:
            if len(history) > client.max_redirects:
                raise httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=request)
            response = self._send_once(request)
            try:
                response.history = list(history)
                if not response.has_redirect_location:
                    return response
                request = client._build_redirect_request(request, response)
                history = [*history, response]
                if not client.follow_redirects:
                    response.next_request = request
                    return response
                response.read()
            except BaseException:
                response.close()
                raise

    def _send_once(self, request: httpx.Request) -> httpx.Response:
        """``Client._send_single_request`` (without ``elapsed``)."""
        client = self._client
        transport = client._transport_for_url(request.url)
        try:
            response = transport.handle_request(request)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        response.request = request
        response_headers = response.headers
        if "set-cookie" in response_headers or "set-cookie2" in response_headers:
            client.cookies.extract_cookies(response)
        if _httpx_log.isEnabledFor(logging.INFO):
            _httpx_log.info(
                'HTTP Request: %s %s "%s %d %s"',
                request.method,
                request.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        return response
