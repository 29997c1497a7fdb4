"""RequestThrottle: request budgets per IP and per account, and the failed-sign-in lock."""

from __future__ import annotations

from gateway_service.domain.exceptions import RateLimitedError
from gateway_service.domain.rate_limits import (
    RateDecision,
    RateLimitPolicy,
    RateRule,
    normalise_account_identifier,
)
from gateway_service.service_layer.ports import RateLimiter


class RequestThrottle:
    def __init__(self, limiter: RateLimiter, policy: RateLimitPolicy) -> None:
        self._limiter = limiter
        self._policy = policy

    async def admit_ip(self, client_ip: str) -> None:
        self._raise_if_refused(
            self._policy.requests_per_ip, await self._limiter.hit(self._policy.requests_per_ip, client_ip)
        )

    async def admit_account(self, user_id: str) -> None:
        rule = self._policy.requests_per_account
        self._raise_if_refused(rule, await self._limiter.hit(rule, user_id))

    async def admit_signin_attempt(self, account_identifier: str, client_ip: str) -> None:
        """Count the attempt against both failure budgets *before* auth checks the password.

        Counting after the (slow) check let a burst of parallel guesses all pass a peek at the counter;
        counting first means the budget bounds how many ever reach auth. ``refund_signin_attempt`` gives the
        attempt back once it proved not to be a failure.
        """
        account = normalise_account_identifier(account_identifier)
        acquired: list[tuple[RateRule, str]] = []
        for rule, key in self._failure_counters(account, client_ip):
            decision = await self._limiter.acquire(rule, key)
            if not decision.allowed:
                for taken_rule, taken_key in acquired:
                    await self._limiter.refund(taken_rule, taken_key)
                self._raise_if_refused(rule, decision)
            acquired.append((rule, key))

    async def refund_signin_attempt(self, account_identifier: str, client_ip: str) -> None:
        """The attempt succeeded (or failed for a reason other than the credentials): it does not count."""
        account = normalise_account_identifier(account_identifier)
        for rule, key in self._failure_counters(account, client_ip):
            await self._limiter.refund(rule, key)

    def _failure_counters(self, account: str, client_ip: str) -> tuple[tuple[RateRule, str], ...]:
        return (
            (self._policy.signin_failures_per_account, account),
            (self._policy.signin_failures_per_ip, client_ip),
        )

    @staticmethod
    def _raise_if_refused(rule: RateRule, decision: RateDecision) -> None:
        if not decision.allowed:
            raise RateLimitedError(rule.name, max(1, decision.retry_after_seconds))
