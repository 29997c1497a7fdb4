"""`S3ObjectStore` against a real s3proxy: presigned POSTs that a plain HTTP client can use, HEAD, outages."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from gigstack_testinfra.net import free_port
from gigstack_testinfra.object_store import ObjectStoreBucket
from servicekit.media import (
    AREA_RULES,
    MediaArea,
    MediaMissing,
    MediaRejected,
    ObjectStoreSettings,
    ObjectStoreUnavailable,
    S3ObjectStore,
    plan_upload,
    verify_upload,
)

pytestmark = [pytest.mark.integration]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _settings(bucket: ObjectStoreBucket, **overrides: object) -> ObjectStoreSettings:
    values: dict[str, object] = {key.lower(): value for key, value in bucket.settings_env().items()}
    values.update(overrides)
    return ObjectStoreSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def store(object_store_bucket: ObjectStoreBucket) -> AsyncIterator[S3ObjectStore]:
    adapter = S3ObjectStore(_settings(object_store_bucket))
    yield adapter
    await adapter.close()


async def _post(url: str, fields: dict[str, str], body: bytes, content_type: str) -> httpx.Response:
    # The file part goes last: S3 ignores form fields that follow it.
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, data=fields, files={"file": ("upload", body, content_type)})


async def test_a_presigned_post_uploads_the_object_under_the_callers_key(store: S3ObjectStore) -> None:
    planned = await plan_upload(
        store,
        owner="u1",
        area=MediaArea.GIGS,
        content_type="image/png",
        size=len(PNG),
        expires_in_seconds=120,
    )
    response = await _post(planned.url, planned.fields, PNG, "image/png")
    assert response.status_code in (200, 201, 204), response.text
    stored = await verify_upload(store, str(planned.key), owner="u1", area=MediaArea.GIGS)
    assert (stored.size, stored.content_type) == (len(PNG), "image/png")


async def test_the_policy_names_the_key_type_and_size_limit(store: S3ObjectStore) -> None:
    planned = await plan_upload(
        store, owner="u1", area=MediaArea.GIGS, content_type="image/png", size=10, expires_in_seconds=120
    )
    policy = json.loads(base64.b64decode(planned.fields["policy"]))
    conditions = policy["conditions"]
    assert {"key": str(planned.key)} in conditions
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1, AREA_RULES[MediaArea.GIGS].max_bytes] in conditions


async def test_a_tampered_policy_is_refused_by_the_store(store: S3ObjectStore) -> None:
    planned = await plan_upload(
        store, owner="u1", area=MediaArea.GIGS, content_type="image/png", size=10, expires_in_seconds=120
    )
    policy = json.loads(base64.b64decode(planned.fields["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if "content-length-range" not in c]
    forged = {**planned.fields, "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    response = await _post(planned.url, forged, PNG, "image/png")
    assert response.status_code == 403
    assert await store.stat(str(planned.key)) is None


async def test_an_oversize_or_mistyped_upload_is_refused_when_used(store: S3ObjectStore) -> None:
    # s3proxy checks the policy's signature but not its conditions (S3 enforces both), so the check that an
    # upload keeps to its rule happens where the key is accepted, whatever the store.
    limit = AREA_RULES[MediaArea.GIGS].max_bytes
    big = await plan_upload(
        store, owner="u1", area=MediaArea.GIGS, content_type="image/png", size=10, expires_in_seconds=120
    )
    await _post(big.url, big.fields, b"\0" * (limit + 1), "image/png")
    with pytest.raises(MediaRejected, match="bytes"):
        await verify_upload(store, str(big.key), owner="u1", area=MediaArea.GIGS)
    typed = await plan_upload(
        store, owner="u1", area=MediaArea.GIGS, content_type="image/png", size=10, expires_in_seconds=120
    )
    await _post(typed.url, {**typed.fields, "Content-Type": "text/html"}, b"<script>", "text/html")
    stored = await store.stat(str(typed.key))
    if stored is not None:  # S3 refuses the POST itself; s3proxy stores it and the check below refuses it
        with pytest.raises(MediaRejected, match="text/html"):
            await verify_upload(store, str(typed.key), owner="u1", area=MediaArea.GIGS)


async def test_a_key_nothing_was_uploaded_to_is_missing(store: S3ObjectStore) -> None:
    assert await store.stat("gigs/u1/never.png") is None
    with pytest.raises(MediaMissing):
        await verify_upload(store, "gigs/u1/never.png", owner="u1", area=MediaArea.GIGS)


async def test_the_form_points_browsers_at_the_public_endpoint(
    object_store_bucket: ObjectStoreBucket,
) -> None:
    adapter = S3ObjectStore(
        _settings(object_store_bucket, object_store_public_endpoint="https://media.gigstack.local/")
    )
    try:
        post = await adapter.presign_post(
            "gigs/u1/a.png", content_type="image/png", max_bytes=10, expires_in_seconds=60
        )
    finally:
        await adapter.close()
    assert post.url == f"https://media.gigstack.local/{object_store_bucket.bucket}"


async def test_a_store_that_does_not_answer_is_an_outage_within_the_deadline(
    object_store_bucket: ObjectStoreBucket,
) -> None:
    adapter = S3ObjectStore(
        _settings(
            object_store_bucket,
            object_store_endpoint=f"http://127.0.0.1:{free_port()}",
            object_store_timeout_seconds=0.5,
        )
    )
    started = time.monotonic()
    try:
        with pytest.raises(ObjectStoreUnavailable):
            await adapter.stat("gigs/u1/a.png")
    finally:
        await adapter.close()
    assert time.monotonic() - started < 10
