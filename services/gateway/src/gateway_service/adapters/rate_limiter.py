"""Redis rate limiter built on the ``limits`` library (async Redis storage through redis-py).

Choice (see the service README): ``limits`` is maintained, ships atomic Lua scripts for its windows and lets
us share the gateway's redis.asyncio connection pool, so no hand-written limiter script is needed. Exact
rules use its moving window; high-volume request budgets use the O(1) sliding-window counter.
"""

from __future__ import annotations

import math
import time
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter, RateLimiter, SlidingWindowCounterRateLimiter
from redis.asyncio import Redis

from gateway_service.domain.rate_limits import RateDecision, RateRule

KEY_PREFIX = "gw:limits"
ATTEMPTS_PREFIX = "gw:attempts"

# Count-then-check in one step: INCR is atomic, so of N parallel callers exactly `limit` are admitted. A
# refused attempt is taken back at once (it never reaches auth). Fixed window from the first attempt.
_ACQUIRE = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if count > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return redis.call('TTL', KEYS[1])
end
return -1
"""
_REFUND = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 1
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis, redis_url: str) -> None:
        # limits wants a URI to pick the driver; the shared pool is what is actually used for connections.
        pool_option: dict[str, Any] = {"connection_pool": redis.connection_pool}
        storage = RedisStorage(
            f"async+{redis_url}", implementation="redispy", key_prefix=KEY_PREFIX, **pool_option
        )
        self._exact = MovingWindowRateLimiter(storage)
        self._approximate = SlidingWindowCounterRateLimiter(storage)
        self._acquire = redis.register_script(_ACQUIRE)
        self._refund = redis.register_script(_REFUND)

    async def hit(self, rule: RateRule, key: str) -> RateDecision:
        strategy, item = self._strategy(rule), _item(rule)
        if await strategy.hit(item, key):
            return RateDecision(allowed=True, retry_after_seconds=0)
        return await self._refusal(strategy, item, key)

    async def acquire(self, rule: RateRule, key: str) -> RateDecision:
        ttl = int(
            await self._acquire(keys=[_attempts_key(rule, key)], args=[rule.limit, rule.window_seconds])
        )
        if ttl < 0:
            return RateDecision(allowed=True, retry_after_seconds=0)
        return RateDecision(allowed=False, retry_after_seconds=max(1, ttl))

    async def refund(self, rule: RateRule, key: str) -> None:
        await self._refund(keys=[_attempts_key(rule, key)], args=[])

    def _strategy(self, rule: RateRule) -> RateLimiter:
        return self._exact if rule.exact else self._approximate

    @staticmethod
    async def _refusal(strategy: RateLimiter, item: RateLimitItem, key: str) -> RateDecision:
        stats = await strategy.get_window_stats(item, key)
        return RateDecision(
            allowed=False, retry_after_seconds=max(1, math.ceil(stats.reset_time - time.time()))
        )


def _attempts_key(rule: RateRule, key: str) -> str:
    return f"{ATTEMPTS_PREFIX}:{rule.name}:{key}"


def _item(rule: RateRule) -> RateLimitItem:
    return RateLimitItemPerSecond(rule.limit, rule.window_seconds, namespace=rule.name)
