"""Becoming a seller, owner-only edits with revisions, reads and the random pick."""

from __future__ import annotations

import pytest
from users_fakes import account, fake_dependencies, seller_details
from users_service.domain.errors import (
    AlreadySeller,
    InvalidSellerDetails,
    NotProfileOwner,
    ProfileNotFound,
    SellerNotFound,
    StaleRevision,
)
from users_service.domain.profile import ProfileDelta
from users_service.domain.seller import Experience
from users_service.service_layer import profiles
from users_service.service_layer.activity import apply_activity
from users_service.service_layer.commands import ApplyActivity, BecomeSeller, RegisterAccount, UpdateSeller
from users_service.service_layer.dependencies import HandlerDependencies


async def _seller(deps: HandlerDependencies, user_id: str = "u1", username: str = "alice") -> None:
    await profiles.register_account(RegisterAccount(user_id=user_id, account=account(username)), deps)
    await profiles.become_seller(BecomeSeller(user_id=user_id, details=seller_details()), deps)


async def test_an_account_becomes_a_seller_once() -> None:
    deps = fake_dependencies()
    await _seller(deps)
    found = await profiles.seller("u1", deps)
    assert found.seller is not None
    assert found.seller.revision == 1
    assert (await profiles.seller_by_username("alice", deps)).user_id == "u1"
    with pytest.raises(AlreadySeller):
        await profiles.become_seller(BecomeSeller(user_id="u1", details=seller_details()), deps)


async def test_an_account_not_yet_announced_cannot_become_a_seller() -> None:
    deps = fake_dependencies()
    with pytest.raises(ProfileNotFound):
        await profiles.become_seller(BecomeSeller(user_id="ghost", details=seller_details()), deps)
    # Counters may exist before the account event; that is still no profile to sell from.
    await apply_activity(ApplyActivity("e1", "gig.gig.created.v1", {"seller_id": "early"}), deps)
    with pytest.raises(ProfileNotFound):
        await profiles.become_seller(BecomeSeller(user_id="early", details=seller_details()), deps)


async def test_only_the_owner_edits_and_only_from_the_current_revision() -> None:
    deps = fake_dependencies()
    await _seller(deps)
    edit = seller_details(one_liner="Now also Rust")
    with pytest.raises(NotProfileOwner):
        await profiles.update_seller(UpdateSeller("intruder", "u1", edit, expected_revision=1), deps)
    updated = await profiles.update_seller(UpdateSeller("u1", "u1", edit, expected_revision=1), deps)
    assert updated.seller is not None
    assert updated.seller.revision == 2
    assert updated.seller.details.one_liner == "Now also Rust"
    with pytest.raises(StaleRevision):
        await profiles.update_seller(UpdateSeller("u1", "u1", seller_details(), expected_revision=1), deps)
    with pytest.raises(SellerNotFound):
        await profiles.update_seller(UpdateSeller("u2", "u2", edit, expected_revision=1), deps)


async def test_counter_events_never_make_an_owner_edit_stale() -> None:
    deps = fake_dependencies()
    await _seller(deps)
    await apply_activity(ApplyActivity("e1", "gig.gig.created.v1", {"seller_id": "u1"}), deps)
    updated = await profiles.update_seller(
        UpdateSeller("u1", "u1", seller_details(), expected_revision=1), deps
    )
    assert updated.counters.gig_count == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"skills": ("python", "Python")},
        {"skills": ()},
        {"languages": ()},
        {"response_time_hours": 0},
        {"full_name": "   "},
        {"experience": (Experience("Acme", "Dev", start_year=2020, end_year=2019),)},
        {"social_links": ("https://a.example", "https://a.example")},
    ],
)
def test_inconsistent_seller_details_are_refused_with_the_field(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidSellerDetails) as refused:
        seller_details(**overrides)
    assert refused.value.details
    assert all("field" in d for d in refused.value.details)


async def test_random_sellers_wrap_around_the_pivot_and_are_distinct() -> None:
    deps = fake_dependencies(random_values=[0.1, 0.4, 0.7, 0.9, 0.8, 0.0])
    for index in range(4):
        await _seller(deps, f"u{index}", f"user{index}")
    picked = await profiles.random_sellers(3, deps)  # pivot 0.8: 0.9, then wrap to 0.1, 0.4
    assert [p.user_id for p in picked] == ["u3", "u0", "u1"]
    assert len(await profiles.random_sellers(500, deps)) == 4


def test_a_rating_outside_one_to_five_stars_is_refused() -> None:
    from users_service.domain.errors import InvalidActivityEvent

    with pytest.raises(InvalidActivityEvent):
        ProfileDelta(star_rating=0)
