"""EVALSHA of the edge's scripts without redis-py's pipeline machinery (ADR 0024, amendment "admit2").

Every request the gateway admits makes one script call (adapters/rate_limiter.py). Through redis-py's
pipeline each batch of those calls built a `Pipeline`, checked a connection out of the pool and back
(redis-py 8 records pool and operation metrics around both), packed every argument through its encoder and
read every reply through a timeout context and response callbacks: ~150 to 230 µs of CPU per lone admission,
against ~7 µs for a bare asyncio round trip (docs/benchmarks.md, session of 21:40). `ScriptCaller` keeps
what that path guaranteed and drops the rest:

- **One connection of its own**, an asyncio `Protocol` (`_RedisLink`): commands are written as they come,
  hiredis parses the replies, and each batch gets the next replies due (Redis answers in order), so batches
  may overlap. Its settings are redis-py's own, read from a never-connected `Connection` of the client's
  pool class: host and port or socket path, the `rediss://` TLS context, ACL user and password (or the
  credential provider), database, connect and read timeouts. Closed by the lifespan.
- **Timeouts**: a batch not answered within the socket timeout fails with redis-py's `TimeoutError`, and
  its connection is closed so a late reply is never taken for a later call.
- **Retries**: the client's `Retry` (`reconnecting()`: connection errors and timeouts, a short backoff), as
  redis-py's pipeline applies it; one reconnection serves every waiting batch, so a connection that died
  with a Redis restart is replaced instead of failing requests after the outage is over.
- **Encoding**: the command's fixed part (``EVALSHA``, the SHA, the number of keys) is encoded once per
  script; per call only the keys and arguments are, and the arguments (each rule's limit, expiry, amount:
  the same few tuples again and again) are remembered once encoded. The bytes are redis-py's.
- **Error replies** are kept as that call's answer (the connection stays in step). **NOSCRIPT** (Redis
  restarted or ``SCRIPT FLUSH``): the script is loaded and only the calls Redis refused are sent again (a
  call Redis ran is never run twice).

Any other failure is a `redis.exceptions.RedisError` for every caller of the batch: the admission fails
closed (503, ADR 0022).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.credentials import UsernamePasswordCredentialProvider
from redis.exceptions import AuthenticationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Keys and arguments of one script call.
ScriptArgument = str | int
ScriptCall = tuple[tuple[str, ...], tuple[ScriptArgument, ...]]
_ENCODED_ARGUMENTS_KEPT = 256


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _encode(value: ScriptArgument) -> bytes:
    # redis-py's encoder spells ints as their decimal digits and str as UTF-8 (strict): the same bytes.
    if isinstance(value, int):
        return _bulk(b"%d" % value)
    return _bulk(value.encode())


class LuaScript:
    """A script's text, its SHA1 and the encoded head of its ``EVALSHA`` for each shape of call."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
        self._heads: dict[tuple[int, int], bytes] = {}
        self._arguments: dict[tuple[ScriptArgument, ...], bytes] = {}

    def command(self, keys: Sequence[str], arguments: tuple[ScriptArgument, ...]) -> bytes:
        """``EVALSHA sha numkeys key... arg...`` as RESP bytes."""
        shape = (len(keys), len(arguments))
        head = self._heads.get(shape)
        if head is None:
            head = b"*%d\r\n" % (3 + shape[0] + shape[1]) + b"".join(
                _bulk(part) for part in (b"EVALSHA", self.sha.encode(), b"%d" % shape[0])
            )
            self._heads[shape] = head
        encoded_arguments = self._arguments.get(arguments)
        if encoded_arguments is None:
            encoded_arguments = b"".join(_encode(argument) for argument in arguments)
            if len(self._arguments) < _ENCODED_ARGUMENTS_KEPT:
                self._arguments[arguments] = encoded_arguments
        return head + b"".join(_bulk(key.encode()) for key in keys) + encoded_arguments


class ScriptCaller:
    """``await caller.evalsha_many(script, calls)`` -> one answer per call, in order, one round trip.

    One connection of its own (`_RedisLink`), on which batches may overlap: Redis answers in order, so each
    batch's replies are the next ones due. Connected on first use, again after a failure.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        # Never connected itself: the source of the client's settings (address or socket path, TLS
        # context, credentials, database, timeouts, retry policy), so they cannot drift from redis-py's.
        pool = redis.connection_pool
        self._settings: AbstractConnection = pool.connection_class(**pool.connection_kwargs)
        self._link: _RedisLink | None = None
        self._connecting: asyncio.Future[_RedisLink] | None = None
        self._closed = False

    async def evalsha_many(self, script: LuaScript, calls: Sequence[ScriptCall]) -> list[object]:
        commands = [script.command(keys, arguments) for keys, arguments in calls]
        answers = await self._exchange_with_retries(commands)
        refused = [index for index, answer in enumerate(answers) if _is_noscript(answer)]
        if refused:
            # Redis forgot the script (a restart, SCRIPT FLUSH): load it, send again only what it refused.
            await self._redis.script_load(script.text)
            again = await self._exchange_with_retries([commands[index] for index in refused])
            for index, answer in zip(refused, again, strict=True):
                answers[index] = answer
        for answer in answers:
            if isinstance(answer, ResponseError):
                raise answer  # as a pipeline raises its first error reply: every caller of the batch fails
        return answers

    async def _exchange_with_retries(self, commands: list[bytes]) -> list[object]:
        # The client's retry policy (`reconnecting()`: connection errors and timeouts, short backoff), as
        # redis-py's pipeline applies it: a connection that died with a Redis restart is retried on a new one.
        return cast(
            "list[object]",
            await self._settings.retry.call_with_retry(
                lambda: self._exchange(commands), lambda _error: self._drop()
            ),
        )

    async def _exchange(self, commands: list[bytes]) -> list[object]:
        link = self._link if self._link is not None and self._link.usable else await self._connect()
        return await link.exchange(b"".join(commands), len(commands), self._settings.socket_timeout)

    async def _drop(self) -> None:
        # Every retryable failure has closed its link already (lost, timed out, never connected); a link
        # that is still usable is one another batch has just opened, which this failure says nothing about.
        if self._link is not None and not self._link.usable:
            self._link = None

    async def _connect(self) -> _RedisLink:
        if self._closed:
            raise RedisConnectionError("the script caller is closed")
        if self._connecting is None:  # one connection attempt, however many batches are waiting for it
            self._connecting = asyncio.ensure_future(self._open())
        connecting = self._connecting
        try:
            link = await asyncio.shield(connecting)
        finally:
            if self._connecting is connecting and connecting.done():
                self._connecting = None
        self._link = link
        return link

    async def _open(self) -> _RedisLink:
        settings = self._settings
        loop = asyncio.get_running_loop()
        # redis-py's own address of the connection: host and port (with its TLS context), or a socket path.
        address: dict[str, Any] = dict(settings._connection_arguments())  # type: ignore[attr-defined]
        try:
            async with asyncio.timeout(settings.socket_connect_timeout):
                if "path" in address:
                    _, link = await loop.create_unix_connection(_RedisLink, address["path"])
                else:
                    _, link = await loop.create_connection(
                        _RedisLink, address["host"], address["port"], ssl=address.get("ssl")
                    )
                await self._handshake(link)
        except TimeoutError as error:
            raise RedisTimeoutError("Timeout connecting to Redis") from error
        except OSError as error:
            raise RedisConnectionError(f"Error connecting to Redis: {error}") from error
        return link

    async def _handshake(self, link: _RedisLink) -> None:
        # What redis-py's `on_connect` sends on a RESP2 connection: AUTH with the URL's user and password
        # (or the credential provider's), then SELECT of the URL's database.
        settings = self._settings
        commands: list[bytes] = []
        if settings.credential_provider is not None or settings.username or settings.password:
            provider = settings.credential_provider or UsernamePasswordCredentialProvider(
                settings.username, settings.password
            )
            commands.append(_array("AUTH", *await provider.get_credentials_async()))
        if settings.db:
            commands.append(_array("SELECT", settings.db))
        if not commands:
            return
        try:
            answers = await link.exchange(b"".join(commands), len(commands), settings.socket_connect_timeout)
        except BaseException:
            link.close()
            raise
        for answer in answers:
            if isinstance(answer, ResponseError):
                link.close()
                if "WRONGPASS" in str(answer) or "NOAUTH" in str(answer):
                    raise AuthenticationError(str(answer))
                raise answer

    async def aclose(self) -> None:
        """Close the connection at shutdown (the client's pool does not know it)."""
        self._closed = True
        if self._link is not None:
            self._link.close()
            self._link = None


def _array(*parts: str | int | bytes) -> bytes:
    encoded = [_bulk(part) if isinstance(part, bytes) else _encode(part) for part in parts]
    return b"*%d\r\n" % len(encoded) + b"".join(encoded)


def _is_noscript(answer: object) -> bool:
    return isinstance(answer, ResponseError) and str(answer).startswith("NOSCRIPT")


class _RedisLink(asyncio.Protocol):
    """One Redis connection: requests are written as they come, replies parsed by hiredis and handed to
    their callers in order (Redis answers a connection's commands in the order it received them)."""

    def __init__(self) -> None:
        # Error replies become ResponseError values (not raised): one caller's error leaves the rest in step.
        self._reader = hiredis.Reader(replyError=ResponseError)
        self._waiting: deque[asyncio.Future[object]] = deque()
        self._transport: asyncio.Transport | None = None
        self._lost = False

    @property
    def usable(self) -> bool:
        return not self._lost and self._transport is not None and not self._transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        try:
            while self._waiting:
                reply = self._reader.gets()
                if reply is False:
                    return
                waiter = self._waiting.popleft()
                if not waiter.done():  # a caller gone (cancelled) still consumes its reply: in step
                    waiter.set_result(reply)
        except hiredis.ProtocolError as error:
            self._fail(RedisConnectionError(f"Protocol error from Redis: {error}"))
            return
        if self._reader.gets() is not False:  # a reply nobody asked for: this connection is out of step
            self._fail(RedisConnectionError("Redis sent a reply nobody was waiting for"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._fail_waiting(RedisConnectionError("Connection closed by Redis"))

    def close(self) -> None:
        self._fail(RedisConnectionError("Connection closed"))

    def _time_out(self) -> None:
        self._fail(RedisTimeoutError("Timeout reading from Redis"))

    def _fail(self, error: Exception) -> None:
        self._lost = True
        self._fail_waiting(error)
        if self._transport is not None:
            self._transport.close()

    def _fail_waiting(self, error: Exception) -> None:
        waiting, self._waiting = self._waiting, deque()
        for waiter in waiting:
            if not waiter.done():
                waiter.set_exception(error)
                waiter.exception()  # retrieved: a caller that stopped waiting leaves no warning behind

    async def exchange(self, data: bytes, replies: int, within: float | None) -> list[object]:
        """Write ``data`` (``replies`` commands) and wait for their replies, at most ``within`` seconds."""
        if not self.usable or self._transport is None:
            raise RedisConnectionError("Connection to Redis lost")
        loop = asyncio.get_running_loop()
        waiters = [loop.create_future() for _ in range(replies)]
        self._waiting.extend(waiters)
        self._transport.write(data)
        # A timer rather than a timeout context per batch: the common case costs one call_later and cancel.
        timer = loop.call_later(within, self._time_out) if within else None
        try:
            await waiters[-1]  # replies come in order: when the last is here, so are the others
        except asyncio.CancelledError:
            # Cut short: the replies still due would be read as the next batch's, so the connection goes.
            self._fail(RedisConnectionError("Connection abandoned mid-exchange"))
            raise
        finally:
            if timer is not None:
                timer.cancel()
        return [waiter.result() for waiter in waiters]
