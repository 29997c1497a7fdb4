"""Redis rate limiter built on the ``limits`` library (async Redis storage through redis-py).

Choice (see the service README): ``limits`` is maintained, ships atomic Lua scripts for its windows and lets
us share the gateway's redis.asyncio connection pool, so no hand-written limiter script is needed. Exact
rules use its moving window; high-volume request budgets use the O(1) sliding-window counter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter, RateLimiter, SlidingWindowCounterRateLimiter
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from gateway_service.adapters.redis_batching import PipelineBatcher
from gateway_service.domain.rate_limits import RateDecision, RateRule

KEY_PREFIX = "gw:limits"
# limits' sliding-window script arguments: previous window key, current window key, limit, expiry, amount.
_WindowArguments = tuple[str, str, int, int, int]
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
        self._redis = redis
        self._storage = storage
        self._exact = MovingWindowRateLimiter(storage)
        self._approximate = SlidingWindowCounterRateLimiter(storage)
        self._acquire = redis.register_script(_ACQUIRE)
        self._refund = redis.register_script(_REFUND)
        # limits' own sliding-window script, run on our pipeline by `hit_many` (same keys, same counters).
        self._sliding_window = redis.register_script(_sliding_window_script(storage))
        # Concurrent requests' counts share pipelines (adapters/redis_batching.py).
        self._windows: PipelineBatcher[_WindowArguments] = PipelineBatcher(self._run_sliding_windows)

    async def hit(self, rule: RateRule, key: str) -> RateDecision:
        if not rule.exact:  # the same script and keys limits' strategy uses, on a shared pipeline
            return (await self.hit_many([(rule, key)]))[0]
        strategy, item = self._strategy(rule), _item(rule)
        if await strategy.hit(item, key):
            return RateDecision(allowed=True, retry_after_seconds=0)
        return await self._refusal(strategy, item, key)

    async def hit_many(self, hits: Sequence[tuple[RateRule, str]]) -> list[RateDecision]:
        """Count several approximate budgets in one Redis round trip (a pipeline of limits' script).

        Every request on a session counts against the per-IP and the per-account budget: one round trip
        for both, and that pipeline is shared with the other requests counting at the same moment
        (`PipelineBatcher`). The keys and the script are limits' own, so limits' strategies and `hit_many`
        share their counters (tests/integration/test_redis_adapters.py pins that).
        """
        if any(rule.exact for rule, _ in hits):
            return [await self.hit(rule, key) for rule, key in hits]
        arguments: list[_WindowArguments] = []
        for rule, key in hits:
            item = _item(rule)
            window_key = item.key_for(key)
            previous = self._storage.bridge.prefixed_key(self._storage._previous_window_key(window_key))
            current = self._storage.bridge.prefixed_key(self._storage._current_window_key(window_key))
            arguments.append((previous, current, item.amount, item.get_expiry(), 1))
        acquired = await self._windows.submit(arguments)
        decisions = []
        for (rule, key), allowed in zip(hits, acquired, strict=True):
            if allowed:
                decisions.append(RateDecision(allowed=True, retry_after_seconds=0))
            else:
                decisions.append(await self._refusal(self._approximate, _item(rule), key))
        return decisions

    async def _run_sliding_windows(self, arguments: Sequence[_WindowArguments]) -> list[Any]:
        # EVALSHA straight on the pipeline: redis-py's Script objects make a pipeline ask SCRIPT EXISTS
        # first, a second round trip each time. The script is loaded once, and again if Redis forgot it.
        for attempt in (1, 2):
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for previous, current, limit, expiry, amount in arguments:
                        pipe.evalsha(self._sliding_window.sha, 2, previous, current, limit, expiry, amount)
                    return list(await pipe.execute())
            except NoScriptError:
                if attempt == 2:
                    raise
                await self._redis.script_load(self._sliding_window.script)
        raise AssertionError("unreachable")

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


def _sliding_window_script(storage: RedisStorage) -> str:
    script: str = storage.bridge.lua_acquire_sliding_window.script  # type: ignore[attr-defined]
    return script


def _attempts_key(rule: RateRule, key: str) -> str:
    return f"{ATTEMPTS_PREFIX}:{rule.name}:{key}"


def _item(rule: RateRule) -> RateLimitItem:
    return RateLimitItemPerSecond(rule.limit, rule.window_seconds, namespace=rule.name)
