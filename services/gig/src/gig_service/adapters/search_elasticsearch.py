"""`ElasticsearchGigIndex`: the gig read model on Elasticsearch 8 (ECK on minikube), with elasticsearch-py.

The same design as `GigSearchIndex` (ADR 0016): an alias over `<alias>_v<n>`, the explicit mapping, external
versioning with the gig version, tombstones, `search_after` pages with the `id` tiebreaker, and `reindex` with
one atomic alias swap. Failures are translated into the port's vocabulary (adapters/search_port.py):
unreachable → opensearch-py `ConnectionError`, refused → `TransportError(status)`, so the projection retries
and the API answers 503 the same way for both engines.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterable, Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from elastic_transport import ConnectionError as EsConnectionError
from elastic_transport import ConnectionTimeout as EsConnectionTimeout
from elasticsearch import ApiError as EsApiError
from elasticsearch import AsyncElasticsearch
from elasticsearch import ConflictError as EsConflictError
from elasticsearch import NotFoundError as EsNotFoundError
from opensearchpy.exceptions import ConnectionError as SearchConnectionError
from opensearchpy.exceptions import TransportError as SearchTransportError
from servicekit.search import decode_cursor, encode_cursor

from gig_service.adapters.search_index import facets_of, generation_of
from gig_service.adapters.search_mapping import GIG_INDEX_SETTINGS, GIG_MAPPINGS
from gig_service.adapters.search_port import Document, GigHits
from gig_service.adapters.search_queries import FACETS

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def create_elasticsearch_client(url: str, *, timeout_seconds: float = 5.0) -> AsyncElasticsearch:
    """An async client for `url` (credentials may be in the URL), every request bounded by the timeout."""
    return AsyncElasticsearch(
        hosts=[url], request_timeout=timeout_seconds, max_retries=2, retry_on_timeout=True
    )


def _in_port_terms(call: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    @functools.wraps(call)
    async def translated(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await call(*args, **kwargs)
        except (EsConnectionError, EsConnectionTimeout) as error:
            raise SearchConnectionError("N/A", str(error), error) from error
        except EsApiError as error:
            if isinstance(error, EsConflictError | EsNotFoundError):
                raise
            raise SearchTransportError(error.meta.status, str(error.message), error.body) from error

    return translated


class ElasticsearchGigIndex:
    def __init__(self, client: AsyncElasticsearch, alias: str = "gigs") -> None:
        self.client = client
        self.alias = alias
        self._ensured = False

    def physical_name(self, generation: int) -> str:
        return f"{self.alias}_v{generation}"

    @_in_port_terms
    async def physical_indices(self) -> list[str]:
        try:
            response = await self.client.indices.get_alias(name=self.alias)
        except EsNotFoundError:
            return []
        return sorted(response.body)

    @_in_port_terms
    async def ensure(self) -> None:
        """Create `<alias>_v1` with the alias unless it exists; else put the (additive) current mapping."""
        if self._ensured:
            return
        if await self.client.indices.exists_alias(name=self.alias):
            await self.client.indices.put_mapping(
                index=self.alias, dynamic=GIG_MAPPINGS["dynamic"], properties=GIG_MAPPINGS["properties"]
            )
            self._ensured = True
            return
        try:
            await self.client.indices.create(
                index=self.physical_name(1),
                settings=GIG_INDEX_SETTINGS,
                mappings=GIG_MAPPINGS,
                aliases={self.alias: {}},
            )
        except EsApiError as error:
            if error.error != "resource_already_exists_exception":
                raise
        self._ensured = True

    @_in_port_terms
    async def project(self, document: Mapping[str, Any], version: int, *, refresh: bool = False) -> bool:
        try:
            await self.client.index(
                index=self.alias,
                id=str(document["id"]),
                document=dict(document),
                version=version,
                version_type="external",
                refresh=refresh,
            )
        except EsConflictError:
            return False
        return True

    @_in_port_terms
    async def find(
        self,
        query: Mapping[str, Any],
        *,
        sort: Sequence[Mapping[str, Any]],
        size: int,
        cursor: str | None = None,
        facets: bool = False,
    ) -> GigHits:
        await self.ensure()
        response = await self.client.search(
            index=self.alias,
            query=dict(query),
            size=size + 1,  # one hit past the page says whether another page exists
            sort=[*(dict(item) for item in sort), {"id": "asc"}],
            track_total_hits=True,
            search_after=decode_cursor(cursor, length=len(sort) + 1) if cursor is not None else None,
            aggregations=FACETS if facets else None,
        )
        found = response["hits"]["hits"]
        hits = found[:size]
        return GigHits(
            hits=[hit["_source"] for hit in hits],
            total=int(response["hits"]["total"]["value"]),
            next_cursor=encode_cursor(hits[-1]["sort"]) if hits and len(found) > size else None,
            facets=facets_of(response.body.get("aggregations", {}), facets),
        )

    @_in_port_terms
    async def reindex(
        self, source: AsyncIterable[tuple[Document, int]], *, batch_size: int = 500, started: datetime
    ) -> str:
        """Fill the next physical index from `source`, then swap the alias in one `update_aliases`."""
        current = await self.physical_indices()
        target = self.physical_name(generation_of(current) + 1)
        await self.client.indices.create(index=target, settings=GIG_INDEX_SETTINGS, mappings=GIG_MAPPINGS)
        batch: list[Mapping[str, Any]] = []
        async for document, version in source:
            action = {"_index": target, "_id": document["id"], "version": version, "version_type": "external"}
            batch.extend(({"index": action}, document))
            if len(batch) >= 2 * batch_size:
                await self._bulk(batch)
                batch = []
        if batch:
            await self._bulk(batch)
        await self.client.indices.refresh(index=target)
        actions: list[Document] = [{"add": {"index": target, "alias": self.alias}}]
        actions += [{"remove": {"index": name, "alias": self.alias}} for name in current]
        await self.client.indices.update_aliases(actions=actions)
        for name in current:
            await self.client.indices.delete(index=name, ignore_unavailable=True)
        logger.info("reindexed %s into %s (was %s)", self.alias, target, current)
        return target

    async def _bulk(self, lines: list[Mapping[str, Any]]) -> None:
        response = await self.client.bulk(operations=lines)
        if response.get("errors"):
            failed = [
                item["index"]["_id"]
                for item in response["items"]
                if item["index"].get("error") and item["index"].get("status") != 409
            ]
            if failed:
                raise RuntimeError(f"reindex of {self.alias} failed for {len(failed)} ids: {failed[:10]}")

    async def close(self) -> None:
        await self.client.close()
