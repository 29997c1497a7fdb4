"""The bus handler translates delivery outcomes into servicekit's ack / dead-letter / requeue signals."""

from __future__ import annotations

import pytest
from notification_fakes import InMemoryLedger, ScriptedSender
from notification_service.adapters.rendering import JinjaEmailRenderer
from notification_service.domain.catalogue import EVENT_TEMPLATES
from notification_service.domain.errors import DeliveryDeferredError
from notification_service.entrypoints.consumer import EMAIL_QUEUE, EMAIL_ROUTING_KEYS, email_event_handler
from notification_service.service_layer.availability import SmtpAvailability
from notification_service.service_layer.delivery import DeliveryPolicy, EmailDelivery
from servicekit.events import DuplicateEventError, EventEnvelope, PermanentEventError


def handler_with(sender: ScriptedSender) -> object:
    delivery = EmailDelivery(
        renderer=JinjaEmailRenderer(),
        sender=sender,
        ledger=InMemoryLedger(),
        availability=SmtpAvailability(sender.probe),
        policy=DeliveryPolicy(
            public_url="https://app.test", message_id_domain="t", retry_backoff_seconds=0.01
        ),
    )
    return email_event_handler(delivery)


def envelope(
    payload: dict[str, object], event_type: str = "auth.email.password_reset_completed.v1"
) -> EventEnvelope:
    return EventEnvelope.new(type=event_type, producer="auth", payload=payload)


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: '*' is exactly one word, '#' zero or more."""
    words, keys = pattern.split("."), routing_key.split(".")

    def match(i: int, j: int) -> bool:
        if i == len(words):
            return j == len(keys)
        if words[i] == "#":
            return any(match(i + 1, k) for k in range(j, len(keys) + 1))
        return j < len(keys) and words[i] in ("*", keys[j]) and match(i + 1, j + 1)

    return match(0, 0)


def test_queue_binding_matches_every_auth_email_event_and_nothing_else() -> None:
    assert EMAIL_QUEUE == "notification.email"
    for event_type in EVENT_TEMPLATES:
        assert any(topic_matches(key, event_type) for key in EMAIL_ROUTING_KEYS), event_type
    assert not any(topic_matches(key, "auth.account.created.v1") for key in EMAIL_ROUTING_KEYS)


async def test_sent_returns_and_duplicate_is_signalled() -> None:
    sender = ScriptedSender()
    handle = handler_with(sender)
    event = envelope({"to": "ann@example.com", "username": "ann"})
    await handle(event)  # type: ignore[operator]
    with pytest.raises(DuplicateEventError):
        await handle(event)  # type: ignore[operator]
    assert len(sender.accepted) == 1


async def test_undeliverable_becomes_permanent_with_the_reason() -> None:
    handle = handler_with(ScriptedSender())
    with pytest.raises(PermanentEventError, match="missing recipient"):
        await handle(envelope({"username": "ann"}))  # type: ignore[operator]


async def test_deferred_propagates_so_the_message_is_requeued() -> None:
    handle = handler_with(ScriptedSender(errors=[DeliveryDeferredError("busy (450)")] * 3))
    with pytest.raises(DeliveryDeferredError):
        await handle(envelope({"to": "ann@example.com", "username": "ann"}))  # type: ignore[operator]
