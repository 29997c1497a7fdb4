"""`S3ObjectStore`: the object-store port over aiobotocore (AWS S3, or s3proxy locally and on minikube).

aiobotocore rather than boto3: the HEAD that checks an upload runs on the service's event loop, and on eks
the IRSA web-identity credentials are refreshed asynchronously as well (boto3 would block the loop on both).
botocore underneath brings SigV4 signing, presigned POST policies, the standard retry mode and the
credential chain; it is maintained by aio-libs and follows botocore releases closely.

Nothing connects before first use. Presigned POST policies are signed locally; their signature does not
cover the host, so a form signed for the internal endpoint is handed out with the public endpoint's URL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from servicekit.media.settings import ObjectStoreSettings
from servicekit.media.store import ObjectStoreUnavailable, PresignedPost, StoredObject

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

__all__ = ["S3ObjectStore", "s3_client_context"]

_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


def s3_client_context(settings: ObjectStoreSettings, *, max_attempts: int = 3) -> Any:
    """The aiobotocore S3 client context for `settings` (enter it for the client); every media user's."""
    # Imported on first use: aiobotocore and the S3 model cost ~19 MiB of RSS, which an idle
    # service (measured against its memory budget, docs/benchmarks.md) does not need to carry.
    from aiobotocore.session import get_session
    from botocore.config import Config

    secret = settings.object_store_secret_access_key
    return get_session().create_client(
        "s3",
        region_name=settings.object_store_region,
        endpoint_url=settings.object_store_endpoint,
        aws_access_key_id=settings.object_store_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=Config(
            signature_version="s3v4",
            # Path style works with any endpoint name (s3proxy's Service, a bucket with dots).
            s3={"addressing_style": "path"} if settings.object_store_endpoint else {},
            connect_timeout=settings.object_store_timeout_seconds,
            read_timeout=settings.object_store_timeout_seconds,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            # Checksums only where S3 requires them: s3proxy refuses the CRC headers botocore
            # otherwise adds to every request (NotImplemented), and a HEAD carries no body.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


class S3ObjectStore:
    def __init__(self, settings: ObjectStoreSettings) -> None:
        self._settings = settings
        self._bucket = settings.object_store_bucket
        self._client: S3Client | None = None
        self._context: Any = None
        self._lock = asyncio.Lock()

    async def _s3(self) -> S3Client:
        async with self._lock:
            if self._client is None:
                self._context = s3_client_context(self._settings)
                self._client = await self._context.__aenter__()
            return self._client

    async def presign_post(
        self, key: str, *, content_type: str, max_bytes: int, expires_in_seconds: int
    ) -> PresignedPost:
        client = await self._s3()
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in_seconds)
        post = await client.generate_presigned_post(
            self._bucket,
            key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in_seconds,
        )
        url = post["url"]
        public = self._settings.object_store_public_endpoint
        if public:
            url = f"{public.rstrip('/')}/{self._bucket}"
        return PresignedPost(url=url, fields=dict(post["fields"]), expires_at=expires_at)

    async def stat(self, key: str) -> StoredObject | None:
        client = await self._s3()
        # Retries are botocore's; this bounds the whole call, backoff included.
        deadline = self._settings.object_store_timeout_seconds * 4
        try:
            async with asyncio.timeout(deadline):
                head = await client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                return None
            raise ObjectStoreUnavailable(f"object store refused HEAD ({code})") from error
        except (BotoCoreError, TimeoutError, OSError) as error:
            raise ObjectStoreUnavailable(f"object store did not answer: {type(error).__name__}") from error
        return StoredObject(
            key=key,
            size=int(head.get("ContentLength", 0)),
            content_type=str(head.get("ContentType", "")),
        )

    async def close(self) -> None:
        async with self._lock:
            if self._context is not None:
                await self._context.__aexit__(None, None, None)
            self._client = None
            self._context = None
