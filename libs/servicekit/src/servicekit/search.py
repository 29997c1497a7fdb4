"""`SearchIndex`: one OpenSearch index with an explicit mapping, bulk upserts and `search_after` pages.

A search index is a projection a service rebuilds from its own store (usually from its events), so this
stays small: create the index if missing, replace documents in bulk, delete one, and page through a query
in a stable order. Deep pages use `search_after` with a unique tiebreaker field (never `from`/`size`, which
costs more the deeper it goes and is capped at 10 000 hits); the position travels as an opaque cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import NotFoundError, RequestError

__all__ = ["InvalidCursorError", "SearchIndex", "SearchPage", "create_search_client"]

Document = dict[str, Any]


def create_search_client(url: str, *, timeout_seconds: float = 5.0) -> AsyncOpenSearch:
    """An async client for `url` (credentials may be in the URL); every request is bounded by the timeout."""
    return AsyncOpenSearch(hosts=[url], timeout=timeout_seconds, max_retries=2, retry_on_timeout=True)


class InvalidCursorError(ValueError):
    """A page cursor that this index did not produce (tampered with, truncated): a client error, 400."""


@dataclass(frozen=True)
class SearchPage:
    hits: list[Document]
    total: int
    next_cursor: str | None  # None on the last page
    aggregations: Document = field(default_factory=dict)  # as the engine answered, when asked for


class SearchIndex:
    """One index: `mappings` are explicit (`dynamic: strict` by default) and include `tiebreaker`.

    `tiebreaker` names a unique `keyword` field of every document (the aggregate id): appended to every sort,
    it makes the order total, so `search_after` neither skips nor repeats documents with equal sort values.
    """

    def __init__(
        self,
        client: AsyncOpenSearch,
        name: str,
        *,
        mappings: Mapping[str, Any],
        settings: Mapping[str, Any] | None = None,
        tiebreaker: str = "id",
    ) -> None:
        properties = mappings.get("properties", {})
        if properties.get(tiebreaker, {}).get("type") != "keyword":
            raise ValueError(f"the tiebreaker {tiebreaker!r} must be mapped as a keyword field")
        self.client = client
        self.name = name
        self.mappings = {"dynamic": "strict", **mappings}
        self.settings = dict(settings or {})
        self.tiebreaker = tiebreaker

    async def ensure(self) -> None:
        """Create the index with its mapping unless it exists (safe when several replicas start at once)."""
        if await self.client.indices.exists(index=self.name):
            return
        try:
            await self.client.indices.create(
                index=self.name, body={"settings": self.settings, "mappings": self.mappings}
            )
        except RequestError as error:
            if error.error != "resource_already_exists_exception":
                raise

    async def upsert_many(self, documents: Iterable[Mapping[str, Any]], *, refresh: bool = False) -> int:
        """Create or replace each document under its tiebreaker value; returns how many were written.

        Raises `RuntimeError` naming the failed ids when any item failed (the others are written).
        `refresh=True` makes them searchable before returning (tests; costly under load).
        """
        lines: list[Mapping[str, Any]] = []
        for document in documents:
            lines.append({"index": {"_index": self.name, "_id": str(document[self.tiebreaker])}})
            lines.append(document)
        if not lines:
            return 0
        response = await self.client.bulk(body=lines, refresh=refresh)
        if response.get("errors"):
            failed = [item["index"]["_id"] for item in response["items"] if item["index"].get("error")]
            raise RuntimeError(f"bulk upsert into {self.name} failed for {len(failed)} ids: {failed[:10]}")
        return len(lines) // 2

    async def delete(self, document_id: str, *, refresh: bool = False) -> bool:
        """Remove one document; False when it was not there (deletes are idempotent, like event handlers)."""
        try:
            await self.client.delete(index=self.name, id=document_id, refresh=refresh)
        except NotFoundError:
            return False
        return True

    async def page(
        self,
        query: Mapping[str, Any],
        *,
        sort: Sequence[Mapping[str, Any]] = (),
        size: int = 20,
        cursor: str | None = None,
        aggregations: Mapping[str, Any] | None = None,
        index: str | None = None,
    ) -> SearchPage:
        """One page of `query` in `sort` order (plus the tiebreaker), after `cursor` when given.

        `index` defaults to this index's name (an alias in front of it may be given instead).
        """
        body: Document = {
            "query": query,
            # One hit past the page says whether another page exists: a full last page gets no cursor.
            "size": size + 1,
            "sort": [*sort, {self.tiebreaker: "asc"}],
            "track_total_hits": True,
        }
        if cursor is not None:
            body["search_after"] = decode_cursor(cursor, length=len(body["sort"]))
        if aggregations:
            body["aggs"] = dict(aggregations)
        try:
            response = await self.client.search(index=index or self.name, body=body)
        except RequestError as error:
            # The query and sort are the service's own; with a cursor, a refusal is about the cursor: one
            # from another sort order (same length, other types) is the client's mistake, not a 500.
            if cursor is None:
                raise
            raise InvalidCursorError("the page cursor does not fit this sort order") from error
        found = response["hits"]["hits"]
        hits = found[:size]
        next_cursor = encode_cursor(hits[-1]["sort"]) if len(found) > size and hits else None
        return SearchPage(
            hits=[hit["_source"] for hit in hits],
            total=int(response["hits"]["total"]["value"]),
            next_cursor=next_cursor,
            aggregations=response.get("aggregations", {}),
        )


def encode_cursor(sort_values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(sort_values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, length: int | None = None) -> list[Any]:
    """The sort values in `cursor`; with `length`, exactly that many (one per sort key of the query asking:
    a cursor handed out for another sort order has another count, which the engine refuses with a 400)."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as error:
        raise InvalidCursorError("the page cursor is not valid") from error
    if not isinstance(values, list) or not all(isinstance(v, str | int | float) for v in values):
        raise InvalidCursorError("the page cursor is not valid")
    if length is not None and len(values) != length:
        raise InvalidCursorError("the page cursor was made for another sort order")
    return values
