"""Backfill the directory from an account export (accounts created before this service consumed their events).

Input is JSON lines in the payload shape of `auth.account.created.v1` (user_id, username, email, ...), as
exported from the auth database (the query in docs/adr/0015). Each line is an idempotent upsert, so running
it twice, or while the consumer runs, leaves one entry per account.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from review_service.domain.errors import InvalidEvent
from review_service.domain.parsing import directory_entry
from review_service.service_layer import handlers
from review_service.service_layer.commands import RecordAccount
from review_service.service_layer.handlers import UnitOfWorkFactory

logger = logging.getLogger(__name__)


@dataclass
class BackfillReport:
    written: int = 0
    rejected_lines: list[int] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps(
            {
                "written": self.written,
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


async def backfill_directory(lines: Iterable[str], new_uow: UnitOfWorkFactory) -> BackfillReport:
    report = BackfillReport()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            payload = json.loads(line)
            if not isinstance(payload, dict):
                raise InvalidEvent("a line must hold one JSON object")
            payload["user_id"] = canonical_user_id(payload.get("user_id"))
            entry = directory_entry(payload)
        except (ValueError, InvalidEvent) as error:
            # The reason, never the line: it holds personal data.
            logger.warning("backfill line %d rejected: %s", number, getattr(error, "message", error))
            report.rejected_lines.append(number)
            continue
        await handlers.record_account(RecordAccount(event_id=None, entry=entry), new_uow)
        report.written += 1
    return report
