"""Store failures: lock conflicts rerun the whole command, anything lasting becomes a 503, never a 500."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from auth_service.domain.errors import InvalidToken
from auth_service.domain.events import PasswordResetRequested
from auth_service.entrypoints.errors import AUTH_ERRORS, STORE_RETRY_AFTER_SECONDS
from auth_service.service_layer import handlers, retry
from auth_service.service_layer.commands import ForgotPassword, ResetPassword, SignUp
from auth_service.service_layer.errors import StoreConflictError, StoreUnavailableError

if TYPE_CHECKING:
    from services.auth.tests.unit.conftest import AuthHarness

PASSWORD = "correct horse"
real_backoff_seconds = retry.backoff_seconds


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "backoff_seconds", lambda failed_attempts: 0.0)


@pytest.fixture
async def alice(harness: AuthHarness) -> AuthHarness:
    await handlers.sign_up(SignUp("alice", "alice@example.com", PASSWORD, None, "laptop"), harness.deps)
    return harness


async def test_a_conflicting_command_is_rerun_in_a_fresh_unit_of_work(alice: AuthHarness) -> None:
    alice.store.failing_commits = [StoreConflictError("deadlock"), StoreConflictError("lock wait timeout")]
    commits_before = alice.store.commits

    await handlers.forgot_password(ForgotPassword("alice@example.com"), alice.deps)

    # Two aborted attempts left nothing behind; the third committed exactly one request and one event.
    assert alice.store.failing_commits == []
    assert alice.store.commits == commits_before + 1
    assert len(alice.store.events_of(PasswordResetRequested)) == 1
    assert sum(token.used_at is None for token in alice.store.state.tokens.values()) == 2  # verify + reset


async def test_conflicts_that_outlast_the_attempts_become_unavailable(alice: AuthHarness) -> None:
    alice.store.failing_commits = [StoreConflictError("deadlock") for _ in range(retry.MAX_ATTEMPTS)]

    with pytest.raises(StoreUnavailableError) as raised:
        await handlers.forgot_password(ForgotPassword("alice@example.com"), alice.deps)

    assert isinstance(raised.value.__cause__, StoreConflictError)
    assert alice.store.events_of(PasswordResetRequested) == []


async def test_an_unavailable_store_is_not_retried(alice: AuthHarness) -> None:
    alice.store.failing_commits = [StoreUnavailableError(), StoreUnavailableError()]

    with pytest.raises(StoreUnavailableError):
        await handlers.forgot_password(ForgotPassword("alice@example.com"), alice.deps)

    assert len(alice.store.failing_commits) == 1


async def test_domain_errors_are_not_retried(alice: AuthHarness) -> None:
    hashes_before = alice.hasher.slow_operations

    with pytest.raises(InvalidToken):
        await handlers.reset_password(ResetPassword("bogus", "new password", "new password"), alice.deps)

    assert alice.hasher.slow_operations == hashes_before + 1


async def test_token_commands_lock_the_account_row_first(alice: AuthHarness) -> None:
    [account] = alice.store.state.accounts.values()
    alice.store.locked_accounts.clear()

    await handlers.forgot_password(ForgotPassword("alice@example.com"), alice.deps)
    [event] = alice.store.events_of(PasswordResetRequested)
    assert isinstance(event, PasswordResetRequested)
    await handlers.reset_password(ResetPassword(event.token, "new password", "new password"), alice.deps)

    assert alice.store.locked_accounts == [account.id, account.id]


async def test_forgot_password_for_an_unknown_email_locks_nothing(harness: AuthHarness) -> None:
    await handlers.forgot_password(ForgotPassword("nobody@example.com"), harness.deps)

    assert harness.store.locked_accounts == []


def test_backoff_is_jittered_and_capped() -> None:
    samples = [real_backoff_seconds(attempt) for attempt in (1, 2, 10) for _ in range(200)]

    assert all(0 <= sample <= retry.BACKOFF_CAP_SECONDS for sample in samples)
    assert len(set(samples)) > 100


def test_unavailable_store_is_reported_as_503_with_retry_after() -> None:
    busy = StoreUnavailableError("The account store is busy; try again shortly")
    reported = AUTH_ERRORS.as_service_error(busy)

    assert (reported.status_code, reported.code) == (503, "unavailable")
    assert reported.message == "The account store is busy; try again shortly"
    assert reported.headers == {"Retry-After": str(STORE_RETRY_AFTER_SECONDS)}
