"""Names and arguments of the RabbitMQ topology every service shares (`docs/contracts.md`, Events)."""

from __future__ import annotations

from typing import Any, Final

EVENTS_EXCHANGE: Final = "gigstack.events"
DEAD_LETTER_EXCHANGE: Final = "gigstack.dlx"

# Headers this library writes on messages it dead-letters itself (permanent errors, malformed bodies,
# exhausted retries). The broker's own dead-lettering (delivery limit) adds `x-death` instead.
REASON_HEADER: Final = "x-dead-letter-reason"
ORIGINAL_ROUTING_KEY_HEADER: Final = "x-original-routing-key"
ORIGINAL_QUEUE_HEADER: Final = "x-original-queue"
DELIVERY_COUNT_HEADER: Final = "x-delivery-count"
CORRELATION_ID_HEADER: Final = "x-correlation-id"


def dead_letter_queue_name(queue: str) -> str:
    """`<queue>.dlq`: the quorum queue that keeps what `<queue>` could not process."""
    return f"{queue}.dlq"


def work_queue_arguments(queue: str, delivery_limit: int) -> dict[str, Any]:
    """Arguments of a quorum work queue that dead-letters to `<queue>.dlq` through `gigstack.dlx`.

    `at-least-once` dead-lettering (RabbitMQ >= 3.10) keeps a dead-lettered message in the source queue
    until the DLQ has confirmed it, so a broker crash mid-dead-letter loses nothing; it requires the
    `reject-publish` overflow mode.
    """
    if delivery_limit < 1:
        raise ValueError("delivery_limit must be at least 1")
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": queue,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def dead_letter_queue_arguments() -> dict[str, Any]:
    """A DLQ is a plain quorum queue: durable, replicated, no further dead-lettering."""
    return {"x-queue-type": "quorum"}
