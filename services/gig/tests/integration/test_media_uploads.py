"""media.createUpload and the cover rule against a real s3proxy: the bytes really go up with a plain HTTP
POST, and a gig takes only a cover that is the seller's, exists, and keeps to the gigs area's rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conftest import GigApi
from servicekit.media import AREA_RULES, MediaArea

pytestmark = [pytest.mark.integration]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 128
GIGS_LIMIT = AREA_RULES[MediaArea.GIGS].max_bytes


async def create_upload(gig_api: GigApi, user: str | None, **body: Any) -> httpx.Response:
    request = {"area": "gigs", "content_type": "image/png", "size": len(PNG), **body}
    response: httpx.Response = await gig_api.client.post(
        "/api/v1/media/uploads", json=request, auth=gig_api.as_user(user)
    )
    return response


async def upload(form: dict[str, Any], data: bytes, content_type: str = "image/png") -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            form["url"], data=form["fields"], files={"file": ("cover", data, content_type)}
        )


def gig_body(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Watercolour portraits",
        "description": "From your photo, in three days",
        "category": "art",
        "price": 9000,
        "delivery_days": 3,
        **overrides,
    }


async def test_an_upload_form_is_for_a_new_key_under_the_callers_id(gig_api: GigApi) -> None:
    response = await create_upload(gig_api, "seller-1")
    assert response.status_code == 200, response.text
    form = response.json()
    assert form["key"].startswith("gigs/seller-1/")
    assert form["fields"]["key"] == form["key"]
    assert form["max_bytes"] == GIGS_LIMIT
    assert "image/png" in form["content_types"]
    assert form["expires_at"]
    stored = await upload(form, PNG)
    assert stored.status_code in (200, 201, 204), stored.text
    assert await gig_api.deps.media.stat(form["key"]) is not None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"content_type": "text/html"}, "text/html"),
        ({"content_type": "application/pdf"}, "image/png"),
        ({"size": GIGS_LIMIT + 1}, "bytes"),
        ({"size": 0}, None),
        ({"area": "avatars"}, None),
    ],
)
async def test_what_the_area_does_not_take_is_a_422_with_a_message(
    gig_api: GigApi, body: dict[str, Any], message: str | None
) -> None:
    response = await create_upload(gig_api, "seller-1", **body)
    assert response.status_code == 422
    error = response.json()["error"]
    if message is not None:
        assert error["code"] == "upload_refused"
        assert message in error["message"]


async def test_an_anonymous_caller_gets_no_upload_form(gig_api: GigApi) -> None:
    assert (await create_upload(gig_api, None)).status_code == 401


async def test_a_gig_takes_an_uploaded_cover_of_the_seller(gig_api: GigApi) -> None:
    form = (await create_upload(gig_api, "seller-1")).json()
    await upload(form, PNG)
    gig = await gig_api.create("seller-1", cover_image_key=form["key"])
    assert gig["cover_image_key"] == form["key"]


async def test_a_cover_nothing_was_uploaded_to_is_refused(gig_api: GigApi) -> None:
    form = (await create_upload(gig_api, "seller-1")).json()  # a form, but no POST to the store
    response = await gig_api.client.post(
        "/api/v1/gigs", json=gig_body(cover_image_key=form["key"]), auth=gig_api.as_user("seller-1")
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "media_missing"


async def test_someone_elses_uploaded_cover_is_refused(gig_api: GigApi) -> None:
    form = (await create_upload(gig_api, "seller-1")).json()
    await upload(form, PNG)
    response = await gig_api.client.post(
        "/api/v1/gigs", json=gig_body(cover_image_key=form["key"]), auth=gig_api.as_user("seller-2")
    )
    assert response.status_code == 403


async def test_an_oversize_or_mistyped_object_is_refused_as_a_cover(gig_api: GigApi) -> None:
    # s3proxy stores these (it checks the policy's signature, not its conditions; S3 refuses them at
    # upload): the cover rule refuses them wherever the store let them through.
    big = (await create_upload(gig_api, "seller-1")).json()
    await upload(big, b"\0" * (GIGS_LIMIT + 1))
    mistyped = (await create_upload(gig_api, "seller-1")).json()
    await upload(
        {**mistyped, "fields": {**mistyped["fields"], "Content-Type": "text/html"}}, b"<p>", "text/html"
    )
    for form in (big, mistyped):
        if await gig_api.deps.media.stat(form["key"]) is None:
            continue  # refused by the store itself
        response = await gig_api.client.post(
            "/api/v1/gigs", json=gig_body(cover_image_key=form["key"]), auth=gig_api.as_user("seller-1")
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "media_rejected"


async def test_changing_the_cover_to_a_missing_object_leaves_the_gig_as_it_was(gig_api: GigApi) -> None:
    gig = await gig_api.create("seller-1")
    response = await gig_api.client.patch(
        f"/api/v1/gigs/{gig['id']}",
        json={"version": 1, "cover_image_key": "gigs/seller-1/missing.png"},
        auth=gig_api.as_user("seller-1"),
    )
    assert response.status_code == 422
    unchanged = (await gig_api.client.get(f"/api/v1/gigs/{gig['id']}")).json()
    assert (unchanged["version"], unchanged["cover_image_key"]) == (1, None)
