"""Handlers: one per command; each commits once, and its event is staged in the same single-document write.

Every seller change is checked twice against lost updates: the client's `expected_version` must be a version
that already held the seller's last change (`Gig.ensure_seller_read`, else `StaleGigVersion`, 409; versions
made since by ratings or seller summaries do not count against it), and the write itself is conditional on
the version read here. A writer that raced past the first check loses on the second and is tried again on
fresh state, where a seller edit that won the race refuses it (409); after repeated losses it gets
servicekit's `ConcurrentUpdateError` (409) too.
A cover image is accepted only if it is the seller's key (domain) and the uploaded object exists and keeps
to the gigs area's size and type (`CoverImages`, servicekit.media).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from servicekit.mongo import ConcurrentUpdateError

from gig_service.domain.errors import GigNotFound
from gig_service.domain.events import GIG_CREATED, GIG_DELETED, GIG_UPDATED, GigChanged
from gig_service.domain.model import Gig
from gig_service.service_layer.commands import CreateGig, DeleteGig, SetGigActive, UpdateGig
from gig_service.service_layer.cover_images import CoverImages
from gig_service.service_layer.denormalised import refresh_new_gig_seller
from gig_service.service_layer.unit_of_work import GigStore, UnitOfWork

UnitOfWorkFactory = Callable[[], UnitOfWork]

# A seller's write that lost to a rating or seller-summary write is made again on fresh state, this often.
SELLER_WRITE_ATTEMPTS = 5
_RETRY_PAUSE = 0.02


@dataclass(frozen=True)
class VersionedGig:
    gig: Gig
    version: int


async def create_gig(command: CreateGig, new_uow: UnitOfWorkFactory, covers: CoverImages) -> VersionedGig:
    gig = Gig(seller_id=command.seller_id, **command.fields)
    gig.edit_version = 1  # the seller's first version
    if gig.cover_image_key is not None:
        # After the domain's own checks (format, owner): only a key that is the seller's reaches the store.
        await covers.ensure_usable(gig.cover_image_key, gig.seller_id)
    async with new_uow() as uow:
        seller = await uow.sellers.get(command.seller_id)
        if seller is not None:  # the seller's public summary, as users last announced it
            gig.apply_seller(seller)
        uow.gigs.create(gig, GigChanged(GIG_CREATED, gig.state(), 1))
        await uow.commit()
    if await refresh_new_gig_seller(gig.id, gig.seller_id, gig.seller_version, new_uow):
        return await get_gig(gig.id, gig.seller_id, new_uow)
    return VersionedGig(gig, 1)


async def _load_owned(store: GigStore, gig_id: str, user_id: str, expected_version: int) -> tuple[Gig, int]:
    gig = await store.get(gig_id)
    if gig is None or gig.deleted:
        raise GigNotFound()
    gig.ensure_owner(user_id)
    version = store.version_of(gig) or 0
    gig.ensure_seller_read(expected_version, version)
    return gig, version


async def _seller_change(
    new_uow: UnitOfWorkFactory,
    gig_id: str,
    user_id: str,
    expected_version: int,
    event_type: str,
    change: Callable[[Gig], Awaitable[None]],
) -> VersionedGig:
    """Load, check and change the gig as its seller, then write it conditional on the version loaded.

    Losing that write to a rating or seller summary written meanwhile is not the seller's conflict: the
    change is made again on the fresh state, where the seller's precondition is checked again, so a seller
    edit that won the race in between still refuses this one (409), never overwritten.
    """
    for attempt in range(1, SELLER_WRITE_ATTEMPTS + 1):
        try:
            async with new_uow() as uow:
                gig, version = await _load_owned(uow.gigs, gig_id, user_id, expected_version)
                await change(gig)
                gig.edit_version = version + 1
                uow.gigs.update(gig, GigChanged(event_type, gig.state(), version + 1))
                await uow.commit()
            return VersionedGig(gig, version + 1)
        except ConcurrentUpdateError:
            if attempt == SELLER_WRITE_ATTEMPTS:
                raise  # still racing after that many tries: 409, the client reloads
            await asyncio.sleep(_RETRY_PAUSE * attempt * random.uniform(0.5, 1.0))
    raise AssertionError("unreachable")  # pragma: no cover


async def update_gig(command: UpdateGig, new_uow: UnitOfWorkFactory, covers: CoverImages) -> VersionedGig:
    checked: set[str] = set()

    async def change(gig: Gig) -> None:
        gig.change(command.changes)
        new_cover = command.changes.get("cover_image_key")
        if new_cover is not None and new_cover not in checked:  # the object store once, not per attempt
            await covers.ensure_usable(new_cover, gig.seller_id)
            checked.add(new_cover)

    return await _seller_change(
        new_uow, command.gig_id, command.user_id, command.expected_version, GIG_UPDATED, change
    )


async def set_gig_active(command: SetGigActive, new_uow: UnitOfWorkFactory) -> VersionedGig:
    async def change(gig: Gig) -> None:
        gig.set_active(command.active)

    return await _seller_change(
        new_uow, command.gig_id, command.user_id, command.expected_version, GIG_UPDATED, change
    )


async def delete_gig(command: DeleteGig, new_uow: UnitOfWorkFactory) -> None:
    async def change(gig: Gig) -> None:
        gig.delete()

    await _seller_change(
        new_uow, command.gig_id, command.user_id, command.expected_version, GIG_DELETED, change
    )


async def get_gig(gig_id: str, viewer_id: str | None, new_uow: UnitOfWorkFactory) -> VersionedGig:
    """A gig by id: paused ones only for their seller, deleted ones for nobody."""
    async with new_uow() as uow:
        gig = await uow.gigs.get(gig_id)
        version = uow.gigs.version_of(gig) if gig is not None else None
    if gig is None or version is None or not gig.visible_to(viewer_id):
        raise GigNotFound()
    return VersionedGig(gig, version)


async def gigs_by_seller(
    seller_id: str,
    *,
    active: bool,
    new_uow: UnitOfWorkFactory,
    limit: int = 100,
    after: tuple[datetime, str] | None = None,
) -> list[VersionedGig]:
    async with new_uow() as uow:
        found = await uow.gigs.by_seller(seller_id, active=active, limit=limit, after=after)
    return [VersionedGig(gig, version) for gig, version in found]
