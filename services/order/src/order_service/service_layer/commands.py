"""Commands: imperative, one handler each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class CreateOrder:
    buyer_id: str
    gig_id: str | None
    offer_id: str | None


@dataclass(frozen=True)
class CancelOrder:
    user_id: str
    order_id: str
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class RequestExtension:
    user_id: str
    order_id: str
    days: int
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class DecideExtension:
    user_id: str
    order_id: str
    approve: bool
    expected_version: int | None = None


@dataclass(frozen=True)
class DeliverOrder:
    user_id: str
    order_id: str
    message: str
    file_keys: tuple[str, ...]
    expected_version: int | None = None


@dataclass(frozen=True)
class ApproveDelivery:
    user_id: str
    order_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class ListOrders:
    user_id: str
    role: Literal["buyer", "seller"]
    limit: int = 20
    before: str | None = None
