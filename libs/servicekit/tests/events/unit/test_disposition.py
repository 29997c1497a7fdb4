"""The ack / requeue / dead-letter decision for every kind of handler result and attempt number."""

from __future__ import annotations

from typing import get_args

import pytest
from servicekit.events import (
    DuplicateEventError,
    HandBackEventError,
    MalformedEventError,
    PermanentEventError,
)
from servicekit.events.disposition import (
    MAX_REASON_CHARS,
    Action,
    Disposition,
    Outcome,
    attempt_number,
    decide,
    describe,
)
from servicekit.metrics import ConsumerOutcome


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (None, 1),
        ({}, 1),
        ({"x-delivery-count": 0}, 1),
        ({"x-delivery-count": 1}, 2),
        ({"x-delivery-count": 4}, 5),
        ({"x-delivery-count": "3"}, 4),
        ({"x-delivery-count": "garbage"}, 1),
        ({"x-delivery-count": -2}, 1),
        ({"other": 9}, 1),
    ],
)
def test_attempt_number_reads_the_quorum_delivery_count(
    headers: dict[str, object] | None, expected: int
) -> None:
    assert attempt_number(headers) == expected


def test_success_is_acked_as_processed() -> None:
    assert decide(None, attempt=1, max_attempts=5) == Disposition(Action.ACK, Outcome.PROCESSED)


def test_success_on_the_last_attempt_is_still_processed() -> None:
    assert decide(None, attempt=5, max_attempts=5) == Disposition(Action.ACK, Outcome.PROCESSED)


def test_duplicate_is_acked_and_counted_as_duplicate() -> None:
    assert decide(DuplicateEventError(), attempt=2, max_attempts=5) == Disposition(
        Action.ACK, Outcome.DUPLICATE
    )


def test_permanent_error_is_dead_lettered_at_once_with_its_text() -> None:
    disposition = decide(PermanentEventError("unknown template 'x'"), attempt=1, max_attempts=5)
    assert disposition == Disposition(Action.DEAD_LETTER, Outcome.DEAD_LETTERED, "unknown template 'x'")


def test_permanent_error_subclass_counts_as_permanent() -> None:
    # Built dynamically so the test type-checks whether or not mypy sees servicekit's annotations.
    unknown_template_error = type("UnknownTemplateError", (PermanentEventError,), {})
    disposition = decide(unknown_template_error(), attempt=1, max_attempts=5)
    assert disposition.action is Action.DEAD_LETTER
    assert disposition.reason == "UnknownTemplateError"


def test_malformed_body_is_dead_lettered_with_the_parse_reason() -> None:
    disposition = decide(MalformedEventError("malformed event envelope: id: bad"), attempt=1, max_attempts=5)
    assert disposition == Disposition(
        Action.DEAD_LETTER, Outcome.DEAD_LETTERED, "malformed event envelope: id: bad"
    )


@pytest.mark.parametrize("attempt", [1, 2, 3, 4])
def test_transient_error_with_attempts_left_is_requeued(attempt: int) -> None:
    disposition = decide(ConnectionError("smtp down"), attempt=attempt, max_attempts=5)
    assert disposition == Disposition(Action.REQUEUE, Outcome.RETRIED, "ConnectionError: smtp down")


@pytest.mark.parametrize("attempt", [5, 6, 50])
def test_transient_error_on_the_last_attempt_is_dead_lettered(attempt: int) -> None:
    disposition = decide(TimeoutError(), attempt=attempt, max_attempts=5)
    assert disposition.action is Action.DEAD_LETTER
    assert disposition.outcome is Outcome.DEAD_LETTERED
    assert disposition.reason == f"retries exhausted after {attempt} attempts: TimeoutError"


def test_a_single_attempt_limit_dead_letters_the_first_transient_failure() -> None:
    assert decide(RuntimeError("x"), attempt=1, max_attempts=1).action is Action.DEAD_LETTER


def test_reasons_are_bounded_for_headers() -> None:
    long_error = PermanentEventError("x" * 5000)
    assert len(describe(long_error)) == MAX_REASON_CHARS
    exhausted = decide(RuntimeError("y" * 5000), attempt=9, max_attempts=3)
    assert exhausted.reason is not None
    assert len(exhausted.reason) == MAX_REASON_CHARS
    assert exhausted.reason.startswith("retries exhausted after 9 attempts: RuntimeError: yyy")


def test_outcomes_are_exactly_the_metric_label_values() -> None:
    assert {o.value for o in Outcome} == set(get_args(ConsumerOutcome))
    assert {o.value for o in Outcome} == {
        "processed",
        "failed",
        "retried",
        "handed_back",
        "dead_lettered",
        "duplicate",
    }


@pytest.mark.parametrize("attempt", [1, 5, 50])
def test_a_hand_back_is_republished_whatever_the_attempt(attempt: int) -> None:
    # Not the message's fault (an outage it already waited out): it must never reach the dead-letter queue.
    disposition = decide(HandBackEventError("SMTP unavailable"), attempt=attempt, max_attempts=5)
    assert disposition.action is Action.REPUBLISH
    assert disposition.outcome is Outcome.HANDED_BACK
