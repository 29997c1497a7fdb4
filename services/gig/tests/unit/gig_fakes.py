"""In-memory fakes of the service's own ports (service_layer.unit_of_work), for unit tests only.

The fake store keeps versions like the MongoDB one: a save conditional on the version read, so a stale
writer fails with servicekit's `ConcurrentUpdateError`.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Self

from gig_service.domain.events import GigChanged
from gig_service.domain.model import Gig, SellerSummary
from servicekit.media import MediaMissing
from servicekit.mongo import ConcurrentUpdateError


class FakeGigStore:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[Gig, int]] = {}
        self.read_versions: dict[str, int] = {}
        self.staged: list[tuple[Gig, GigChanged, int | None]] = []
        self.published: list[GigChanged] = []
        self.batches: list[list[str]] = []
        # Runs once, just before the next batched write lands (a concurrent writer getting in between).
        self.before_batch_write: Callable[[], None] | None = None

    async def get(self, gig_id: str) -> Gig | None:
        row = self.rows.get(gig_id)
        if row is None:
            return None
        self.read_versions[gig_id] = row[1]
        return copy.deepcopy(row[0])

    def version_of(self, gig: Gig) -> int | None:
        return self.read_versions.get(gig.id)

    def create(self, gig: Gig, event: GigChanged) -> None:
        self.staged.append((gig, event, None))

    def update(self, gig: Gig, event: GigChanged) -> None:
        self.staged.append((gig, event, self.read_versions[gig.id]))

    async def by_seller(
        self, seller_id: str, *, active: bool, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[tuple[Gig, int]]:
        found = sorted(
            (
                (gig, version)
                for gig, version in self.rows.values()
                if gig.seller_id == seller_id and gig.active == active and not gig.deleted
            ),
            key=lambda row: (row[0].created_at, row[0].id),
            reverse=True,
        )
        return [row for row in found if after is None or (row[0].created_at, row[0].id) < after][:limit]

    async def behind_seller(self, seller_id: str, seller_version: int) -> list[tuple[Gig, int]]:
        return [
            (copy.deepcopy(gig), version)
            for gig, version in self.rows.values()
            if gig.seller_id == seller_id and not gig.deleted and gig.seller_version < seller_version
        ]

    async def update_batch(self, changes: Sequence[tuple[Gig, int, GigChanged]]) -> int:
        """Like the MongoDB one: each gig written only if still at the version read; one call per batch."""
        self.batches.append([gig.id for gig, _, _ in changes])
        if self.before_batch_write is not None:
            hook, self.before_batch_write = self.before_batch_write, None
            hook()
        written = 0
        for gig, version, event in changes:
            stored = self.rows.get(gig.id)
            if stored is None or stored[1] != version:
                continue
            self.rows[gig.id] = (copy.deepcopy(gig), version + 1)
            self.published.append(event)
            written += 1
        return written


class FakeSellerStore:
    def __init__(self) -> None:
        self.rows: dict[str, SellerSummary] = {}

    async def get(self, seller_id: str) -> SellerSummary | None:
        return self.rows.get(seller_id)

    def add(self, seller: SellerSummary) -> None:
        self.rows[seller.user_id] = seller

    def save(self, seller: SellerSummary) -> None:
        self.rows[seller.user_id] = seller


class FakeAppliedReviews:
    def __init__(self) -> None:
        self.ids: set[str] = set()

    async def contains(self, review_id: str) -> bool:
        return review_id in self.ids

    async def record(self, review_id: str, gig_id: str) -> None:
        self.ids.add(review_id)


class FakeUnitOfWork:
    def __init__(self, store: FakeGigStore | None = None) -> None:
        self.gigs = store or FakeGigStore()
        self.sellers = FakeSellerStore()
        self.applied_reviews = FakeAppliedReviews()
        self.commits = 0
        # Runs once, just before the next commit writes (a concurrent writer getting in between).
        self.before_commit: Callable[[], Awaitable[None]] | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.gigs.staged.clear()

    async def commit(self) -> None:
        if self.before_commit is not None:
            hook, self.before_commit = self.before_commit, None
            staged, self.gigs.staged = self.gigs.staged, []
            await hook()
            self.gigs.staged = staged
        for gig, event, read_version in self.gigs.staged:
            stored = self.gigs.rows.get(gig.id)
            if read_version is not None and (stored is None or stored[1] != read_version):
                raise ConcurrentUpdateError(f"gigs {gig.id} is not at version {read_version}")
            self.gigs.rows[gig.id] = (copy.deepcopy(gig), (read_version or 0) + 1)
            self.gigs.published.append(event)
        self.gigs.staged.clear()
        self.commits += 1


class FakeCoverImages:
    """The cover check's fake: keys in `uploaded` are usable, any other raises servicekit's MediaMissing."""

    def __init__(self, uploaded: set[str] | None = None) -> None:
        self.uploaded = uploaded if uploaded is not None else set()
        self.checked: list[tuple[str, str]] = []

    async def ensure_usable(self, key: str, seller_id: str) -> None:
        self.checked.append((key, seller_id))
        if key not in self.uploaded:
            raise MediaMissing(f"Nothing was uploaded under {key}")
