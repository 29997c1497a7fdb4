"""Every template renders subject, text and HTML from its fields; HTML is escaped, text is not."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from notification_service.adapters.rendering import TEMPLATE_DIR, JinjaEmailRenderer
from notification_service.domain.catalogue import EVENT_TEMPLATES, TEMPLATES
from notification_service.domain.composition import email_request_from_event
from notification_service.domain.errors import UndeliverableEmailError

PUBLIC_URL = "https://app.gigstack.test"

SAMPLE_PAYLOADS: dict[str, dict[str, Any]] = {
    "auth.email.verification_requested.v1": {"to": "ann@example.com", "username": "ann", "token": "tok-1"},
    "auth.email.otp_requested.v1": {
        "to": "ann@example.com",
        "username": "ann",
        "otp": "042917",
        "expires_in_minutes": 10,
    },
    "auth.email.password_reset_requested.v1": {"to": "ann@example.com", "username": "ann", "token": "r/t+1"},
    "auth.email.password_reset_completed.v1": {"to": "ann@example.com", "username": "ann"},
    "review.email.review_received.v1": {
        "to": "ann@example.com",
        "username": "ann",
        "reviewer_username": "<bob>",
        "reviewer_role": "buyer",
        "rating": 4,
        "comment": "Quick & careful",
        "order_id": "o-1",
        "gig_id": "g-1",
        "review_id": "r-1",
    },
    "chat.email.offer_received.v1": {
        "to": "ann@example.com",
        "username": "ann",
        "seller_username": "sam",
        "description": "<b>Logo</b> & icon",
        "price_display": "125.00 USD",
        "delivery_days": 4,
        "conversation_id": "c-1",
    },
    "chat.email.unread_messages.v1": {
        "to": "ann@example.com",
        "username": "ann",
        "sender_username": "sam",
        "unread_count": 3,
        "conversation_id": "c-1",
    },
}

# As the order service sends them (order_service.domain.events.emails_for).
_ORDER_FIELDS: dict[str, Any] = {
    "to": "ann@example.com",
    "username": "ann",
    "order_id": "6f1c2d3e-0000-4000-8000-000000000001",
    "gig_id": "g-1",
    "price": 10_000,
    "service_fee": 550,
    "total": 10_550,
    "currency": "USD",
    "due_at": "2026-12-08T10:00:00+00:00",
    "price_text": "100.00 USD",
    "total_text": "105.50 USD",
    "earnings_text": "80.00 USD",
    "refund_text": "105.50 USD",
}
SAMPLE_PAYLOADS.update(
    {
        "order.email.order_placed.v1": _ORDER_FIELDS,
        "order.email.order_receipt.v1": _ORDER_FIELDS,
        "order.email.extension_requested.v1": {**_ORDER_FIELDS, "days": 2, "reason": "<b>polish</b>"},
        "order.email.extension_decided.v1": {**_ORDER_FIELDS, "approved": True, "days": 2},
        "order.email.order_delivered.v1": {**_ORDER_FIELDS, "files": ["deliveries/u/logo.png"]},
        "order.email.delivery_approved.v1": _ORDER_FIELDS,
        "order.email.order_cancelled.v1": {**_ORDER_FIELDS, "cancelled_by": "seller"},
        "order.email.order_expired.v1": _ORDER_FIELDS,
    }
)


@pytest.fixture(scope="module")
def renderer() -> JinjaEmailRenderer:
    return JinjaEmailRenderer()


def render_event(renderer: JinjaEmailRenderer, event_type: str, payload: dict[str, Any]) -> Any:
    request = email_request_from_event(uuid4(), event_type, payload, public_url=PUBLIC_URL)
    return renderer.render(request.template, request.fields)


def test_every_event_type_has_a_sample_and_every_template_is_reachable() -> None:
    assert set(SAMPLE_PAYLOADS) == set(EVENT_TEMPLATES)
    assert set(EVENT_TEMPLATES.values()) == set(TEMPLATES)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_has_subject_text_and_html_files(name: str) -> None:
    for suffix in (".subject.txt", ".txt", ".html"):
        assert (TEMPLATE_DIR / f"{name}{suffix}").is_file(), f"{name}{suffix} missing"


@pytest.mark.parametrize("event_type", sorted(SAMPLE_PAYLOADS))
def test_every_template_greets_the_user_in_both_bodies(renderer: JinjaEmailRenderer, event_type: str) -> None:
    email = render_event(renderer, event_type, SAMPLE_PAYLOADS[event_type])
    assert email.subject
    assert "\n" not in email.subject
    assert "Hi ann," in email.text
    assert "Hi ann," in email.html
    assert email.html.lstrip().startswith("<!doctype html>")


def test_verify_email_links_to_confirm_page(renderer: JinjaEmailRenderer) -> None:
    email = render_event(
        renderer,
        "auth.email.verification_requested.v1",
        SAMPLE_PAYLOADS["auth.email.verification_requested.v1"],
    )
    link = f"{PUBLIC_URL}/confirm_email?v_token=tok-1"
    assert "Confirm your email" in email.subject
    assert link in email.text
    assert f'href="{link}"' in email.html


def test_otp_shows_code_and_expiry(renderer: JinjaEmailRenderer) -> None:
    email = render_event(
        renderer, "auth.email.otp_requested.v1", SAMPLE_PAYLOADS["auth.email.otp_requested.v1"]
    )
    assert "042917" in email.subject
    assert "042917" in email.text
    assert "042917" in email.html
    assert "expires in 10 minutes" in email.text


def test_forgot_password_links_to_reset_page_with_encoded_token(renderer: JinjaEmailRenderer) -> None:
    email = render_event(
        renderer,
        "auth.email.password_reset_requested.v1",
        SAMPLE_PAYLOADS["auth.email.password_reset_requested.v1"],
    )
    link = f"{PUBLIC_URL}/reset_password?token=r%2Ft%2B1"
    assert "Reset your" in email.subject
    assert link in email.text
    assert f'href="{link}"' in email.html


def test_reset_success_says_the_password_changed(renderer: JinjaEmailRenderer) -> None:
    email = render_event(
        renderer,
        "auth.email.password_reset_completed.v1",
        SAMPLE_PAYLOADS["auth.email.password_reset_completed.v1"],
    )
    assert "password was changed" in email.subject
    assert "password was just reset" in email.text


def test_html_is_autoescaped_but_text_is_not(renderer: JinjaEmailRenderer) -> None:
    payload = {"to": "ann@example.com", "username": "<script>alert(1)</script>"}
    email = render_event(renderer, "auth.email.password_reset_completed.v1", payload)
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "<script>alert(1)</script>" in email.text


def test_subject_is_folded_to_one_line(renderer: JinjaEmailRenderer) -> None:
    payload = {
        "to": "ann@example.com",
        "username": "ann",
        "otp": "12\r\nBcc: evil@example.com",
        "expires_in_minutes": 5,
    }
    email = render_event(renderer, "auth.email.otp_requested.v1", payload)
    assert "\r" not in email.subject
    assert "\n" not in email.subject


def test_template_field_missing_at_render_time_is_permanent(renderer: JinjaEmailRenderer) -> None:
    with pytest.raises(UndeliverableEmailError, match="cannot be filled"):
        renderer.render("verify_email", {"username": "ann"})


def test_template_without_files_is_permanent(renderer: JinjaEmailRenderer) -> None:
    with pytest.raises(UndeliverableEmailError, match="unknown template"):
        renderer.render("no_such_template", {"username": "ann"})


def test_review_received_shows_the_rating_escapes_the_reviewer_and_links_the_order(
    renderer: JinjaEmailRenderer,
) -> None:
    email = render_event(
        renderer, "review.email.review_received.v1", SAMPLE_PAYLOADS["review.email.review_received.v1"]
    )
    assert "4 out of 5" in email.subject
    assert "<bob>" in email.text
    assert "&lt;bob&gt;" in email.html
    assert "Quick &amp; careful" in email.html
    assert f"{PUBLIC_URL}/orders?order_id=o-1" in email.text


def test_chat_emails_link_to_the_conversation_and_escape_the_offer_text(renderer: JinjaEmailRenderer) -> None:
    offer = render_event(
        renderer, "chat.email.offer_received.v1", SAMPLE_PAYLOADS["chat.email.offer_received.v1"]
    )
    assert f"{PUBLIC_URL}/inbox?conversation=c-1" in offer.text
    assert "&lt;b&gt;Logo&lt;/b&gt;" in offer.html
    assert "<b>Logo</b>" in offer.text
    assert "125.00 USD" in offer.html
    unread = render_event(
        renderer, "chat.email.unread_messages.v1", SAMPLE_PAYLOADS["chat.email.unread_messages.v1"]
    )
    assert "3 unread message(s) from sam" in unread.text


def test_order_emails_carry_the_amounts_and_escape_user_text(renderer: JinjaEmailRenderer) -> None:
    receipt = render_event(
        renderer, "order.email.order_receipt.v1", SAMPLE_PAYLOADS["order.email.order_receipt.v1"]
    )
    assert "105.50 USD" in receipt.text
    assert "105.50 USD" in receipt.html
    assert receipt.subject == "Your receipt for order #6f1c2d3e"
    extension = SAMPLE_PAYLOADS["order.email.extension_requested.v1"]
    requested = render_event(renderer, "order.email.extension_requested.v1", extension)
    assert "<b>polish</b>" in requested.text
    assert "&lt;b&gt;polish&lt;/b&gt;" in requested.html
    decided = render_event(
        renderer, "order.email.extension_decided.v1", SAMPLE_PAYLOADS["order.email.extension_decided.v1"]
    )
    assert decided.subject == "Your extension request was approved"
