"""Optimistic concurrency on FerretDB: concurrent updates of one gig never lose one silently."""

from __future__ import annotations

import asyncio

from conftest import GigApi

WRITERS = 20


async def test_20_concurrent_updates_each_either_visible_or_refused_with_409(gig_api: GigApi) -> None:
    gig = await gig_api.create("seller-1")
    seller = gig_api.as_user("seller-1")

    async def add_tag(number: int) -> int:
        # Read-modify-write of the whole tag list: a lost update would drop another writer's tag.
        current = (await gig_api.client.get(f"/api/v1/gigs/{gig['id']}", auth=seller)).json()
        body = {"version": current["version"], "tags": [*current["tags"], f"t{number}"][-10:]}
        response = await gig_api.client.patch(f"/api/v1/gigs/{gig['id']}", json=body, auth=seller)
        return int(response.status_code)

    statuses = await asyncio.gather(*(add_tag(number) for number in range(WRITERS)))
    assert set(statuses) <= {200, 409}, statuses
    accepted = statuses.count(200)
    assert accepted >= 1
    final = (await gig_api.client.get(f"/api/v1/gigs/{gig['id']}", auth=seller)).json()
    assert final["version"] == 1 + accepted
    assert len([tag for tag in final["tags"] if tag != "logo"]) == min(accepted, 10)


async def test_an_update_carrying_a_stale_version_gets_409_and_changes_nothing(gig_api: GigApi) -> None:
    gig = await gig_api.create("seller-1")
    seller = gig_api.as_user("seller-1")
    path = f"/api/v1/gigs/{gig['id']}"
    assert (
        await gig_api.client.patch(path, json={"version": 1, "price": 7000}, auth=seller)
    ).status_code == 200
    stale = await gig_api.client.patch(path, json={"version": 1, "price": 9000}, auth=seller)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    assert (await gig_api.client.get(path)).json()["price"] == 7000
