"""When MariaDB cannot serve a command the API answers 503 with the error body, never 500."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from auth_service.entrypoints import bootstrap
from auth_service.settings import AuthSettings
from gigstack_testinfra.net import free_port
from pydantic import SecretStr
from sqlalchemy import text

from services.auth.tests.integration.conftest import running_auth_api

pytestmark = pytest.mark.integration

if TYPE_CHECKING:
    from services.auth.tests.integration.conftest import AuthApi

BASE = "/api/v1/auth"


def _assert_unavailable_body(status: int, body: dict[str, object], headers: dict[str, str]) -> None:
    assert status == 503
    error = body["error"]
    assert isinstance(error, dict)
    assert error["code"] == "unavailable"
    assert error["message"]
    assert error["correlation_id"]
    assert headers["retry-after"] == "1"


async def test_an_unreachable_database_is_a_503(
    auth_settings: AuthSettings, internal_keypair: tuple[str, str]
) -> None:
    nowhere = SecretStr(f"mysql+asyncmy://auth:auth@127.0.0.1:{free_port()}/auth")
    settings = auth_settings.model_copy(
        update={"database_url": nowhere, "database_connect_timeout_seconds": 1}
    )

    async with running_auth_api(settings, internal_keypair) as api:
        forgot = await api.client.post(f"{BASE}/forgot-password", json={"email": "bob@example.com"})
        me = await api.client.get(f"{BASE}/me", auth=api.as_user("6f0c1c3e-8d9f-4a57-9a5e-1f0d0f0b7c11"))

    for response in (forgot, me):
        _assert_unavailable_body(response.status_code, response.json(), dict(response.headers))


@pytest.fixture
def short_lock_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap, "LOCK_WAIT_TIMEOUT_SECONDS", 1)


async def test_a_row_lock_held_past_every_retry_is_a_503_then_recovers(
    short_lock_waits: None, auth_api: AuthApi
) -> None:
    assert (await auth_api.sign_up()).status_code == 202
    account_id = await auth_api.scalar("SELECT id FROM accounts")

    # Another session sits on the account row longer than three lock waits (and their backoff) last.
    async with auth_api.engine.connect() as blocker:
        transaction = await blocker.begin()
        await blocker.execute(text("SELECT id FROM accounts WHERE id = :id FOR UPDATE"), {"id": account_id})
        blocked = await auth_api.client.post(f"{BASE}/forgot-password", json={"email": "alice@example.com"})
        await transaction.rollback()
    recovered = await auth_api.client.post(f"{BASE}/forgot-password", json={"email": "alice@example.com"})

    _assert_unavailable_body(blocked.status_code, blocked.json(), dict(blocked.headers))
    assert recovered.status_code == 202
    # The aborted attempts left nothing behind: one reset request, from the request that got through.
    assert len(await auth_api.outbox("auth.email.password_reset_requested.v1")) == 1
