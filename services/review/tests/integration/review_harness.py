"""Run the review service in process for integration tests, publish to it, read its store and the queues
its events land in. Only the servers come from the `gigstack_testinfra` plugin."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aio_pika
import httpx
from fastapi import FastAPI
from review_service.entrypoints.app import create_app
from review_service.settings import ReviewSettings
from servicekit.events import EventBus, EventEnvelope
from servicekit.security import InternalTokenIssuer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


class InternalTokenAuth(httpx.Auth):
    """Mints a fresh gateway token per request, anonymous unless a subject is set."""

    def __init__(self, issuer: InternalTokenIssuer, subject: str | None = None) -> None:
        self._issuer = issuer
        self._subject = subject

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._issuer.issue('review', subject=self._subject)}"
        yield request


def account_created(user_id: str, username: str) -> EventEnvelope:
    payload = {"user_id": user_id, "username": username, "email": f"{username}@example.test", "country": "NL"}
    return EventEnvelope.new(type="auth.account.created.v1", producer="auth", payload=payload)


def order_completed(order_id: str, buyer: str, seller: str, gig: str | None = "gig-1") -> EventEnvelope:
    order = {"id": order_id, "gig_id": gig, "buyer_id": buyer, "seller_id": seller, "status": "completed"}
    payload = {
        "order": order,
        "order_id": order_id,
        "buyer_id": buyer,
        "seller_id": seller,
        "seller_earnings_minor": 4000,
        "currency": "USD",
    }
    return EventEnvelope.new(type="order.order.completed.v1", producer="order", payload=payload)


def order_placed(order_id: str, buyer: str, seller: str, gig: str | None = "gig-1") -> EventEnvelope:
    order = {"id": order_id, "gig_id": gig, "buyer_id": buyer, "seller_id": seller, "status": "in_progress"}
    payload = {"order": order, "order_id": order_id, "buyer_id": buyer, "seller_id": seller}
    return EventEnvelope.new(type="order.order.placed.v1", producer="order", payload=payload)


async def eventually(
    predicate: Callable[[], Awaitable[bool]], *, within: float = 30.0, what: str = ""
) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.1)


@dataclass
class ReviewApi:
    app: FastAPI
    client: httpx.AsyncClient
    issuer: InternalTokenIssuer
    engine: AsyncEngine
    bus: EventBus
    amqp_url: str

    def as_user(self, user_id: str | None) -> InternalTokenAuth:
        return InternalTokenAuth(self.issuer, subject=user_id)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()

    async def completed_order(
        self, buyer: str = "buyer-1", seller: str = "seller-1", gig: str = "gig-1"
    ) -> str:
        """Announce both accounts and a completed order, and wait until the replica holds it."""
        order_id = str(uuid.uuid4())
        for user, name in ((buyer, f"u{buyer}"), (seller, f"u{seller}")):
            await self.bus.publish(account_created(user, name))
        await self.bus.publish(order_completed(order_id, buyer, seller, gig))

        async def replicated() -> bool:
            found = await self.scalar(
                "SELECT count(*) FROM completed_orders o JOIN directory b ON b.user_id = o.buyer_id"
                " JOIN directory s ON s.user_id = o.seller_id WHERE o.order_id = :id",
                id=order_id,
            )
            return bool(found)

        await eventually(replicated, what=f"order {order_id} in the replica")
        return order_id

    async def placed_order(self, buyer: str = "buyer-1", seller: str = "seller-1") -> str:
        """Announce a paid order (not completed) and wait until the replica holds its parties."""
        order_id = str(uuid.uuid4())
        await self.bus.publish(order_placed(order_id, buyer, seller))

        async def replicated() -> bool:
            query = "SELECT count(*) FROM completed_orders WHERE order_id = :id"
            return bool(await self.scalar(query, id=order_id))

        await eventually(replicated, what=f"placed order {order_id} in the replica")
        return order_id

    async def review(
        self, reviewer: str | None, order_id: str, rating: int = 5, comment: str = ""
    ) -> httpx.Response:
        body = {"order_id": order_id, "rating": rating, "comment": comment}
        return await self.client.post("/api/v1/reviews", json=body, auth=self.as_user(reviewer))

    async def drain(self, queue: str) -> list[EventEnvelope]:
        """Every message now in `queue` (declared by the service's bus), acknowledged and parsed."""
        connection = await aio_pika.connect(self.amqp_url)
        found: list[EventEnvelope] = []
        async with connection:
            channel = await connection.channel()
            declared = await channel.get_queue(queue, ensure=True)
            while (message := await declared.get(fail=False, timeout=5)) is not None:
                await message.ack()
                found.append(EventEnvelope.model_validate(json.loads(message.body)))
        return found


@asynccontextmanager
async def running_review_api(settings: ReviewSettings, keypair: tuple[str, str]) -> AsyncIterator[ReviewApi]:
    app = create_app(settings)
    issuer = InternalTokenIssuer(keypair[0])
    engine = create_async_engine(settings.database_url.get_secret_value())
    # A producer's bus: connecting declares every subscription, the review service's queues included.
    bus = EventBus(settings.amqp_url.get_secret_value(), service_name="tests-producer")
    await bus.connect()
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=transport, base_url="http://review", auth=InternalTokenAuth(issuer), timeout=60
            ) as client,
        ):
            yield ReviewApi(
                app=app,
                client=client,
                issuer=issuer,
                engine=engine,
                bus=bus,
                amqp_url=settings.amqp_url.get_secret_value(),
            )
    finally:
        await bus.close()
        await engine.dispose()
