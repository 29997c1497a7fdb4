"""EventEnvelope: construction, wire round trip, tolerant parsing and malformed-body detection."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel
from servicekit.events import EventEnvelope, MalformedEventError


class AccountCreated(BaseModel):
    account_id: int
    email: str


def _wire(**overrides: object) -> bytes:
    body: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "type": "auth.account.created.v1",
        "version": 1,
        "occurred_at": "2026-01-02T03:04:05+00:00",
        "producer": "auth",
        "correlation_id": "c-1",
        "causation_id": None,
        "payload": {"account_id": 7},
    }
    body.update(overrides)
    return json.dumps(body).encode()


def test_new_dumps_a_payload_model_and_stamps_id_and_time() -> None:
    before = datetime.now(UTC)
    envelope = EventEnvelope.new(
        type="auth.account.created.v1",
        producer="auth",
        payload=AccountCreated(account_id=7, email="a@example.test"),
        correlation_id="corr",
    )
    assert envelope.payload == {"account_id": 7, "email": "a@example.test"}
    assert envelope.version == 1
    assert envelope.occurred_at.tzinfo is UTC
    assert before <= envelope.occurred_at <= datetime.now(UTC)
    assert envelope.correlation_id == "corr"
    assert envelope.causation_id is None
    assert envelope.id != EventEnvelope.new(type="x.y.z.v1", producer="auth", payload={}).id


def test_new_copies_a_mapping_payload() -> None:
    source = {"to": "a@example.test"}
    envelope = EventEnvelope.new(
        type="auth.email.otp_requested.v1", producer="auth", payload=source, version=2
    )
    source["to"] = "changed@example.test"
    assert envelope.payload == {"to": "a@example.test"}
    assert envelope.version == 2


def test_wire_round_trip_preserves_every_field() -> None:
    envelope = EventEnvelope.new(
        type="order.order.placed.v1",
        producer="order",
        payload={"order_id": "o-1", "amount": "12.50", "items": [1, 2]},
        correlation_id="c",
        causation_id="cause",
    )
    assert EventEnvelope.from_json_bytes(envelope.to_json_bytes()) == envelope


def test_naive_and_offset_timestamps_are_normalised_to_utc() -> None:
    naive = EventEnvelope.from_json_bytes(_wire(occurred_at="2026-01-02T03:04:05"))
    assert naive.occurred_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    shifted = EventEnvelope.from_json_bytes(_wire(occurred_at="2026-01-02T05:04:05+02:00"))
    assert shifted.occurred_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert shifted.occurred_at.utcoffset() == timedelta(0)
    aware = datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    built = EventEnvelope(id=uuid.uuid4(), type="a.b.c.v1", version=1, occurred_at=aware, producer="p")
    assert built.occurred_at.tzinfo is UTC


def test_unknown_fields_from_newer_producers_are_ignored() -> None:
    envelope = EventEnvelope.from_json_bytes(_wire(schema_url="https://example.test/s", priority=3))
    assert envelope.type == "auth.account.created.v1"
    assert not hasattr(envelope, "priority")


def test_optional_fields_may_be_absent() -> None:
    body = json.loads(_wire())
    for field in ("correlation_id", "causation_id", "payload"):
        del body[field]
    envelope = EventEnvelope.from_json_bytes(json.dumps(body).encode())
    assert envelope.payload == {}
    assert envelope.correlation_id is None


@pytest.mark.parametrize(
    ("body", "expected_fragment"),
    [
        (b"", "<body>"),
        (b"not json", "<body>"),
        (b"[1, 2]", "<body>"),
        (_wire(id="not-a-uuid"), "id"),
        (_wire(type=""), "type"),
        (_wire(version=0), "version"),
        (_wire(version="one"), "version"),
        (_wire(payload=[1, 2]), "payload"),
        (_wire(occurred_at="yesterday"), "occurred_at"),
        (json.dumps({"type": "a.b.c.v1"}).encode(), "id"),
    ],
)
def test_malformed_bodies_raise_malformed_event_error(body: bytes, expected_fragment: str) -> None:
    with pytest.raises(MalformedEventError) as caught:
        EventEnvelope.from_json_bytes(body)
    reason = str(caught.value)
    assert reason.startswith("malformed event envelope: ")
    assert expected_fragment in reason
    assert len(reason) <= 500


def test_malformed_reason_does_not_echo_payload_values() -> None:
    # The reason goes into a DLQ header that operators read: personal data must not leak into it.
    body = _wire(id="leak@example.test", payload={"to": "leak@example.test"})
    with pytest.raises(MalformedEventError) as caught:
        EventEnvelope.from_json_bytes(body)
    assert "leak@example.test" not in str(caught.value)


def test_envelope_is_immutable() -> None:
    envelope = EventEnvelope.new(type="a.b.c.v1", producer="p", payload={})
    field = "type"
    with pytest.raises(ValueError, match="frozen"):
        setattr(envelope, field, "other")
