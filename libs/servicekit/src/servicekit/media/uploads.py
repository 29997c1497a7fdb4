"""Handing out uploads and accepting them: the two things a service does with media keys.

`plan_upload` refuses what the area does not take before anything is signed. `verify_upload` is the check
a service runs when a client names a key (a gig cover, a chat file, a delivery): the key is the caller's,
the object exists, and its stored size and type are within the area's rule. The last part repeats the
POST policy on purpose: S3 enforces the policy, but s3proxy (local and minikube) checks only its signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from servicekit.domain_errors import DomainError
from servicekit.media.keys import AREA_RULES, MediaArea, MediaKey
from servicekit.media.store import ObjectStore, StoredObject

__all__ = [
    "MediaMissing",
    "MediaNotYours",
    "MediaRejected",
    "PlannedUpload",
    "UploadRefused",
    "plan_upload",
    "verify_upload",
]

# Names state the outcome, like servicekit's other refusals.
# ruff: noqa: N818


class UploadRefused(DomainError):
    code = "upload_refused"
    default_message = "This upload is not allowed"


class MediaNotYours(DomainError):
    code = "forbidden"
    default_message = "The media key must be an upload of yours"


class MediaMissing(DomainError):
    code = "media_missing"
    default_message = "Nothing was uploaded under this media key"


class MediaRejected(DomainError):
    code = "media_rejected"
    default_message = "The uploaded object breaks the upload rules"


@dataclass(frozen=True)
class PlannedUpload:
    key: MediaKey
    url: str
    fields: dict[str, str]
    max_bytes: int
    content_types: tuple[str, ...]
    expires_at: datetime


async def plan_upload(
    store: ObjectStore,
    *,
    owner: str,
    area: MediaArea,
    content_type: str,
    size: int,
    expires_in_seconds: int,
) -> PlannedUpload:
    """A presigned POST for a new key under `owner`, limited to `content_type` and the area's size."""
    rule = AREA_RULES[area]
    allowed = tuple(sorted(rule.content_types))
    if not rule.allows(content_type):
        raise UploadRefused(
            f"{area.value} uploads take {', '.join(allowed)}, not {content_type}",
            details=[{"field": "content_type", "message": f"one of {', '.join(allowed)}"}],
        )
    if not 1 <= size <= rule.max_bytes:
        raise UploadRefused(
            f"{area.value} uploads are 1 to {rule.max_bytes} bytes, not {size}",
            details=[{"field": "size", "message": f"at most {rule.max_bytes} bytes"}],
        )
    key = MediaKey.new(area, owner, content_type)
    post = await store.presign_post(
        str(key), content_type=content_type, max_bytes=rule.max_bytes, expires_in_seconds=expires_in_seconds
    )
    return PlannedUpload(key, post.url, post.fields, rule.max_bytes, allowed, post.expires_at)


async def verify_upload(store: ObjectStore, key: str, *, owner: str, area: MediaArea) -> StoredObject:
    """The stored object behind `key` if the caller `owner` may use it in `area`; refusals otherwise."""
    parsed = MediaKey.parse(key)
    if parsed.area is not area:
        raise MediaRejected(f"Expected a key in {area.value}/, got one in {parsed.area.value}/")
    if parsed.owner != owner:
        raise MediaNotYours()
    stored = await store.stat(key)
    if stored is None:
        raise MediaMissing(f"Nothing was uploaded under {key}")
    rule = parsed.rule
    if stored.size > rule.max_bytes:
        raise MediaRejected(f"The object is {stored.size} bytes; {area.value} takes at most {rule.max_bytes}")
    if not rule.allows(stored.content_type):
        raise MediaRejected(
            f"The object is {stored.content_type or 'untyped'}; {area.value} does not take it"
        )
    return stored
