"""The users HTTP API: /api/v1/sellers and /api/v1/buyers (internal: only the gateway calls it).

Every route needs the gateway's internal token (checked app-wide); "anon" reads accept one without a user,
owner and session operations take the user from it (`CurrentUserIdDep`: 401 without one).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from servicekit.public_api import NO_CONTROL_CHARACTERS, error_responses, public_operation
from servicekit.security import CurrentUserIdDep, VerifiedUserIdDep

from users_service.entrypoints.dependencies import HandlerDeps
from users_service.entrypoints.schemas import (
    BuyerOut,
    SellerIn,
    SellerList,
    SellerOut,
    SellerUpdateIn,
)
from users_service.service_layer import profiles
from users_service.service_layer.commands import BecomeSeller, UpdateSeller

UserId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
Username = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_CONTROL_CHARACTERS)]


def _errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    # Every route may also answer 401 (no valid internal token) and 503 (profile store unavailable or busy).
    return error_responses(*sorted({*statuses, 401, 503}))


sellers = APIRouter(prefix="/api/v1/sellers", tags=["sellers"])
buyers = APIRouter(prefix="/api/v1/buyers", tags=["buyers"])


@sellers.post(
    "",
    **public_operation("sellers.create", session="required"),
    status_code=status.HTTP_201_CREATED,
    response_model=SellerOut,
    responses=_errors(403, 404, 409, 422),
    summary="The caller becomes a seller (a verified email address is required)",
)
async def create_seller(body: SellerIn, user_id: VerifiedUserIdDep, deps: HandlerDeps) -> SellerOut:
    profile = await profiles.become_seller(BecomeSeller(user_id=user_id, details=body.to_details()), deps)
    return SellerOut.of(profile)


@sellers.put(
    "/{seller_id}",
    **public_operation("sellers.update", session="required"),
    response_model=SellerOut,
    responses=_errors(403, 404, 409, 422),
    summary="Replace the seller profile (owner only; optimistic concurrency on `revision`)",
)
async def update_seller(
    seller_id: UserId, body: SellerUpdateIn, user_id: VerifiedUserIdDep, deps: HandlerDeps
) -> SellerOut:
    command = UpdateSeller(
        caller_id=user_id, seller_id=seller_id, details=body.to_details(), expected_revision=body.revision
    )
    return SellerOut.of(await profiles.update_seller(command, deps))


@sellers.get(
    "/random",
    **public_operation("sellers.random", session="optional"),
    response_model=SellerList,
    responses=_errors(422),
    summary="Up to `count` sellers picked at random",
)
async def random_sellers(
    deps: HandlerDeps,
    count: Annotated[int, Query(ge=1, le=profiles.MAX_RANDOM_SELLERS)] = 10,
) -> SellerList:
    return SellerList(sellers=[SellerOut.of(p) for p in await profiles.random_sellers(count, deps)])


@sellers.get(
    "/by-username/{username}",
    **public_operation("sellers.byUsername", session="optional"),
    response_model=SellerOut,
    responses=_errors(404, 422),
)
async def seller_by_username(username: Username, deps: HandlerDeps) -> SellerOut:
    return SellerOut.of(await profiles.seller_by_username(username, deps))


@sellers.get(
    "/{seller_id}",
    response_model=SellerOut,
    responses=_errors(404, 422),
    **public_operation("sellers.byId", session="optional"),
)
async def seller_by_id(seller_id: UserId, deps: HandlerDeps) -> SellerOut:
    return SellerOut.of(await profiles.seller(seller_id, deps))


@buyers.get(
    "/me",
    response_model=BuyerOut,
    responses=_errors(404),
    **public_operation("buyers.me", session="required"),
)
async def my_buyer_profile(user_id: CurrentUserIdDep, deps: HandlerDeps) -> BuyerOut:
    return BuyerOut.of(await profiles.buyer(user_id, deps), with_email=True)


@buyers.get(
    "/by-username/{username}",
    **public_operation("buyers.byUsername", session="required"),
    response_model=BuyerOut,
    responses=_errors(404, 422),
)
async def buyer_by_username(username: Username, _: CurrentUserIdDep, deps: HandlerDeps) -> BuyerOut:
    return BuyerOut.of(await profiles.buyer_by_username(username, deps), with_email=False)
