"""Rebuild the search read model from the write model into a new physical index, then swap the alias.

Zero downtime: searches keep reading the old index until the alias moves. Events projected meanwhile land in
the old index, so after the swap every gig changed since the rebuild started is projected again (external
versioning keeps whichever version is newest).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from servicekit.events.mongo import OUTBOX_EXCLUDED
from servicekit.mongo import VERSION_FIELD

from gig_service.adapters.repository import GIGS_COLLECTION, gig_from_document
from gig_service.adapters.search_mapping import document_of
from gig_service.entrypoints.bootstrap import GigDependencies


async def _documents(
    deps: GigDependencies, query: dict[str, Any]
) -> AsyncIterator[tuple[dict[str, Any], int]]:
    collection = deps.mongo.get_default_database()[GIGS_COLLECTION]
    async for stored in collection.find(query, OUTBOX_EXCLUDED).sort("_id", 1).batch_size(500):
        version = int(stored[VERSION_FIELD])
        yield document_of(gig_from_document(stored), version), version


async def reindex(deps: GigDependencies) -> str:
    # Clock skew margin: a gig written just before `started` on another replica is replayed too.
    started = datetime.now(UTC) - timedelta(seconds=30)
    target = await deps.search.reindex(_documents(deps, {}), started=started)
    async for document, version in _documents(deps, {"updated_at": {"$gte": started}}):
        await deps.search.project(document, version)
    return target
