"""The composition root: ``bootstrap(settings)`` builds every real dependency of the gateway, once.

Nothing here connects: Redis and the downstream links open connections on first use, and the lifespan
closes them at shutdown.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from servicekit.events import EventBus, EventWorkers, subscription
from servicekit.security import InternalTokenIssuer

from gateway_service.adapters.access_tokens import Hs256AccessTokenCodec
from gateway_service.adapters.downstream import DownstreamClient
from gateway_service.adapters.http_link import ServiceLinks
from gateway_service.adapters.presence import RedisPresence
from gateway_service.adapters.rate_limiter import RedisRateLimiter
from gateway_service.adapters.redis_sessions import RedisSessionStore
from gateway_service.adapters.session_cache import LivenessCachingSessionStore
from gateway_service.adapters.socketio_redis import reconnecting
from gateway_service.domain.rate_limits import RateLimitPolicy
from gateway_service.entrypoints.realtime import Realtime, build_realtime, realtime_event_handler
from gateway_service.service_layer.sessions import SessionService
from gateway_service.service_layer.throttling import RequestThrottle
from gateway_service.settings import GatewaySettings

REDIS_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class GatewayDependencies:
    redis: Redis
    links: ServiceLinks  # keep-alive connections to the internal services
    sessions: SessionService
    throttle: RequestThrottle
    rate_limiter: RedisRateLimiter  # closed at shutdown: its scripts' connection is its own
    downstream: DownstreamClient
    realtime: Realtime
    events: EventWorkers | None  # None without AMQP_URL: sockets connect, nothing is pushed


def bootstrap(settings: GatewaySettings) -> GatewayDependencies:
    redis_url = settings.redis_url.get_secret_value()
    redis = Redis.from_url(
        redis_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=30,
        **reconnecting(),
    )
    links = ServiceLinks(
        connect_timeout_seconds=settings.downstream_connect_timeout_seconds,
        read_timeout_seconds=settings.downstream_read_timeout_seconds,
    )
    access_tokens = Hs256AccessTokenCodec(
        settings.access_token_secret.get_secret_value(), ttl_seconds=settings.access_token_ttl_seconds
    )
    sessions = SessionService(
        LivenessCachingSessionStore(
            RedisSessionStore(redis), ttl_seconds=settings.session_liveness_cache_seconds
        ),
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
    rate_limiter = RedisRateLimiter(redis, redis_url)
    throttle = RequestThrottle(rate_limiter, policy)
    issuer = InternalTokenIssuer(settings.internal_token_private_key.get_secret_value())
    downstream = DownstreamClient(
        links, issuer, settings.service_urls(), max_retries=settings.downstream_max_retries
    )
    realtime = build_realtime(
        redis_url=redis_url,
        sessions=sessions,
        presence=RedisPresence(redis, ttl_seconds=settings.presence_ttl_seconds),
        cors_origins=settings.cors_origins,
        heartbeat_seconds=settings.realtime_heartbeat_seconds,
    )
    events = None
    if settings.amqp_url is not None:
        bus = EventBus(
            settings.amqp_url.get_secret_value(),
            service_name=settings.service_name,
            prefetch=settings.consumer_prefetch,
        )
        realtime_queue = subscription("gateway.realtime")
        events = EventWorkers(bus, service_name=settings.service_name).add_consumer(
            queue=realtime_queue.queue,
            routing_keys=realtime_queue.routing_keys,
            handler=realtime_event_handler(realtime),
        )
    return GatewayDependencies(
        redis=redis,
        links=links,
        sessions=sessions,
        throttle=throttle,
        rate_limiter=rate_limiter,
        downstream=downstream,
        realtime=realtime,
        events=events,
    )
