"""`MEDIA_ERRORS`: how a service answers media refusals; `ErrorTable({**MEDIA_ERRORS, ...})` merges it."""

from __future__ import annotations

from collections.abc import Mapping

from servicekit.error_table import ErrorReport
from servicekit.media.keys import InvalidMediaKey
from servicekit.media.store import ObjectStoreUnavailable
from servicekit.media.uploads import MediaMissing, MediaNotYours, MediaRejected, UploadRefused

__all__ = ["MEDIA_ERRORS"]

MEDIA_ERRORS: Mapping[type[Exception], ErrorReport] = {
    InvalidMediaKey: ErrorReport(422),
    UploadRefused: ErrorReport(422),
    MediaNotYours: ErrorReport(403),
    MediaMissing: ErrorReport(422),
    MediaRejected: ErrorReport(422),
    ObjectStoreUnavailable: ErrorReport(
        503,
        code="object_store_unavailable",
        message="File storage is unavailable",
        retry_after_seconds=5,
        log=True,
    ),
}
