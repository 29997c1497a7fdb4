"""users.seller.* leave through the profile outbox on real FerretDB and RabbitMQ: becoming a seller, an owner
edit and a buyer's rating each publish one event with the profile version; counters alone publish none."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from servicekit.events import EventEnvelope
from servicekit.security import InternalTokenIssuer
from users_harness import account_created, eventually, new_id, publisher, start_users

pytestmark = pytest.mark.integration

SELLER: dict[str, Any] = {
    "full_name": "Alice Example",
    "one_liner": "I build reliable APIs",
    "description": "Ten years of backend work on payment and booking systems.",
    "skills": ["python"],
    "languages": [{"language": "English", "level": "native"}],
    "response_time_hours": 6,
}


@pytest.fixture
async def seller_events(amqp_url: str) -> AsyncIterator[aio_pika.abc.AbstractQueue]:
    """A test queue bound to users.seller.# (what gig.sellers binds), read directly."""
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange("gigstack.events", aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(f"test.sellers.{uuid.uuid4().hex}", exclusive=True)
    await queue.bind(exchange, routing_key="users.seller.#")
    try:
        yield queue
    finally:
        await connection.close()


async def drain(queue: aio_pika.abc.AbstractQueue, *, wait: float) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        message = await queue.get(fail=False, no_ack=True)
        if message is None:
            await asyncio.sleep(0.1)
            continue
        received.append(json.loads(message.body))
    return received


def review(seller: str, rating: int) -> EventEnvelope:
    payload = {
        "review_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "gig_id": "gig-1", "seller_id": seller,
        "buyer_id": "buyer-1", "reviewer_id": "buyer-1", "reviewer_role": "buyer", "rating": rating,
        "comment": "Great", "created_at": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    return EventEnvelope.new(type="review.review.created.v1", producer="review", payload=payload)


async def test_seller_changes_publish_versioned_summaries_and_counters_alone_do_not(
    mongodb_url: str,
    amqp_url: str,
    internal_keypair: tuple[str, str],
    seller_events: aio_pika.abc.AbstractQueue,
) -> None:
    issuer = InternalTokenIssuer(internal_keypair[0])
    owner = new_id()

    def as_owner() -> dict[str, str]:
        return {
            "Authorization": f"Bearer {issuer.issue('users', subject=owner, extra={'email_verified': True})}"
        }

    async with (
        publisher(amqp_url) as bus,
        start_users(mongodb_url=mongodb_url, amqp_url=amqp_url, public_key_pem=internal_keypair[1]) as users,
    ):
        client = users.client
        await bus.publish(account_created(owner, "alice"))

        async def announced() -> bool:
            response = await client.get("/api/v1/buyers/me", headers=as_owner())
            return bool(response.status_code == 200)

        await eventually(announced, what="the buyer profile")
        assert await drain(seller_events, wait=1) == []  # a buyer is no seller: nothing to announce

        created = await client.post("/api/v1/sellers", json=SELLER, headers=as_owner())
        assert created.status_code == 201, created.text
        edit = {**SELLER, "one_liner": "Now with Rust", "revision": 1}
        edited = await client.put(f"/api/v1/sellers/{owner}", json=edit, headers=as_owner())
        assert edited.status_code == 200, edited.text
        rated = review(owner, 4)
        await bus.publish(rated)
        await bus.publish(rated)  # a redelivery: counted once, announced once
        gig_created = EventEnvelope.new(
            type="gig.gig.created.v1", producer="gig", payload={"seller_id": owner, "gig": {}, "version": 1}
        )
        await bus.publish(gig_created)  # a counter, not part of the public summary

        # The relay may publish a document's staged events in one batch, in any order: sort by version. It
        # publishes at least once: on FerretDB a writer holding the document's claim can leave a published
        # entry for the next pass, which publishes the same event (same id) again; consumers drop it by id.
        # What must be exactly one is each distinct event.
        published = await drain(seller_events, wait=8)
        distinct = {event["id"]: event for event in published}
        events = sorted(distinct.values(), key=lambda e: int(e["payload"]["version"]))

    kinds = [(event["type"], event["payload"]["seller"]["one_liner"]) for event in events]
    assert kinds == [
        ("users.seller.created.v1", "I build reliable APIs"),
        ("users.seller.updated.v1", "Now with Rust"),
        ("users.seller.updated.v1", "Now with Rust"),
    ], kinds
    assert len({event["payload"]["version"] for event in events}) == 3  # distinct: consumers apply by version
    last = events[-1]["payload"]["seller"]
    assert (last["user_id"], last["username"], last["rating_average"], last["rating_count"]) == (
        owner,
        "alice",
        4.0,
        1,
    )
