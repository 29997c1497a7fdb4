"""Account-takeover defences: no session for an unproven mailbox, a failed-attempt budget keyed on the
account and counted before the password is checked, and no slow hash while a transaction is open."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import pytest
from auth_service.domain.errors import InvalidCredentials, SignInThrottled, WrongCurrentPassword
from auth_service.domain.events import EmailVerificationRequested, OtpRequested
from auth_service.domain.model import SIGNIN_FREE_FAILURES
from auth_service.service_layer import handlers
from auth_service.service_layer.commands import ChangePassword, SignIn, SignUp, VerifyEmail, VerifyOtp

if TYPE_CHECKING:
    from services.auth.tests.unit.conftest import AuthHarness

PASSWORD = "correct horse"


async def _sign_up(harness: AuthHarness, *, verify_on: str | None = None) -> None:
    await handlers.sign_up(SignUp("alice", "alice@example.com", PASSWORD, None, "laptop"), harness.deps)
    if verify_on is not None:
        [verification] = harness.store.events_of(EmailVerificationRequested)
        assert isinstance(verification, EmailVerificationRequested)
        await handlers.verify_email(VerifyEmail(verification.token, verify_on), harness.deps)


def _account_id(harness: AuthHarness) -> UUID:
    [account] = harness.store.state.accounts.values()
    return account.id


async def test_unverified_account_gets_no_session_even_on_its_sign_up_device(harness: AuthHarness) -> None:
    await _sign_up(harness)

    outcome = await handlers.sign_in(SignIn("alice", PASSWORD, "laptop"), harness.deps)

    assert outcome.otp_required, "whoever registered an address they do not own must not get a session"


async def test_the_otp_read_from_the_mailbox_verifies_the_address(harness: AuthHarness) -> None:
    await _sign_up(harness)
    await handlers.sign_in(SignIn("alice", PASSWORD, "laptop"), harness.deps)
    [otp] = harness.store.events_of(OtpRequested)
    assert isinstance(otp, OtpRequested)

    account = await handlers.verify_otp(VerifyOtp("alice", otp.otp, "laptop"), harness.deps)

    assert account.email_verified
    assert not (await handlers.sign_in(SignIn("alice", PASSWORD, "laptop"), harness.deps)).otp_required


async def test_failed_attempts_are_counted_before_the_password_is_hashed(harness: AuthHarness) -> None:
    await _sign_up(harness, verify_on="laptop")
    for _ in range(SIGNIN_FREE_FAILURES):
        with pytest.raises(InvalidCredentials):
            await handlers.sign_in(SignIn("alice", "wrong password", "laptop"), harness.deps)
    hashes_before = harness.hasher.slow_operations

    with pytest.raises(SignInThrottled) as throttled:
        await handlers.sign_in(SignIn("alice", PASSWORD, "laptop"), harness.deps)

    assert throttled.value.retry_after_seconds >= 1
    assert harness.hasher.slow_operations == hashes_before, "a throttled attempt must not reach argon2"


@pytest.mark.parametrize(
    "variant",
    [
        "ALICE",
        "\uff41\uff4c\uff49\uff43\uff45",
        "ali\u200bce",
        " alice ",
        "Alice@Example.com",
        "alice@EXAMPLE.com\u200d",
    ],
)
async def test_every_spelling_of_an_account_spends_the_same_budget(
    harness: AuthHarness, variant: str
) -> None:
    await _sign_up(harness, verify_on="laptop")
    for _ in range(SIGNIN_FREE_FAILURES):
        with pytest.raises(InvalidCredentials):
            await handlers.sign_in(SignIn("alice", "wrong password", "laptop"), harness.deps)

    with pytest.raises(SignInThrottled):
        await handlers.sign_in(SignIn(variant, "wrong password", "laptop"), harness.deps)


async def test_a_success_refunds_the_attempt_and_restores_the_budget(harness: AuthHarness) -> None:
    await _sign_up(harness, verify_on="laptop")
    for _ in range(SIGNIN_FREE_FAILURES - 1):
        with pytest.raises(InvalidCredentials):
            await handlers.sign_in(SignIn("alice", "wrong password", "laptop"), harness.deps)

    assert not (await handlers.sign_in(SignIn("alice", PASSWORD, "laptop"), harness.deps)).otp_required

    [account] = harness.store.state.accounts.values()
    assert account.failed_signins == 0


async def test_after_the_delay_a_correct_password_still_needs_an_otp(harness: AuthHarness) -> None:
    """Growing delays, not a hard lock: the owner gets in after the delay, the mailbox as second proof."""
    await _sign_up(harness, verify_on="laptop")
    for _ in range(SIGNIN_FREE_FAILURES):
        with pytest.raises(InvalidCredentials):
            await handlers.sign_in(SignIn("alice", "wrong password", "laptop"), harness.deps)
    harness.clock.advance(timedelta(seconds=2))

    outcome = await handlers.sign_in(SignIn("alice", PASSWORD, "laptop"), harness.deps)

    assert outcome.otp_required


async def test_the_delay_grows_with_each_failure_up_to_a_cap(harness: AuthHarness) -> None:
    await _sign_up(harness, verify_on="laptop")
    delays = []
    for _ in range(40):
        try:
            await handlers.sign_in(SignIn("alice", "wrong password", "laptop"), harness.deps)
        except InvalidCredentials:
            continue
        except SignInThrottled as throttled:
            delays.append(throttled.retry_after_seconds)
            harness.clock.advance(timedelta(seconds=throttled.retry_after_seconds))
    assert delays == sorted(delays)
    assert delays[0] == 1
    assert max(delays) == 15 * 60


async def test_change_password_counts_wrong_current_passwords(harness: AuthHarness) -> None:
    await _sign_up(harness, verify_on="laptop")
    account_id = _account_id(harness)
    for _ in range(SIGNIN_FREE_FAILURES):
        with pytest.raises(WrongCurrentPassword):
            await handlers.change_password(
                ChangePassword(account_id, "guess-" + "x" * 8, "New password 1"),
                harness.deps,
            )

    with pytest.raises(SignInThrottled):
        await handlers.change_password(
            ChangePassword(account_id, PASSWORD, "New password 1"),
            harness.deps,
        )


async def test_no_slow_hash_runs_while_a_transaction_is_open(harness: AuthHarness) -> None:
    await _sign_up(harness, verify_on="laptop")
    await handlers.sign_in(SignIn("alice", PASSWORD, "laptop"), harness.deps)
    await handlers.sign_in(SignIn("alice", PASSWORD, "phone"), harness.deps)
    otp = harness.store.events_of(OtpRequested)[-1]
    assert isinstance(otp, OtpRequested)
    await handlers.verify_otp(VerifyOtp("alice", otp.otp, "phone"), harness.deps)
    with pytest.raises(InvalidCredentials):
        await handlers.sign_in(SignIn("bob", PASSWORD, "laptop"), harness.deps)
    await handlers.change_password(
        ChangePassword(_account_id(harness), PASSWORD, "New password 1"),
        harness.deps,
    )

    assert harness.hasher.slow_operations > 0
    assert harness.store.hashes_inside_a_transaction == 0
