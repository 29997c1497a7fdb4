"""`GigSearchIndex`: the gig read model in OpenSearch, behind an alias over a versioned physical index.

Clients and the projection only ever name the alias (`gigs`); the data lives in `gigs_v<n>`. `reindex`
builds `gigs_v<n+1>` from the write model and swaps the alias in one atomic `update_aliases`, so searches
never see a half-built index. Every write uses external versioning with the gig's version: OpenSearch
itself refuses a redelivered or late older event (409 version conflict, ignored here as already applied).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import ConflictError, NotFoundError, RequestError
from servicekit.search import SearchIndex

from gig_service.adapters.search_mapping import GIG_INDEX_SETTINGS, GIG_MAPPINGS
from gig_service.adapters.search_port import GigHits
from gig_service.adapters.search_queries import FACETS

logger = logging.getLogger(__name__)

Document = dict[str, Any]

__all__ = ["GigHits", "GigSearchIndex", "facets_of", "generation_of"]


def facets_of(aggregations: Mapping[str, Any], wanted: bool) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [
            {"key": bucket["key"], "count": bucket["doc_count"]}
            for bucket in aggregations.get(name, {}).get("buckets", [])
        ]
        for name in (FACETS if wanted else {})
    }


def generation_of(names: Sequence[str]) -> int:
    """The highest `_v<n>` among physical index names (0 when none)."""
    return max((int(m[1]) for name in names if (m := re.search(r"_v(\d+)$", name))), default=0)


class GigSearchIndex(SearchIndex):
    def __init__(self, client: AsyncOpenSearch, alias: str = "gigs") -> None:
        super().__init__(client, alias, mappings=GIG_MAPPINGS, settings=GIG_INDEX_SETTINGS, tiebreaker="id")
        self.alias = alias
        self._ensured = False

    def physical_name(self, generation: int) -> str:
        return f"{self.alias}_v{generation}"

    async def physical_indices(self) -> list[str]:
        try:
            response = await self.client.indices.get_alias(name=self.alias)
        except NotFoundError:
            return []
        return sorted(response)

    async def ensure(self) -> None:
        """Create `<alias>_v1` with the alias unless the alias exists (same name from every replica).

        An existing index gets the current mapping put on it: fields added since it was created (additive
        changes only; a changed field type needs `reindex`) are then accepted by its strict mapping.
        """
        if self._ensured:
            return
        if await self.client.indices.exists_alias(name=self.alias):
            await self.client.indices.put_mapping(index=self.alias, body=self.mappings)
            await self._wait_for_primary_shard()
            self._ensured = True
            return
        try:
            await self.client.indices.create(
                index=self.physical_name(1),
                body={
                    "settings": self.settings,
                    "mappings": self.mappings,
                    "aliases": {self.alias: {}},
                },
            )
        except RequestError as error:
            if error.error != "resource_already_exists_exception":
                raise
        await self._wait_for_primary_shard()
        self._ensured = True

    async def _wait_for_primary_shard(self) -> None:
        """Wait once, briefly, until the alias's primary shard is active.

        Another caller (the projection consumer, another replica) may have created the index a moment ago,
        and the alias exists from that moment: until the primary shard is active a search answers 503.
        The request timeout bounds the wait; a timeout is a 503 and the next call waits again.
        """
        await self.client.cluster.health(
            index=self.alias, wait_for_status="yellow", timeout="10s", request_timeout=12
        )

    async def project(self, document: Mapping[str, Any], version: int, *, refresh: bool = False) -> bool:
        """Write one gig's indexed form at `version`; False when a newer (or the same) version is there."""
        try:
            await self.client.index(
                index=self.alias,
                id=str(document["id"]),
                body=dict(document),
                params={"version": version, "version_type": "external", "refresh": str(refresh).lower()},
            )
        except ConflictError:
            return False
        return True

    async def find(
        self,
        query: Mapping[str, Any],
        *,
        sort: Sequence[Mapping[str, Any]],
        size: int,
        cursor: str | None = None,
        facets: bool = False,
    ) -> GigHits:
        await self.ensure()  # before the first gig is projected, an empty index rather than a 404
        page = await self.page(
            query,
            sort=sort,
            size=size,
            cursor=cursor,
            aggregations=FACETS if facets else None,
            index=self.alias,
        )
        return GigHits(
            hits=page.hits,
            total=page.total,
            next_cursor=page.next_cursor,
            facets=facets_of(page.aggregations, facets),
        )

    async def close(self) -> None:
        await self.client.close()

    async def reindex(
        self, source: AsyncIterable[tuple[Document, int]], *, batch_size: int = 500, started: datetime
    ) -> str:
        """Build the next physical index from `source` (documents with versions), then swap the alias.

        Events keep landing in the old index (through the alias) while the new one fills; after the swap
        the caller replays what changed since `started` (`project` keeps the newest version either way).
        """
        current = await self.physical_indices()
        target = self.physical_name(generation_of(current) + 1)
        await self.client.indices.create(
            index=target, body={"settings": self.settings, "mappings": self.mappings}
        )
        batch: list[Mapping[str, Any]] = []
        async for document, version in source:
            batch.extend(
                (
                    {
                        "index": {
                            "_index": target,
                            "_id": document["id"],
                            "version": version,
                            "version_type": "external",
                        }
                    },
                    document,
                )
            )
            if len(batch) >= 2 * batch_size:
                await self._bulk(batch)
                batch = []
        if batch:
            await self._bulk(batch)
        await self.client.indices.refresh(index=target)
        actions: list[Document] = [{"add": {"index": target, "alias": self.alias}}]
        actions += [{"remove": {"index": name, "alias": self.alias}} for name in current]
        await self.client.indices.update_aliases(body={"actions": actions})
        for name in current:
            await self.client.indices.delete(index=name, params={"ignore_unavailable": "true"})
        logger.info("reindexed %s into %s (was %s)", self.alias, target, current)
        return target

    async def _bulk(self, lines: list[Mapping[str, Any]]) -> None:
        response = await self.client.bulk(body=lines)
        if response.get("errors"):
            failed = [
                item["index"]["_id"]
                for item in response["items"]
                if item["index"].get("error") and item["index"].get("status") != 409
            ]
            if failed:
                raise RuntimeError(f"reindex of {self.alias} failed for {len(failed)} ids: {failed[:10]}")
