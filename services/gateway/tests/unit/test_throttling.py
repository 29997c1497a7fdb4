"""Rate-limit policy and the failed-sign-in lock (fake limiter of our own port)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gateway_service.domain.errors import RateLimitedError
from gateway_service.domain.rate_limits import RateLimitPolicy
from gateway_service.service_layer.throttling import RequestThrottle


def _throttle(limiter: Any, failures: int = 3) -> RequestThrottle:
    policy = RateLimitPolicy.build(
        per_ip_per_minute=5,
        per_account_per_minute=3,
        signin_failures_before_lock=failures,
        signin_failure_window_seconds=600,
    )
    return RequestThrottle(limiter, policy)


async def test_attempts_are_counted_before_the_outcome_so_a_burst_cannot_slip_through(limiter: Any) -> None:
    throttle = _throttle(limiter, failures=3)
    outcomes = await asyncio.gather(
        *(throttle.admit_signin_attempt("10.0.0.1") for _ in range(50)), return_exceptions=True
    )
    assert sum(outcome is None for outcome in outcomes) == 3 * 4  # the address's budget
    refused = [outcome for outcome in outcomes if isinstance(outcome, RateLimitedError)]
    assert {error.rule_name for error in refused} == {"signin_failures_per_ip"}
    assert all(0 < error.retry_after_seconds <= 600 for error in refused)


async def test_lock_expires_with_its_window(limiter: Any) -> None:
    throttle = _throttle(limiter, failures=1)
    for _ in range(4):
        await throttle.admit_signin_attempt("10.0.0.1")
    with pytest.raises(RateLimitedError):
        await throttle.admit_signin_attempt("10.0.0.1")
    await throttle.admit_signin_attempt("10.0.0.2")  # another address is unaffected
    limiter.now += 601
    await throttle.admit_signin_attempt("10.0.0.1")


async def test_a_refunded_attempt_does_not_count(limiter: Any) -> None:
    throttle = _throttle(limiter, failures=1)
    for _ in range(10):
        await throttle.admit_signin_attempt("10.0.0.9")
        await throttle.refund_signin_attempt("10.0.0.9")
    for _ in range(4):
        await throttle.admit_signin_attempt("10.0.0.9")
    with pytest.raises(RateLimitedError):
        await throttle.admit_signin_attempt("10.0.0.9")


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
    assert policy.signin_failures_per_ip.exact
    assert policy.signin_failures_per_ip.limit == 5 * 4
