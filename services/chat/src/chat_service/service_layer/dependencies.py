"""What the handlers need, built once by the composition root (entrypoints/bootstrap.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chat_service.service_layer.unit_of_work import Directory, MediaChecker, UnitOfWork


def utc_now() -> datetime:
    """Now, truncated to what the store keeps (milliseconds), so a value reads back as it was written."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class UnreadEmailPolicy:
    delay: timedelta = timedelta(minutes=5)  # unread this long: the recipient is treated as away
    period: timedelta = timedelta(hours=1)  # at most one email per conversation and recipient per period
    lookback: timedelta = timedelta(days=1)  # older unread messages never trigger a first email


@dataclass(frozen=True)
class HandlerDeps:
    new_uow: Callable[[], UnitOfWork]
    directory: Directory
    media: MediaChecker
    clock: Callable[[], datetime] = utc_now
    unread_emails: UnreadEmailPolicy = UnreadEmailPolicy()
    public_url: str = ""
