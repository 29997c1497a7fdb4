"""Keyset cursors for review lists: newest first, `(created_at, id)` as the tie-free position.

The cursor is opaque to clients (url-safe base64 of the last row's position); a cursor that does not decode
is refused with InvalidCursor (422), never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from review_service.domain.errors import InvalidCursor


@dataclass(frozen=True)
class Position:
    created_at: datetime
    review_id: str

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), self.review_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            created_at, review_id = json.loads(raw)
            position = cls(datetime.fromisoformat(created_at), str(uuid.UUID(str(review_id))))
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
            raise InvalidCursor() from error
        if position.created_at.tzinfo is None:
            raise InvalidCursor()
        return position
