"""Queue arguments of the shared topology and the retry backoff curve."""

from __future__ import annotations

import pytest
from servicekit.events.backoff import Backoff
from servicekit.events.topology import (
    DEAD_LETTER_EXCHANGE,
    EVENTS_EXCHANGE,
    dead_letter_queue_arguments,
    dead_letter_queue_name,
    work_queue_arguments,
)


def test_names_follow_the_contract() -> None:
    assert EVENTS_EXCHANGE == "gigstack.events"
    assert DEAD_LETTER_EXCHANGE == "gigstack.dlx"
    assert dead_letter_queue_name("notification.email") == "notification.email.dlq"


def test_work_queue_is_quorum_with_limit_and_dead_lettering_to_its_dlq() -> None:
    arguments = work_queue_arguments("notification.email", delivery_limit=7)
    assert arguments["x-queue-type"] == "quorum"
    assert arguments["x-delivery-limit"] == 7
    assert arguments["x-dead-letter-exchange"] == "gigstack.dlx"
    assert arguments["x-dead-letter-routing-key"] == "notification.email"
    # at-least-once dead-lettering is only accepted by RabbitMQ together with reject-publish overflow.
    assert arguments["x-dead-letter-strategy"] == "at-least-once"
    assert arguments["x-overflow"] == "reject-publish"


def test_dead_letter_queue_is_quorum_and_does_not_dead_letter_further() -> None:
    arguments = dead_letter_queue_arguments()
    assert arguments == {"x-queue-type": "quorum"}


@pytest.mark.parametrize("limit", [0, -1])
def test_delivery_limit_must_be_positive(limit: int) -> None:
    with pytest.raises(ValueError, match="delivery_limit"):
        work_queue_arguments("q", delivery_limit=limit)


def test_backoff_grows_exponentially_up_to_the_cap_with_jitter() -> None:
    backoff = Backoff(base_seconds=0.1, cap_seconds=2.0)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (5, 1.6), (6, 2.0), (30, 2.0)]:
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempt
        assert len(set(delays)) > 1, "delays must be jittered"
