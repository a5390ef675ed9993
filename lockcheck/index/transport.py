"""A lean HTTP/1.1 transport for httpx, on the standard library's ``http.client``.

httpx's default transport (httpcore + h11, pure Python) costs about 0.45 ms of CPU per
request on this kind of machine, several times what ``http.client`` needs; a cold compile
makes hundreds of requests (an index page and one or two Range reads per project) while the
resolver competes for the same interpreter lock, and the import of httpcore and h11 is a
tenth of lockcheck's start-up.  This transport keeps httpx's client (auth, redirects,
timeouts, decoding, the API the rest of lockcheck uses) and replaces only the wire layer for
direct connections; proxied URLs keep httpx's own transports (the client mounts them from the
environment).

Connections are pooled per (scheme, host, port), reused while the server keeps them alive,
and a request that finds a pooled connection closed by the server is retried once on a new
one (only for methods that are safe to repeat).

``http.client`` reads every header block through the email package's parser, a tenth of a
request's CPU; :class:`_Response` reads plain ``name: value`` lines itself, into the same
``HTTPMessage``, and leaves anything else (folded lines, unusual characters) to that parser.
"""

from __future__ import annotations

import email.parser
import http.client
import re
import select
import socket
import ssl
import threading
import types
from collections.abc import Callable, Iterator
from typing import BinaryIO

from lockcheck.index._httpx import httpx

__all__ = ["WHOLE_BODY", "StdlibTransport"]

_CHUNK = 64 * 1024
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_Key = tuple[str, str, int]
#: Request extension: the caller reads the whole body anyway, so read it in one piece (one
#: buffer the size of the body, instead of 64 KiB pieces joined into a copy: a page of
#: several MB then peaks at its size, not twice it).
WHOLE_BODY = "lockcheck.whole_body"


#: A pooled connection that turns out to be closed by the server: retried on a new one.
_STALE = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
)


#: A header line the email parser reads as exactly (name, value stripped of leading blanks):
#: a token, a colon, then tabs and printable ASCII only (no folding, nothing it would take
#: for a line break).
_PLAIN_HEADER = re.compile(rb"([!-9;-~]+):[ \t]*([\t -~]*)\r?\n")


def parse_headers(fp: BinaryIO) -> http.client.HTTPMessage:
    """``http.client.parse_headers``, with plain header lines read without the email parser."""
    lines = http.client._read_headers(fp)  # type: ignore[attr-defined]  # its limits, too
    message = http.client.HTTPMessage()
    for line in lines[:-1]:  # the last one ends the block
        match = _PLAIN_HEADER.fullmatch(line)
        if match is None:
            text = b"".join(lines).decode("iso-8859-1")
            return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(text)
        name, value = match.groups()
        message.set_raw(name.decode("ascii"), value.decode("ascii"))
    return message


class _Response(http.client.HTTPResponse):
    """``http.client.HTTPResponse`` whose ``begin`` (the running Python's own code: status
    line, framing, keep-alive) reads the header block with :func:`parse_headers`."""

    begin = types.FunctionType(
        http.client.HTTPResponse.begin.__code__,
        {**vars(http.client), "parse_headers": parse_headers},
        "begin",
    )


def _readable(sock: socket.socket) -> bool:
    """Whether an idle socket has something to read (data, or the peer's close)."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        ready, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(ready)


def _timeouts(request: httpx.Request) -> tuple[float | None, float | None]:
    """(connect, read) seconds from httpx's per-request timeout extension."""
    timeout = request.extensions.get("timeout") or {}
    return timeout.get("connect"), timeout.get("read")


class _Body(httpx.SyncByteStream):
    """A response body read from the socket on demand; the connection goes back to the
    pool once the body has been read to its end, and is closed otherwise."""

    def __init__(
        self,
        transport: StdlibTransport,
        key: _Key,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        request: httpx.Request,
    ) -> None:
        self._transport = transport
        self._key = key
        self._connection = connection
        self._response = response
        self._request = request
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            if self._request.extensions.get(WHOLE_BODY):
                whole = self._response.read()
                if whole:
                    yield whole
            while True:
                chunk = self._response.read(_CHUNK)
                if not chunk:
                    break
                yield chunk
        except http.client.IncompleteRead as exc:
            self._discard()
            raise httpx.RemoteProtocolError(
                f"incomplete body: {exc}", request=self._request
            ) from exc
        except TimeoutError as exc:
            self._discard()
            raise httpx.ReadTimeout(str(exc) or "timed out", request=self._request) from exc
        except (OSError, http.client.HTTPException) as exc:
            self._discard()
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=self._request) from exc
        missing = self._response.length
        if missing:  # http.client's read(n) returns short at EOF instead of raising
            self._discard()
            raise httpx.RemoteProtocolError(
                f"incomplete body: the server closed the connection {missing} bytes early",
                request=self._request,
            )
        self._finish()

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        reusable = self._response.isclosed() and not self._response.will_close
        if reusable:
            self._transport._release(self._key, self._connection)
        else:
            self._connection.close()

    def _discard(self) -> None:
        if not self._done:
            self._done = True
            self._connection.close()

    def close(self) -> None:
        if self._response.isclosed():
            self._finish()
        else:
            self._discard()


class StdlibTransport(httpx.BaseTransport):
    """httpx transport over ``http.client`` (HTTP/1.1, keep-alive, thread-safe pool)."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext | Callable[[], ssl.SSLContext],
        *,
        max_idle_per_host: int = 16,
    ) -> None:
        """*ssl_context* may be a callable returning it: the context may still be loading
        its CAs when the first requests are made, and only TLS connections wait for it."""
        self._ssl_context = (
            ssl_context if callable(ssl_context) else (lambda: ssl_context)  # type: ignore[misc]
        )
        self._max_idle = max_idle_per_host
        self._idle: dict[_Key, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- pool ------------------------------------------------------------------------------

    def _acquire(self, key: _Key) -> http.client.HTTPConnection | None:
        """An idle connection the server has not written to or closed since (a readable
        idle socket holds an unsolicited answer such as ``408``, or the end of the stream)."""
        while True:
            with self._lock:
                idle = self._idle.get(key)
                connection = idle.pop() if idle else None
            if connection is None:
                return None
            sock = connection.sock
            if sock is not None and not _readable(sock):
                return connection
            connection.close()

    def _release(self, key: _Key, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if not self._closed and len(idle) < self._max_idle:
                idle.append(connection)
                return
        connection.close()

    def _connect(self, key: _Key, connect_timeout: float | None) -> http.client.HTTPConnection:
        scheme, host, port = key
        connection = (
            http.client.HTTPSConnection(
                host, port, timeout=connect_timeout, context=self._ssl_context()
            )
            if scheme == "https"
            else http.client.HTTPConnection(host, port, timeout=connect_timeout)
        )
        connection.response_class = _Response
        return connection

    # -- requests --------------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}", request=request)
        # raw_host: the IDNA (ASCII) form, as DNS, SNI and the Host header want it.
        key = (scheme, url.raw_host.decode("ascii"), url.port or _DEFAULT_PORTS[scheme])
        connect_timeout, read_timeout = _timeouts(request)
        body = request.read() or None
        target = url.raw_path.decode("ascii")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        # A pooled connection may have been closed by the server since its last use: then
        # try again once on a new connection (safe for idempotent methods only).
        pooled = self._acquire(key)
        for connection in (pooled, None) if pooled is not None else (None,):
            fresh = connection is None
            if connection is None:
                connection = self._connect(key, connect_timeout)
            try:
                response = self._send(connection, request, target, headers, body, read_timeout)
            except _STALE as exc:
                connection.close()
                if not fresh and request.method in _IDEMPOTENT:
                    continue
                raise httpx.RemoteProtocolError(
                    f"server closed the connection without answering ({exc})", request=request
                ) from exc
            except BaseException:
                connection.close()
                raise
            return httpx.Response(
                status_code=response.status,
                headers=[
                    (k.encode("latin-1"), v.encode("latin-1")) for k, v in response.getheaders()
                ],
                stream=_Body(self, key, connection, response, request),
                extensions={
                    "http_version": b"HTTP/1.1" if response.version == 11 else b"HTTP/1.0",
                    "reason_phrase": response.reason.encode("latin-1", "replace"),
                },
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        connection: http.client.HTTPConnection,
        request: httpx.Request,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        read_timeout: float | None,
    ) -> http.client.HTTPResponse:
        try:
            if connection.sock is None:
                connection.connect()
            connection.sock.settimeout(read_timeout)  # type: ignore[union-attr]
            connection.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body)
            return connection.getresponse()
        except _STALE:
            raise
        except TimeoutError as exc:
            if connection.sock is None:
                raise httpx.ConnectTimeout(str(exc) or "timed out", request=request) from exc
            raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
        except ssl.SSLError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except (OSError, socket.gaierror) as exc:
            if connection.sock is None:
                raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        except http.client.HTTPException as exc:
            raise httpx.RemoteProtocolError(
                str(exc) or type(exc).__name__, request=request
            ) from exc

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()
