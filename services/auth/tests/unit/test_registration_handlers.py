"""Sign-up, email verification and resend, against fakes of the service's own ports."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from auth_service.domain.errors import CredentialsPolicyViolation, EmailAlreadyVerified, InvalidToken
from auth_service.domain.events import AccountCreated, EmailVerificationRequested
from auth_service.service_layer import handlers
from auth_service.service_layer.commands import ResendVerification, SeedAccounts, SignUp, VerifyEmail

if TYPE_CHECKING:
    from services.auth.tests.unit.conftest import AuthHarness


def _sign_up(**overrides: str | None) -> SignUp:
    values: dict[str, str | None] = {
        "username": "Alice",
        "email": "Alice@Example.com",
        "password": "correct horse",
        "country": "Kenya",
        "device_id": "device-1",
    }
    values.update(overrides)
    return SignUp(**values)  # type: ignore[arg-type]


async def test_sign_up_creates_account_and_two_events_but_trusts_no_device(harness: AuthHarness) -> None:
    await handlers.sign_up(_sign_up(), harness.deps)

    [account] = harness.store.state.accounts.values()
    assert (account.username, account.email, account.country) == ("alice", "alice@example.com", "Kenya")
    assert account.password_hash == "hashed:correct horse"
    assert not account.email_verified
    # Signing up proves nothing about the mailbox: the device is trusted only by the link or an OTP.
    assert harness.store.state.devices == set()
    created, verification = harness.store.outbox
    assert isinstance(created, AccountCreated)
    assert created.user_id == str(account.id)
    assert isinstance(verification, EmailVerificationRequested)
    assert (verification.to, verification.username) == ("alice@example.com", "alice")
    [token] = harness.store.state.tokens.values()
    assert token.token_hash != verification.token
    assert token.expires_at == harness.clock.now + timedelta(hours=24)


@pytest.mark.parametrize(
    "duplicate",
    [{"email": "ALICE@example.com", "username": "other"}, {"username": "ALICE", "email": "o@x.io"}],
)
async def test_duplicate_sign_up_changes_nothing_but_still_hashes(
    harness: AuthHarness, duplicate: dict[str, str]
) -> None:
    await handlers.sign_up(_sign_up(), harness.deps)
    outbox_before, hashes_before = list(harness.store.outbox), harness.hasher.slow_operations

    await handlers.sign_up(_sign_up(**duplicate), harness.deps)

    assert len(harness.store.state.accounts) == 1
    assert harness.store.outbox == outbox_before
    assert harness.hasher.slow_operations == hashes_before + 1


async def test_sign_up_rejects_short_password_before_touching_the_store(harness: AuthHarness) -> None:
    with pytest.raises(CredentialsPolicyViolation):
        await handlers.sign_up(_sign_up(password="short"), harness.deps)
    assert harness.store.commits == 0
    assert harness.hasher.slow_operations == 0


async def test_verify_email_marks_account_verified_once(harness: AuthHarness) -> None:
    await handlers.sign_up(_sign_up(), harness.deps)
    verification = harness.store.events_of(EmailVerificationRequested)[0]
    assert isinstance(verification, EmailVerificationRequested)

    account = await handlers.verify_email(VerifyEmail(token=verification.token), harness.deps)

    assert account.email_verified
    assert next(iter(harness.store.state.accounts.values())).email_verified
    with pytest.raises(InvalidToken):
        await handlers.verify_email(VerifyEmail(token=verification.token), harness.deps)


async def test_verify_email_refuses_unknown_and_expired_tokens(harness: AuthHarness) -> None:
    await handlers.sign_up(_sign_up(), harness.deps)
    verification = harness.store.events_of(EmailVerificationRequested)[0]
    assert isinstance(verification, EmailVerificationRequested)
    with pytest.raises(InvalidToken):
        await handlers.verify_email(VerifyEmail(token="not-a-token"), harness.deps)
    harness.clock.advance(timedelta(hours=24))
    with pytest.raises(InvalidToken):
        await handlers.verify_email(VerifyEmail(token=verification.token), harness.deps)


async def test_resend_verification_revokes_the_previous_link(harness: AuthHarness) -> None:
    await handlers.sign_up(_sign_up(), harness.deps)
    [account] = harness.store.state.accounts.values()
    first = harness.store.events_of(EmailVerificationRequested)[0]
    assert isinstance(first, EmailVerificationRequested)

    await handlers.resend_verification(ResendVerification(account_id=account.id), harness.deps)

    second = harness.store.events_of(EmailVerificationRequested)[1]
    assert isinstance(second, EmailVerificationRequested)
    assert second.token != first.token
    with pytest.raises(InvalidToken):
        await handlers.verify_email(VerifyEmail(token=first.token), harness.deps)
    verified = await handlers.verify_email(VerifyEmail(token=second.token), harness.deps)
    assert verified.email_verified
    with pytest.raises(EmailAlreadyVerified):
        await handlers.resend_verification(ResendVerification(account_id=account.id), harness.deps)


async def test_seed_creates_verified_accounts_with_one_hash(harness: AuthHarness) -> None:
    accounts = await handlers.seed_accounts(SeedAccounts(count=5), harness.deps)

    assert len(accounts) == len(harness.store.state.accounts) == 5
    assert all(account.email_verified for account in accounts)
    assert len(harness.store.events_of(AccountCreated)) == 5
    assert harness.hasher.slow_operations == 1
