"""Keep-alive HTTP/1.1 connections to the internal services, on asyncio's `Protocol` and httptools' parser.

Why not aiohttp (ADR 0024, amendment "gwraw"): the gateway sends small bodiless-or-small requests to a
handful of cluster addresses and reads small, whole answers; aiohttp's per-request machinery (request and
response objects, trace hooks, the connector's bookkeeping, cookie and redirect handling the gateway turns
off anyway) was ~10 % of the gateway's CPU per proxied read. httptools (llhttp, in C) is already in the
process as uvicorn's parser. What the aiohttp pool guaranteed is kept (its docstring, now in
bench/gateway_overhead/aiohttp_pool.py):

- no cookie jar, no redirects followed, no proxy from the environment, no Content-Type of its own;
- keep-alive shorter than the services' (4 s against uvicorn's 5 s), so a connection the server is about to
  close is not reused; a connection the server closed or that answered `Connection: close` is dropped;
- at most `connections_per_service` connections per service; waiting for one plus connecting is bounded by
  connect + read timeout, the TCP connect by the connect timeout, and every wait for the answer's bytes by
  the read timeout (no total: a slow but moving body is not cut off, a silent service is);
- failures are told apart as the retry policy needs them: `ServiceUnreachableError` (nothing was sent: safe
  to repeat), `ServiceReadTimeoutError` (an answer did not come in time) and `ServiceConnectionBrokenError`
  (the request may have been processed).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

DEFAULT_CONNECTIONS_PER_SERVICE = 64
# Below uvicorn's `timeout_keep_alive` (5 s, servicekit.http.server) so the client lets go first.
KEEPALIVE_SECONDS = 4.0
# Methods whose bodiless requests carry no `Content-Length: 0` (aiohttp's rule, which the services saw).
_BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "CONNECT"})


class ServiceLinkError(Exception):
    """Base of the link's failures."""


class ServiceUnreachableError(ServiceLinkError):
    """No connection within the connect timeout, refused or unresolvable: nothing reached the service."""


class ServiceReadTimeoutError(ServiceLinkError, TimeoutError):
    """The answer's next bytes did not come within the read timeout."""


class ServiceConnectionBrokenError(ServiceLinkError):
    """The connection closed or the answer was malformed: the request may have been processed."""


@dataclass(frozen=True, slots=True)
class RawAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]  # names lower-cased, in the order received
    body: bytes


@dataclass(frozen=True, slots=True)
class ServiceAddress:
    host: str
    port: int
    tls: bool
    host_header: str
    path_prefix: str  # the base URL's path, without its trailing slash ("" for most)


class _Exchange(asyncio.Protocol):
    """One connection; one request at a time. httptools calls the `on_*` methods from `feed_data`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, read_timeout: float) -> None:
        self._loop = loop
        self._read_timeout = read_timeout
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[RawAnswer] | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._head_only = False
        self._until_eof = False
        self._status = 0
        self._last_bytes_at = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without deriving from it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._parser is None:  # bytes nobody asked for: the connection cannot be trusted any more
            self.close()
            return
        self._last_bytes_at = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ServiceConnectionBrokenError(f"malformed answer: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._until_eof and exc is None:  # an answer with neither length nor chunks ends with the stream
            self.reusable = False
            self._finish()
        self._fail(ServiceConnectionBrokenError("the service closed the connection"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        self._status = self._parser.get_status_code()
        self._until_eof = not any(
            name in (b"content-length", b"transfer-encoding") for name, _ in self._headers
        )
        if self._head_only:  # llhttp would wait for the body a HEAD answer announces but never sends
            self.reusable = False
            self._finish()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if not self._head_only:
            assert self._parser is not None
            self.reusable = self._parser.should_keep_alive()
            self._finish()

    # the caller's side
    async def exchange(self, request: bytes, head_only: bool) -> RawAnswer:
        if self.closed or self._transport is None:
            raise ServiceConnectionBrokenError("the service closed the connection")
        self._parser = httptools.HttpResponseParser(self)
        self._headers = []
        self._body = []
        self._head_only = head_only
        self._until_eof = False
        self.reusable = False
        waiter: asyncio.Future[RawAnswer] = self._loop.create_future()
        self._waiter = waiter
        self._last_bytes_at = self._loop.time()
        self._timer = self._loop.call_later(self._read_timeout, self._check_silence)
        self._transport.write(request)
        try:
            return await waiter
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def close(self) -> None:
        self.closed = True
        self.reusable = False
        if self._transport is not None:
            self._transport.close()

    def _check_silence(self) -> None:
        # One timer per exchange, moved on only when it fires: cheaper than re-arming it on every read.
        silent_for = self._loop.time() - self._last_bytes_at
        if silent_for >= self._read_timeout:
            self._fail(ServiceReadTimeoutError(f"no answer within {self._read_timeout} s"))
            self.close()  # a late answer must never be taken for the next request's
        else:
            self._timer = self._loop.call_later(self._read_timeout - silent_for, self._check_silence)

    def _finish(self) -> None:
        waiter, self._waiter, self._parser = self._waiter, None, None
        if waiter is not None and not waiter.done():
            waiter.set_result(RawAnswer(self._status, self._headers, b"".join(self._body)))

    def _fail(self, error: Exception) -> None:
        waiter, self._waiter, self._parser = self._waiter, None, None
        self.reusable = False
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)


class ServiceLinks:
    """Per service, a pool of keep-alive connections; must be used inside one running event loop."""

    def __init__(
        self,
        *,
        connect_timeout_seconds: float,
        read_timeout_seconds: float,
        connections_per_service: int = DEFAULT_CONNECTIONS_PER_SERVICE,
    ) -> None:
        self._connect_timeout = connect_timeout_seconds
        self._acquire_timeout = connect_timeout_seconds + read_timeout_seconds
        self._read_timeout = read_timeout_seconds
        self._limit = connections_per_service
        self._pools: dict[tuple[str, int, bool], _Pool] = {}
        self._tls: ssl.SSLContext | None = None

    async def exchange(
        self,
        address: ServiceAddress,
        method: str,
        target: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | None,
    ) -> RawAnswer:
        request = _encode_request(address, method, target, headers, body)
        pool = self._pools.get((address.host, address.port, address.tls))
        if pool is None:
            pool = self._pools[(address.host, address.port, address.tls)] = _Pool(self._limit)
        connection = await self._checkout(pool, address)
        try:
            answer = await connection.exchange(request, method == "HEAD")
        except BaseException:
            connection.close()
            pool.release(connection, reuse=False)
            raise
        pool.release(connection, reuse=connection.reusable)
        return answer

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close_idle()

    async def _checkout(self, pool: _Pool, address: ServiceAddress) -> _Exchange:
        loop = asyncio.get_running_loop()
        connection = pool.take_idle(loop.time())
        if connection is not None:
            return connection
        try:
            async with asyncio.timeout(self._acquire_timeout):
                await pool.reserve()
        except TimeoutError as error:
            raise ServiceUnreachableError("no free connection within the connect timeout") from error
        connection = pool.take_idle(loop.time())  # one may have come back while we waited
        if connection is not None:
            pool.unreserve()
            return connection
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, protocol = await loop.create_connection(
                    lambda: _Exchange(loop, self._read_timeout),
                    address.host,
                    address.port,
                    ssl=self._tls_context() if address.tls else None,
                )
        except (OSError, TimeoutError) as error:
            pool.unreserve()
            raise ServiceUnreachableError(
                f"cannot connect to {address.host}:{address.port}: {error!r}"
            ) from error
        except BaseException:
            pool.unreserve()
            raise
        return protocol

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls


class _Pool:
    """Idle connections (most recently used last) and a count of connections open or being opened."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._open = 0
        self._idle: deque[_Exchange] = deque()
        self._waiters: deque[asyncio.Future[None]] = deque()

    def take_idle(self, now: float) -> _Exchange | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < KEEPALIVE_SECONDS:
                return connection
            connection.close()
            self._open -= 1
            self._wake_one()
        return None

    async def reserve(self) -> None:
        # Leaves with a place counted; if a connection came back meanwhile, the caller takes it instead and
        # gives the place back (`unreserve`).
        while self._open >= self._limit and not self._idle:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # woken, then cancelled: the wake-up goes to the next in line
                elif waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise
        self._open += 1

    def unreserve(self) -> None:
        self._open -= 1
        self._wake_one()

    def release(self, connection: _Exchange, *, reuse: bool) -> None:
        if reuse and not connection.closed:
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.append(connection)
        else:
            connection.close()
            self._open -= 1
        self._wake_one()

    def close_idle(self) -> None:
        while self._idle:
            self._idle.pop().close()
            self._open -= 1

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


def service_address(base_url: str) -> ServiceAddress:
    """`http://auth:8000` → where to connect and the `Host` header to send."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) service URL: {base_url!r}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    default_port = port == (443 if tls else 80)
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if default_port else f"{shown}:{port}"
    return ServiceAddress(host, port, tls, host_header, parts.path.rstrip("/"))


def _encode_request(
    address: ServiceAddress, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes | None
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: " + address.host_header]
    lines += [f"{name}: {value}" for name, value in headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    elif method not in _BODILESS_METHODS:
        lines.append("Content-Length: 0")
    head = "\r\n".join(lines)
    # A CR or LF inside a name, value or target would split the request (aiohttp refused them too).
    if head.count("\n") != len(lines) - 1 or head.count("\r") != len(lines) - 1:
        raise ValueError("a header or the request target contains a line break")
    return (head + "\r\n\r\n").encode("latin-1") + (body or b"")
