"""RequestThrottle: request budgets per IP and per account, and the failed-sign-in lock."""

from __future__ import annotations

from gateway_service.domain.errors import RateLimitedError
from gateway_service.domain.rate_limits import RateDecision, RateLimitPolicy, RateRule
from gateway_service.service_layer.ports import BudgetsWithLiveness, RateLimiter


class RequestThrottle:
    def __init__(self, limiter: RateLimiter, policy: RateLimitPolicy) -> None:
        self._limiter = limiter
        self._policy = policy
        # Decided once: a runtime-checked Protocol's isinstance is too slow for every request.
        self._with_liveness = limiter if isinstance(limiter, BudgetsWithLiveness) else None

    async def admit_ip(self, client_ip: str) -> None:
        self._raise_if_refused(
            self._policy.requests_per_ip, await self._limiter.hit(self._policy.requests_per_ip, client_ip)
        )

    async def admit_account(self, user_id: str) -> None:
        rule = self._policy.requests_per_account
        self._raise_if_refused(rule, await self._limiter.hit(rule, user_id))

    async def admit_ip_and_account(self, client_ip: str, user_id: str) -> RateLimitedError | None:
        """Count the request against both budgets at once; raise if the address is over its budget.

        An account over its budget is returned rather than raised, so the caller can put the session
        verdict first (a revoked session is 401, not 429), as `admit_account` callers do.
        """
        ip_rule, account_rule = self._policy.requests_per_ip, self._policy.requests_per_account
        by_ip, by_account = await self._limiter.hit_many([(ip_rule, client_ip), (account_rule, user_id)])
        self._raise_if_refused(ip_rule, by_ip)
        if not by_account.allowed:
            return RateLimitedError(account_rule.name, max(1, by_account.retry_after_seconds))
        return None

    @property
    def judges_liveness(self) -> bool:
        """Whether `admit_with_liveness` can judge the session in the same round trip as the budgets."""
        return self._with_liveness is not None

    async def admit_with_liveness(
        self, client_ip: str, user_id: str, session_id: str
    ) -> tuple[RateLimitedError | None, bool]:
        """`admit_ip_and_account` plus the session's liveness, in one round trip (`judges_liveness` only).

        Raises if the address is over its budget; returns (the account's refusal or None, session live).
        """
        if self._with_liveness is None:
            raise TypeError("this limiter does not judge session liveness")
        ip_rule, account_rule = self._policy.requests_per_ip, self._policy.requests_per_account
        by_ip, by_account, live = await self._with_liveness.hit_two_and_check_session(
            (ip_rule, client_ip), (account_rule, user_id), session_id
        )
        self._raise_if_refused(ip_rule, by_ip)
        if not by_account.allowed:
            return RateLimitedError(account_rule.name, max(1, by_account.retry_after_seconds)), live
        return None, live

    async def admit_signin_attempt(self, client_ip: str) -> None:
        """Count the attempt against the address's failure budget *before* auth checks the credentials.

        Counting after the (slow) check let a burst of parallel guesses all pass a peek at the counter;
        counting first bounds how many ever reach auth. ``refund_signin_attempt`` gives the attempt back once
        it proved not to be a failure. The per-account budget is auth's (keyed on the account).
        """
        rule = self._policy.signin_failures_per_ip
        self._raise_if_refused(rule, await self._limiter.acquire(rule, client_ip))

    async def refund_signin_attempt(self, client_ip: str) -> None:
        """The attempt succeeded (or failed for a reason other than the credentials): it does not count."""
        await self._limiter.refund(self._policy.signin_failures_per_ip, client_ip)

    @staticmethod
    def _raise_if_refused(rule: RateRule, decision: RateDecision) -> None:
        if not decision.allowed:
            raise RateLimitedError(rule.name, max(1, decision.retry_after_seconds))
