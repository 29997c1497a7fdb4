"""The search port: what the gig service needs from its search engine, whichever adapter serves it.

`GigSearchIndex` (opensearch-py; the local engine and Amazon OpenSearch) and `ElasticsearchGigIndex`
(elasticsearch-py 8; ECK on minikube) both implement it. Their failure vocabulary is shared too: an engine
that cannot be reached raises opensearch-py's `ConnectionError`, a refusal its `TransportError` with the
HTTP status, so the projection's retry rule and the 503 of the error table hold for either adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

Document = dict[str, Any]


@dataclass(frozen=True)
class GigHits:
    hits: list[Document]
    total: int
    next_cursor: str | None
    facets: dict[str, list[dict[str, Any]]]


class GigSearch(Protocol):
    alias: str

    async def ensure(self) -> None: ...

    async def project(self, document: Mapping[str, Any], version: int, *, refresh: bool = False) -> bool:
        """Write one gig's indexed form at `version`; False when a newer (or the same) one is there."""
        ...

    async def find(
        self,
        query: Mapping[str, Any],
        *,
        sort: Sequence[Mapping[str, Any]],
        size: int,
        cursor: str | None = None,
        facets: bool = False,
    ) -> GigHits: ...

    async def physical_indices(self) -> list[str]: ...

    async def reindex(
        self, source: AsyncIterable[tuple[Document, int]], *, batch_size: int = 500, started: datetime
    ) -> str: ...

    async def close(self) -> None: ...
