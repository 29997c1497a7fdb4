"""EmailDelivery: ack only after SMTP accepted, never twice, pause while SMTP is down, permanent vs retry."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID, uuid4

import pytest
from notification_fakes import InMemoryLedger, ScriptedSender
from notification_service.adapters.rendering import JinjaEmailRenderer
from notification_service.domain.errors import (
    DeliveryDeferredError,
    SmtpUnavailableError,
    UndeliverableEmailError,
)
from notification_service.service_layer.availability import SmtpAvailability
from notification_service.service_layer.delivery import DeliveryOutcome, DeliveryPolicy, EmailDelivery

EVENT_TYPE = "auth.email.password_reset_completed.v1"
PAYLOAD: dict[str, Any] = {"to": "ann@example.com", "username": "ann"}


def build(
    sender: ScriptedSender, ledger: InMemoryLedger | None = None, **policy: Any
) -> tuple[EmailDelivery, InMemoryLedger, SmtpAvailability]:
    ledger = ledger or InMemoryLedger()
    availability = SmtpAvailability(sender.probe, first_backoff_seconds=0.01, max_backoff_seconds=0.05)
    settings: dict[str, Any] = {
        "public_url": "https://app.test",
        "message_id_domain": "gigstack.test",
        "wait_budget_seconds": 5.0,
        "retry_backoff_seconds": 0.01,
        "claim_poll_seconds": 0.01,
    }
    settings.update(policy)
    delivery = EmailDelivery(
        renderer=JinjaEmailRenderer(),
        sender=sender,
        ledger=ledger,
        availability=availability,
        policy=DeliveryPolicy(**settings),
    )
    return delivery, ledger, availability


async def test_sends_once_records_sent_and_skips_the_duplicate() -> None:
    sender = ScriptedSender()
    delivery, ledger, _ = build(sender)
    event_id = uuid4()
    assert await delivery.deliver(event_id, EVENT_TYPE, PAYLOAD) is DeliveryOutcome.SENT
    assert await delivery.deliver(event_id, EVENT_TYPE, PAYLOAD) is DeliveryOutcome.DUPLICATE
    assert len(sender.accepted) == 1
    assert ledger.states[event_id] == "sent"
    assert sender.accepted[0].message_id == f"<{event_id}@gigstack.test>"
    assert sender.accepted[0].to == "ann@example.com"


async def test_concurrent_duplicates_send_one_email() -> None:
    sender = ScriptedSender()
    delivery, _, _ = build(sender)
    event_id = uuid4()
    outcomes = await asyncio.gather(*(delivery.deliver(event_id, EVENT_TYPE, PAYLOAD) for _ in range(5)))
    assert sorted(o.value for o in outcomes) == ["duplicate"] * 4 + ["sent"]
    assert len(sender.accepted) == 1


async def test_smtp_outage_pauses_then_delivers_when_the_probe_succeeds() -> None:
    sender = ScriptedSender(
        errors=[SmtpUnavailableError("connection refused")],
        probe_errors=[SmtpUnavailableError("refused"), SmtpUnavailableError("refused")],
    )
    delivery, ledger, availability = build(sender)
    event_id = uuid4()
    assert await delivery.deliver(event_id, EVENT_TYPE, PAYLOAD) is DeliveryOutcome.SENT
    assert sender.probes == 3  # two failed probes, the third reopened the gate
    assert len(sender.accepted) == 1
    assert availability.is_available
    assert ledger.states[event_id] == "sent"


async def test_outage_holds_other_messages_without_sending_attempts() -> None:
    sender = ScriptedSender(
        errors=[SmtpUnavailableError("refused")], probe_errors=[SmtpUnavailableError("refused")] * 5
    )
    delivery, _, _ = build(sender)
    results = await asyncio.gather(*(delivery.deliver(uuid4(), EVENT_TYPE, PAYLOAD) for _ in range(10)))
    assert all(r is DeliveryOutcome.SENT for r in results)
    assert len(sender.accepted) == 10
    # Only messages already past the gate when the outage was noticed tried SMTP and failed: one here.
    assert sender.attempts == 11


async def test_outage_longer_than_the_budget_hands_the_message_back() -> None:
    sender = ScriptedSender(errors=[SmtpUnavailableError("refused")], probe_errors=[OSError("down")] * 1000)
    delivery, ledger, _ = build(sender, wait_budget_seconds=0.2)
    event_id = uuid4()
    with pytest.raises(SmtpUnavailableError, match="handed back"):
        await delivery.deliver(event_id, EVENT_TYPE, PAYLOAD)
    assert event_id not in ledger.states  # the claim was released: the redelivery may send it


async def test_shutdown_releases_waiting_messages_promptly() -> None:
    sender = ScriptedSender(errors=[SmtpUnavailableError("refused")], probe_errors=[OSError("down")] * 1000)
    delivery, _, availability = build(sender, wait_budget_seconds=60)
    task = asyncio.create_task(delivery.deliver(uuid4(), EVENT_TYPE, PAYLOAD))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    delivery.stop_waiting()
    with pytest.raises(SmtpUnavailableError):
        await task
    assert time.monotonic() - started < 1.5
    await availability.close()


async def test_4xx_is_retried_then_handed_back() -> None:
    sender = ScriptedSender(errors=[DeliveryDeferredError("mailbox busy (450)")] * 3)
    delivery, ledger, availability = build(sender, message_attempts=3)
    event_id = uuid4()
    with pytest.raises(DeliveryDeferredError):
        await delivery.deliver(event_id, EVENT_TYPE, PAYLOAD)
    assert sender.attempts == 3
    assert event_id not in ledger.states
    assert availability.is_available  # a per-message 4xx does not pause everyone


async def test_4xx_then_success_sends_once() -> None:
    sender = ScriptedSender(errors=[DeliveryDeferredError("greylisted (451)")])
    delivery, _, _ = build(sender)
    assert await delivery.deliver(uuid4(), EVENT_TYPE, PAYLOAD) is DeliveryOutcome.SENT
    assert sender.attempts == 2
    assert len(sender.accepted) == 1


async def test_5xx_is_permanent_and_releases_the_claim() -> None:
    sender = ScriptedSender(errors=[UndeliverableEmailError("recipient rejected (550)")])
    delivery, ledger, _ = build(sender)
    event_id = uuid4()
    with pytest.raises(UndeliverableEmailError, match="550"):
        await delivery.deliver(event_id, EVENT_TYPE, PAYLOAD)
    assert event_id not in ledger.states


async def test_malformed_payload_fails_before_touching_ledger_or_smtp() -> None:
    sender = ScriptedSender()
    delivery, ledger, _ = build(sender)
    with pytest.raises(UndeliverableEmailError, match="missing recipient"):
        await delivery.deliver(uuid4(), EVENT_TYPE, {"username": "ann"})
    assert sender.attempts == 0
    assert ledger.states == {}


async def test_waits_for_another_senders_claim_and_skips_when_it_is_sent() -> None:
    sender = ScriptedSender()
    ledger = InMemoryLedger()
    delivery, _, _ = build(sender, ledger)
    event_id = uuid4()
    ledger.states[event_id] = "claimed:other"

    async def other_sender_finishes() -> None:
        await asyncio.sleep(0.05)
        ledger.states[event_id] = "sent"

    finisher = asyncio.create_task(other_sender_finishes())
    assert await delivery.deliver(event_id, EVENT_TYPE, PAYLOAD) is DeliveryOutcome.DUPLICATE
    await finisher
    assert sender.attempts == 0


async def test_takes_over_when_a_crashed_senders_lease_expires() -> None:
    sender = ScriptedSender()
    ledger = InMemoryLedger()
    delivery, _, _ = build(sender, ledger)
    event_id = uuid4()
    ledger.states[event_id] = "claimed:crashed"

    async def lease_expires() -> None:
        await asyncio.sleep(0.05)
        del ledger.states[event_id]

    expiry = asyncio.create_task(lease_expires())
    assert await delivery.deliver(event_id, EVENT_TYPE, PAYLOAD) is DeliveryOutcome.SENT
    await expiry
    assert len(sender.accepted) == 1


async def test_ledger_hiccup_after_smtp_accepted_still_counts_as_sent() -> None:
    sender = ScriptedSender()
    ledger = InMemoryLedger()
    ledger.fail_mark_sent = 2
    delivery, _, _ = build(sender, ledger)
    event_id: UUID = uuid4()
    assert await delivery.deliver(event_id, EVENT_TYPE, PAYLOAD) is DeliveryOutcome.SENT
    assert ledger.states[event_id] == "sent"
    assert len(sender.accepted) == 1


async def test_ledger_says_sent_before_the_smtp_session_ends() -> None:
    sender = ScriptedSender()
    delivery, ledger, _ = build(sender)
    event_id = uuid4()
    seen_during_session: list[str | None] = []
    sender.after_accept = lambda email: seen_during_session.append(ledger.states.get(email.event_id))
    assert await delivery.deliver(event_id, EVENT_TYPE, PAYLOAD) is DeliveryOutcome.SENT
    assert seen_during_session == ["sent"]


async def test_claims_are_taken_only_for_sends_that_have_a_connection_slot() -> None:
    sender = ScriptedSender()
    ledger = InMemoryLedger()
    availability = SmtpAvailability(sender.probe)
    delivery = EmailDelivery(
        renderer=JinjaEmailRenderer(),
        sender=sender,
        ledger=ledger,
        availability=availability,
        policy=DeliveryPolicy(public_url="https://app.test", message_id_domain="t"),
        max_concurrent_sends=2,
    )
    most_claims = 0

    def count_claims(_: object) -> None:
        nonlocal most_claims
        claims = sum(1 for state in ledger.states.values() if state.startswith("claimed:"))
        most_claims = max(most_claims, claims)

    sender.after_accept = count_claims
    await asyncio.gather(*(delivery.deliver(uuid4(), EVENT_TYPE, PAYLOAD) for _ in range(10)))
    assert len(sender.accepted) == 10
    assert 0 < most_claims <= 2


async def test_ledger_outage_waits_instead_of_failing_the_message() -> None:
    sender = ScriptedSender()
    ledger = InMemoryLedger()
    ledger.fail_claims = 3
    delivery, _, _ = build(sender, ledger)
    event_id = uuid4()
    assert await delivery.deliver(event_id, EVENT_TYPE, PAYLOAD) is DeliveryOutcome.SENT
    assert ledger.states[event_id] == "sent"
    assert len(sender.accepted) == 1


async def test_ledger_outage_longer_than_the_budget_hands_the_message_back() -> None:
    sender = ScriptedSender()
    ledger = InMemoryLedger()
    ledger.fail_claims = 1000
    delivery, _, _ = build(sender, ledger, wait_budget_seconds=0.2)
    with pytest.raises(DeliveryDeferredError, match="ledger unavailable"):
        await delivery.deliver(uuid4(), EVENT_TYPE, PAYLOAD)
    assert sender.attempts == 0
