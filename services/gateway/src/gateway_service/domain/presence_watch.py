"""What a socket may ask to watch (`presence.watch`): a list of user ids, each a canonical UUID (the form auth
gives account ids), at most `WATCH_LIMIT` of them. Pure; entrypoints/realtime.py answers a refusal in the ack.

A request outside these bounds is refused whole with a message saying why, rather than silently trimmed:
a client that sent 500 ids or a username instead of an id learns it at once instead of never hearing about
some users.
"""

from __future__ import annotations

import re
from typing import Any

WATCH_LIMIT = 200
INVALID_WATCH_CODE = "invalid_watch_request"
_CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class InvalidWatchRequestError(ValueError):
    """The ids are not a list of 1..WATCH_LIMIT canonical UUID strings; the message says which rule failed."""


def watch_list(user_ids: object) -> list[str]:
    """The distinct ids to watch, in the order given; `InvalidWatchRequestError` for anything else."""
    if not isinstance(user_ids, list) or not user_ids:
        raise InvalidWatchRequestError("presence.watch takes a non-empty list of user ids")
    if len(user_ids) > WATCH_LIMIT:
        raise InvalidWatchRequestError(
            f"presence.watch takes at most {WATCH_LIMIT} user ids, got {len(user_ids)}"
        )
    for position, user_id in enumerate(user_ids):
        if not isinstance(user_id, str) or not _CANONICAL_UUID.fullmatch(user_id):
            raise InvalidWatchRequestError(
                f"user id at position {position} is not a user id (a lowercase UUID like "
                "'0b5f3c3e-8d1a-4c1e-9f5e-2a7b6c4d3e21')"
            )
    return list(dict.fromkeys(user_ids))


def watch_refusal(error: InvalidWatchRequestError) -> dict[str, Any]:
    """The ack of a refused request: the one JSON error shape, with the HTTP status it would have had."""
    return {"error": {"code": INVALID_WATCH_CODE, "message": str(error), "status": 422}}
