"""Commands: what a caller asks the users service to do (imperative; one handler each)."""

from __future__ import annotations

from dataclasses import dataclass

from users_service.domain.profile import Account
from users_service.domain.seller import SellerDetails


@dataclass(frozen=True)
class RegisterAccount:
    """Create the buyer profile of an account (from `auth.account.created.v1` or a backfill)."""

    user_id: str
    account: Account


@dataclass(frozen=True)
class ApplyActivity:
    """Apply one other service's event to the counters of the profiles it concerns."""

    event_id: str
    event_type: str
    payload: dict[str, object]


@dataclass(frozen=True)
class BecomeSeller:
    user_id: str
    details: SellerDetails


@dataclass(frozen=True)
class UpdateSeller:
    caller_id: str
    seller_id: str
    details: SellerDetails
    expected_revision: int
