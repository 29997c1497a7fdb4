"""Secrets in outbox rows: which payload fields a row may hold only until the broker has confirmed it.

Some events must carry a secret to their consumer (the notification service puts a reset token or a
one-time code in the email). The outbox keeps published rows for a while (diagnostics, replays); those
fields are blanked in the stored row as soon as the broker confirms the event, in the transaction that marks
it published. The field names travel in the row's headers under SECRET_FIELDS_HEADER and are not published.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

SECRET_FIELDS_HEADER = "x-gigstack-secret-fields"  # noqa: S105 - a header name, not a secret
REDACTED = "[redacted]"


def secret_fields_of(headers: Any) -> list[str]:
    names = headers.get(SECRET_FIELDS_HEADER) if isinstance(headers, dict) else None
    return [str(name) for name in names] if isinstance(names, list) else []


def published_headers(headers: Any) -> dict[str, Any]:
    """The row's headers as published: everything but the secret-field names."""
    if not isinstance(headers, dict):
        return {}
    return {name: value for name, value in headers.items() if name != SECRET_FIELDS_HEADER}


def payload_redactor(secret_fields: Sequence[str]) -> Callable[[bytes], bytes]:
    """For `EventConsumer(dead_letter_redactor=...)`: a serialised envelope with the named payload fields
    replaced by ``REDACTED``, so a dead letter keeps what diagnosis needs and no usable secret.

    A body that is not an envelope's JSON is kept as it is: no publisher of ours produced it, and it is what
    one would need to find out who did.
    """
    names = tuple(secret_fields)

    def redact(body: bytes) -> bytes:
        try:
            return redacted_body(body.decode("utf-8"), names).encode("utf-8")
        except (UnicodeDecodeError, ValueError, AttributeError):
            return body

    return redact


def redacted_body(body: str, secret_fields: Sequence[str]) -> str:
    """The stored envelope JSON with the named payload fields replaced by ``REDACTED``."""
    envelope = json.loads(body)
    payload = envelope.get("payload")
    if isinstance(payload, dict):
        for name in secret_fields:
            if name in payload:
                payload[name] = REDACTED
    return json.dumps(envelope, separators=(",", ":"))
