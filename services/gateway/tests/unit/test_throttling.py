"""Rate-limit policy and the failed-sign-in lock (fake limiter of our own port)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gateway_service.domain.exceptions import RateLimitedError
from gateway_service.domain.rate_limits import RateLimitPolicy, normalise_account_identifier
from gateway_service.service_layer.throttling import RequestThrottle


def _throttle(limiter: Any, failures: int = 3) -> RequestThrottle:
    policy = RateLimitPolicy.build(
        per_ip_per_minute=5,
        per_account_per_minute=3,
        signin_failures_before_lock=failures,
        signin_failure_window_seconds=600,
    )
    return RequestThrottle(limiter, policy)


async def test_account_locks_after_the_configured_failures(limiter: Any) -> None:
    throttle = _throttle(limiter, failures=3)
    for _ in range(3):
        await throttle.admit_signin_attempt("Alice@Example.com", "10.0.0.1")

    # Another address and other spellings of the same account are locked too.
    for spelling in ("alice@example.com ", "\uff21lice@example.com", "ali\u200bce@example.com"):
        with pytest.raises(RateLimitedError) as refused:
            await throttle.admit_signin_attempt(spelling, "10.0.0.2")
        assert refused.value.rule_name == "signin_failures_per_account"
        assert 0 < refused.value.retry_after_seconds <= 600


async def test_attempts_are_counted_before_the_outcome_so_a_burst_cannot_slip_through(limiter: Any) -> None:
    throttle = _throttle(limiter, failures=3)
    outcomes = await asyncio.gather(
        *(throttle.admit_signin_attempt("dave", "10.0.0.1") for _ in range(50)), return_exceptions=True
    )
    assert sum(outcome is None for outcome in outcomes) == 3


async def test_lock_expires_with_its_window(limiter: Any) -> None:
    throttle = _throttle(limiter, failures=1)
    await throttle.admit_signin_attempt("bob", "10.0.0.1")
    with pytest.raises(RateLimitedError):
        await throttle.admit_signin_attempt("bob", "10.0.0.1")
    limiter.now += 601
    await throttle.admit_signin_attempt("bob", "10.0.0.1")


async def test_a_refunded_attempt_does_not_count(limiter: Any) -> None:
    throttle = _throttle(limiter, failures=2)
    await throttle.admit_signin_attempt("carol", "10.0.0.9")
    await throttle.refund_signin_attempt("carol", "10.0.0.9")
    await throttle.admit_signin_attempt("carol", "10.0.0.9")
    await throttle.admit_signin_attempt("carol", "10.0.0.9")  # one refunded, two counted: at the limit
    with pytest.raises(RateLimitedError):
        await throttle.admit_signin_attempt("carol", "10.0.0.9")

    # The address counts across accounts: 2 failures so far, budget 2 * 4 = 8.
    for account in ("d1", "d2", "d3", "d4", "d5", "d6"):
        await throttle.admit_signin_attempt(account, "10.0.0.9")
    with pytest.raises(RateLimitedError) as refused:
        await throttle.admit_signin_attempt("someone-new", "10.0.0.9")
    assert refused.value.rule_name == "signin_failures_per_ip"


async def test_request_budgets_per_ip_and_per_account(limiter: Any) -> None:
    throttle = _throttle(limiter)
    for _ in range(5):
        await throttle.admit_ip("10.0.0.1")
    with pytest.raises(RateLimitedError):
        await throttle.admit_ip("10.0.0.1")
    await throttle.admit_ip("10.0.0.2")

    for _ in range(3):
        await throttle.admit_account("u1")
    with pytest.raises(RateLimitedError):
        await throttle.admit_account("u1")


def test_policy_refuses_non_positive_limits() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimitPolicy.build(per_ip_per_minute=0, per_account_per_minute=1, signin_failures_before_lock=1)


def test_failure_rules_are_exact_and_ip_budget_is_larger() -> None:
    policy = RateLimitPolicy.build(
        per_ip_per_minute=10, per_account_per_minute=10, signin_failures_before_lock=5
    )
    assert policy.signin_failures_per_account.exact
    assert policy.signin_failures_per_ip.exact
    assert policy.signin_failures_per_ip.limit > policy.signin_failures_per_account.limit
    assert normalise_account_identifier("  Bob ") == "bob"
