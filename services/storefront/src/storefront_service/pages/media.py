"""``GET /media/<key>``: gig covers on the storefront's own origin (docs/adr/0025).

Only with ``MEDIA_PROXY_ENABLED``; otherwise (and for any key outside the public area, a missing object, a
larger one or a type that is not an image) the answer is a plain 404, never an error page or a 500. An object
store that does not answer is a 503 the browser may retry. Keys are random and never rewritten (a new cover is
a new key), so a found object is cached for a year as immutable; a 404 briefly, since the upload that creates
it may still be on its way.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from storefront_service.adapters.media_reader import MediaUnavailable
from storefront_service.domain.media import (
    PUBLIC_MEDIA_MAX_BYTES,
    PUBLIC_MEDIA_TYPES,
    is_public_media_key,
)
from storefront_service.web import DepsDep

logger = logging.getLogger(__name__)
router = APIRouter()

FOUND_CACHE = "public, max-age=31536000, immutable"
MISSING_CACHE = "public, max-age=60"


def _not_found() -> Response:
    return Response(
        "Not found\n",
        status_code=404,
        media_type="text/plain",
        headers={"Cache-Control": MISSING_CACHE},
    )


@router.get("/media/{key:path}", include_in_schema=False)
async def media(key: str, request: Request, deps: DepsDep) -> Response:
    if deps.media is None or not is_public_media_key(key):
        return _not_found()
    try:
        found = await deps.media.read(key, max_bytes=PUBLIC_MEDIA_MAX_BYTES)
    except MediaUnavailable as error:
        logger.warning("object store unavailable for media", extra={"error": str(error)})
        return Response(
            "Temporarily unavailable\n",
            status_code=503,
            media_type="text/plain",
            headers={"Retry-After": "5", "Cache-Control": "no-store"},
        )
    content_type = found.content_type.split(";")[0].strip().lower() if found else ""
    if found is None or content_type not in PUBLIC_MEDIA_TYPES:
        # Whatever else sits under gigs/ is not served as a page's image (nor sniffed into something else).
        return _not_found()
    headers = {"Cache-Control": FOUND_CACHE, "Content-Disposition": "inline"}
    if found.etag:
        headers["ETag"] = found.etag
        if request.headers.get("If-None-Match") == found.etag:
            return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=content_type, headers=headers)
