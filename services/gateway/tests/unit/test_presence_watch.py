"""presence.watch takes 1..200 canonical user ids and refuses anything else whole, saying why."""

from __future__ import annotations

import uuid

import pytest
from gateway_service.domain.presence_watch import (
    WATCH_LIMIT,
    InvalidWatchRequestError,
    watch_list,
    watch_refusal,
)

ALICE, BOB = str(uuid.uuid4()), str(uuid.uuid4())


def test_user_ids_are_watched_once_each_in_the_order_given() -> None:
    assert watch_list([BOB, ALICE, BOB]) == [BOB, ALICE]
    assert len(watch_list([str(uuid.uuid4()) for _ in range(WATCH_LIMIT)])) == WATCH_LIMIT


@pytest.mark.parametrize(
    ("user_ids", "says"),
    [
        (None, "non-empty list"),
        ("0b5f3c3e-8d1a-4c1e-9f5e-2a7b6c4d3e21", "non-empty list"),
        ({"id": ALICE}, "non-empty list"),
        ([], "non-empty list"),
        ([str(uuid.uuid4()) for _ in range(WATCH_LIMIT + 1)], f"at most {WATCH_LIMIT} user ids, got 201"),
        ([ALICE, "bob"], "position 1 is not a user id"),
        ([ALICE.upper()], "position 0"),
        ([f"{ALICE}\n"], "position 0"),
        (["gw:presence:*"], "position 0"),
        ([7], "position 0"),
        (["x" * 10_000], "position 0"),
    ],
)
def test_anything_else_is_refused_whole_with_the_reason(user_ids: object, says: str) -> None:
    with pytest.raises(InvalidWatchRequestError, match=says):
        watch_list(user_ids)


def test_a_refusal_is_the_one_error_shape_with_a_4xx_status() -> None:
    refusal = watch_refusal(InvalidWatchRequestError("presence.watch takes a non-empty list of user ids"))
    assert refusal == {
        "error": {
            "code": "invalid_watch_request",
            "message": "presence.watch takes a non-empty list of user ids",
            "status": 422,
        }
    }
