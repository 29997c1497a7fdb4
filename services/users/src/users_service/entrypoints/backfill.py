"""Backfill: create the profiles of accounts that existed before this service consumed their events.

Input is JSON lines, one account per line, in the payload shape of `auth.account.created.v1` (user_id,
username, email, country, created_at), as exported from the auth database (docs/adr/0015). Each line runs
the same idempotent `RegisterAccount` as the consumer, so running it twice, or while the consumer runs,
creates every profile once and never overwrites one.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from users_service.domain.accounts import account_from_payload
from users_service.domain.errors import InvalidActivityEvent
from users_service.service_layer.commands import RegisterAccount
from users_service.service_layer.dependencies import HandlerDependencies
from users_service.service_layer.profiles import register_account

logger = logging.getLogger(__name__)


@dataclass
class BackfillReport:
    created: int = 0
    already_present: int = 0
    rejected_lines: list[int] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps(
            {
                "created": self.created,
                "already_present": self.already_present,
                "rejected": len(self.rejected_lines),
                "rejected_lines": self.rejected_lines[:100],
            }
        )


def canonical_user_id(value: object) -> object:
    """Auth's events carry `str(UUID)`; its MariaDB column stores 32 hex digits: accept both as one id."""
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return value
    return value


async def backfill_profiles(lines: Iterable[str], deps: HandlerDependencies) -> BackfillReport:
    report = BackfillReport()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            payload = json.loads(line)
            if not isinstance(payload, dict):
                raise InvalidActivityEvent("a line must hold one JSON object")
            payload["user_id"] = canonical_user_id(payload.get("user_id"))
            user_id, account = account_from_payload(payload)
        except (ValueError, InvalidActivityEvent) as error:
            # The reason, never the line: it holds personal data.
            logger.warning("backfill line %d rejected: %s", number, getattr(error, "message", error))
            report.rejected_lines.append(number)
            continue
        existing = await deps.profiles.get(user_id)
        if existing is not None and existing.is_announced:
            report.already_present += 1
            continue
        await register_account(RegisterAccount(user_id=user_id, account=account), deps)
        report.created += 1
    return report
