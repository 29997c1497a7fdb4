"""Reading public media (gig covers) from the object store, for ``/media/<key>`` on the storefront's origin.

The bucket is private (ADR 0017): anonymous reads are refused, so the storefront reads with the object-store
settings of servicekit.media (a signed GET_OBJECT; on eks its own credential chain). Only keys in the public
areas are ever asked for (``pages/media.py``); covers are at most 5 MiB, so a body is read whole under a
deadline rather than streamed through.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from servicekit.media.s3 import s3_client_context
from servicekit.media.settings import ObjectStoreSettings

_MISSING = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})


class MediaUnavailable(Exception):  # noqa: N818 - an outage, answered 503
    """The object store did not answer in time or refused the storefront."""


@dataclass(frozen=True)
class MediaObject:
    body: bytes
    content_type: str
    etag: str | None


class MediaReader(Protocol):
    async def read(self, key: str, *, max_bytes: int) -> MediaObject | None:
        """The object, None when it does not exist (or is larger than ``max_bytes``)."""
        ...

    async def close(self) -> None: ...


class S3MediaReader:
    def __init__(self, settings: ObjectStoreSettings) -> None:
        self._settings = settings
        self._client: Any = None
        self._context: Any = None
        self._lock = asyncio.Lock()

    async def _s3(self) -> Any:
        async with self._lock:
            if self._client is None:
                # Fewer attempts than a writer: the whole read is bounded for a page's images.
                self._context = s3_client_context(self._settings, max_attempts=2)
                self._client = await self._context.__aenter__()
            return self._client

    async def read(self, key: str, *, max_bytes: int) -> MediaObject | None:
        from botocore.exceptions import BotoCoreError, ClientError

        client = await self._s3()
        try:
            # Bounds the whole read, botocore's retries included: a page's images must not hang a worker.
            async with asyncio.timeout(self._settings.object_store_timeout_seconds * 3):
                answer = await client.get_object(Bucket=self._settings.object_store_bucket, Key=key)
                if int(answer.get("ContentLength", 0)) > max_bytes:
                    answer["Body"].close()
                    return None
                async with answer["Body"] as stream:
                    body = await stream.read()
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                return None
            raise MediaUnavailable(f"object store refused GET ({code})") from error
        except (BotoCoreError, TimeoutError, OSError) as error:
            raise MediaUnavailable(f"object store did not answer: {type(error).__name__}") from error
        return MediaObject(
            body=body,
            content_type=str(answer.get("ContentType", "")),
            etag=answer.get("ETag"),
        )

    async def close(self) -> None:
        async with self._lock:
            if self._context is not None:
                await self._context.__aexit__(None, None, None)
                self._context = self._client = None
