"""Redis rate limiter built on the ``limits`` library (async Redis storage through redis-py).

Choice (see the service README): ``limits`` is maintained, ships atomic Lua scripts for its windows and lets
us share the gateway's redis.asyncio connection pool, so no hand-written limiter script is needed. Exact
rules use its moving window; high-volume request budgets use the O(1) sliding-window counter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, cast

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter, RateLimiter, SlidingWindowCounterRateLimiter
from redis.asyncio import Redis

from gateway_service.adapters.redis_batching import PipelineBatcher
from gateway_service.adapters.redis_scripts import LuaScript, ScriptCaller
from gateway_service.adapters.redis_sessions import session_key
from gateway_service.domain.rate_limits import RateDecision, RateRule

KEY_PREFIX = "gw:limits"
# limits' sliding-window script arguments: previous window key, current window key, limit, expiry, amount.
_WindowArguments = tuple[str, str, int, int, int]
# The edge's admission script (below): both windows' arguments, then the session's key.
_AdmissionArguments = tuple[_WindowArguments, _WindowArguments, str]
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
        # The per-request scripts go through `ScriptCaller` (adapters/redis_scripts.py): EVALSHA pre-encoded
        # on connections of their own, without redis-py's pipeline machinery (ADR 0024, amendment "admit2").
        self._scripts = ScriptCaller(redis)
        # limits' own sliding-window script, run by `hit_many` (same keys, same counters).
        self._sliding_window = LuaScript(_sliding_window_script(storage))
        # Concurrent requests' counts share one round trip (adapters/redis_batching.py).
        self._windows: PipelineBatcher[_WindowArguments] = PipelineBatcher(self._run_sliding_windows)
        # Both request budgets and the session's liveness in one script call (ADR 0024, edge redesign).
        self._admission = LuaScript(_admission_script(storage))
        self._admissions: PipelineBatcher[_AdmissionArguments] = PipelineBatcher(self._run_admissions)

    async def hit(self, rule: RateRule, key: str) -> RateDecision:
        if not rule.exact:  # the same script and keys limits' strategy uses, on a shared pipeline
            return (await self.hit_many([(rule, key)]))[0]
        strategy, item = self._strategy(rule), _item(rule)
        if await strategy.hit(item, key):
            return RateDecision(allowed=True, retry_after_seconds=0)
        return await self._refusal(strategy, item, key)

    async def hit_many(self, hits: Sequence[tuple[RateRule, str]]) -> list[RateDecision]:
        """Count several approximate budgets in one Redis round trip (limits' script once per budget).

        Every request on a session counts against the per-IP and the per-account budget: one round trip
        for both, and that pipeline is shared with the other requests counting at the same moment
        (`PipelineBatcher`). The keys and the script are limits' own, so limits' strategies and `hit_many`
        share their counters (tests/integration/test_redis_adapters.py pins that).
        """
        if any(rule.exact for rule, _ in hits):
            return [await self.hit(rule, key) for rule, key in hits]
        arguments = [self._window_arguments(rule, key) for rule, key in hits]
        acquired = await self._windows.submit(arguments)
        decisions = []
        for (rule, key), allowed in zip(hits, acquired, strict=True):
            if allowed:
                decisions.append(RateDecision(allowed=True, retry_after_seconds=0))
            else:
                decisions.append(await self._refusal(self._approximate, _item(rule), key))
        return decisions

    async def hit_two_and_check_session(
        self, first: tuple[RateRule, str], second: tuple[RateRule, str], session_id: str
    ) -> tuple[RateDecision, RateDecision, bool]:
        """Count two approximate budgets and read the session's liveness in one script call.

        The counts are limits' own sliding-window script on the same keys as `hit_many` (the script is
        limits' text, run twice inside ours), so the counters are shared with `hit` and `hit_many`; the
        liveness is Redis's answer at that moment (`EXISTS` on the session's key), never a remembered one.
        Concurrent requests' calls share pipelines as `hit_many`'s do.
        """
        if first[0].exact or second[0].exact:
            raise ValueError("exact rules are not counted by the admission script")
        arguments = (self._window_arguments(*first), self._window_arguments(*second), session_key(session_id))
        [answer] = await self._admissions.submit([arguments])
        by_first, by_second, live = cast("list[int]", answer)
        decisions = []
        for (rule, key), allowed in ((first, by_first), (second, by_second)):
            if allowed:
                decisions.append(RateDecision(allowed=True, retry_after_seconds=0))
            else:
                decisions.append(await self._refusal(self._approximate, _item(rule), key))
        return decisions[0], decisions[1], bool(live)

    def _window_arguments(self, rule: RateRule, key: str) -> _WindowArguments:
        item = _item(rule)
        window_key = item.key_for(key)
        previous = self._storage.bridge.prefixed_key(self._storage._previous_window_key(window_key))
        current = self._storage.bridge.prefixed_key(self._storage._current_window_key(window_key))
        return (previous, current, item.amount, item.get_expiry(), 1)

    async def _run_sliding_windows(self, arguments: Sequence[_WindowArguments]) -> list[Any]:
        return await self._scripts.evalsha_many(
            self._sliding_window,
            [((window[0], window[1]), window[2:]) for window in arguments],
        )

    async def _run_admissions(self, arguments: Sequence[_AdmissionArguments]) -> list[Any]:
        return await self._scripts.evalsha_many(
            self._admission,
            [
                ((first[0], first[1], second[0], second[1], live_key), (*first[2:], *second[2:]))
                for first, second, live_key in arguments
            ],
        )

    async def aclose(self) -> None:
        """At shutdown: the batches in flight are answered, then the scripts' own connection is closed."""
        await self._admissions.aclose()
        await self._windows.aclose()
        await self._scripts.aclose()

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
    # redis-py keeps a registered script's text as it was given (limits gives bytes).
    script: str | bytes = storage.bridge.lua_acquire_sliding_window.script  # type: ignore[attr-defined]
    return script.decode() if isinstance(script, bytes) else script


def _admission_script(storage: RedisStorage) -> str:
    """limits' sliding-window script twice (the address's and the account's budget), then ``EXISTS`` on the
    session's key, in one atomic call: ``{address allowed, account allowed, session live}`` as 1/0.

    limits' script reads ``KEYS`` and ``ARGV``; as the body of a Lua function whose parameters are named
    ``KEYS`` and ``ARGV`` it runs unchanged on the arguments each call is given, so the counting is limits'
    own text for the installed version, not a copy that could drift from it. Both budgets are always
    counted and the session always read, as when the two scripts and ``EXISTS`` ran side by side: the
    caller orders the verdicts (address 429, then revoked 401, then account 429).
    """
    window = _sliding_window_script(storage)
    return (
        "local function sliding_window(KEYS, ARGV)\n"
        + window
        + "\nend\n"
        + "local by_first = sliding_window({KEYS[1], KEYS[2]}, {ARGV[1], ARGV[2], ARGV[3]})\n"
        + "local by_second = sliding_window({KEYS[3], KEYS[4]}, {ARGV[4], ARGV[5], ARGV[6]})\n"
        + "local live = redis.call('exists', KEYS[5])\n"
        + "return {by_first and 1 or 0, by_second and 1 or 0, live}\n"
    )


def _attempts_key(rule: RateRule, key: str) -> str:
    return f"{ATTEMPTS_PREFIX}:{rule.name}:{key}"


def _item(rule: RateRule) -> RateLimitItem:
    return RateLimitItemPerSecond(rule.limit, rule.window_seconds, namespace=rule.name)
