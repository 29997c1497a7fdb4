"""The storefront in front of the whole marketplace: tests/e2e's ``marketplace_stack`` (every service, real
stores, broker, mail catcher, object store) plus ``python -m storefront_service`` on its own Redis database.

The notification service's ``PUBLIC_URL`` is the storefront's origin, so the links in the emails (verify,
reset, order, conversation) land on the storefront as in production, and the tests follow them in the browser.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from browser_harness import OriginPolicy
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import Backend
from gigstack_testinfra.mail import MailCatcher
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.object_store import ObjectStoreBucket
from gigstack_testinfra.processes import ServiceProcess
from marketplace_stack import marketplace_stack
from stack import GigstackStack

READY_TIMEOUT_SECONDS = 60.0


@dataclass
class StorefrontStack:
    marketplace: GigstackStack
    storefront: ServiceProcess
    media_origin: str

    @property
    def url(self) -> str:
        return self.storefront.base_url

    @property
    def mail(self) -> MailCatcher:
        catcher: MailCatcher = self.marketplace.mail
        return catcher

    def policy(self) -> OriginPolicy:
        """What a storefront page may reach: the storefront, and POST uploads to the object store."""
        return OriginPolicy(self.url, media_origin=self.media_origin)


def _redis_index(url: str) -> int:
    return int(urlsplit(url).path.lstrip("/") or 0)


def storefront_redis_url(allocator: isolation.RedisDatabaseAllocator, taken_url: str) -> str:
    """A flushed database of its own for the storefront, never the one the marketplace's gateway uses."""
    taken = _redis_index(taken_url)
    index = allocator.allocate()
    while index == taken:
        index = allocator.allocate()
    return allocator.endpoint.url(index)


def storefront_process(
    port: int,
    *,
    gateway_url: str,
    redis_url: str,
    media_origin: str,
    log_dir: Path,
    media_bucket: ObjectStoreBucket | None = None,
) -> ServiceProcess:
    env = {
        "ENVIRONMENT": "test",  # session cookie without Secure: the browser talks plain HTTP on loopback
        "HOST": LOOPBACK,
        "PORT": str(port),
        "LOG_LEVEL": "INFO",
        "GATEWAY_URL": gateway_url,
        "REDIS_URL": redis_url,
        "MEDIA_PUBLIC_ORIGIN": media_origin,
        "SHUTDOWN_GRACE_SECONDS": "5",
    }
    if media_bucket is not None:
        # Covers at /media/<key> on the storefront's own origin, read from gig's (private) bucket: pages then
        # GET nothing from the object store (docs/adr/0025).
        env["MEDIA_PROXY_ENABLED"] = "true"
        env.update(media_bucket.settings_env())
    return ServiceProcess(
        "storefront", [sys.executable, "-m", "storefront_service"], env, port, log_dir / "storefront.log"
    )


@asynccontextmanager
async def storefront_stack(
    backend: Backend,
    mail: MailCatcher,
    internal_keypair: tuple[str, str],
    redis_databases: isolation.RedisDatabaseAllocator,
    log_dir: Path,
) -> AsyncIterator[StorefrontStack]:
    port = free_port()
    origin = f"http://{LOOPBACK}:{port}"
    media_origin = backend.object_store().url
    async with marketplace_stack(
        backend,
        mail,
        internal_keypair,
        log_dir,
        notification_env={"PUBLIC_URL": origin},
        redis_databases=redis_databases,
    ) as marketplace:
        process = storefront_process(
            port,
            gateway_url=marketplace.gateway_url,
            redis_url=storefront_redis_url(redis_databases, marketplace.redis_url),
            media_origin=media_origin,
            log_dir=log_dir,
            media_bucket=marketplace.object_store,
        )
        process.start()
        try:
            await process.wait_ready(timeout=READY_TIMEOUT_SECONDS)
            yield StorefrontStack(marketplace, process, media_origin)
        finally:
            await asyncio.to_thread(process.terminate, 15.0)
