"""``bootstrap(settings)``: the storefront's dependencies, built once per app. Nothing connects here: Redis
and the gateway pool open connections on first use, and the lifespan closes them."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis
from servicekit.tracing import instrument_httpx

from storefront_service.adapters.media_reader import MediaReader, S3MediaReader
from storefront_service.gateway_client import GatewayClient
from storefront_service.sessions import SessionStore
from storefront_service.settings import StorefrontSettings
from storefront_service.static_files import StaticManifest
from storefront_service.web import StorefrontDeps, build_templates

REDIS_TIMEOUT_SECONDS = 2.0


def bootstrap(
    settings: StorefrontSettings,
    *,
    http: httpx.AsyncClient | None = None,
    media: MediaReader | None = None,
) -> StorefrontDeps:
    redis = Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=30,
    )
    # Gateway calls go through httpx: a client span for each (servicekit instruments httpx only when asked).
    instrument_httpx()
    http = http or httpx.AsyncClient(
        base_url=settings.gateway_url.rstrip("/"),
        timeout=httpx.Timeout(
            settings.gateway_read_timeout_seconds, connect=settings.gateway_connect_timeout_seconds
        ),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,
    )
    if media is None and settings.media_proxy_enabled:
        # OBJECT_STORE_BUCKET and friends, read from the environment like the services that upload.
        media = S3MediaReader(settings.object_store())
    static = StaticManifest.scan()
    return StorefrontDeps(
        settings=settings,
        redis=redis,
        sessions=SessionStore(
            redis,
            idle_seconds=settings.session_idle_seconds,
            anonymous_idle_seconds=settings.anonymous_session_idle_seconds,
        ),
        gateway=GatewayClient(http, max_retries=settings.gateway_max_retries),
        templates=build_templates(static, settings),
        static=static,
        http=http,
        media=media,
    )
