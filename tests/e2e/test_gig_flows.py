"""Gig journeys through the gateway only: a seller uploads a cover straight to the object store (s3proxy)
and publishes a gig with it, anonymous buyers find it in search within 2 s of each write, and it leaves and
comes back with pause and activate."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from e2e_mail import VERIFY_TOKEN, wait_for_mail
from stack import GigstackStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AUTH = "/api/v1/gateway/auth"
GIGS = "/api/v1/gateway/gigs"
UPLOADS = "/api/v1/gateway/media/uploads"
COVER = b"\x89PNG\r\n\x1a\n" + b"\0" * 256
PASSWORD = "Correct-Horse-Battery-9"
LAPTOP = {"X-Device-Id": "laptop-e2e"}
SEARCHABLE_WITHIN_SECONDS = 2.0


async def _signed_in_seller(gateway: httpx.AsyncClient, stack: GigstackStack) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    account = {"username": f"seller{suffix}", "email": f"seller{suffix}@example.com", "password": PASSWORD}
    signup = await gateway.post(f"{AUTH}/signup", json={**account, "country": "Norway"}, headers=LAPTOP)
    assert signup.status_code == 202, signup.text
    token = await wait_for_mail(stack.mail, account["email"], VERIFY_TOKEN)
    # Confirmed on the laptop, which that makes a known device (signing up alone trusts none).
    verified = await gateway.post(f"{AUTH}/verify-email", json={"token": token}, headers=LAPTOP)
    assert verified.status_code == 200, verified.text
    signin = await gateway.post(
        f"{AUTH}/signin", json={"email_or_username": account["email"], "password": PASSWORD}, headers=LAPTOP
    )
    assert signin.status_code == 200, signin.text
    session = signin.json()
    return {
        "Authorization": f"Bearer {session['access_token']}",
        "user_id": session["user"]["id"],
        "username": account["username"],
    }


async def _search_until(
    gateway: httpx.AsyncClient, word: str, check: Any, within: float = SEARCHABLE_WITHIN_SECONDS
) -> float:
    """Seconds until anonymous `gigs.search` for `word` satisfies `check(items)`; fails after `within`."""
    started = time.monotonic()
    items: list[dict[str, Any]] = []
    while time.monotonic() - started < within:
        response = await gateway.get(f"{GIGS}/search", params={"q": word})
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if check(items):
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"search for {word!r} did not converge within {within}s: {items}")


async def _uploaded_cover(gateway: httpx.AsyncClient, auth: dict[str, str]) -> str:
    """media.createUpload, then the bytes POSTed to the presigned form as a browser would: the key."""
    planned = await gateway.post(
        UPLOADS, json={"area": "gigs", "content_type": "image/png", "size": len(COVER)}, headers=auth
    )
    assert planned.status_code == 200, planned.text
    form = planned.json()
    async with httpx.AsyncClient(timeout=30) as browser:
        stored = await browser.post(
            form["url"], data=form["fields"], files={"file": ("cover.png", COVER, "image/png")}
        )
    assert stored.status_code in (200, 201, 204), stored.text
    key: str = form["key"]
    return key


async def test_publish_search_reprice_pause_activate(
    gateway: httpx.AsyncClient, e2e_stack: GigstackStack
) -> None:
    seller = await _signed_in_seller(gateway, e2e_stack)
    auth = {"Authorization": seller["Authorization"]}
    cover = await _uploaded_cover(gateway, auth)
    assert cover.startswith(f"gigs/{seller['user_id']}/")
    word = f"zebra{uuid.uuid4().hex[:8]}"
    body = {
        "title": f"Hand drawn {word} illustrations",
        "description": "Vector illustrations for your brand",
        "category": "illustration",
        "tags": ["vector"],
        "price": 4500,
        "delivery_days": 4,
        "cover_image_key": cover,
    }
    created = await gateway.post(GIGS, json=body, headers=auth)
    assert created.status_code == 201, created.text
    gig = created.json()
    assert gig["cover_image_key"] == cover

    def found_at(price: int) -> Any:
        return lambda items: [(item["id"], item["price"]) for item in items] == [(gig["id"], price)]

    await _search_until(gateway, word, found_at(4500))

    repriced = await gateway.patch(
        f"{GIGS}/{gig['id']}", json={"version": gig["version"], "price": 6000}, headers=auth
    )
    assert repriced.status_code == 200, repriced.text
    await _search_until(gateway, word, found_at(6000))

    paused = await gateway.put(
        f"{GIGS}/{gig['id']}/active",
        json={"version": repriced.json()["version"], "active": False},
        headers=auth,
    )
    assert paused.status_code == 200, paused.text
    await _search_until(gateway, word, lambda items: items == [])
    assert (await gateway.get(f"{GIGS}/{gig['id']}")).status_code == 404  # anonymous: paused is hidden
    mine = await gateway.get(f"{GIGS}/seller/{seller['user_id']}/paused", headers=auth)
    assert [item["id"] for item in mine.json()["items"]] == [gig["id"]]

    activated = await gateway.put(
        f"{GIGS}/{gig['id']}/active", json={"version": paused.json()["version"], "active": True}, headers=auth
    )
    assert activated.status_code == 200, activated.text
    await _search_until(gateway, word, found_at(6000))


async def test_owner_operations_through_the_gateway_refuse_others_and_anonymous(
    gateway: httpx.AsyncClient, e2e_stack: GigstackStack
) -> None:
    owner = await _signed_in_seller(gateway, e2e_stack)
    other = await _signed_in_seller(gateway, e2e_stack)
    body = {"title": "Logo", "description": "A logo", "category": "design", "price": 100, "delivery_days": 1}
    gig = (await gateway.post(GIGS, json=body, headers={"Authorization": owner["Authorization"]})).json()
    operations = [
        ("POST", GIGS, body),
        ("PATCH", f"{GIGS}/{gig['id']}", {"version": 1, "price": 1}),
        ("PUT", f"{GIGS}/{gig['id']}/active", {"version": 1, "active": False}),
        ("DELETE", f"{GIGS}/{gig['id']}?version=1", None),
        ("GET", f"{GIGS}/seller/{owner['user_id']}/paused", None),
    ]
    outcomes = []
    for method, path, payload in operations:
        for caller, expected in ((other, 403), (None, 401)):
            if method == "POST" and caller is not None:
                continue  # creating is every signed-in user's right; only anonymous is refused
            headers = {"Authorization": caller["Authorization"]} if caller else {}
            response = await gateway.request(method, path, json=payload, headers=headers)
            outcomes.append((method, path, response.status_code, expected))
    assert [outcome for outcome in outcomes if outcome[2] != outcome[3]] == []
    assert (await gateway.get(f"{GIGS}/{gig['id']}")).json()["version"] == 1


async def test_covers_must_be_uploaded_objects_of_the_seller(
    gateway: httpx.AsyncClient, e2e_stack: GigstackStack
) -> None:
    owner = await _signed_in_seller(gateway, e2e_stack)
    other = await _signed_in_seller(gateway, e2e_stack)
    cover = await _uploaded_cover(gateway, {"Authorization": owner["Authorization"]})
    body = {"title": "Logo", "description": "A logo", "category": "design", "price": 100, "delivery_days": 1}
    theirs = await gateway.post(
        GIGS, json={**body, "cover_image_key": cover}, headers={"Authorization": other["Authorization"]}
    )
    assert theirs.status_code == 403
    missing = await gateway.post(
        GIGS,
        json={**body, "cover_image_key": f"gigs/{owner['user_id']}/never-uploaded.png"},
        headers={"Authorization": owner["Authorization"]},
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "media_missing"
    anonymous = await gateway.post(UPLOADS, json={"area": "gigs", "content_type": "image/png", "size": 1})
    assert anonymous.status_code == 401


SELLER_PROFILE = {
    "full_name": "Sam Seller",
    "one_liner": "Illustrations that sell",
    "description": "Ten years of brand illustration for small businesses.",
    "skills": ["illustration"],
    "languages": [{"language": "English", "level": "native"}],
    "response_time_hours": 12,
}


async def test_the_sellers_username_reaches_their_gigs_in_search(
    gateway: httpx.AsyncClient, e2e_stack: GigstackStack
) -> None:
    """users announces the new seller (users.seller.created.v1 from its outbox); gig copies the summary into
    the seller's gig (gig.sellers) and search shows it: every hop a real process, read through the gateway."""
    seller = await _signed_in_seller(gateway, e2e_stack)
    auth = {"Authorization": seller["Authorization"]}
    word = f"okapi{uuid.uuid4().hex[:8]}"
    body = {"title": f"Playful {word} mascots", "description": "Mascots for your brand",
            "category": "illustration", "price": 3000, "delivery_days": 5}  # fmt: skip
    created = await gateway.post(GIGS, json=body, headers=auth)
    assert created.status_code == 201, created.text

    deadline = time.monotonic() + 30  # the buyer profile arrives from auth's account event
    while True:
        became = await gateway.post("/api/v1/gateway/sellers", json=SELLER_PROFILE, headers=auth)
        if became.status_code == 201:
            break
        assert became.status_code == 404, became.text
        assert time.monotonic() < deadline, became.text
        await asyncio.sleep(0.3)

    def shows_seller(items: list[dict[str, Any]]) -> bool:
        return [(item["id"], item["seller_username"]) for item in items] == [
            (created.json()["id"], seller["username"])
        ]

    await _search_until(gateway, word, shows_seller, within=30)
