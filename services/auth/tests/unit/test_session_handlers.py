"""Sign-in on known and new devices, the OTP step, current user and sign-out."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from auth_service.domain.errors import (
    AccountNotFound,
    InvalidCredentials,
    InvalidOtp,
    OtpAttemptsExhausted,
)
from auth_service.domain.events import EmailVerificationRequested, OtpRequested
from auth_service.domain.model import OTP_MAX_ATTEMPTS
from auth_service.service_layer import handlers
from auth_service.service_layer.commands import (
    GetCurrentUser,
    SignIn,
    SignOut,
    SignUp,
    VerifyEmail,
    VerifyOtp,
)

if TYPE_CHECKING:
    from services.auth.tests.unit.conftest import AuthHarness

PASSWORD = "correct horse"


@pytest.fixture
async def signed_up(harness: AuthHarness) -> AuthHarness:
    """Alice signed up and opened her verification link on her laptop (which that makes known)."""
    await handlers.sign_up(SignUp("alice", "alice@example.com", PASSWORD, None, "laptop"), harness.deps)
    [verification] = harness.store.events_of(EmailVerificationRequested)
    assert isinstance(verification, EmailVerificationRequested)
    await handlers.verify_email(VerifyEmail(verification.token, "laptop"), harness.deps)
    return harness


@pytest.mark.parametrize("identifier", ["alice", "ALICE", "Alice@Example.com"])
async def test_sign_in_on_known_device_returns_account(signed_up: AuthHarness, identifier: str) -> None:
    outcome = await handlers.sign_in(SignIn(identifier, PASSWORD, "laptop"), signed_up.deps)
    assert not outcome.otp_required
    assert outcome.account is not None
    assert outcome.account.username == "alice"


@pytest.mark.parametrize(("identifier", "password"), [("alice", "wrong password"), ("bob", PASSWORD)])
async def test_wrong_password_and_unknown_user_fail_alike(
    signed_up: AuthHarness, identifier: str, password: str
) -> None:
    hashes_before = signed_up.hasher.slow_operations
    with pytest.raises(InvalidCredentials) as refused:
        await handlers.sign_in(SignIn(identifier, password, "laptop"), signed_up.deps)
    assert refused.value.code == "invalid_credentials"
    assert signed_up.hasher.slow_operations == hashes_before + 1


async def _request_otp(harness: AuthHarness, device: str = "phone") -> OtpRequested:
    outcome = await handlers.sign_in(SignIn("alice", PASSWORD, device), harness.deps)
    assert outcome.otp_required
    event = harness.store.events_of(OtpRequested)[-1]
    assert isinstance(event, OtpRequested)
    return event


async def test_new_device_gets_an_otp_that_makes_it_known(signed_up: AuthHarness) -> None:
    event = await _request_otp(signed_up)
    assert (event.to, event.expires_in_minutes) == ("alice@example.com", 10)
    [challenge] = signed_up.store.state.challenges.values()
    assert challenge.code_hash == f"otp:{event.otp}"

    account = await handlers.verify_otp(VerifyOtp("alice", event.otp, "phone"), signed_up.deps)

    assert account.username == "alice"
    assert not signed_up.store.state.challenges
    outcome = await handlers.sign_in(SignIn("alice", PASSWORD, "phone"), signed_up.deps)
    assert not outcome.otp_required


async def test_otp_is_bound_to_the_device(signed_up: AuthHarness) -> None:
    event = await _request_otp(signed_up, device="phone")
    with pytest.raises(InvalidOtp):
        await handlers.verify_otp(VerifyOtp("alice", event.otp, "tablet"), signed_up.deps)


async def test_wrong_otps_are_counted_and_exhaust_the_challenge(signed_up: AuthHarness) -> None:
    event = await _request_otp(signed_up)
    for attempt in range(1, OTP_MAX_ATTEMPTS):
        with pytest.raises(InvalidOtp):
            await handlers.verify_otp(VerifyOtp("alice", "000000", "phone"), signed_up.deps)
        [challenge] = signed_up.store.state.challenges.values()
        assert challenge.attempts == attempt
    with pytest.raises(OtpAttemptsExhausted):
        await handlers.verify_otp(VerifyOtp("alice", "000000", "phone"), signed_up.deps)
    # Even the right code is refused now: the limit is what makes 6 digits safe.
    with pytest.raises(OtpAttemptsExhausted):
        await handlers.verify_otp(VerifyOtp("alice", event.otp, "phone"), signed_up.deps)


async def test_malformed_otp_counts_as_an_attempt(signed_up: AuthHarness) -> None:
    await _request_otp(signed_up)
    with pytest.raises(InvalidOtp):
        await handlers.verify_otp(VerifyOtp("alice", "abc", "phone"), signed_up.deps)
    [challenge] = signed_up.store.state.challenges.values()
    assert challenge.attempts == 1


async def test_expired_otp_is_refused(signed_up: AuthHarness) -> None:
    event = await _request_otp(signed_up)
    signed_up.clock.advance(timedelta(minutes=10))
    with pytest.raises(InvalidOtp):
        await handlers.verify_otp(VerifyOtp("alice", event.otp, "phone"), signed_up.deps)


async def test_new_sign_in_replaces_the_pending_challenge(signed_up: AuthHarness) -> None:
    first = await _request_otp(signed_up)
    second = await _request_otp(signed_up)
    assert len(signed_up.store.state.challenges) == 1
    with pytest.raises(InvalidOtp):
        await handlers.verify_otp(VerifyOtp("alice", first.otp, "phone"), signed_up.deps)
    await handlers.verify_otp(VerifyOtp("alice", second.otp, "phone"), signed_up.deps)


async def test_verify_otp_for_unknown_user_is_invalid(signed_up: AuthHarness) -> None:
    with pytest.raises(InvalidOtp):
        await handlers.verify_otp(VerifyOtp("nobody", "123456", "phone"), signed_up.deps)


async def test_outdated_hash_is_upgraded_on_sign_in(signed_up: AuthHarness) -> None:
    [account] = signed_up.store.state.accounts.values()
    account.password_hash = f"{signed_up.hasher.outdated_prefix}{PASSWORD}"
    await handlers.sign_in(SignIn("alice", PASSWORD, "laptop"), signed_up.deps)
    [account] = signed_up.store.state.accounts.values()
    assert account.password_hash == f"hashed:{PASSWORD}"


async def test_current_user_and_sign_out(signed_up: AuthHarness) -> None:
    [account] = signed_up.store.state.accounts.values()
    current = await handlers.get_current_user(GetCurrentUser(account.id), signed_up.deps)
    assert current.email == "alice@example.com"

    await handlers.sign_out(SignOut(account.id), signed_up.deps)

    [account] = signed_up.store.state.accounts.values()
    assert account.last_signed_out_at == signed_up.clock.now


async def test_current_user_of_deleted_account_is_not_found(harness: AuthHarness) -> None:
    from uuid import uuid4

    with pytest.raises(AccountNotFound):
        await handlers.get_current_user(GetCurrentUser(uuid4()), harness.deps)
