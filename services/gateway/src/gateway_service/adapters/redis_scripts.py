"""EVALSHA of the edge's scripts without redis-py's pipeline machinery (ADR 0024, amendment "admit2").

Every request the gateway admits makes one script call (adapters/rate_limiter.py). Through redis-py's
pipeline each batch of those calls built a `Pipeline`, checked a connection out of the pool and back
(redis-py 8 records pool and operation metrics around both), packed every argument through its encoder and
ran every reply through its response callbacks: the largest Redis share of the gateway's CPU per read.
`ScriptCaller` keeps what that path guaranteed and drops the rest:

- **Connections**: redis-py's own `Connection`s, checked out of the client's pool once and kept (so the
  URL's TLS, ACL user and password, database, timeouts and redis-py's retry policy are the client's, and
  `Redis.aclose()` at shutdown closes them with the pool's others). A connection that failed is
  disconnected by redis-py and connects again on its next use, as a pooled one does.
- **Retries**: the connection's `Retry` (`reconnecting()`: connection errors and timeouts, a short backoff),
  disconnecting between attempts, exactly as redis-py's pipeline does it: a connection that died with a
  Redis restart is retried on a new one instead of failing a request after the outage is over.
- **Encoding**: the command's fixed part (``EVALSHA``, the SHA, the number of keys) is encoded once per
  script; per call only the keys and arguments are, and the arguments (each rule's limit, expiry, amount:
  the same few tuples again and again) are remembered once encoded.
- **Replies**: read with redis-py's parser (hiredis when installed) through `Connection.read_response`,
  which keeps the socket timeout and disconnects on a broken or timed-out read; an error reply is kept as
  that call's answer so the connection stays in step with the replies still to come.
- **NOSCRIPT** (Redis restarted or ``SCRIPT FLUSH``): the script is loaded and only the calls Redis
  refused are sent again (a call Redis ran is never run twice).

Any other failure reaches every caller of the batch (the admission then fails closed: 503, ADR 0022).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.exceptions import NoScriptError, ResponseError

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

    At most as many connections as batches are in flight at once (the callers' `PipelineBatcher`s bound
    that); each is used by one batch at a time.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._idle: list[Connection] = []

    async def evalsha_many(self, script: LuaScript, calls: Sequence[ScriptCall]) -> list[object]:
        commands = [script.command(keys, arguments) for keys, arguments in calls]
        answers = await self._exchange(commands)
        refused = [index for index, answer in enumerate(answers) if isinstance(answer, NoScriptError)]
        if refused:
            # Redis forgot the script (a restart, SCRIPT FLUSH): load it, send again only what it refused.
            await self._redis.script_load(script.text)
            again = await self._exchange([commands[index] for index in refused])
            for index, answer in zip(refused, again, strict=True):
                answers[index] = answer
        for answer in answers:
            if isinstance(answer, ResponseError):
                raise answer  # as a pipeline raises its first error reply: every caller of the batch fails
        return answers

    async def _exchange(self, commands: list[bytes]) -> list[object]:
        connection = self._idle.pop() if self._idle else await self._checkout()
        try:
            return cast(
                "list[object]",
                await connection.retry.call_with_retry(
                    lambda: _send_and_read(connection, commands),
                    lambda _error: connection.disconnect(),
                ),
            )
        except BaseException:
            # Whatever was cut short (a cancellation between reads), the replies still due would be read as
            # the next batch's: that connection starts again from a new socket.
            await connection.disconnect(nowait=True)
            raise
        finally:
            self._idle.append(connection)

    async def _checkout(self) -> Connection:
        # Kept for good, never released: the pool's disconnect (Redis.aclose) still closes in-use connections.
        return cast("Connection", await self._redis.connection_pool.get_connection())  # type: ignore[no-untyped-call]


async def _send_and_read(connection: Connection, commands: list[bytes]) -> list[object]:
    await connection.send_packed_command(b"".join(commands))
    answers: list[object] = []
    for _ in commands:
        try:
            answers.append(await connection.read_response())
        except ResponseError as error:  # an error *reply*: the connection is in step, read the rest
            answers.append(error)
    return answers
