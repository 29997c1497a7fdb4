"""Commands: imperative, one handler each. `expected_version` is the version the client last read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CreateGig:
    seller_id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class UpdateGig:
    gig_id: str
    user_id: str
    expected_version: int
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SetGigActive:
    gig_id: str
    user_id: str
    expected_version: int
    active: bool


@dataclass(frozen=True)
class DeleteGig:
    gig_id: str
    user_id: str
    expected_version: int
