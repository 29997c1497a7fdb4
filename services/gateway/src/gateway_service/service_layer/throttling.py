"""RequestThrottle: request budgets per IP and per account, and the failed-sign-in lock."""

from __future__ import annotations

from gateway_service.domain.errors import RateLimitedError
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

    async def ensure_signin_allowed(self, account_identifier: str, client_ip: str) -> None:
        """Refuse before the credentials reach auth once either failure budget is spent."""
        account = normalise_account_identifier(account_identifier)
        for rule, key in self._failure_counters(account, client_ip):
            self._raise_if_refused(rule, await self._limiter.peek(rule, key))

    async def record_signin_failure(self, account_identifier: str, client_ip: str) -> None:
        account = normalise_account_identifier(account_identifier)
        for rule, key in self._failure_counters(account, client_ip):
            await self._limiter.hit(rule, key)

    async def record_signin_success(self, account_identifier: str) -> None:
        # Only the account's counter is cleared: an address that guessed many accounts stays suspect.
        account = normalise_account_identifier(account_identifier)
        await self._limiter.reset(self._policy.signin_failures_per_account, account)

    def _failure_counters(self, account: str, client_ip: str) -> tuple[tuple[RateRule, str], ...]:
        return (
            (self._policy.signin_failures_per_account, account),
            (self._policy.signin_failures_per_ip, client_ip),
        )

    @staticmethod
    def _raise_if_refused(rule: RateRule, decision: RateDecision) -> None:
        if not decision.allowed:
            raise RateLimitedError(rule.name, max(1, decision.retry_after_seconds))
