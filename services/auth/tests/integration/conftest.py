"""Real MariaDB (migrated with the service's own Alembic scripts) and RabbitMQ from gigstack_testinfra; the
app runs its real lifespan (engine, event bus, outbox relay) behind httpx's ASGI transport, and every call
carries a real internal token signed with the session's Ed25519 key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from auth_service.adapters.hashing import Argon2idPasswordHasher
from auth_service.adapters.migrations import upgrade_to_head
from auth_service.entrypoints.app import create_app
from auth_service.service_layer.ports import PasswordHasher
from auth_service.settings import AuthSettings
from fastapi import FastAPI
from servicekit.events import EventEnvelope
from servicekit.security import InternalTokenIssuer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEVICE = "laptop-1"


class InternalTokenAuth(httpx.Auth):
    """Mints a fresh gateway token per request (they live 30 s), anonymous unless a subject is set."""

    def __init__(self, issuer: InternalTokenIssuer, subject: str | None = None) -> None:
        self._issuer = issuer
        self._subject = subject

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "Authorization" not in request.headers:
            token = self._issuer.issue("auth", subject=self._subject)
            request.headers["Authorization"] = f"Bearer {token}"
        yield request


@dataclass
class AuthApi:
    """The running app, a client for it, and read access to the same database for assertions."""

    app: FastAPI
    client: httpx.AsyncClient
    issuer: InternalTokenIssuer
    engine: AsyncEngine

    def as_user(self, user_id: str) -> InternalTokenAuth:
        return InternalTokenAuth(self.issuer, subject=user_id)

    async def sign_up(
        self,
        username: str = "alice",
        email: str = "alice@example.com",
        password: str = "correct horse",  # noqa: S107 - test fixture
    ) -> httpx.Response:
        body = {"username": username, "email": email, "password": password, "country": "Kenya"}
        return await self.client.post("/api/v1/auth/signup", json=body, headers={"X-Device-Id": DEVICE})

    async def verify_email_on(self, device: str) -> None:
        """Open the latest verification link on ``device`` (which makes it a known device)."""
        event = (await self.outbox("auth.email.verification_requested.v1"))[-1]
        response = await self.client.post(
            "/api/v1/auth/verify-email",
            json={"token": event.payload["token"]},
            headers={"X-Device-Id": device},
        )
        assert response.status_code == 200, response.text

    async def outbox(self, event_type: str | None = None) -> list[EventEnvelope]:
        async with self.engine.connect() as connection:
            rows = (await connection.execute(text("SELECT body FROM outbox_events ORDER BY seq"))).all()
        envelopes = [EventEnvelope.model_validate(json.loads(row.body)) for row in rows]
        return [e for e in envelopes if event_type is None or e.type == event_type]

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()

    async def execute(self, sql: str, **params: Any) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(text(sql), params)


@pytest.fixture
async def database_url(mariadb_url: str) -> str:
    await upgrade_to_head(mariadb_url)
    return mariadb_url


@pytest.fixture
def auth_settings(database_url: str, amqp_url: str, internal_keypair: tuple[str, str]) -> AuthSettings:
    return AuthSettings(
        environment="test",
        log_level="WARNING",
        database_url=database_url,
        amqp_url=amqp_url,
        internal_token_public_key=internal_keypair[1],
        # These tests read the emailed tokens and OTPs from the outbox, as the emails would carry them.
        outbox_scrub_secrets=False,
    )


@pytest.fixture
async def auth_api(auth_settings: AuthSettings, internal_keypair: tuple[str, str]) -> AsyncIterator[AuthApi]:
    async with running_auth_api(auth_settings, internal_keypair) as api:
        yield api


@pytest.fixture
async def scrubbing_auth_api(
    auth_settings: AuthSettings, internal_keypair: tuple[str, str]
) -> AsyncIterator[AuthApi]:
    """The app as deployed: secrets are blanked in outbox rows once the broker confirmed them."""
    settings = auth_settings.model_copy(update={"outbox_scrub_secrets": True})
    async with running_auth_api(settings, internal_keypair) as api:
        yield api


@pytest.fixture
async def loaded_auth_api(
    auth_settings: AuthSettings, internal_keypair: tuple[str, str]
) -> AsyncIterator[AuthApi]:
    """The real app with production pool settings, but argon2 cheap enough for requests to collide in the
    database (with full-cost hashing a 2-core machine serialises them in the hasher instead)."""
    cheap_hasher = Argon2idPasswordHasher.fast_for_tests()
    async with running_auth_api(auth_settings, internal_keypair, hasher=cheap_hasher) as api:
        yield api


@asynccontextmanager
async def running_auth_api(
    settings: AuthSettings, keypair: tuple[str, str], *, hasher: PasswordHasher | None = None
) -> AsyncIterator[AuthApi]:
    app = create_app(settings, hasher=hasher)
    issuer = InternalTokenIssuer(keypair[0])
    engine = create_async_engine(settings.database_url.get_secret_value())
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=transport, base_url="http://auth", auth=InternalTokenAuth(issuer), timeout=60
            ) as client,
        ):
            yield AuthApi(app=app, client=client, issuer=issuer, engine=engine)
    finally:
        await engine.dispose()
