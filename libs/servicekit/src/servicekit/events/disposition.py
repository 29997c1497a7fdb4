"""What to do with a delivered message once its handler has run: the ack / requeue / dead-letter taxonomy.

Pure decisions, kept apart from aio-pika so they are unit-tested exhaustively:

| handler result                                    | action      | outcome label   |
|---------------------------------------------------|-------------|-----------------|
| returned                                          | ack         | `processed`     |
| raised `DuplicateEventError`                      | ack         | `duplicate`     |
| raised `PermanentEventError` / body malformed     | dead-letter | `dead_lettered` |
| raised `HandBackEventError`                       | republish   | `handed_back`   |
| raised anything else, attempts left               | requeue     | `retried`       |
| raised anything else, last attempt                | dead-letter | `dead_lettered` |

`failed` is reserved for the rare case where even dead-lettering or acking failed (broker gone): the message
stays unacked and the broker redelivers it, so nothing is dropped.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from servicekit.events.errors import (
    DuplicateEventError,
    HandBackEventError,
    MalformedEventError,
    PermanentEventError,
)
from servicekit.events.topology import DELIVERY_COUNT_HEADER

MAX_REASON_CHARS = 500


class Action(enum.StrEnum):
    ACK = "ack"
    REQUEUE = "requeue"
    DEAD_LETTER = "dead_letter"
    REPUBLISH = "republish"


class Outcome(enum.StrEnum):
    """Values of the `outcome` label of `events_consumed_total`."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    RETRIED = "retried"
    HANDED_BACK = "handed_back"
    DEAD_LETTERED = "dead_lettered"
    FAILED = "failed"


@dataclass(frozen=True)
class Disposition:
    action: Action
    outcome: Outcome
    reason: str | None = None


def attempt_number(headers: Mapping[str, Any] | None) -> int:
    """1-based attempt of this delivery, from the quorum queue's `x-delivery-count` (absent at first)."""
    raw = (headers or {}).get(DELIVERY_COUNT_HEADER)
    try:
        previous = int(raw) if raw is not None else 0
    except (TypeError, ValueError):
        previous = 0
    return max(previous, 0) + 1


def decide(error: BaseException | None, *, attempt: int, max_attempts: int) -> Disposition:
    """Map a handler's result to what the consumer does with the message.

    `max_attempts` equals the queue's `x-delivery-limit`: the consumer dead-letters on its own at the last
    attempt (with the real error as the reason), so the broker's limit only fires when a handler keeps
    crashing the whole process before it can decide.
    """
    if error is None:
        return Disposition(Action.ACK, Outcome.PROCESSED)
    if isinstance(error, DuplicateEventError):
        return Disposition(Action.ACK, Outcome.DUPLICATE)
    if isinstance(error, MalformedEventError | PermanentEventError):
        return Disposition(Action.DEAD_LETTER, Outcome.DEAD_LETTERED, describe(error))
    if isinstance(error, HandBackEventError):
        return Disposition(Action.REPUBLISH, Outcome.HANDED_BACK, describe(error))
    if attempt >= max_attempts:
        reason = f"retries exhausted after {attempt} attempts: {describe(error)}"
        return Disposition(Action.DEAD_LETTER, Outcome.DEAD_LETTERED, reason[:MAX_REASON_CHARS])
    return Disposition(Action.REQUEUE, Outcome.RETRIED, describe(error))


def describe(error: BaseException) -> str:
    """A short, header-safe reason: the error text, or its class name when the text is empty."""
    text = str(error).strip()
    if isinstance(error, MalformedEventError | PermanentEventError):
        reason = text or type(error).__name__
    else:
        reason = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return reason[:MAX_REASON_CHARS]
