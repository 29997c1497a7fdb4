"""Rate-limit policy: which counters exist, how large they are, and over which window they count.

Failed sign-ins are counted here per client IP only. The per-account budget lives in auth, keyed on the
account itself (whatever spelling of username or email was typed) with growing delays and an OTP step-up
instead of a hard lock (docs/security.md): a hard per-identifier lock at the edge would let anyone lock a
victim out for as long as they keep failing on the victim's name. The per-IP budget is a multiple of one
account's because many legitimate users can share one address (NAT, offices).
"""

from __future__ import annotations

from dataclasses import dataclass

SIGNIN_FAILURE_WINDOW_SECONDS = 15 * 60
# How many accounts' worth of failures one address may produce before it is locked out too.
IP_FAILURE_MULTIPLIER = 4


@dataclass(frozen=True)
class RateRule:
    name: str
    limit: int
    window_seconds: int
    # Exact rules count every event (a moving window); the others may be approximated (a sliding-window
    # counter, O(1) per key). Small security budgets such as sign-in failures must be exact.
    exact: bool = False


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int


@dataclass(frozen=True)
class RateLimitPolicy:
    requests_per_ip: RateRule
    requests_per_account: RateRule
    signin_failures_per_ip: RateRule

    @classmethod
    def build(
        cls,
        *,
        per_ip_per_minute: int,
        per_account_per_minute: int,
        signin_failures_before_lock: int,
        signin_failure_window_seconds: int = SIGNIN_FAILURE_WINDOW_SECONDS,
    ) -> RateLimitPolicy:
        if min(per_ip_per_minute, per_account_per_minute, signin_failures_before_lock) < 1:
            raise ValueError("rate limits must be positive")
        return cls(
            requests_per_ip=RateRule("requests_per_ip", per_ip_per_minute, 60),
            requests_per_account=RateRule("requests_per_account", per_account_per_minute, 60),
            signin_failures_per_ip=RateRule(
                "signin_failures_per_ip",
                signin_failures_before_lock * IP_FAILURE_MULTIPLIER,
                signin_failure_window_seconds,
                exact=True,
            ),
        )
