"""python-socketio's Redis manager, made to survive a Redis restart without losing pushes silently.

The stock `AsyncRedisManager` has two behaviours that break "Redis restarted -> realtime resumes":

- `_publish` logs and *returns* when Redis is unreachable, so the bus consumer acked an event whose push never
  left this replica. Here a failed publish raises `RealtimeUnavailable`: the consumer gives the event back
  and it is pushed again once Redis answers (at least once; clients dedupe by message id).
- The subscriber reconnects with a backoff that doubles up to 60 s, and Redis pub/sub keeps nothing for a
  subscriber that is away: pushes published while this replica was not subscribed never reach its sockets.
  Here the retry is short and capped, and every re-subscription after a failure calls `on_resubscribed`,
  which tells this replica's sockets to fetch what they may have missed (`realtime.resync`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import socketio
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.25
RETRY_CAP_SECONDS = 2.0
REDIS_TIMEOUT_SECONDS = 2.0


def reconnecting() -> dict[str, Any]:
    """Client options so a pooled connection that died with a Redis restart is retried on a new one.

    Without them each dead connection in the pool fails one command after Redis is back (redis-py's async
    client does not retry by default): requests answered 503 for no reason once the outage is over.
    """
    return {
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
    }


class RealtimeUnavailable(ConnectionError):  # noqa: N818 - reads as what happened
    """The push could not be handed to Redis (down or restarting); the caller retries later."""


class ResilientRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    def __init__(
        self,
        url: str,
        *,
        channel: str,
        on_resubscribed: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(
            url,
            channel=channel,
            redis_options={
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "health_check_interval": 10,
            },
        )
        self.on_resubscribed = on_resubscribed
        # Publishing has its own client: the stock manager rebuilt the shared one (and the subscriber's
        # pubsub with it) whenever a publish failed.
        self._publisher: Redis = Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            **reconnecting(),
        )
        self.subscribed = False

    async def _publish(self, data: Any) -> None:
        # redis-py retries a dropped connection once on its own; anything left is an outage.
        try:
            await self._publisher.publish(self.channel, self.json.dumps(data))
        except Exception as error:  # RedisError, OSError, timeouts: all "Redis is not there"
            raise RealtimeUnavailable(f"could not publish a push to Redis: {error!r}") from error

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:  # pragma: no cover - via the e2e
        delay = RETRY_FIRST_SECONDS
        failed = False
        while True:
            try:
                self._redis_connect()
                await self.pubsub.subscribe(self.channel)
                self.subscribed = True
                delay = RETRY_FIRST_SECONDS
                if failed and self.on_resubscribed is not None:
                    await self._notify_resubscribed()
                async for message in self.pubsub.listen():
                    yield message
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.subscribed = False
                failed = True
                logger.warning("realtime subscriber lost Redis (%r); retrying in %.2fs", error, delay)
                await self._close_quietly()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_CAP_SECONDS)

    async def _notify_resubscribed(self) -> None:
        assert self.on_resubscribed is not None
        try:
            await self.on_resubscribed()
        except Exception as error:  # a resync hint failing must not stop the subscriber
            logger.warning("realtime resync after re-subscribing failed: %r", error)

    async def _close_quietly(self) -> None:
        for closing in (getattr(self.pubsub, "aclose", None), getattr(self.redis, "aclose", None)):
            if closing is None:
                continue
            # The connection is already broken; closing is only to free it.
            with contextlib.suppress(Exception):
                await closing()

    async def close(self) -> None:
        await self._publisher.aclose()
