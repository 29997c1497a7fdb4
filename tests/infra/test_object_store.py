"""s3proxy fixture: a bucket per test, signatures checked, buckets of earlier tests gone."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError
from gigstack_testinfra import object_store
from gigstack_testinfra.object_store import ObjectStoreBucket

pytestmark = [pytest.mark.integration]

_seen_buckets: list[str] = []


def _client(store: ObjectStoreBucket, secret: str | None = None) -> Any:
    return get_session().create_client(
        "s3",
        endpoint_url=store.url,
        region_name=store.endpoint.region,
        aws_access_key_id=store.endpoint.access_key,
        aws_secret_access_key=secret or store.endpoint.secret_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            # botocore >= 1.36 adds CRC checksum headers by default; s3proxy refuses them as NotImplemented.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


async def test_put_and_get_an_object_in_the_tests_own_bucket(object_store_bucket: ObjectStoreBucket) -> None:
    _seen_buckets.append(object_store_bucket.bucket)
    async with _client(object_store_bucket) as client:
        listing = await client.list_objects_v2(Bucket=object_store_bucket.bucket)
        assert listing.get("KeyCount", 0) == 0
        await client.put_object(Bucket=object_store_bucket.bucket, Key="gigs/u1/a.txt", Body=b"hello")
        got = await client.get_object(Bucket=object_store_bucket.bucket, Key="gigs/u1/a.txt")
        async with got["Body"] as body:
            assert await body.read() == b"hello"


async def test_a_wrong_secret_is_refused(object_store_bucket: ObjectStoreBucket) -> None:
    async with _client(object_store_bucket, secret="not-the-secret-key-at-all") as client:
        with pytest.raises(ClientError) as refused:
            await client.list_objects_v2(Bucket=object_store_bucket.bucket)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


URL_LIFETIME = 4


async def test_an_expired_presigned_url_is_refused(object_store_bucket: ObjectStoreBucket) -> None:
    async with _client(object_store_bucket) as client:
        await client.put_object(Bucket=object_store_bucket.bucket, Key="k", Body=b"x")
        url = await client.generate_presigned_url(
            "get_object", Params={"Bucket": object_store_bucket.bucket, "Key": "k"}, ExpiresIn=URL_LIFETIME
        )
    async with httpx.AsyncClient(timeout=10) as http:
        # The signature's X-Amz-Date is truncated to the second, so a URL lives between lifetime - 1 s and
        # lifetime: 1 s (as before) was sometimes already expired at the first GET on a loaded machine.
        assert (await http.get(url)).status_code == 200
        await asyncio.sleep(URL_LIFETIME + 1.5)
        assert (await http.get(url)).status_code == 403


async def test_buckets_of_earlier_tests_are_gone(object_store_bucket: ObjectStoreBucket) -> None:
    # Runs after the tests above (file order): their buckets were emptied and removed. Async (not asyncio.run
    # in a sync test): asyncio.run leaves the main thread without an event loop, which Pulumi's mocks in
    # tests/platform need later in the same session.
    assert _seen_buckets
    async with _client(object_store_bucket) as client:
        remaining = [b["Name"] for b in (await client.list_buckets())["Buckets"]]
    assert object_store_bucket.bucket in remaining
    assert not set(_seen_buckets) & set(remaining)


async def test_a_bucket_with_nested_keys_is_removed_without_stalling(
    object_store_bucket: ObjectStoreBucket,
) -> None:
    # s3proxy's filesystem backend lists directories ("gigs/", "gigs/u1/") as keys; removing one before what
    # it holds stalled for the client's whole read timeout, 20 s in every teardown of a test that uploaded.
    endpoint = object_store_bucket.endpoint
    bucket = object_store.unique_bucket_name()
    await asyncio.to_thread(object_store.create_bucket, endpoint, bucket)
    async with _client(ObjectStoreBucket(endpoint, bucket)) as client:
        for key in ("gigs/u1/a.png", "gigs/u1/b.png", "deliveries/o1/report.pdf"):
            await client.put_object(Bucket=bucket, Key=key, Body=b"x")
    started = time.monotonic()
    await asyncio.to_thread(object_store.delete_bucket, endpoint, bucket)
    assert time.monotonic() - started < 10, "the removal stalled on a directory key"
    async with _client(object_store_bucket) as client:
        remaining = [b["Name"] for b in (await client.list_buckets())["Buckets"]]
    assert bucket not in remaining
