"""Forgot, reset and change password."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from auth_service.domain.errors import (
    CredentialsPolicyViolation,
    InvalidCredentials,
    InvalidToken,
    PasswordConfirmationMismatch,
    WrongCurrentPassword,
)
from auth_service.domain.events import (
    EmailVerificationRequested,
    PasswordResetCompleted,
    PasswordResetRequested,
)
from auth_service.service_layer import handlers
from auth_service.service_layer.commands import (
    ChangePassword,
    ForgotPassword,
    ResetPassword,
    SignIn,
    SignUp,
    VerifyEmail,
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


async def _reset_token(harness: AuthHarness) -> str:
    await handlers.forgot_password(ForgotPassword("Alice@Example.com"), harness.deps)
    event = harness.store.events_of(PasswordResetRequested)[-1]
    assert isinstance(event, PasswordResetRequested)
    return event.token


async def test_forgot_password_for_unknown_email_does_nothing(signed_up: AuthHarness) -> None:
    outbox_before, commits_before = list(signed_up.store.outbox), signed_up.store.commits
    await handlers.forgot_password(ForgotPassword("bob@example.com"), signed_up.deps)
    assert signed_up.store.outbox == outbox_before
    assert signed_up.store.commits == commits_before


async def test_forgot_password_emails_a_reset_link(signed_up: AuthHarness) -> None:
    token = await _reset_token(signed_up)
    event = signed_up.store.events_of(PasswordResetRequested)[-1]
    assert isinstance(event, PasswordResetRequested)
    assert (event.to, event.username, event.token) == ("alice@example.com", "alice", token)


async def test_reset_password_is_single_use_and_changes_the_password(signed_up: AuthHarness) -> None:
    token = await _reset_token(signed_up)

    await handlers.reset_password(ResetPassword(token, "new password!", "new password!"), signed_up.deps)

    completed = signed_up.store.events_of(PasswordResetCompleted)
    assert len(completed) == 1
    with pytest.raises(InvalidToken):
        await handlers.reset_password(ResetPassword(token, "other pass", "other pass"), signed_up.deps)
    with pytest.raises(InvalidCredentials):
        await handlers.sign_in(SignIn("alice", PASSWORD, "laptop"), signed_up.deps)
    outcome = await handlers.sign_in(SignIn("alice", "new password!", "laptop"), signed_up.deps)
    assert outcome.account is not None


async def test_only_the_newest_reset_link_works(signed_up: AuthHarness) -> None:
    first = await _reset_token(signed_up)
    second = await _reset_token(signed_up)
    with pytest.raises(InvalidToken):
        await handlers.reset_password(ResetPassword(first, "new password!", "new password!"), signed_up.deps)
    await handlers.reset_password(ResetPassword(second, "new password!", "new password!"), signed_up.deps)


async def test_expired_reset_link_is_refused(signed_up: AuthHarness) -> None:
    token = await _reset_token(signed_up)
    signed_up.clock.advance(timedelta(hours=1, seconds=1))
    with pytest.raises(InvalidToken):
        await handlers.reset_password(ResetPassword(token, "new password!", "new password!"), signed_up.deps)


async def test_reset_checks_confirmation_and_policy_without_consuming_token(signed_up: AuthHarness) -> None:
    token = await _reset_token(signed_up)
    with pytest.raises(PasswordConfirmationMismatch):
        await handlers.reset_password(ResetPassword(token, "new password!", "other one!"), signed_up.deps)
    with pytest.raises(CredentialsPolicyViolation):
        await handlers.reset_password(ResetPassword(token, "short", "short"), signed_up.deps)
    await handlers.reset_password(ResetPassword(token, "new password!", "new password!"), signed_up.deps)


async def test_change_password_requires_the_current_one(signed_up: AuthHarness) -> None:
    [account] = signed_up.store.state.accounts.values()
    with pytest.raises(WrongCurrentPassword) as refused:
        await handlers.change_password(ChangePassword(account.id, "wrong", "brand new pw"), signed_up.deps)
    assert refused.value.code == "invalid_current_password"

    await handlers.change_password(ChangePassword(account.id, PASSWORD, "brand new pw"), signed_up.deps)

    [account] = signed_up.store.state.accounts.values()
    assert account.password_hash == "hashed:brand new pw"


async def test_change_password_applies_the_policy(signed_up: AuthHarness) -> None:
    [account] = signed_up.store.state.accounts.values()
    with pytest.raises(CredentialsPolicyViolation):
        await handlers.change_password(ChangePassword(account.id, PASSWORD, "short"), signed_up.deps)
    with pytest.raises(CredentialsPolicyViolation, match="differ"):
        await handlers.change_password(ChangePassword(account.id, PASSWORD, PASSWORD), signed_up.deps)
