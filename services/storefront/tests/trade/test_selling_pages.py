"""Selling pages: become a seller, edit the profile, create/edit/pause gigs, plan a direct upload."""

from __future__ import annotations

import httpx
from conftest import TradeBrowser
from storefront_fakes import error_body, gig
from trade_samples import SELLER, body_of, seller_profile

PROFILE_FORM = {
    "full_name": "Sam Seller",
    "one_liner": "Illustrations that tell your story",
    "description": "Ten years of editorial and brand illustration.",
    "skills": "illustration, branding, illustration",
    "language_0": "English",
    "level_0": "fluent",
    "language_1": "Norwegian",
    "level_1": "native",
    "response_time_hours": "12",
}
GIG_FORM = {
    "title": "Hand drawn logos",
    "description": "Vector logos, print-ready.",
    "category": "illustration",
    "tags": "vector, logo",
    "price": "45.50",
    "delivery_days": "5",
    "cover_image_key": "gigs/u-seller/cover.png",
}


async def test_becoming_a_seller_sends_the_parsed_profile(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on("sellers.byId", 404)
    form = await trade.client.get("/selling/become")
    assert form.status_code == 200
    for label in ('for="f-full_name"', 'for="f-level_0"', 'for="f-response_time_hours"'):
        assert label in form.text
    trade.gateway.on("sellers.create", lambda _: httpx.Response(201, json=seller_profile()))

    done = await trade.post("/selling/become", PROFILE_FORM)

    assert (done.status_code, done.headers["location"]) == (303, "/selling")
    sent = body_of(trade.gateway.called("sellers.create")[0])
    assert sent["skills"] == ["illustration", "branding"]
    assert sent["languages"] == [
        {"language": "English", "level": "fluent"},
        {"language": "Norwegian", "level": "native"},
    ]
    assert sent["response_time_hours"] == 12


async def test_a_refused_profile_is_shown_with_the_input_kept(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    details = [{"field": "body.one_liner", "message": "Too long for a one-liner"}]
    trade.gateway.on(
        "sellers.create",
        lambda _: httpx.Response(422, json=error_body(422, "Some fields are not valid.", details)),
    )

    page = await trade.post("/selling/become", PROFILE_FORM)

    assert page.status_code == 422
    assert "Some fields are not valid." in page.text
    assert "Too long for a one-liner" in page.text
    assert 'value="Illustrations that tell your story"' in page.text
    assert 'aria-invalid="true"' in page.text


async def test_a_profile_form_with_bad_input_never_reaches_the_gateway(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")

    page = await trade.post("/selling/become", {**PROFILE_FORM, "level_0": "", "response_time_hours": "x"})

    assert page.status_code == 400
    assert "Choose a level for this language." in page.text
    assert "Enter a whole number." in page.text
    assert trade.gateway.called("sellers.create") == []


async def test_editing_the_profile_keeps_the_sections_the_form_does_not_show(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on("sellers.byId", seller_profile())
    trade.gateway.on("sellers.update", seller_profile(revision=4))
    form = await trade.client.get("/selling/profile")
    assert 'name="revision" value="3"' in form.text

    done = await trade.post("/selling/profile", {**PROFILE_FORM, "revision": "3"})

    assert done.status_code == 303
    sent = body_of(trade.gateway.called("sellers.update")[0])
    assert sent["revision"] == 3
    assert sent["experience"] == seller_profile()["experience"]


async def test_creating_a_gig_sends_minor_units_and_the_cover_key(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on("sellers.byId", seller_profile())
    form = await trade.client.get("/selling/gigs/new")
    assert 'data-testid="cover-upload"' in form.text
    assert "js/upload.js" in form.text
    trade.gateway.on("gigs.create", lambda _: httpx.Response(201, json=gig("g9", title="Hand drawn logos")))

    done = await trade.post("/selling/gigs/new", GIG_FORM)

    assert (done.status_code, done.headers["location"]) == (303, "/gigs/g9")
    sent = body_of(trade.gateway.called("gigs.create")[0])
    assert (sent["price"], sent["delivery_days"], sent["tags"]) == (4550, 5, ["vector", "logo"])
    assert sent["cover_image_key"] == "gigs/u-seller/cover.png"


async def test_a_gig_with_a_bad_price_is_shown_again_without_a_gateway_call(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")

    page = await trade.post("/selling/gigs/new", {**GIG_FORM, "price": "12.345"})

    assert page.status_code == 400
    assert "at most two decimals" in page.text
    assert 'value="Hand drawn logos"' in page.text
    assert trade.gateway.called("gigs.create") == []


async def test_someone_elses_gig_cannot_be_edited(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on("gigs.byId", gig("g1", seller_id="u-other"))

    page = await trade.client.get("/selling/gigs/g1/edit")
    posted = await trade.post("/selling/gigs/g1/edit", {**GIG_FORM, "version": "1"})

    assert (page.status_code, posted.status_code) == (404, 404)
    assert "There is no gig of yours here." in page.text
    assert trade.gateway.called("gigs.update") == []


async def test_an_edit_that_lost_a_race_keeps_the_input_and_takes_the_new_version(
    trade: TradeBrowser,
) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on("gigs.byId", gig("g1", seller_id=SELLER, version=7))
    trade.gateway.on("gigs.update", lambda _: httpx.Response(409, json=error_body(409, "Stale version")))

    page = await trade.post("/selling/gigs/g1/edit", {**GIG_FORM, "title": "My new title", "version": "6"})

    assert page.status_code == 409
    assert "changed elsewhere meanwhile" in page.text
    assert 'value="My new title"' in page.text
    assert 'name="version" value="7"' in page.text


async def test_pausing_a_gig_sends_its_current_version(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on("gigs.byId", gig("g1", seller_id=SELLER, version=2))
    trade.gateway.on("gigs.setActive", gig("g1", seller_id=SELLER, active=False, version=3))

    done = await trade.post("/selling/gigs/g1/active", {"active": "false"})

    assert (done.status_code, done.headers["location"]) == (303, "/selling")
    assert body_of(trade.gateway.called("gigs.setActive")[0]) == {"active": False, "version": 2}


async def test_the_dashboard_lists_live_and_paused_gigs(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on("sellers.byId", seller_profile())
    trade.gateway.on("gigs.bySeller", {"items": [gig("g1", title="Live one")]})
    trade.gateway.on("gigs.pausedBySeller", {"items": [gig("g2", title="Paused one", active=False)]})

    page = await trade.client.get("/selling")

    assert page.status_code == 200
    for shown in ("Live one", "Paused one", "Reactivate", "Create a gig"):
        assert shown in page.text


async def test_planning_an_upload_answers_the_presigned_form_as_json(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    planned = {
        "key": "gigs/u-seller/abc.png",
        "url": "http://media.test:9000/gigstack-media",
        "fields": {"key": "gigs/u-seller/abc.png", "policy": "p", "x-amz-signature": "s"},
        "max_bytes": 5_000_000,
        "content_types": ["image/png"],
        "expires_at": "2026-01-01T00:10:00Z",
    }
    trade.gateway.on("media.createUpload", planned)

    answer = await trade.client.post(
        "/media/uploads",
        data={"area": "gigs", "content_type": "image/png", "size": "1234", "filename": "C:\\me\\cover.png"},
        headers={"X-CSRF-Token": trade.csrf},
    )

    assert answer.status_code == 200
    # The uploader's file name is kept for the pages that show the file (keys are random).
    assert await trade.app.state.deps.redis.get("sf:media-name:gigs/u-seller/abc.png") == b"cover.png"
    assert answer.json()["fields"] == planned["fields"]
    assert body_of(trade.gateway.called("media.createUpload")[0]) == {
        "area": "gigs",
        "content_type": "image/png",
        "size": 1234,
    }


async def test_a_refused_upload_is_a_json_message(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on(
        "media.createUpload", lambda _: httpx.Response(422, json=error_body(422, "File too large"))
    )

    refused = await trade.client.post(
        "/media/uploads",
        data={"area": "gigs", "content_type": "image/png", "size": "999999999"},
        headers={"X-CSRF-Token": trade.csrf},
    )
    unknown_area = await trade.client.post(
        "/media/uploads",
        data={"area": "avatars", "content_type": "image/png", "size": "1"},
        headers={"X-CSRF-Token": trade.csrf},
    )

    assert (refused.status_code, refused.json()) == (422, {"message": "File too large"})
    assert unknown_area.status_code == 400
