"""Per-test buckets in the shared s3proxy: created empty before the test, emptied and removed after."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from aiobotocore.session import get_session
from botocore.config import Config

from .endpoints import ObjectStoreEndpoint
from .isolation import TIMEOUT, run_in_private_loop


@dataclass(frozen=True)
class ObjectStoreBucket:
    """Where a test's objects live: the store's endpoint, its one key pair and this test's own bucket."""

    endpoint: ObjectStoreEndpoint
    bucket: str

    @property
    def url(self) -> str:
        return self.endpoint.url

    def settings_env(self) -> dict[str, str]:
        """The service settings (docs/contracts.md) that point a service at this bucket."""
        return {
            "OBJECT_STORE_ENDPOINT": self.endpoint.url,
            "OBJECT_STORE_PUBLIC_ENDPOINT": self.endpoint.url,
            "OBJECT_STORE_BUCKET": self.bucket,
            "OBJECT_STORE_REGION": self.endpoint.region,
            "OBJECT_STORE_ACCESS_KEY_ID": self.endpoint.access_key,
            "OBJECT_STORE_SECRET_ACCESS_KEY": self.endpoint.secret_key,
        }


def unique_bucket_name() -> str:
    # S3 bucket names: 3-63 lowercase letters, digits and hyphens (no underscores, unlike other namespaces).
    return f"test-{uuid.uuid4().hex[:20]}"


def _client(endpoint: ObjectStoreEndpoint) -> Any:
    return get_session().create_client(
        "s3",
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=TIMEOUT,
            read_timeout=TIMEOUT,
            # botocore >= 1.36 adds CRC checksum headers by default; s3proxy refuses them as NotImplemented.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def create_bucket(endpoint: ObjectStoreEndpoint, bucket: str) -> None:
    async def create() -> None:
        async with _client(endpoint) as client:
            await client.create_bucket(Bucket=bucket)

    run_in_private_loop(create)


def delete_bucket(endpoint: ObjectStoreEndpoint, bucket: str) -> None:
    async def delete() -> None:
        async with _client(endpoint) as client:
            keys: list[str] = []
            paginator = client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=bucket):
                keys += [item["Key"] for item in page.get("Contents", [])]
            # s3proxy's filesystem backend lists its directories as keys too ("gigs/", "gigs/u/"); deleting
            # one before the objects under it stalls until the client's read timeout (20 s a bucket, seen
            # in every teardown), so the deepest keys go first, each directory after what it holds.
            for key in sorted(keys, key=lambda k: (-k.rstrip("/").count("/"), k.endswith("/"), k)):
                await client.delete_object(Bucket=bucket, Key=key)
            await client.delete_bucket(Bucket=bucket)

    run_in_private_loop(delete)
