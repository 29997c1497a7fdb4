"""Keyset positions for the order lists (orders of a party, a user's notifications): newest first.

A page ends at its last row's `(created_at, id)`; the next page holds what sorts after it, so two rows
created in the same microsecond are neither skipped nor repeated across pages (a timestamp alone did not
say which of them the page had ended on). The position travels as `<ISO timestamp>~<id>`; a bare timestamp,
what `next_before` was before the id was added, is still accepted and reads "older than this instant".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from order_service.domain.errors import InvalidOrderRequest

_SEPARATOR = "~"


@dataclass(frozen=True)
class Position:
    created_at: datetime
    id: str | None = None

    def encode(self) -> str:
        stamp = self.created_at.isoformat()
        return stamp if self.id is None else f"{stamp}{_SEPARATOR}{self.id}"


def parse_position(text: str | None) -> Position | None:
    if not text:
        return None
    stamp, _, row_id = text.partition(_SEPARATOR)
    try:
        created_at = datetime.fromisoformat(stamp)
    except ValueError as error:
        raise InvalidOrderRequest("before must be a `next_before` this service handed out") from error
    return Position(created_at, row_id or None)
