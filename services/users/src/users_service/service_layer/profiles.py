"""Handlers of the profile commands and queries: accounts, becoming a seller, owner edits, reads."""

from __future__ import annotations

from users_service.domain.errors import NotProfileOwner, ProfileNotFound, SellerNotFound
from users_service.domain.profile import Profile
from users_service.service_layer.commands import BecomeSeller, RegisterAccount, UpdateSeller
from users_service.service_layer.dependencies import HandlerDependencies

MAX_RANDOM_SELLERS = 50


async def register_account(command: RegisterAccount, deps: HandlerDependencies) -> Profile:
    """Idempotent by user id: a repeated or re-announced account leaves the profile as it is."""
    profile = await deps.writer.change(command.user_id, lambda p: p.with_account(command.account))
    assert profile is not None
    return profile


async def become_seller(command: BecomeSeller, deps: HandlerDependencies) -> Profile:
    now, random_key = deps.clock(), deps.random_unit()

    def change(profile: Profile) -> Profile:
        if not profile.is_announced:
            raise ProfileNotFound("This account has no profile yet; try again in a moment")
        return profile.become_seller(command.details, now=now, random_key=random_key)

    profile = await deps.writer.change(command.user_id, change, create=False)
    if profile is None:
        raise ProfileNotFound("This account has no profile yet; try again in a moment")
    return profile


async def update_seller(command: UpdateSeller, deps: HandlerDependencies) -> Profile:
    if command.caller_id != command.seller_id:
        raise NotProfileOwner("Only the seller may edit their own profile")
    profile = await deps.writer.change(
        command.seller_id,
        lambda p: p.edit_seller(command.details, expected_revision=command.expected_revision),
        create=False,
    )
    if profile is None:
        raise SellerNotFound(f"Seller {command.seller_id} does not exist")
    return profile


async def buyer(user_id: str, deps: HandlerDependencies) -> Profile:
    profile = await deps.profiles.get(user_id)
    if profile is None or not profile.is_announced:
        raise ProfileNotFound("No buyer profile for this account yet")
    return profile


async def buyer_by_username(username: str, deps: HandlerDependencies) -> Profile:
    profile = await deps.profiles.by_username(username)
    if profile is None or not profile.is_announced:
        raise ProfileNotFound(f"No buyer is called {username}")
    return profile


async def seller(seller_id: str, deps: HandlerDependencies) -> Profile:
    profile = await deps.profiles.get(seller_id)
    if profile is None or profile.seller is None or not profile.is_announced:
        raise SellerNotFound(f"Seller {seller_id} does not exist")
    return profile


async def seller_by_username(username: str, deps: HandlerDependencies) -> Profile:
    profile = await deps.profiles.by_username(username)
    if profile is None or profile.seller is None:
        raise SellerNotFound(f"No seller is called {username}")
    return profile


async def random_sellers(count: int, deps: HandlerDependencies) -> list[Profile]:
    """Up to `count` distinct sellers, starting at a random point of their random keys (no `$sample`)."""
    count = max(1, min(count, MAX_RANDOM_SELLERS))
    return await deps.profiles.random_sellers(count, pivot=deps.random_unit())
