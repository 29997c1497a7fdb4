"""The versioned integration-event envelope and its mapping to and from AMQP messages."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from servicekit.events.errors import MalformedEventError

CONTENT_TYPE = "application/json"


class EventEnvelope(BaseModel):
    """One integration event as it travels on the bus (`docs/contracts.md`, Events).

    The publishing service owns the payload schema; consumers parse tolerantly, so unknown top-level
    fields added by newer producers are ignored rather than rejected.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: uuid.UUID
    type: str = Field(min_length=1, max_length=255)
    version: int = Field(ge=1)
    occurred_at: datetime
    producer: str = Field(min_length=1)
    correlation_id: str | None = None
    causation_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _normalise_to_utc(cls, value: datetime) -> datetime:
        # Naive timestamps are taken as UTC: every producer writes UTC, and comparing aware with naive
        # datetimes would raise later in consumers.
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @classmethod
    def new(
        cls,
        *,
        type: str,
        producer: str,
        payload: BaseModel | Mapping[str, Any],
        version: int = 1,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> EventEnvelope:
        """Build a fresh envelope (new id, now as `occurred_at`) around a payload model or mapping."""
        body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else dict(payload)
        return cls(
            id=uuid.uuid4(),
            type=type,
            version=version,
            occurred_at=datetime.now(UTC),
            producer=producer,
            correlation_id=correlation_id,
            causation_id=causation_id,
            payload=body,
        )

    def to_json_bytes(self) -> bytes:
        """The wire form of the envelope (UTF-8 JSON), the AMQP message body."""
        return self.model_dump_json().encode()

    @classmethod
    def from_json_bytes(cls, body: bytes) -> EventEnvelope:
        """Parse a message body, raising `MalformedEventError` for anything that is not an envelope."""
        try:
            return cls.model_validate_json(body)
        except ValidationError as exc:
            raise MalformedEventError(_summarise(exc)) from exc


def _summarise(exc: ValidationError) -> str:
    # The reason travels in a message header: keep it short and never echo the (possibly personal) payload.
    problems = [f"{'.'.join(str(p) for p in err['loc']) or '<body>'}: {err['msg']}" for err in exc.errors()]
    text = "; ".join(problems[:5])
    return f"malformed event envelope: {text}"[:500]
