"""The short load: authenticated reads through the gateway and forgot-password requests that become emails."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from gigstack_testinfra.mail import MailCatcher

DEVICE = {"X-Device-Id": "bench-idle-memory"}
RESET_SUBJECT = "Reset your Gigstack password"
VERIFY_TOKEN = re.compile(r"confirm_email\?v_token=([A-Za-z0-9_\-.~%]+)")


@dataclass
class LoadOutcome:
    requests: int = 0
    errors: int = 0
    emails: int = 0
    seconds: float = 0.0
    error_statuses: Counter[int] = field(default_factory=Counter)


async def create_user(client: httpx.AsyncClient, mail: MailCatcher) -> tuple[str, str]:
    """Sign up, confirm the email on this device (so it is known), sign in; returns (email, access token).

    An unverified account gets no session, so the confirmation link from the verification email comes first.
    """
    suffix = uuid.uuid4().hex[:10]
    account = {
        "username": f"mem{suffix}",
        "email": f"mem{suffix}@example.com",
        "password": "Bench-Password-42",
    }
    (await client.post("/api/v1/gateway/auth/signup", json=account, headers=DEVICE)).raise_for_status()
    token = await _verification_token(mail, account["email"])
    verified = await client.post("/api/v1/gateway/auth/verify-email", json={"token": token}, headers=DEVICE)
    verified.raise_for_status()
    signin = await client.post(
        "/api/v1/gateway/auth/signin",
        json={"email_or_username": account["username"], "password": account["password"]},
        headers=DEVICE,
    )
    signin.raise_for_status()
    return account["email"], str(signin.json()["access_token"])


async def _verification_token(mail: MailCatcher, to: str) -> str:
    def matches(message: dict[str, Any]) -> bool:
        return to in message.get("to", []) and VERIFY_TOKEN.search(str(message.get("text", ""))) is not None

    found = await mail.wait_for_messages(1, timeout=30.0, where=matches)
    match = VERIFY_TOKEN.search(str(found[0].get("text", "")))
    if match is None:
        raise RuntimeError(f"no verification link in the email to {to}")
    return match.group(1)


async def _spread(
    count: int, concurrency: int, call: Callable[[], Awaitable[httpx.Response]], statuses: Counter[int]
) -> tuple[int, int]:
    remaining = count
    errors = 0

    async def worker() -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            response = await call()
            if response.status_code >= 400:
                errors += 1
                statuses[response.status_code] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count, errors


async def run_load(
    gateway_url: str, mail: MailCatcher, *, reads: int, resets: int, concurrency: int
) -> LoadOutcome:
    """``reads`` GET me + ``resets`` forgot-password requests through the gateway; waits for the emails."""
    outcome = LoadOutcome()
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30, trust_env=False) as client:
        email, token = await create_user(client, mail)
        headers = {"Authorization": f"Bearer {token}", **DEVICE}

        async def read_me() -> httpx.Response:
            return await client.get("/api/v1/gateway/auth/me", headers=headers)

        async def forgot() -> httpx.Response:
            return await client.post(
                "/api/v1/gateway/auth/forgot-password", json={"email": email}, headers=DEVICE
            )

        read_count, read_errors = await _spread(reads, concurrency, read_me, outcome.error_statuses)
        # Fewer concurrent resets: each one is a write transaction on the same account row in auth.
        reset_count, reset_errors = await _spread(
            resets, max(1, concurrency // 2), forgot, outcome.error_statuses
        )
    outcome.requests = read_count + reset_count + 2
    outcome.errors = read_errors + reset_errors
    expected_emails = reset_count - reset_errors
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        messages = await asyncio.to_thread(mail.messages)
        outcome.emails = sum(1 for m in messages if m.get("subject") == RESET_SUBJECT)
        if outcome.emails >= expected_emails:
            break
        await asyncio.sleep(1.0)
    outcome.seconds = time.monotonic() - started
    return outcome
