"""Media uploads: keys `<area>/<owner>/<name>`, presigned POSTs, and the check that an upload is usable.

The API other services use (docs/servicekit-api.md):

- `MediaArea`, `MediaKey`, `AREA_RULES` (keys.py): the key format and each area's size and content types.
- `ObjectStoreSettings` (settings.py): the OBJECT_STORE_* variables, mixed into a service's settings.
- `S3ObjectStore(settings)` (s3.py): the adapter; `await store.close()` on shutdown.
- `plan_upload(...)` and `verify_upload(store, key, owner=..., area=...)` (uploads.py), with their refusals
  `UploadRefused`, `MediaNotYours`, `MediaMissing`, `MediaRejected` (DomainErrors) and the outage
  `ObjectStoreUnavailable`. `MEDIA_ERRORS` maps them to HTTP for a service's ErrorTable.
"""

from servicekit.media.errors import MEDIA_ERRORS
from servicekit.media.keys import AREA_RULES, AreaRule, InvalidMediaKey, MediaArea, MediaKey
from servicekit.media.s3 import S3ObjectStore
from servicekit.media.settings import ObjectStoreSettings
from servicekit.media.store import ObjectStore, ObjectStoreUnavailable, PresignedPost, StoredObject
from servicekit.media.uploads import (
    MediaMissing,
    MediaNotYours,
    MediaRejected,
    PlannedUpload,
    UploadRefused,
    plan_upload,
    verify_upload,
)

__all__ = [
    "AREA_RULES",
    "MEDIA_ERRORS",
    "AreaRule",
    "InvalidMediaKey",
    "MediaArea",
    "MediaKey",
    "MediaMissing",
    "MediaNotYours",
    "MediaRejected",
    "ObjectStore",
    "ObjectStoreSettings",
    "ObjectStoreUnavailable",
    "PlannedUpload",
    "PresignedPost",
    "S3ObjectStore",
    "StoredObject",
    "UploadRefused",
    "plan_upload",
    "verify_upload",
]
