"""Event type + payload → which template, to whom, with which links; every refusal is permanent."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from notification_service.domain.catalogue import EVENT_TEMPLATES
from notification_service.domain.composition import email_request_from_event
from notification_service.domain.errors import UndeliverableEmailError
from notification_service.domain.model import message_id_for

PUBLIC_URL = "https://app.gigstack.test/"


def request_for(event_type: str, payload: dict[str, Any]) -> Any:
    return email_request_from_event(uuid4(), event_type, payload, public_url=PUBLIC_URL)


@pytest.mark.parametrize(
    ("event_type", "template"),
    [
        ("auth.email.verification_requested.v1", "verify_email"),
        ("auth.email.otp_requested.v1", "otp"),
        ("auth.email.password_reset_requested.v1", "forgot_password"),
        ("auth.email.password_reset_completed.v1", "reset_success"),
    ],
)
def test_auth_email_events_map_to_their_templates(event_type: str, template: str) -> None:
    assert EVENT_TEMPLATES[event_type] == template


def test_request_carries_recipient_fields_and_link() -> None:
    request = request_for(
        "auth.email.verification_requested.v1", {"to": "Ann@Example.com", "username": "ann", "token": "abc"}
    )
    assert request.template == "verify_email"
    assert request.to == "Ann@example.com"  # domain part normalised, local part kept as given
    assert request.fields["verify_url"] == "https://app.gigstack.test/confirm_email?v_token=abc"
    assert "to" not in request.fields


def test_event_type_wins_over_a_payload_template() -> None:
    request = request_for(
        "auth.email.password_reset_completed.v1",
        {"to": "ann@example.com", "username": "ann", "template": "verify_email"},
    )
    assert request.template == "reset_success"


def test_unknown_event_type_may_name_a_known_template() -> None:
    request = request_for(
        "chat.email.something.v1",
        {"to": "ann@example.com", "username": "a", "template": "otp"} | {"otp": "1", "expires_in_minutes": 1},
    )
    assert request.template == "otp"


@pytest.mark.parametrize(
    "payload",
    [
        {"to": "ann@example.com", "username": "ann"},
        {"to": "ann@example.com", "username": "ann", "template": "no_such_template"},
    ],
)
def test_unknown_template_is_permanent(payload: dict[str, Any]) -> None:
    with pytest.raises(UndeliverableEmailError, match="unknown template"):
        request_for("order.email.no_such_template.v1", payload)


@pytest.mark.parametrize(
    ("to", "reason"),
    [
        (None, "missing recipient"),
        ("", "missing recipient"),
        (42, "invalid recipient"),
        ("not-an-address", "invalid recipient"),
        ("ann@printer.local", "invalid recipient"),
        ("ann@example.com\r\nBcc: eve@example.com", "exactly one address"),
        ("ann@example.com, eve@example.com", "exactly one address"),
    ],
)
def test_missing_or_invalid_recipient_is_permanent(to: object, reason: str) -> None:
    with pytest.raises(UndeliverableEmailError, match=reason):
        request_for("auth.email.password_reset_completed.v1", {"to": to, "username": "ann"})


def test_missing_template_fields_are_named() -> None:
    with pytest.raises(UndeliverableEmailError, match="missing field\\(s\\): otp, expires_in_minutes"):
        request_for("auth.email.otp_requested.v1", {"to": "ann@example.com", "username": "ann"})


def test_message_id_is_derived_from_the_event_id() -> None:
    event_id = uuid4()
    assert message_id_for(event_id, "gigstack.io") == f"<{event_id}@gigstack.io>"
    assert message_id_for(event_id, "gigstack.io") == message_id_for(event_id, "gigstack.io")


def test_reserved_test_domain_is_accepted_for_development_accounts() -> None:
    request = request_for(
        "auth.email.password_reset_completed.v1", {"to": "seed_1@seed.gigstack.test", "username": "seed_1"}
    )
    assert request.to == "seed_1@seed.gigstack.test"
