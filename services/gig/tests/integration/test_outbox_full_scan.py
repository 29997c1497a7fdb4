"""OUTBOX_FULL_SCAN_INTERVAL_SECONDS reaches gig's outbox relay: an outbox staged without the indexed flag
(a flag lost to FerretDB's unserialised updates) is published by the next full scan at that interval, and
the first batch after start scans whatever the interval (the eks overlay's hour included)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import GigApi, running_gig_api
from gig_service.adapters.repository import GIGS_COLLECTION
from gig_service.domain.events import GIG_UPDATED
from gig_service.settings import GigSettings
from pymongo import AsyncMongoClient
from servicekit.events import EventEnvelope
from servicekit.events.mongo import OUTBOX_FIELD, OUTBOX_PENDING_FIELD, MongoOutboxRelay, outbox_entry


def unflagged_document() -> dict[str, Any]:
    """A gig document whose outbox holds an event but which lacks the `_outbox_pending` flag."""
    gig_id = str(uuid.uuid4())
    envelope = EventEnvelope.new(
        type=GIG_UPDATED, producer="gig", payload={"gig": {"id": gig_id}, "version": 2}
    )
    return {"_id": gig_id, "version": 2, "title": "unflagged", OUTBOX_FIELD: [outbox_entry(envelope)]}


async def published_within(gigs: Any, gig_id: str, seconds: float) -> bool:
    """Whether the relay emptied the document's outbox (it removes entries once the broker confirmed them)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        document = await gigs.find_one({"_id": gig_id})
        if document is not None and not document.get(OUTBOX_FIELD):
            return True
        await asyncio.sleep(0.1)
    return False


def the_relay(api: GigApi) -> MongoOutboxRelay:
    (relay,) = api.deps.events.relays
    assert isinstance(relay, MongoOutboxRelay)
    return relay


@pytest.fixture
async def gigs(mongodb_url: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url)
    try:
        yield client.get_default_database()[GIGS_COLLECTION]
    finally:
        await client.close()


async def test_an_unflagged_outbox_is_published_at_the_configured_scan_interval(
    gig_settings: GigSettings, internal_keypair: tuple[str, str], gigs: Any
) -> None:
    settings = gig_settings.model_copy(update={"outbox_full_scan_interval_seconds": 0.5})
    async with running_gig_api(settings, internal_keypair) as api:
        assert the_relay(api).full_scan_interval_seconds == 0.5
        await asyncio.sleep(1)  # the first batch (and its scan) is behind us
        staged = unflagged_document()
        await gigs.insert_one(staged)
        assert OUTBOX_PENDING_FIELD not in staged
        # the default interval (30 s) would leave it waiting far longer
        assert await published_within(gigs, staged["_id"], seconds=10)


async def test_the_first_batch_scans_even_with_an_hourly_interval(
    gig_settings: GigSettings, internal_keypair: tuple[str, str], gigs: Any
) -> None:
    staged = unflagged_document()
    await gigs.insert_one(staged)  # before the service starts
    settings = gig_settings.model_copy(update={"outbox_full_scan_interval_seconds": 3600})
    async with running_gig_api(settings, internal_keypair) as api:
        assert the_relay(api).full_scan_interval_seconds == 3600
        assert await published_within(gigs, staged["_id"], seconds=30)
