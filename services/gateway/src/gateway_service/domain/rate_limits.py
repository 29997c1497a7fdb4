"""Rate-limit policy: which counters exist, how large they are, and over which window they count.

Failed sign-ins are counted per account identifier and per client IP. The per-IP failure budget is larger
than the per-account one because many legitimate users can share one address (NAT, offices), while one
account should never see more than a handful of wrong passwords in a window.
"""

from __future__ import annotations

from dataclasses import dataclass

from servicekit.identifiers import IdentifierNotNormalisable, canonical_identifier

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
    signin_failures_per_account: RateRule
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
            signin_failures_per_account=RateRule(
                "signin_failures_per_account",
                signin_failures_before_lock,
                signin_failure_window_seconds,
                exact=True,
            ),
            signin_failures_per_ip=RateRule(
                "signin_failures_per_ip",
                signin_failures_before_lock * IP_FAILURE_MULTIPLIER,
                signin_failure_window_seconds,
                exact=True,
            ),
        )


def normalise_account_identifier(email_or_username: str) -> str:
    """The key of an identifier's failure budget: its canonical form (servicekit.identifiers), the one auth
    stores and compares, so no spelling of an account (case, full-width letters, zero-width characters,
    padding) gets a fresh budget. Input with no canonical form keys on itself (auth refuses it anyway).

    Username and email of one account are still two keys here; auth keeps the budget keyed on the account
    itself (docs/security.md), this one bounds guessing per identifier and hides which identifiers exist.
    """
    try:
        return canonical_identifier(email_or_username)
    except IdentifierNotNormalisable:
        return email_or_username
