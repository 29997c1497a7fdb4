"""Real FerretDB and RabbitMQ from gigstack_testinfra; the chat app runs its real lifespan (outbox relay,
directory consumer, unread sweep) behind httpx's ASGI transport, every call with a real internal token."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from chat_service.adapters.directory import MongoDirectory
from chat_service.domain.directory import DirectoryEntry
from chat_service.entrypoints.app import create_app
from chat_service.entrypoints.bootstrap import ChatDependencies
from chat_service.settings import ChatSettings
from fastapi import FastAPI
from gigstack_testinfra.object_store import ObjectStoreBucket
from servicekit.security import InternalTokenIssuer

sys.path.insert(0, str(Path(__file__).parent))


class InternalTokenAuth(httpx.Auth):
    def __init__(self, issuer: InternalTokenIssuer, subject: str | None = None) -> None:
        self._issuer = issuer
        self._subject = subject

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._issuer.issue('chat', subject=self._subject)}"
        yield request


def new_user() -> str:
    return str(uuid.uuid4())


def offer_body(**overrides: Any) -> dict[str, Any]:
    return {
        "gig_id": "gig-1",
        "description": "Logo with three concepts",
        "price": 12_500,
        "currency": "USD",
        "delivery_days": 4,
        "expires_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        **overrides,
    }


@dataclass
class ChatApi:
    app: FastAPI
    client: httpx.AsyncClient
    issuer: InternalTokenIssuer

    @property
    def deps(self) -> ChatDependencies:
        deps = self.app.state.deps
        assert isinstance(deps, ChatDependencies)
        return deps

    def as_user(self, user_id: str | None) -> InternalTokenAuth:
        return InternalTokenAuth(self.issuer, subject=user_id)

    async def register(self, user_id: str, username: str | None = None) -> DirectoryEntry:
        name = username or f"user_{user_id[:8]}"
        entry = DirectoryEntry(user_id=user_id, username=name, email=f"{name}@example.test")
        await MongoDirectory(self.deps.database).put(entry)
        return entry

    async def send(self, sender: str, **body: Any) -> httpx.Response:
        body.setdefault("kind", "text")
        return await self.client.post("/api/v1/chat/messages", json=body, auth=self.as_user(sender))

    async def sent(self, sender: str, **body: Any) -> dict[str, Any]:
        response = await self.send(sender, **body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture
def chat_settings(
    mongodb_url: str,
    amqp_url: str,
    internal_keypair: tuple[str, str],
    object_store_bucket: ObjectStoreBucket,
) -> ChatSettings:
    media = {name.lower(): value for name, value in object_store_bucket.settings_env().items()}
    return ChatSettings(
        **media,  # type: ignore[arg-type]
        environment="test",
        log_level="WARNING",
        mongodb_url=mongodb_url,
        amqp_url=amqp_url,
        internal_token_public_key=internal_keypair[1],
        unread_email_delay_seconds=1,
        unread_email_period_seconds=3600,
        unread_sweep_interval_seconds=0.5,
    )


@pytest.fixture
async def chat_api(chat_settings: ChatSettings, internal_keypair: tuple[str, str]) -> AsyncIterator[ChatApi]:
    app = create_app(chat_settings)
    issuer = InternalTokenIssuer(internal_keypair[0])
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://chat", timeout=60) as client,
    ):
        yield ChatApi(app=app, client=client, issuer=issuer)


@dataclass
class EventTap:
    """A test queue bound to chat's events: what the outbox relay really published."""

    queue: aio_pika.abc.AbstractQueue
    received: list[tuple[str, dict[str, Any]]]
    # The envelope id of each received event, in step with `received`: two relays may publish one staged
    # event twice (at least once); a second *transition* would have a second id.
    ids: list[str] = field(default_factory=list)

    async def wait_for(
        self,
        predicate: Callable[[str, dict[str, Any]], bool],
        *,
        within: float = 15.0,
    ) -> list[tuple[str, dict[str, Any]]]:
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            matching = [(t, p) for t, p in self.received if predicate(t, p)]
            if matching:
                return matching
            await asyncio.sleep(0.1)
        raise AssertionError(f"no matching event among {[t for t, _ in self.received]}")


@pytest.fixture
async def event_tap(amqp_url: str) -> AsyncIterator[EventTap]:
    import json

    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange("gigstack.events", aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key="chat.#")
    tap = EventTap(queue=queue, received=[])

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            envelope = json.loads(message.body)
            tap.received.append((envelope["type"], envelope["payload"]))
            tap.ids.append(envelope["id"])

    await queue.consume(on_message)
    try:
        yield tap
    finally:
        await connection.close()


async def eventually(check: Callable[[], Awaitable[bool]], *, what: str, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
