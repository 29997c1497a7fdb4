"""The gateway's runtime dependencies, built in the lifespan (never at import) and torn down at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from redis.asyncio import Redis
from servicekit.errors import ServiceUnavailable
from servicekit.security import InternalTokenIssuer

from gateway_service.adapters.access_tokens import Hs256AccessTokenCodec
from gateway_service.adapters.downstream import DownstreamClient
from gateway_service.adapters.http_pool import ServicePools
from gateway_service.adapters.rate_limiter import RedisRateLimiter
from gateway_service.adapters.redis_sessions import RedisSessionStore
from gateway_service.domain.rate_limits import RateLimitPolicy
from gateway_service.service_layer.sessions import SessionService
from gateway_service.service_layer.throttling import RequestThrottle
from gateway_service.settings import GatewaySettings

REDIS_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class GatewayServices:
    redis: Redis
    sessions: SessionService
    throttle: RequestThrottle
    downstream: DownstreamClient


class GatewayRuntime:
    """Holds the services once the lifespan has built them; routes and readiness read them from here."""

    def __init__(self) -> None:
        self._services: GatewayServices | None = None

    @property
    def services(self) -> GatewayServices:
        if self._services is None:
            raise ServiceUnavailable("The gateway is starting")
        return self._services

    async def ping_redis(self) -> None:
        if not await self.services.redis.ping():
            raise ConnectionError("redis did not answer PING")

    @asynccontextmanager
    async def lifespan(self, settings: GatewaySettings) -> AsyncIterator[None]:
        redis_url = settings.redis_url.get_secret_value()
        redis = Redis.from_url(
            redis_url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
        pools = ServicePools(
            settings.service_urls(),
            timeout=httpx.Timeout(
                settings.downstream_read_timeout_seconds, connect=settings.downstream_connect_timeout_seconds
            ),
        )
        try:
            self._services = _build_services(settings, redis, redis_url, pools)
            yield
        finally:
            self._services = None
            await pools.aclose()
            await redis.aclose()


def _build_services(
    settings: GatewaySettings, redis: Redis, redis_url: str, pools: ServicePools
) -> GatewayServices:
    access_tokens = Hs256AccessTokenCodec(
        settings.access_token_secret.get_secret_value(), ttl_seconds=settings.access_token_ttl_seconds
    )
    sessions = SessionService(
        RedisSessionStore(redis),
        access_tokens,
        refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
        session_lifetime_seconds=settings.session_absolute_lifetime_seconds,
        refresh_reuse_grace_seconds=settings.refresh_reuse_grace_seconds,
    )
    policy = RateLimitPolicy.build(
        per_ip_per_minute=settings.rate_limit_per_ip_per_minute,
        per_account_per_minute=settings.rate_limit_per_account_per_minute,
        signin_failures_before_lock=settings.signin_failures_before_lock,
        signin_failure_window_seconds=settings.signin_failure_window_seconds,
    )
    throttle = RequestThrottle(RedisRateLimiter(redis, redis_url), policy)
    issuer = InternalTokenIssuer(settings.internal_token_private_key.get_secret_value())
    downstream = DownstreamClient(
        pools, issuer, settings.service_urls(), max_retries=settings.downstream_max_retries
    )
    return GatewayServices(redis=redis, sessions=sessions, throttle=throttle, downstream=downstream)


def lifespan_hook(
    runtime: GatewayRuntime, settings: GatewaySettings
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Adapter to servicekit's ``LifespanHook`` shape."""

    def hook(_: FastAPI) -> AbstractAsyncContextManager[None]:
        return runtime.lifespan(settings)

    return hook
