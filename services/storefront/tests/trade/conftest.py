"""Fixtures for the trading pages' route tests: the storefront app on the real Redis (its own ACL user) with a
fake gateway (storefront_fakes.FakeGateway), and a browser that can be signed in as a given user by putting a
signed-in session straight into the session store (the sign-in pages are tested on their own)."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from storefront_service.entrypoints.app import create_app
from storefront_service.sessions import Session, SessionStore, SignedInUser
from storefront_service.settings import StorefrontSettings

# --import-mode=importlib: the shared fakes live one folder up, the samples beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from storefront_fakes import BASE_URL, FakeGateway

pytestmark = pytest.mark.integration

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class TradeBrowser:
    client: httpx.AsyncClient
    app: FastAPI
    gateway: FakeGateway
    session: Session | None = None

    async def sign_in(self, user_id: str = "u-buyer", username: str = "bea") -> Session:
        store: SessionStore = self.app.state.deps.sessions
        session = store.new()
        session.user = SignedInUser(
            id=user_id, username=username, email=f"{username}@example.test", email_verified=True
        )
        session.set_tokens(f"access-{user_id}", f"refresh-{user_id}", 900)
        await store.save(session)
        self.client.cookies.set("sf_session", session.id)
        self.session = session
        return session

    @property
    def csrf(self) -> str:
        assert self.session is not None, "sign in first"
        return self.session.csrf_token

    async def post(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf
        return await self.client.post(url, data=form)


@pytest.fixture
def trade_overrides() -> dict[str, Any]:
    """Settings a test module changes (overridden by a fixture of the same name there)."""
    return {}


@pytest.fixture
async def trade(
    redis_with_service_users: Any, trade_overrides: dict[str, Any]
) -> AsyncIterator[TradeBrowser]:
    gateway = FakeGateway()
    settings = StorefrontSettings(
        environment="test",
        redis_url=redis_with_service_users.url("storefront"),
        gateway_url="http://gateway.test",
        media_public_origin="http://media.test:9000",
        media_public_base_url="http://media.test:9000/gigstack-media",
        gateway_max_retries=0,
        **trade_overrides,
    )
    http = httpx.AsyncClient(base_url="http://gateway.test", transport=httpx.MockTransport(gateway))
    app = create_app(settings, http=http)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield TradeBrowser(client=client, app=app, gateway=gateway)
    await app.state.deps.redis.aclose()
    await http.aclose()
