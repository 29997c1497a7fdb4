"""Handlers: one per command; each commits once, and its event is staged in the same single-document write.

Every change is checked twice against lost updates: the client's `expected_version` must equal the stored
version (else `StaleGigVersion`, 409), and the write itself is conditional on the version read here, so a
writer that raced past the first check loses on the second (servicekit's `ConcurrentUpdateError`, 409).
A cover image is accepted only if it is the seller's key (domain) and the uploaded object exists and keeps
to the gigs area's size and type (`CoverImages`, servicekit.media).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gig_service.domain.errors import GigNotFound, StaleGigVersion
from gig_service.domain.events import GIG_CREATED, GIG_DELETED, GIG_UPDATED, GigChanged
from gig_service.domain.model import Gig
from gig_service.service_layer.commands import CreateGig, DeleteGig, SetGigActive, UpdateGig
from gig_service.service_layer.cover_images import CoverImages
from gig_service.service_layer.denormalised import refresh_new_gig_seller
from gig_service.service_layer.unit_of_work import GigStore, UnitOfWork

UnitOfWorkFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class VersionedGig:
    gig: Gig
    version: int


async def create_gig(command: CreateGig, new_uow: UnitOfWorkFactory, covers: CoverImages) -> VersionedGig:
    gig = Gig(seller_id=command.seller_id, **command.fields)
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
    if version != expected_version:
        raise StaleGigVersion(details=[{"field": "version", "message": f"the gig is at version {version}"}])
    return gig, version


async def update_gig(command: UpdateGig, new_uow: UnitOfWorkFactory, covers: CoverImages) -> VersionedGig:
    async with new_uow() as uow:
        gig, version = await _load_owned(uow.gigs, command.gig_id, command.user_id, command.expected_version)
        gig.change(command.changes)
        new_cover = command.changes.get("cover_image_key")
        if new_cover is not None:
            await covers.ensure_usable(new_cover, gig.seller_id)
        uow.gigs.update(gig, GigChanged(GIG_UPDATED, gig.state(), version + 1))
        await uow.commit()
    return VersionedGig(gig, version + 1)


async def set_gig_active(command: SetGigActive, new_uow: UnitOfWorkFactory) -> VersionedGig:
    async with new_uow() as uow:
        gig, version = await _load_owned(uow.gigs, command.gig_id, command.user_id, command.expected_version)
        gig.set_active(command.active)
        uow.gigs.update(gig, GigChanged(GIG_UPDATED, gig.state(), version + 1))
        await uow.commit()
    return VersionedGig(gig, version + 1)


async def delete_gig(command: DeleteGig, new_uow: UnitOfWorkFactory) -> None:
    async with new_uow() as uow:
        gig, version = await _load_owned(uow.gigs, command.gig_id, command.user_id, command.expected_version)
        gig.delete()
        uow.gigs.update(gig, GigChanged(GIG_DELETED, gig.state(), version + 1))
        await uow.commit()


async def get_gig(gig_id: str, viewer_id: str | None, new_uow: UnitOfWorkFactory) -> VersionedGig:
    """A gig by id: paused ones only for their seller, deleted ones for nobody."""
    async with new_uow() as uow:
        gig = await uow.gigs.get(gig_id)
        version = uow.gigs.version_of(gig) if gig is not None else None
    if gig is None or version is None or not gig.visible_to(viewer_id):
        raise GigNotFound()
    return VersionedGig(gig, version)


async def gigs_by_seller(
    seller_id: str, *, active: bool, new_uow: UnitOfWorkFactory, limit: int = 100
) -> list[VersionedGig]:
    async with new_uow() as uow:
        found = await uow.gigs.by_seller(seller_id, active=active, limit=limit)
    return [VersionedGig(gig, version) for gig, version in found]
