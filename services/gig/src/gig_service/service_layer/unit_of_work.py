"""The port the handlers use; adapters.unit_of_work implements it on MongoDB, tests/unit fakes in memory."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from gig_service.domain.events import GigChanged
from gig_service.domain.model import Gig


class GigStore(Protocol):
    async def get(self, gig_id: str) -> Gig | None: ...

    def version_of(self, gig: Gig) -> int | None: ...

    def create(self, gig: Gig, event: GigChanged) -> None: ...

    def update(self, gig: Gig, event: GigChanged) -> None: ...

    async def by_seller(self, seller_id: str, *, active: bool, limit: int) -> list[tuple[Gig, int]]: ...


class UnitOfWork(Protocol):
    @property
    def gigs(self) -> GigStore: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...
