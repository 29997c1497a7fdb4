"""Contract suite fixtures: the real stack (``tests/e2e/stack.py``) tuned for fuzzing; a signed-in user and a
seller that user can trade with."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import Backend
from gigstack_testinfra.mail import MailCatcher

# importlib import mode does not put test folders on sys.path; the stack and mail helpers live in tests/e2e.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from contract_support import SignedInUser
from e2e_mail import VERIFY_TOKEN, wait_for_mail
from marketplace_stack import marketplace_stack
from stack import GigstackStack

API = "/api/v1/gateway"
AUTH = f"{API}/auth"
DEVICE_ID = "contract-suite-device"
PASSWORD = "Contract-Suite-Password-7"
# A fuzzer sends thousands of requests from one IP and many failed sign-ins for made-up accounts: budgets
# sized for people would turn most answers into 429s. Only this stack is configured so; the defaults stay.
FUZZING_GATEWAY_ENV = {
    "RATE_LIMIT_PER_IP_PER_MINUTE": "1000000",
    "RATE_LIMIT_PER_ACCOUNT_PER_MINUTE": "1000000",
    "SIGNIN_FAILURES_BEFORE_LOCK": "1000000",
}


@pytest.fixture
async def contract_stack(
    gigstack_backend: Backend,
    mail_catcher: MailCatcher,
    internal_keypair: tuple[str, str],
    _redis_databases: isolation.RedisDatabaseAllocator,
    tmp_path: Path,
) -> AsyncIterator[GigstackStack]:
    """Every service of the marketplace (the journey's stack): each public operation reaches its service."""
    async with marketplace_stack(
        gigstack_backend,
        mail_catcher,
        internal_keypair,
        tmp_path,
        gateway_env=FUZZING_GATEWAY_ENV,
        redis_databases=_redis_databases,
    ) as stack:
        yield stack


async def _verified_session(stack: GigstackStack, gateway: httpx.AsyncClient, prefix: str) -> dict[str, Any]:
    """A new account, its address verified from ``DEVICE_ID`` and signed in there (no OTP: signing up alone
    trusts no device, docs/security.md); the session answer, with the account's email and username."""
    suffix = uuid.uuid4().hex[:10]
    username, email = f"{prefix}{suffix}", f"{prefix}{suffix}@example.com"
    device = {"X-Device-Id": DEVICE_ID}
    account = {"username": username, "email": email, "password": PASSWORD}
    signup = await gateway.post(f"{AUTH}/signup", json=account, headers=device)
    assert signup.status_code == 202, signup.text
    token = await wait_for_mail(stack.mail, email, VERIFY_TOKEN)
    verified = await gateway.post(f"{AUTH}/verify-email", json={"token": token}, headers=device)
    assert verified.status_code == 200, verified.text
    signin = await gateway.post(
        f"{AUTH}/signin", json={"email_or_username": email, "password": PASSWORD}, headers=device
    )
    assert signin.status_code == 200, signin.text
    session: dict[str, Any] = signin.json()
    return session


@pytest.fixture
async def signed_in_user(contract_stack: GigstackStack) -> SignedInUser:
    """A verified account signed in from ``DEVICE_ID``: the one schemathesis calls the API as."""
    async with contract_stack.gateway_client() as gateway:
        session = await _verified_session(contract_stack, gateway, "contract")
    user = session["user"]
    return SignedInUser(
        user["username"], user["email"], PASSWORD, DEVICE_ID, session["access_token"], user["id"]
    )


async def _once_replicated(call: Callable[[], Awaitable[httpx.Response]], expected: int) -> httpx.Response:
    """``call`` until it answers ``expected``: a new account reaches users, gig and chat by events, so the
    first calls can be a 404 (or 403 while gig has not heard of the seller)."""
    for _ in range(60):
        answer = await call()
        if answer.status_code == expected:
            return answer
        await asyncio.sleep(0.5)
    raise AssertionError(f"still {answer.status_code}: {answer.text}")


@pytest.fixture
async def trading_partner(contract_stack: GigstackStack, signed_in_user: SignedInUser) -> dict[str, Any]:
    """Another seller, with an active gig and a pending custom offer on it in a conversation with the
    signed-in user: what the stateful phase's links lead to (gigs.search -> orders.create,
    chat.conversations -> chat.messages -> chat.respondToOffer -> orders.create -> payments.devConfirm -> the
    order's steps). With the signed-in user alone every order would be of their own gig, refused first."""
    async with contract_stack.gateway_client() as gateway:
        session = await _verified_session(contract_stack, gateway, "partner")
        auth = {"Authorization": f"Bearer {session['access_token']}", "X-Device-Id": DEVICE_ID}
        seller = {
            "full_name": "Pat Partner",
            "one_liner": "Logos that last",
            "description": "Logos and brand marks for small shops.",
            "skills": ["logo design"],
            "languages": [{"language": "English", "level": "fluent"}],
            "response_time_hours": 24,
        }
        await _once_replicated(lambda: gateway.post(f"{API}/sellers", json=seller, headers=auth), 201)
        gig_fields = {
            "title": "A logo for your shop",
            "description": "Three logo drafts and the final files in every format you need",
            "category": "logo-design",
            "price": 5000,
            "delivery_days": 4,
        }
        created = await _once_replicated(
            lambda: gateway.post(f"{API}/gigs", json=gig_fields, headers=auth), 201
        )
        gig: dict[str, Any] = created.json()
        offer = {
            "gig_id": gig["id"],
            "description": "One logo, two drafts",
            "price": 3000,
            "currency": "USD",
            "delivery_days": 3,
            "expires_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        }
        # The offer opens the conversation, so it is the newest message (`chat.messages` `#/items/0/offer`).
        message = {"recipient_id": signed_in_user.user_id, "kind": "offer", "offer": offer}
        sent = await _once_replicated(
            lambda: gateway.post(f"{API}/chat/messages", json=message, headers=auth), 201
        )
    return {"user": session["user"], "gig": gig, "offer": sent.json()["offer"]}
