"""Run the users service for integration tests (in process, or as a real subprocess), publish to it, and
read its store directly. Only the servers come from the `gigstack_testinfra` plugin."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.events import EventBus, EventEnvelope
from users_service.entrypoints.app import create_app
from users_service.settings import UsersSettings


def account_created(user_id: str, username: str) -> EventEnvelope:
    payload = {
        "user_id": user_id,
        "username": username,
        "email": f"{username}@example.test",
        "country": "NL",
        "created_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
    }
    return EventEnvelope.new(type="auth.account.created.v1", producer="auth", payload=payload)


def order_event(kind: str, order: str, buyer: str, seller: str, earnings: int = 0) -> EventEnvelope:
    payload: dict[str, Any] = {"order_id": order, "buyer_id": buyer, "seller_id": seller, "currency": "USD"}
    if kind == "completed":
        payload["seller_earnings_minor"] = earnings
    return EventEnvelope.new(type=f"order.order.{kind}.v1", producer="order", payload=payload)


async def eventually(
    predicate: Callable[[], Awaitable[bool]],
    *,
    within: float = 30.0,
    what: str = "",
) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.1)


@asynccontextmanager
async def store(mongodb_url: str) -> AsyncIterator[AsyncDatabase[Any]]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, tz_aware=True, timeoutMS=10_000)
    try:
        yield client.get_default_database()
    finally:
        await client.close()


@asynccontextmanager
async def publisher(amqp_url: str) -> AsyncIterator[EventBus]:
    """A producer's bus: connecting declares every subscription, `users.profiles` included."""
    bus = EventBus(amqp_url, service_name="tests-producer")
    await bus.connect()
    try:
        yield bus
    finally:
        await bus.close()


@dataclass
class RunningUsers:
    app: FastAPI
    client: httpx.AsyncClient


@asynccontextmanager
async def start_users(*, mongodb_url: str, amqp_url: str, public_key_pem: str) -> AsyncIterator[RunningUsers]:
    settings = UsersSettings(
        environment="test",
        mongodb_url=mongodb_url,
        amqp_url=amqp_url,
        internal_token_public_key=public_key_pem,
        shutdown_grace_seconds=5,
        consumer_prefetch=8,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://users", timeout=30) as client:

            async def ready() -> bool:
                return (await client.get("/health/ready")).status_code == 200

            # Events published meanwhile wait in users.profiles (declared by every publisher).
            await eventually(ready, what="users ready")
            yield RunningUsers(app=app, client=client)


def new_id() -> str:
    return str(uuid.uuid4())
