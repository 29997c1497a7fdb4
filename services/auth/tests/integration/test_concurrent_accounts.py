"""Load-shaped races on the real MariaDB: many requests at once, each for a DIFFERENT account.

Requests for distinct accounts share no rows, so any 5xx here is a locking bug (gap/next-key locks turning
into deadlocks), not a genuine conflict. Argon2 runs with cheap parameters so the hashing does not dominate
and requests really overlap in the database; everything else (app, lifespan, MariaDB, outbox) is real.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import uuid4

import httpx
import pytest
from auth_service.adapters.orm import accounts
from auth_service.service_layer import retry
from sqlalchemy import insert

pytestmark = pytest.mark.integration

if TYPE_CHECKING:
    from services.auth.tests.integration.conftest import AuthApi

BASE = "/api/v1/auth"
CONCURRENT_REQUESTS = 200


async def _insert_accounts(api: AuthApi, count: int) -> list[str]:
    """Accounts written straight to the table: the setup must not depend on the signup path under test."""
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid4(),
            "username": f"user{index:04d}",
            "email": f"user{index:04d}@example.com",
            "password_hash": "not-a-real-hash",
            "country": None,
            "email_verified": True,
            "created_at": now,
            "updated_at": now,
        }
        for index in range(count)
    ]
    async with api.engine.begin() as connection:
        await connection.execute(insert(accounts), rows)
    return [str(row["email"]) for row in rows]


def _retried_commands(caplog: pytest.LogCaptureFixture) -> int:
    return sum(record.name == retry.logger.name for record in caplog.records)


def _server_errors(responses: list[httpx.Response]) -> list[tuple[int, str]]:
    return [(response.status_code, response.text) for response in responses if response.status_code >= 500]


async def _forgot_all(api: AuthApi, emails: list[str]) -> list[httpx.Response]:
    return await asyncio.gather(
        *(api.client.post(f"{BASE}/forgot-password", json={"email": email}) for email in emails)
    )


async def test_concurrent_forgot_password_for_distinct_accounts_never_fails(
    loaded_auth_api: AuthApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger=retry.logger.name)
    emails = await _insert_accounts(loaded_auth_api, CONCURRENT_REQUESTS)

    # First round: no earlier tokens (revoking finds nothing); second round revokes the first round's.
    first_round = await _forgot_all(loaded_auth_api, emails)
    second_round = await _forgot_all(loaded_auth_api, emails)

    assert _server_errors(first_round + second_round) == []
    assert {response.status_code for response in first_round + second_round} == {202}
    events = await loaded_auth_api.outbox("auth.email.password_reset_requested.v1")
    assert Counter(event.payload["to"] for event in events) == Counter({email: 2 for email in emails})
    live_tokens = await loaded_auth_api.scalar(
        "SELECT COUNT(*) FROM account_tokens WHERE purpose = 'password_reset' AND used_at IS NULL"
    )
    assert live_tokens == CONCURRENT_REQUESTS
    # Distinct accounts share no rows: the lock shape must keep them apart, not the retry runner.
    assert _retried_commands(caplog) == 0


async def test_concurrent_forgot_password_for_one_account_leaves_one_live_link(
    loaded_auth_api: AuthApi,
) -> None:
    [email] = await _insert_accounts(loaded_auth_api, 1)

    responses = await _forgot_all(loaded_auth_api, [email] * 20)

    assert [response.status_code for response in responses] == [202] * 20
    assert len(await loaded_auth_api.outbox("auth.email.password_reset_requested.v1")) == 20
    # Issuing is serialised per account, so every link but the newest is revoked even under a race.
    live_tokens = await loaded_auth_api.scalar("SELECT COUNT(*) FROM account_tokens WHERE used_at IS NULL")
    assert live_tokens == 1


async def test_concurrent_signups_for_distinct_accounts_never_fail(
    loaded_auth_api: AuthApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger=retry.logger.name)
    responses = await asyncio.gather(
        *(
            loaded_auth_api.client.post(
                f"{BASE}/signup",
                json={
                    "username": f"signup{index:04d}",
                    "email": f"signup{index:04d}@example.com",
                    "password": "correct horse",
                },
                headers={"X-Device-Id": f"device-{index}"},
            )
            for index in range(CONCURRENT_REQUESTS)
        )
    )

    assert _server_errors(responses) == []
    assert {response.status_code for response in responses} == {202}
    assert await loaded_auth_api.scalar("SELECT COUNT(*) FROM accounts") == CONCURRENT_REQUESTS
    created = await loaded_auth_api.outbox("auth.account.created.v1")
    verification = await loaded_auth_api.outbox("auth.email.verification_requested.v1")
    assert len({event.payload["email"] for event in created}) == len(created) == CONCURRENT_REQUESTS
    assert len({event.payload["to"] for event in verification}) == len(verification) == CONCURRENT_REQUESTS
    assert _retried_commands(caplog) == 0
