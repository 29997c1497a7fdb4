"""Turn an email event (type + payload) into an ``EmailRequest``; every refusal here is permanent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from notification_service.domain.catalogue import EVENT_TEMPLATES, TEMPLATES, EmailTemplate, build_link
from notification_service.domain.errors import UndeliverableEmailError
from notification_service.domain.model import EmailRequest
from notification_service.domain.recipients import normalised_recipient


def template_for(event_type: str, payload: Mapping[str, Any]) -> EmailTemplate:
    name = EVENT_TEMPLATES.get(event_type)
    if name is None:
        requested = payload.get("template")
        name = requested if isinstance(requested, str) else None
    if name is None or name not in TEMPLATES:
        raise UndeliverableEmailError(f"unknown template for event type {event_type!r}")
    return TEMPLATES[name]


def email_request_from_event(
    event_id: UUID, event_type: str, payload: Mapping[str, Any], *, public_url: str
) -> EmailRequest:
    """Validate the payload against its template and add the links the template shows."""
    template = template_for(event_type, payload)
    to = normalised_recipient(payload.get("to"))
    missing = [name for name in template.required_fields if payload.get(name) in (None, "")]
    if missing:
        raise UndeliverableEmailError(f"template {template.name!r} is missing field(s): {', '.join(missing)}")
    fields: dict[str, Any] = {key: value for key, value in payload.items() if key not in ("to", "template")}
    for link in template.links:
        fields[link.name] = build_link(public_url, link, payload)
    return EmailRequest(
        event_id=event_id, event_type=event_type, template=template.name, to=to, fields=fields
    )
