"""Contract suite fixtures: the real stack (``tests/e2e/stack.py``) tuned for fuzzing; a signed-in user."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

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

AUTH = "/api/v1/gateway/auth"
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


@pytest.fixture
async def signed_in_user(contract_stack: GigstackStack) -> SignedInUser:
    """A verified account signed in from ``DEVICE_ID`` (the device that opened the verification link, so no
    OTP: signing up alone trusts no device, docs/security.md)."""
    suffix = uuid.uuid4().hex[:10]
    username, email = f"contract{suffix}", f"contract{suffix}@example.com"
    device = {"X-Device-Id": DEVICE_ID}
    async with contract_stack.gateway_client() as gateway:
        account = {"username": username, "email": email, "password": PASSWORD}
        signup = await gateway.post(f"{AUTH}/signup", json=account, headers=device)
        assert signup.status_code == 202, signup.text
        token = await wait_for_mail(contract_stack.mail, email, VERIFY_TOKEN)
        verified = await gateway.post(f"{AUTH}/verify-email", json={"token": token}, headers=device)
        assert verified.status_code == 200, verified.text
        signin = await gateway.post(
            f"{AUTH}/signin", json={"email_or_username": email, "password": PASSWORD}, headers=device
        )
        assert signin.status_code == 200, signin.text
    return SignedInUser(username, email, PASSWORD, DEVICE_ID, signin.json()["access_token"])
