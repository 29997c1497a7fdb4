"""`media.createUpload`: a presigned POST for one new object under the caller's own key prefix.

The gig service hosts the `media` group for every area (gig covers, chat files, deliveries); services that
accept a key check it with servicekit.media's `verify_upload` (docs/adr/0017).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints
from servicekit.media import AREA_RULES, MediaArea, plan_upload
from servicekit.public_api import JsonInteger, error_responses, public_operation
from servicekit.security import CurrentUserIdDep

from gig_service.entrypoints.dependencies import GigDeps

# The largest any area accepts; each area's own limit is then checked (422 with that limit).
LARGEST_UPLOAD_BYTES = max(rule.max_bytes for rule in AREA_RULES.values())

router = APIRouter(prefix="/api/v1/media", tags=["media"])

ContentType = Annotated[
    str, StringConstraints(min_length=3, max_length=100, pattern=r"^[a-z]+/[a-z0-9.+-]+$")
]


class UploadRequest(BaseModel):
    area: MediaArea = Field(description="What the file is for: gigs (covers), chat (files), deliveries")
    content_type: ContentType = Field(description="The file's MIME type, e.g. image/png")
    size: JsonInteger = Field(ge=1, le=LARGEST_UPLOAD_BYTES, description="The file's size in bytes")


class UploadOut(BaseModel):
    key: str = Field(description="The object key to name later, e.g. as a gig's cover_image_key")
    url: str = Field(description="POST a multipart/form-data form here")
    fields: dict[str, str] = Field(
        description="Form fields to send first, unchanged; the file goes last as `file`"
    )
    max_bytes: int
    content_types: list[str]
    expires_at: datetime


@router.post(
    "/uploads",
    responses=error_responses(401, 422, 503),
    **public_operation("media.createUpload", session="required"),
)
async def create_upload(body: UploadRequest, user_id: CurrentUserIdDep, deps: GigDeps) -> UploadOut:
    planned = await plan_upload(
        deps.media,
        owner=user_id,
        area=body.area,
        content_type=body.content_type,
        size=body.size,
        expires_in_seconds=deps.upload_expiry_seconds,
    )
    return UploadOut(
        key=str(planned.key),
        url=planned.url,
        fields=planned.fields,
        max_bytes=planned.max_bytes,
        content_types=list(planned.content_types),
        expires_at=planned.expires_at,
    )
