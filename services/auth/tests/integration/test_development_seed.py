"""POST /seed/{count} exists only when ENVIRONMENT=development."""

from __future__ import annotations

import httpx
import pytest
from auth_service.entrypoints.app import create_app
from auth_service.settings import AuthSettings
from servicekit.security import InternalTokenIssuer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.integration


async def test_seed_creates_verified_accounts_in_development(
    auth_settings: AuthSettings, internal_keypair: tuple[str, str]
) -> None:
    app = create_app(auth_settings.model_copy(update={"environment": "development"}))
    token = InternalTokenIssuer(internal_keypair[0]).issue("auth")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://auth", timeout=30
        ) as client,
    ):
        response = await client.post("/api/v1/auth/seed/3", headers={"Authorization": f"Bearer {token}"})
        too_many = await client.post("/api/v1/auth/seed/1000", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 201
    seeded = response.json()
    assert seeded["created"] == 3
    assert all(user["email_verified"] for user in seeded["users"])
    assert too_many.status_code == 422
    engine = create_async_engine(auth_settings.database_url.get_secret_value())
    try:
        async with engine.connect() as connection:
            accounts = (await connection.execute(text("SELECT COUNT(*) FROM accounts"))).scalar()
            events = (
                await connection.execute(
                    text("SELECT COUNT(*) FROM outbox_events WHERE event_type = 'auth.account.created.v1'")
                )
            ).scalar()
    finally:
        await engine.dispose()
    assert accounts == events == 3
