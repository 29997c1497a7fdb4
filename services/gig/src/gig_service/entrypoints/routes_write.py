"""Owner-only writes under /api/v1/gigs: parse -> command -> handler -> response.

Optimistic concurrency: every change carries the `version` the client read (in the body; for DELETE as the
`version` query parameter). A version that is no longer current, or a concurrent writer that won, gets 409.

Putting a gig in front of buyers (create, update, activate) needs a verified email address (403
`email_not_verified`, docs/security.md); deleting one does not: taking something down is never blocked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from servicekit.public_api import COUNTER_MAX, error_responses, public_operation
from servicekit.security import CurrentUserIdDep, VerifiedUserIdDep

from gig_service.entrypoints.dependencies import GigDeps
from gig_service.entrypoints.schemas import ActiveIn, GigChangesIn, GigFields, GigOut, PathId
from gig_service.service_layer import handlers
from gig_service.service_layer.commands import CreateGig, DeleteGig, SetGigActive, UpdateGig

router = APIRouter(prefix="/api/v1/gigs", tags=["gigs"])


@router.post(
    "",
    status_code=201,
    responses=error_responses(401, 403, 422, 503),
    **public_operation("gigs.create", session="required"),
)
async def create_gig(body: GigFields, user_id: VerifiedUserIdDep, deps: GigDeps) -> GigOut:
    command = CreateGig(seller_id=user_id, fields=body.model_dump())
    created = await handlers.create_gig(command, deps.new_uow, deps.covers)
    return GigOut.of(created)


@router.patch(
    "/{gig_id}",
    responses=error_responses(401, 403, 404, 409, 422, 503),
    **public_operation("gigs.update", session="required"),
)
async def update_gig(gig_id: PathId, body: GigChangesIn, user_id: VerifiedUserIdDep, deps: GigDeps) -> GigOut:
    command = UpdateGig(gig_id=gig_id, user_id=user_id, expected_version=body.version, changes=body.changes())
    return GigOut.of(await handlers.update_gig(command, deps.new_uow, deps.covers))


@router.put(
    "/{gig_id}/active",
    responses=error_responses(401, 403, 404, 409, 422, 503),
    **public_operation("gigs.setActive", session="required"),
)
async def set_gig_active(gig_id: PathId, body: ActiveIn, user_id: VerifiedUserIdDep, deps: GigDeps) -> GigOut:
    command = SetGigActive(gig_id=gig_id, user_id=user_id, expected_version=body.version, active=body.active)
    return GigOut.of(await handlers.set_gig_active(command, deps.new_uow))


@router.delete(
    "/{gig_id}",
    status_code=204,
    responses=error_responses(401, 403, 404, 409, 422, 503),
    **public_operation("gigs.delete", session="required"),
)
async def delete_gig(
    gig_id: PathId,
    version: Annotated[int, Query(ge=1, le=COUNTER_MAX, description="The version the client read")],
    user_id: CurrentUserIdDep,
    deps: GigDeps,
) -> Response:
    await handlers.delete_gig(
        DeleteGig(gig_id=gig_id, user_id=user_id, expected_version=version), deps.new_uow
    )
    return Response(status_code=204)
