"""Other services' facts copied into gigs: seller summaries (users.seller.*) and buyers' ratings (reviews).

Both change gigs the seller did not edit, through versioned writes like an edit's, so each one is a normal
`gig.gig.updated.v1` event and search shows it like any other change. They do not move the gig's
`edit_version`, so a seller editing from a version read before them is not refused (domain `Gig`).
Neither may apply twice:
- a seller summary carries the users profile version; a gig copies it only if newer than the one it holds,
  so repeats, late older events and a fan-out resumed after a crash change nothing twice. All of a
  seller's gigs are written in one batched write (`GigStore.update_batch`); the few that lost a race then
  are written one by one. A fan-out copies the newest summary the replica holds, not necessarily its own
  event's, and one seller's fan-outs run one at a time per process, so events superseded while they waited
  cost a look, not a write per gig (`record_seller`);
- a rating is counted once per review id: the gig document remembers recent review ids in the same write as
  the counters, and the applied-reviews ledger (unique `_id`) remembers every id once that write is done.
Within a process, writes of one gig by these paths are serialised (`servicekit.locks.KeyedLocks`, one shared
instance built by the composition root): the review consumer holds up to its prefetch (16) deliveries at once,
and a popular gig's ratings would otherwise race each other for one document, most losing each round and
backing off, on FerretDB at several round trips per attempt (a write claim). A write that still loses a race
(another replica, a seller's own edit, FerretDB's write claim) is retried on fresh state.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from servicekit.locks import KeyedLocks
from servicekit.mongo import ConcurrentUpdateError

from gig_service.domain.errors import GigNotFound
from gig_service.domain.events import GIG_UPDATED, GigChanged
from gig_service.domain.model import SellerSummary
from gig_service.service_layer.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

UnitOfWorkFactory = Callable[[], UnitOfWork]
T = TypeVar("T")

WRITE_BUDGET_SECONDS = 20.0  # below the projection-style 45 s handler budgets, above a write claim's lease
# How long a seller event waits for that seller's fan-out in progress before it is handed back: well inside
# the consumer's 60 s handler budget, whose expiry would count as a failed attempt (five dead-letter it).
FAN_OUT_WAIT_SECONDS = 30.0
_FIRST_PAUSE, _LONGEST_PAUSE = 0.01, 0.5


@dataclass(frozen=True)
class BuyerRating:
    """The part of `review.review.created.v1` a gig's rating needs."""

    review_id: str
    gig_id: str
    rating: int


class StoreBusyError(Exception):
    """A document kept changing under every attempt to write it for the whole budget; the consumer hands the
    event back (end of its queue, not counted as a failed attempt), so contention never dead-letters it."""


async def retry_on_conflict(write: Callable[[], Awaitable[T]], *, budget: float = WRITE_BUDGET_SECONDS) -> T:
    """`write()` again, on fresh state after a jittered pause, while it loses optimistic-concurrency races."""
    loop = asyncio.get_running_loop()
    deadline, pause, attempt = loop.time() + budget, _FIRST_PAUSE, 0
    while True:
        attempt += 1
        try:
            return await write()
        except ConcurrentUpdateError:
            if loop.time() >= deadline:
                raise StoreBusyError(f"still conflicting after {attempt} attempts") from None
        await asyncio.sleep(pause * random.uniform(0.5, 1.0))
        pause = min(pause * 2, _LONGEST_PAUSE)


async def record_seller(seller: SellerSummary, new_uow: UnitOfWorkFactory, *, gig_writes: KeyedLocks) -> int:
    """Keep the newest summary of `seller`, then bring their gigs up to the newest summary the replica holds
    (this one or a newer); returns gigs changed by this call.

    Returns only once every live gig of the seller holds this version or a newer one, so acking the event
    afterwards is safe. Superseded versions coalesce: the events of one seller that this process holds at once
    (up to the consumer's prefetch) record their summaries one after the other, each a single-document
    write, while fan-outs run one at a time per seller; a fan-out first lets the summaries queued ahead of it
    land, then copies the replica's newest, so the deliveries that waited find their gigs already at (or
    past) their version and write nothing. A burst of N rating changes of one seller thus costs about one
    fan-out over their gigs instead of N, and as many `gig.gig.updated.v1` events per gig. A delivery that
    waits longer than `FAN_OUT_WAIT_SECONDS` for the seller's fan-out raises `StoreBusyError` (handed back).
    """
    async with gig_writes.hold(_summary_key(seller.user_id)):
        await retry_on_conflict(lambda: _keep_newest(seller, new_uow))
    waiting = asyncio.timeout(FAN_OUT_WAIT_SECONDS)
    try:
        async with waiting, gig_writes.hold(seller_fan_out_key(seller.user_id)):
            waiting.reschedule(None)  # the fan-out itself runs on its writes' own budgets
            # FIFO locks: the summaries of deliveries that arrived before this one are written once this
            # lock is passed, so the replica read below holds the newest this process has been told of.
            async with gig_writes.hold(_summary_key(seller.user_id)), new_uow() as uow:
                newest = await uow.sellers.get(seller.user_id)
            if newest is None or newest.version < seller.version:  # the replica only moves forward
                newest = seller
            return await _fan_out(newest, new_uow, gig_writes=gig_writes)
    except TimeoutError:
        if not waiting.expired():
            raise
        # Its summary is in the replica, so the fan-out running now (or the next) copies it or a newer one;
        # handed back, the event returns at the end of the queue and then usually finds nothing to write.
        raise StoreBusyError(
            f"seller {seller.user_id} v{seller.version}: their fan-outs held it {FAN_OUT_WAIT_SECONDS:g} s"
        ) from None


def seller_fan_out_key(seller_id: str) -> tuple[str, str]:
    """The key a seller's fan-outs hold in the process's `KeyedLocks` (tagged: gig ids are plain strings)."""
    return ("seller fan-out", seller_id)


def _summary_key(seller_id: str) -> tuple[str, str]:
    return ("seller summary", seller_id)


async def _keep_newest(seller: SellerSummary, new_uow: UnitOfWorkFactory) -> None:
    async with new_uow() as uow:
        current = await uow.sellers.get(seller.user_id)
        if current is not None and current.version >= seller.version:
            return
        if current is None:
            uow.sellers.add(seller)
        else:
            uow.sellers.save(seller)
        await uow.commit()


async def _fan_out(seller: SellerSummary, new_uow: UnitOfWorkFactory, *, gig_writes: KeyedLocks) -> int:
    """Copy `seller` into each of their live gigs that holds an older version; returns gigs changed."""
    # Even when the gigs may already hold this version (a redelivery), look: a crash may have interrupted the
    # fan-out, and gigs holding this version or a newer one are not listed (a full redelivery writes nothing).
    async with new_uow() as uow:
        behind = await uow.gigs.behind_seller(seller.user_id, seller.version)
        # `apply_seller` compares the gig's `seller_version` with this one on the very state each write is
        # conditional on, so an older summary never replaces a newer one, whichever fan-out runs first.
        batch = [
            (gig, version, GigChanged(GIG_UPDATED, gig.state(), version + 1))
            for gig, version in behind
            if gig.apply_seller(seller)
        ]
        changed = await uow.gigs.update_batch(batch) if batch else 0
    if changed < len(batch):
        logger.info(
            "seller %s v%d: %d of %d gigs written in the batch; writing the rest one by one",
            seller.user_id, seller.version, changed, len(batch),
        )  # fmt: skip
        # Gigs that changed since listed (a rating, an owner edit) or whose write claim was held: one write
        # each on fresh state, retried, as before batching (and taking over a dead writer's expired claim).
        async with new_uow() as uow:
            left = await uow.gigs.behind_seller(seller.user_id, seller.version)
        for gig, _ in left:
            async with gig_writes.hold(gig.id):
                changed += await copy_seller(gig.id, seller, new_uow)
    return changed


async def copy_seller(gig_id: str, seller: SellerSummary, new_uow: UnitOfWorkFactory) -> int:
    """Copy `seller` into one gig unless it holds that version or a newer one; 1 if it changed the gig.

    Unserialised: callers that may run alongside others of the same process hold the gig's lock.
    """

    async def write() -> int:
        async with new_uow() as uow:
            gig = await uow.gigs.get(gig_id)
            if gig is None or gig.deleted or not gig.apply_seller(seller):
                return 0
            version = (uow.gigs.version_of(gig) or 0) + 1
            uow.gigs.update(gig, GigChanged(GIG_UPDATED, gig.state(), version))
            await uow.commit()
            return 1

    return await retry_on_conflict(write)


async def record_rating(rating: BuyerRating, new_uow: UnitOfWorkFactory, *, gig_writes: KeyedLocks) -> bool:
    """Count a buyer's rating into its gig once per review id; False when it was already counted."""
    async with new_uow() as uow:
        if await uow.applied_reviews.contains(rating.review_id):
            return False

    async def write() -> bool:
        async with new_uow() as uow:
            gig = await uow.gigs.get(rating.gig_id)
            if gig is None:
                raise GigNotFound(f"review {rating.review_id} rates gig {rating.gig_id}, which never existed")
            if gig.deleted or not gig.apply_review(rating.review_id, rating.rating):
                return False  # a deleted gig's rating no longer shows anywhere; or counted already
            version = (uow.gigs.version_of(gig) or 0) + 1
            uow.gigs.update(gig, GigChanged(GIG_UPDATED, gig.state(), version))
            await uow.commit()
            return True

    async with gig_writes.hold(rating.gig_id):
        applied = await retry_on_conflict(write)
    async with new_uow() as uow:
        await uow.applied_reviews.record(rating.review_id, rating.gig_id)
    return applied


async def refresh_new_gig_seller(gig_id: str, seller_id: str, held: int, new_uow: UnitOfWorkFactory) -> int:
    """After creating a gig with seller summary version `held`: a concurrent users.seller.* fan-out may
    have listed the seller's gigs just before this one existed; copy a newer summary if there is one.

    Not serialised with the consumers: only that rare fan-out can race a gig this new (optimistic retry)."""
    async with new_uow() as uow:
        latest = await uow.sellers.get(seller_id)
    if latest is None or latest.version <= held:
        return 0
    return await copy_seller(gig_id, latest, new_uow)
