"""The search projection: gig events -> `GigSearchIndex`, on the service's own queue `gig.search-projection`.

Idempotent and order-safe without any bookkeeping of its own: each event carries the gig's full state and
version, written with external versioning, so a repeat or an older event is refused by the index. While
the search engine is unreachable the handler waits and retries (the message stays unacked, so later events
queue behind it); past its time budget it raises and the broker redelivers, up to the subscription's limit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from opensearchpy.exceptions import ConnectionError as SearchConnectionError
from opensearchpy.exceptions import TransportError
from servicekit.events import EventEnvelope, EventHandler, PermanentEventError, subscription

from gig_service.adapters.search_mapping import search_document
from gig_service.adapters.search_port import GigSearch
from gig_service.domain.events import PUBLISHED_EVENT_TYPES

logger = logging.getLogger(__name__)

# Queue, bindings and delivery limit are declared once for the whole system (servicekit.events.subscriptions);
# every publisher applies that declaration, so gig events wait here even before the projection first runs.
PROJECTION_SUBSCRIPTION = subscription("gig.search-projection")
RETRY_BUDGET_SECONDS = 45.0  # below the consumer's 60 s handler timeout


def _parse(envelope: EventEnvelope) -> tuple[dict[str, Any], int]:
    payload = envelope.payload
    gig, version = payload.get("gig"), payload.get("version")
    if not isinstance(gig, dict) or not isinstance(version, int) or version < 1:
        raise PermanentEventError(f"{envelope.type} {envelope.id}: payload lacks gig state or version")
    try:
        return search_document(gig, version), version
    except KeyError as missing:
        raise PermanentEventError(f"{envelope.type} {envelope.id}: gig state lacks {missing}") from None


def projection_handler(index: GigSearch, *, stopping: asyncio.Event | None = None) -> EventHandler:
    async def handle(envelope: EventEnvelope) -> None:
        if envelope.type not in PUBLISHED_EVENT_TYPES:
            return  # a future gig event this version does not project: nothing to do
        document, version = _parse(envelope)
        delay, waited = 0.2, 0.0
        while True:
            try:
                await index.ensure()
                applied = await index.project(document, version)
                break
            except (SearchConnectionError, TransportError) as error:
                status = getattr(error, "status_code", None)
                if isinstance(status, int) and 400 <= status < 500 and status not in (408, 429):
                    raise PermanentEventError(f"search index refused {document['id']}: {status}") from error
                if waited >= RETRY_BUDGET_SECONDS or (stopping is not None and stopping.is_set()):
                    raise
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, 5.0)
        if not applied:
            logger.info("gig %s v%d already indexed at a newer version", document["id"], version)

    return handle
