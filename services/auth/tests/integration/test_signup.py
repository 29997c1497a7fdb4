"""Sign-up over HTTP: rows and outbox events in one transaction, no account enumeration, clean 4xx."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING

import pytest

pytestmark = pytest.mark.integration

if TYPE_CHECKING:
    from services.auth.tests.integration.conftest import AuthApi

SIGNUP = "/api/v1/auth/signup"


async def test_signup_stores_account_token_and_outbox_events_and_trusts_no_device(auth_api: AuthApi) -> None:
    response = await auth_api.sign_up(username="Alice", email="Alice@Example.COM")

    assert response.status_code == 202
    assert "message" in response.json()
    user_id = await auth_api.scalar("SELECT id FROM accounts WHERE email = 'alice@example.com'")
    assert user_id is not None
    assert await auth_api.scalar("SELECT username FROM accounts") == "alice"
    # Signing up proves nothing about the mailbox, so the device is not trusted yet (pre-hijacking).
    assert await auth_api.scalar("SELECT COUNT(*) FROM known_devices") == 0
    created, verification = await auth_api.outbox()
    assert created.type == "auth.account.created.v1"
    assert created.producer == "auth"
    assert created.payload["username"] == "alice"
    assert created.payload["email"] == "alice@example.com"
    assert created.payload["country"] == "Kenya"
    assert verification.type == "auth.email.verification_requested.v1"
    assert verification.payload["to"] == "alice@example.com"
    assert verification.payload["template"] == "verify_email"
    token = verification.payload["token"]
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    stored = await auth_api.scalar("SELECT token_hash FROM account_tokens")
    assert stored != token
    assert len(stored) == 64


async def test_duplicate_signup_is_indistinguishable_and_changes_nothing(auth_api: AuthApi) -> None:
    first = await auth_api.sign_up()
    same_email = await auth_api.sign_up(username="someone_else", email="ALICE@example.com")
    same_username = await auth_api.sign_up(username="alice", email="other@example.com")

    assert first.status_code == same_email.status_code == same_username.status_code == 202
    assert first.json() == same_email.json() == same_username.json()
    assert await auth_api.scalar("SELECT COUNT(*) FROM accounts") == 1
    assert len(await auth_api.outbox()) == 2


async def test_duplicate_signup_takes_as_long_as_a_new_one(auth_api: AuthApi) -> None:
    # The password is hashed (argon2id, ~100 ms) in both cases; skipping it for known addresses would make
    # them answer an order of magnitude faster and reveal which emails are registered.
    await auth_api.sign_up()
    new_durations, duplicate_durations = [], []
    for index in range(3):
        started = time.perf_counter()
        await auth_api.sign_up(username=f"newbie{index}", email=f"newbie{index}@example.com")
        new_durations.append(time.perf_counter() - started)
        started = time.perf_counter()
        await auth_api.sign_up(username=f"other{index}", email="alice@example.com")
        duplicate_durations.append(time.perf_counter() - started)
    assert statistics.median(duplicate_durations) > 0.4 * statistics.median(new_durations)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "alice", "email": "alice@example.com", "password": "short"}, "password"),
        ({"username": "alice", "email": "alice@example.com", "password": "p" * 129}, "password"),
        ({"username": "a!", "email": "alice@example.com", "password": "long enough"}, "username"),
        ({"username": "alice", "email": "not-an-email", "password": "long enough"}, "email"),
        ({"username": "alice", "email": "alice@example.com"}, "password"),
        ({"username": "alice", "email": "alice@example.com", "password": 12345678}, "password"),
        ({"username": "alice", "email": "x" * 400, "password": "long enough"}, "email"),
    ],
)
async def test_bad_signup_input_is_a_422_with_a_message(
    auth_api: AuthApi, body: dict[str, object], field: str
) -> None:
    response = await auth_api.client.post(SIGNUP, json=body, headers={"X-Device-Id": "laptop-1"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"]
    assert field in str(error["details"])
    assert await auth_api.scalar("SELECT COUNT(*) FROM accounts") == 0


async def test_signup_without_device_id_is_refused(auth_api: AuthApi) -> None:
    body = {"username": "alice", "email": "alice@example.com", "password": "long enough"}
    response = await auth_api.client.post(SIGNUP, json=body)
    assert response.status_code == 422
    # A required header of the documented schema: the details name it (field "header.X-Device-Id").
    assert "X-Device-Id" in str(response.json()["error"]["details"])


@pytest.mark.parametrize(
    "content", [b"{not json", b"[]", b"null", b'{"username": ["a"], "email": {}, "password": null}']
)
async def test_malformed_bodies_never_cause_a_500(auth_api: AuthApi, content: bytes) -> None:
    response = await auth_api.client.post(
        SIGNUP, content=content, headers={"Content-Type": "application/json", "X-Device-Id": "d"}
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["message"]
