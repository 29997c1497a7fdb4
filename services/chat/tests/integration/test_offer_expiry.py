"""Offers expire eagerly: a sweep on each replica records pending offers past their expiry and announces each
once, on real FerretDB (no SKIP LOCKED: the versioned write of the offer's message is the claim) and RabbitMQ.

Two chat "replicas" (two apps with their own lifespans, sweeping every 0.2 s) share the database, and the
test races four more sweeps of its own against them: every due offer is recorded as expired with exactly one
`chat.offer.updated.v1` (one event id; status expired, both participants named, so the gateway pushes
`offer.updated` to both; two replicas' outbox relays may deliver that one event twice, as at least once
allows); an offer not yet due and an accepted one are left alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chat_service.entrypoints.app import create_app
from chat_service.entrypoints.bootstrap import ChatDependencies
from chat_service.service_layer.offers import expire_due_offers
from chat_service.settings import ChatSettings
from conftest import ChatApi, EventTap, new_user, offer_body

pytestmark = pytest.mark.integration

DUE_OFFERS = 6
SWEEP_SECONDS = 0.2
VALIDITY_SECONDS = 2.0


def _in_seconds(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


@pytest.fixture
async def second_replica(chat_settings: ChatSettings) -> AsyncIterator[ChatDependencies]:
    app = create_app(chat_settings)
    async with app.router.lifespan_context(app):
        deps = app.state.deps
        assert isinstance(deps, ChatDependencies)
        yield deps


@pytest.fixture
def chat_settings(chat_settings: ChatSettings) -> ChatSettings:
    return chat_settings.model_copy(update={"offer_expiry_sweep_interval_seconds": SWEEP_SECONDS})


def _expiries(tap: EventTap, offer_id: str) -> dict[str, dict[str, Any]]:
    """The distinct expiry events of one offer, by envelope id (a relay may deliver one twice)."""
    return {
        event_id: payload
        for event_id, (event_type, payload) in zip(tap.ids, tap.received, strict=True)
        if event_type == "chat.offer.updated.v1"
        and payload["offer"]["id"] == offer_id
        and payload["offer"]["status"] == "expired"
    }


async def test_due_offers_expire_once_with_two_replicas_sweeping(
    chat_api: ChatApi, second_replica: ChatDependencies, event_tap: EventTap
) -> None:
    seller, buyer = new_user(), new_user()
    await chat_api.register(seller), await chat_api.register(buyer)

    async def offer(expires_at: str | None = None) -> dict[str, Any]:
        terms = offer_body(expires_at=expires_at) if expires_at else offer_body()
        sent: dict[str, Any] = await chat_api.sent(seller, recipient_id=buyer, kind="offer", offer=terms)
        return sent

    taken = await offer(_in_seconds(VALIDITY_SECONDS))
    accepted = await chat_api.client.post(
        f"/api/v1/chat/offers/{taken['offer']['id']}/response",
        json={"action": "accept"},
        auth=chat_api.as_user(buyer),
    )
    assert accepted.status_code == 200, accepted.text
    later = await offer()
    due = [await offer(_in_seconds(VALIDITY_SECONDS)) for _ in range(DUE_OFFERS)]
    last_due = max(datetime.fromisoformat(message["offer"]["expires_at"]) for message in due)

    # Nobody reads or answers the due offers: only the sweeps can expire them. Race four more against the
    # two replicas' own loops right when they fall due.
    await asyncio.sleep(max(0.0, (last_due - datetime.now(UTC)).total_seconds()) + 0.1)
    await asyncio.gather(
        *(expire_due_offers(deps.handlers) for deps in (chat_api.deps, second_replica) for _ in range(2))
    )
    for message in due:
        await event_tap.wait_for(
            lambda t, p, offer_id=message["offer"]["id"]: (
                t == "chat.offer.updated.v1"
                and p["offer"]["id"] == offer_id
                and p["offer"]["status"] == "expired"
            ),
            within=10,
        )
    await asyncio.sleep(1.0)  # any duplicate on its way

    for message in due:
        announced = list(_expiries(event_tap, message["offer"]["id"]).values())
        assert len(announced) == 1, announced  # one transition recorded, whoever swept first
        assert sorted(announced[0]["participants"]) == sorted([seller, buyer])
        stored = await chat_api.deps.database["messages"].find_one({"_id": message["id"]})
        assert stored is not None
        assert stored["offer"]["status"] == "expired"
    for untouched in (later, taken):
        assert _expiries(event_tap, untouched["offer"]["id"]) == {}
    page = await chat_api.client.get(
        f"/api/v1/chat/conversations/{later['conversation_id']}/messages", auth=chat_api.as_user(buyer)
    )
    statuses = {item["offer"]["id"]: item["offer"]["status"] for item in page.json()["items"]}
    assert statuses[later["offer"]["id"]] == "pending"
    assert statuses[taken["offer"]["id"]] == "accepted"
