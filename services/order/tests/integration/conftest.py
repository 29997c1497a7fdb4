"""Real PostgreSQL (migrated with the service's own Alembic scripts) and RabbitMQ from gigstack_testinfra;
the app runs its real lifespan (engine, outbox relay, consumer, scheduler) behind httpx's ASGI transport,
with the local payment provider, and every call carries a real internal token."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gigstack_testinfra.object_store import ObjectStoreBucket
from order_service.adapters.local_provider import LocalPaymentProvider
from order_service.adapters.migrations import upgrade_to_head
from order_service.entrypoints.app import create_app
from order_service.entrypoints.bootstrap import OrderDependencies
from order_service.service_layer.replication import apply_event
from order_service.settings import OrderSettings
from servicekit.events import EventEnvelope
from servicekit.media import MediaArea, plan_upload
from servicekit.security import InternalTokenIssuer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

sys.path.insert(0, str(Path(__file__).parent))

WEBHOOK_SECRET = "whsec_test_" + "a" * 24


class InternalTokenAuth(httpx.Auth):
    def __init__(self, issuer: InternalTokenIssuer, subject: str | None = None) -> None:
        self._issuer = issuer
        self._subject = subject

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "Authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {self._issuer.issue('order', subject=self._subject)}"
        yield request


@dataclass
class OrderApi:
    app: FastAPI
    client: httpx.AsyncClient
    issuer: InternalTokenIssuer
    engine: AsyncEngine

    @property
    def deps(self) -> OrderDependencies:
        deps = self.app.state.deps
        assert isinstance(deps, OrderDependencies)
        return deps

    @property
    def provider(self) -> LocalPaymentProvider:
        """The app's own local provider (durable, in this database): what the tests drive as "the card"."""
        provider = self.deps.provider
        assert isinstance(provider, LocalPaymentProvider)
        return provider

    def as_user(self, user_id: str | None) -> InternalTokenAuth:
        return InternalTokenAuth(self.issuer, subject=user_id)

    async def call(self, method: str, path: str, user: str | None, body: Any = None) -> httpx.Response:
        return await self.client.request(method, path, json=body, auth=self.as_user(user))

    async def feed(self, event_type: str, payload: dict[str, Any]) -> None:
        """Apply another service's event as the consumer would (same handler, same idempotency)."""
        await apply_event(uuid.uuid4(), event_type, payload, self.deps.handlers)

    async def add_gig(self, seller: str, price: int = 10_000, currency: str = "USD", version: int = 1) -> str:
        gig_id = str(uuid.uuid4())
        gig = {
            "id": gig_id,
            "seller_id": seller,
            "price": price,
            "currency": currency,
            "delivery_days": 3,
            "active": True,
            "deleted": False,
        }
        await self.feed("gig.gig.created.v1", {"gig": gig, "version": version})
        return gig_id

    async def add_user(self, user_id: str, username: str) -> None:
        await self.feed(
            "auth.account.created.v1",
            {
                "user_id": user_id,
                "username": username,
                "email": f"{username}@example.com",
                "country": None,
                "created_at": "2026-12-05T00:00:00+00:00",
            },
        )

    async def order_from_gig(self, buyer: str, gig_id: str) -> dict[str, Any]:
        response = await self.call("POST", "/api/v1/orders", buyer, {"gig_id": gig_id})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def paid_order(self, buyer: str, seller: str, price: int = 10_000) -> dict[str, Any]:
        created = await self.order_from_gig(buyer, await self.add_gig(seller, price))
        confirmed = await self.call(
            "POST", "/api/v1/payments/dev-confirm", buyer, {"order_id": created["order"]["id"]}
        )
        assert confirmed.status_code == 200, confirmed.text
        order: dict[str, Any] = confirmed.json()["order"]
        assert order["status"] == "in_progress"
        return order

    async def uploaded_file(
        self, owner: str, area: MediaArea = MediaArea.DELIVERIES, data: bytes = b"%PDF-1.4\n% work\n"
    ) -> str:
        """A browser's upload to the real object store: the presigned POST media.createUpload hands out,
        then the bytes. Returns the key."""
        content_type = "application/pdf" if area is MediaArea.DELIVERIES else "image/png"
        form = await plan_upload(
            self.deps.media,
            owner=owner,
            area=area,
            content_type=content_type,
            size=len(data),
            expires_in_seconds=300,
        )
        async with httpx.AsyncClient(timeout=30) as client:
            stored = await client.post(form.url, data=form.fields, files={"file": ("f", data, content_type)})
        assert stored.status_code in (200, 201, 204), stored.text
        return str(form.key)

    async def outbox(self, event_type: str | None = None) -> list[EventEnvelope]:
        async with self.engine.connect() as connection:
            rows = (await connection.execute(text("SELECT body FROM outbox_events ORDER BY seq"))).all()
        envelopes = [EventEnvelope.model_validate(json.loads(row.body)) for row in rows]
        return [e for e in envelopes if event_type is None or e.type.startswith(event_type)]

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()


@pytest.fixture
async def database_url(postgres_url: str) -> str:
    await upgrade_to_head(postgres_url)
    return postgres_url


@pytest.fixture
def order_settings(
    database_url: str,
    amqp_url: str,
    internal_keypair: tuple[str, str],
    object_store_bucket: ObjectStoreBucket,
) -> OrderSettings:
    # Delivery files are checked in a real object store (s3proxy, this test's own bucket).
    media = {name.lower(): value for name, value in object_store_bucket.settings_env().items()}
    return OrderSettings(
        **media,  # type: ignore[arg-type]
        environment="test",
        log_level="WARNING",
        database_url=database_url,
        amqp_url=amqp_url,
        internal_token_public_key=internal_keypair[1],
        payment_webhook_secret=WEBHOOK_SECRET,
        # The tests drive the scheduler's ticks themselves unless they test the loop.
        scheduler_interval_seconds=3600,
        reconcile_after_seconds=0,
    )


@pytest.fixture
async def order_api(
    order_settings: OrderSettings, internal_keypair: tuple[str, str]
) -> AsyncIterator[OrderApi]:
    async with running_order_api(order_settings, internal_keypair) as api:
        yield api


@asynccontextmanager
async def running_order_api(settings: OrderSettings, keypair: tuple[str, str]) -> AsyncIterator[OrderApi]:
    """The app with the provider its settings choose (the durable local one, or Stripe on stripe-mock)."""
    app = create_app(settings)
    issuer = InternalTokenIssuer(keypair[0])
    engine = create_async_engine(settings.database_url.get_secret_value())
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://order",
                auth=InternalTokenAuth(issuer),
                timeout=60,
            ) as client,
        ):
            yield OrderApi(app=app, client=client, issuer=issuer, engine=engine)
    finally:
        await engine.dispose()
