"""The gig use cases against in-memory fakes of the service's own ports."""

from __future__ import annotations

from typing import Any

import pytest
from gig_fakes import FakeCoverImages, FakeUnitOfWork
from gig_service.domain.errors import CoverNotYours, GigNotFound, InvalidGig, NotGigOwner, StaleGigVersion
from gig_service.domain.events import GIG_CREATED, GIG_DELETED, GIG_UPDATED
from gig_service.service_layer import handlers
from gig_service.service_layer.commands import CreateGig, DeleteGig, SetGigActive, UpdateGig
from servicekit.media import MediaMissing

UPLOADED_COVER = "gigs/seller/cover-1.png"
COVERS = FakeCoverImages({UPLOADED_COVER})


def gig_fields(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "I will design your logo",
        "description": "Three concepts, unlimited revisions",
        "category": "design",
        "price": 5000,
        "currency": "USD",
        "delivery_days": 3,
        **overrides,
    }


async def created(uow: FakeUnitOfWork, **overrides: Any) -> handlers.VersionedGig:
    return await handlers.create_gig(CreateGig("seller", gig_fields(**overrides)), lambda: uow, COVERS)


async def test_created_gig_is_stored_at_version_1_with_its_full_state_event() -> None:
    uow = FakeUnitOfWork()
    made = await created(uow)
    assert made.version == 1
    [event] = uow.gigs.published
    assert (event.type, event.version, event.gig["id"], event.gig["price"]) == (
        GIG_CREATED,
        1,
        made.gig.id,
        5000,
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": " "},
        {"description": "\u2003\n"},
        {"price": 0},
        {"currency": "usd"},
        {"delivery_days": 0},
        {"tags": ["x"] * 11},
        {"cover_image_key": "../gigs/seller/cover.png"},
    ],
)
async def test_invalid_gig_is_refused_and_nothing_is_written(overrides: dict[str, Any]) -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidGig):
        await created(uow, **overrides)
    assert uow.commits == 0


@pytest.mark.parametrize("blank", ["\x1e", "\x85", "\ufeff"])
async def test_separators_and_bom_are_blank_as_in_the_api_schema(blank: str) -> None:
    # The schema's NOT_BLANK names them (JSON Schema's ECMA-262 `\s`, Python's and Rust's differ on them).
    with pytest.raises(InvalidGig):
        await created(FakeUnitOfWork(), description=blank)


async def test_cover_under_another_users_prefix_is_forbidden() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(CoverNotYours):
        await created(uow, cover_image_key="gigs/someone-else/cover.png")
    assert uow.commits == 0


async def test_cover_under_the_sellers_own_prefix_is_accepted_once_uploaded() -> None:
    made = await created(FakeUnitOfWork(), cover_image_key=UPLOADED_COVER)
    assert made.gig.cover_image_key == UPLOADED_COVER


async def test_a_cover_nothing_was_uploaded_to_is_refused_and_nothing_is_stored() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(MediaMissing):
        await created(uow, cover_image_key="gigs/seller/never-uploaded.png")
    assert uow.gigs.published == []


async def test_changing_the_cover_checks_the_new_object_and_keeps_the_old_gig_when_missing() -> None:
    uow = FakeUnitOfWork()
    made = await created(uow)
    covers = FakeCoverImages({UPLOADED_COVER})
    with pytest.raises(MediaMissing):
        await handlers.update_gig(
            UpdateGig(made.gig.id, "seller", 1, {"cover_image_key": "gigs/seller/gone.png"}),
            lambda: uow,
            covers,
        )
    updated = await handlers.update_gig(
        UpdateGig(made.gig.id, "seller", 1, {"cover_image_key": UPLOADED_COVER}), lambda: uow, covers
    )
    assert (updated.version, updated.gig.cover_image_key) == (2, UPLOADED_COVER)
    assert covers.checked == [("gigs/seller/gone.png", "seller"), (UPLOADED_COVER, "seller")]


async def test_update_at_the_current_version_bumps_it_and_publishes_the_new_state() -> None:
    uow = FakeUnitOfWork()
    made = await created(uow)
    updated = await handlers.update_gig(
        UpdateGig(made.gig.id, "seller", 1, {"price": 7000}), lambda: uow, COVERS
    )
    assert (updated.version, updated.gig.price) == (2, 7000)
    assert [(e.type, e.version, e.gig["price"]) for e in uow.gigs.published][-1] == (GIG_UPDATED, 2, 7000)


async def test_update_carrying_a_stale_version_is_refused() -> None:
    uow = FakeUnitOfWork()
    made = await created(uow)
    await handlers.update_gig(UpdateGig(made.gig.id, "seller", 1, {"price": 7000}), lambda: uow, COVERS)
    with pytest.raises(StaleGigVersion):
        await handlers.update_gig(UpdateGig(made.gig.id, "seller", 1, {"price": 9000}), lambda: uow, COVERS)
    assert uow.gigs.rows[made.gig.id][0].price == 7000


async def test_invalid_change_leaves_the_gig_unchanged() -> None:
    uow = FakeUnitOfWork()
    made = await created(uow)
    with pytest.raises(InvalidGig):
        await handlers.update_gig(UpdateGig(made.gig.id, "seller", 1, {"price": -1}), lambda: uow, COVERS)
    assert uow.gigs.rows[made.gig.id] == (made.gig, 1)


async def test_only_the_seller_may_change_a_gig() -> None:
    uow = FakeUnitOfWork()
    made = await created(uow)
    for run in (
        handlers.update_gig(UpdateGig(made.gig.id, "intruder", 1, {"price": 1}), lambda: uow, COVERS),
        handlers.set_gig_active(SetGigActive(made.gig.id, "intruder", 1, False), lambda: uow),
        handlers.delete_gig(DeleteGig(made.gig.id, "intruder", 1), lambda: uow),
    ):
        with pytest.raises(NotGigOwner):
            await run
    assert uow.commits == 1


async def test_paused_gig_is_hidden_from_others_but_not_from_its_seller() -> None:
    uow = FakeUnitOfWork()
    made = await created(uow)
    await handlers.set_gig_active(SetGigActive(made.gig.id, "seller", 1, False), lambda: uow)
    assert (await handlers.get_gig(made.gig.id, "seller", lambda: uow)).version == 2
    with pytest.raises(GigNotFound):
        await handlers.get_gig(made.gig.id, None, lambda: uow)
    assert await handlers.gigs_by_seller("seller", active=True, new_uow=lambda: uow) == []
    assert len(await handlers.gigs_by_seller("seller", active=False, new_uow=lambda: uow)) == 1


async def test_deleted_gig_is_a_tombstone_that_publishes_deleted_and_is_gone() -> None:
    uow = FakeUnitOfWork()
    made = await created(uow)
    await handlers.delete_gig(DeleteGig(made.gig.id, "seller", 1), lambda: uow)
    assert (uow.gigs.published[-1].type, uow.gigs.published[-1].version) == (GIG_DELETED, 2)
    with pytest.raises(GigNotFound):
        await handlers.get_gig(made.gig.id, "seller", lambda: uow)
    with pytest.raises(GigNotFound):
        await handlers.update_gig(UpdateGig(made.gig.id, "seller", 2, {"price": 1}), lambda: uow, COVERS)
