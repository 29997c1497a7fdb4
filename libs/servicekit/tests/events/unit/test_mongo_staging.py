"""Building the single-document writes that stage events in a Mongo aggregate's `_outbox`."""

from __future__ import annotations

import pytest
from servicekit.events import EventEnvelope
from servicekit.events.mongo import (
    OUTBOX_FIELD,
    OUTBOX_PENDING_FIELD,
    outbox_entry,
    stage_events_update,
    with_staged_events,
)
from servicekit.logging import bind_correlation_id


def _event(n: int, correlation_id: str | None = None) -> EventEnvelope:
    return EventEnvelope.new(
        type="users.profile.updated.v1", producer="users", payload={"n": n}, correlation_id=correlation_id
    )


def test_entry_carries_the_serialised_envelope_and_routing_fields() -> None:
    envelope = _event(1, correlation_id="c-1")
    entry = outbox_entry(envelope)
    assert entry["id"] == str(envelope.id)
    assert entry["type"] == "users.profile.updated.v1"
    assert entry["producer"] == "users"
    assert entry["correlation_id"] == "c-1"
    assert entry["headers"]["x-correlation-id"] == "c-1"
    assert EventEnvelope.from_json_bytes(entry["body"].encode()) == envelope


def test_entry_falls_back_to_the_ambient_correlation_id() -> None:
    with bind_correlation_id("from-request"):
        entry = outbox_entry(_event(1))
    assert entry["correlation_id"] == "from-request"


def test_with_staged_events_appends_to_a_new_document_without_mutating_it() -> None:
    document = {"_id": "u1", "name": "n"}
    staged = with_staged_events(document, _event(1), _event(2))
    assert [e["type"] for e in staged[OUTBOX_FIELD]] == ["users.profile.updated.v1"] * 2
    assert OUTBOX_FIELD not in document
    assert staged["name"] == "n"


def test_stage_events_update_adds_a_push_each_next_to_the_state_change() -> None:
    update = {"$set": {"name": "after"}, "$push": {"tags": "x"}}
    first, second = _event(1), _event(2)
    staged = stage_events_update(update, first, second)
    assert staged["$set"] == {"name": "after", OUTBOX_PENDING_FIELD: True}
    assert staged["$push"]["tags"] == "x"
    assert [e["id"] for e in staged["$push"][OUTBOX_FIELD]["$each"]] == [str(first.id), str(second.id)]
    assert OUTBOX_FIELD not in update["$push"], "the caller's update document must not be mutated"


def test_stage_events_update_refuses_a_second_push_to_the_outbox() -> None:
    with pytest.raises(ValueError, match="_outbox"):
        stage_events_update({"$push": {OUTBOX_FIELD: {}}}, _event(1))


def test_staging_sets_the_indexed_pending_flag_in_the_same_write() -> None:
    # The relay's regular poll finds documents by this flag only (an index lookup, not a scan).
    inserted = with_staged_events({"_id": "u1"}, _event(1))
    assert inserted[OUTBOX_PENDING_FIELD] is True
    assert OUTBOX_PENDING_FIELD not in with_staged_events({"_id": "u2"}), "no events, nothing pending"
    update = {"$set": {"name": "after"}}
    staged = stage_events_update(update, _event(1))
    assert staged["$set"] == {"name": "after", OUTBOX_PENDING_FIELD: True}
    assert update == {"$set": {"name": "after"}}, "the caller's update document must not be mutated"
    assert stage_events_update({"$inc": {"n": 1}}, _event(2))["$set"] == {OUTBOX_PENDING_FIELD: True}
