"""Reading the auth service's account announcement (`auth.account.created.v1`) into an `Account`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from users_service.domain.errors import InvalidActivityEvent
from users_service.domain.profile import Account

ACCOUNT_CREATED = "auth.account.created.v1"


def account_from_payload(payload: Mapping[str, Any]) -> tuple[str, Account]:
    """(user id, account) from the payload auth owns (services/auth/.../domain/events.py: AccountCreated)."""
    fields = {}
    for name in ("user_id", "username", "email", "created_at"):
        value = payload.get(name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidActivityEvent(f"account field {name!r} must be a non-empty string")
        fields[name] = value
    country = payload.get("country")
    if country is not None and not isinstance(country, str):
        raise InvalidActivityEvent("account field 'country' must be a string or null")
    try:
        created_at = datetime.fromisoformat(fields["created_at"])
    except ValueError as error:
        raise InvalidActivityEvent("account field 'created_at' must be an ISO 8601 timestamp") from error
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    account = Account(
        username=fields["username"], email=fields["email"], country=country, created_at=created_at
    )
    return fields["user_id"], account
