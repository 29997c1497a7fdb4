"""On real FerretDB: a seller's edit is not failed by the service's own writes of the gig (buyers' ratings,
seller summaries), whether this process makes them (the edit waits its turn on the consumers' per-gig lock)
or another replica does (the edit retries on fresh state for its time budget); a gig that stays busy for the
whole budget is a clean 503 `gig_busy` with Retry-After, never a 409 telling the client to reload a version
that is still good, nor a 500.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import GigApi, running_gig_api
from gig_service.service_layer.denormalised import BuyerRating, record_rating
from gig_service.settings import GigSettings
from servicekit.locks import KeyedLocks
from servicekit.mongo.unit_of_work import WRITE_CLAIMS_COLLECTION

SELLER = "seller-1"


def edit(api: GigApi, gig_id: str, version: int, price: int) -> asyncio.Task[httpx.Response]:
    path, body = f"/api/v1/gigs/{gig_id}", {"version": version, "price": price}
    return asyncio.create_task(api.client.patch(path, json=body, auth=api.as_user(SELLER)))


async def stored(api: GigApi, gig_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await api.client.get(f"/api/v1/gigs/{gig_id}")).json()
    return body


async def test_a_seller_edit_waits_for_this_processs_rating_write_of_the_gig(gig_api: GigApi) -> None:
    gig = await gig_api.create(SELLER)
    gig_writes = gig_api.deps.seller_writes.gig_writes  # the lock the app's consumers hold per gig
    async with gig_writes.hold(gig["id"]):  # a rating delivery is writing this gig
        edited = edit(gig_api, gig["id"], 1, 7000)
        await asyncio.sleep(0.5)
        # Not racing the rating's write (where it could lose every quick retry): waiting for it.
        assert not edited.done()
        rated = BuyerRating("review-a", gig["id"], 5)
        assert await record_rating(
            rated, gig_api.deps.new_uow, gig_writes=KeyedLocks()
        )  # the write it held for
    response = await edited
    assert response.status_code == 200, response.text
    assert (response.json()["version"], response.json()["price"]) == (3, 7000)
    after = await stored(gig_api, gig["id"])
    assert (after["version"], after["price"], after["rating_count"]) == (3, 7000, 1)


async def test_a_seller_edit_outlasts_another_replicas_write_in_progress(gig_api: GigApi) -> None:
    gig = await gig_api.create(SELLER)
    claims = gig_api.deps.mongo.get_default_database()[WRITE_CLAIMS_COLLECTION]
    # Another replica's rating write of version 2 in progress on a slow store: its write claim is held for a
    # second and a half, longer than five quick retries took.
    claim = f"gigs:{gig['id']}:2"
    await claims.insert_one({"_id": claim, "expires_at": datetime.now(UTC) + timedelta(seconds=30)})
    edited = edit(gig_api, gig["id"], 1, 7000)
    await asyncio.sleep(1.5)
    await claims.delete_one({"_id": claim})
    response = await edited
    assert response.status_code == 200, response.text
    assert (await stored(gig_api, gig["id"]))["price"] == 7000


@pytest.fixture
async def impatient_gig_api(
    gig_settings: GigSettings, internal_keypair: tuple[str, str]
) -> AsyncIterator[GigApi]:
    settings = gig_settings.model_copy(update={"seller_write_budget_seconds": 0.5})
    async with running_gig_api(settings, internal_keypair) as api:
        yield api


async def test_a_gig_busy_for_the_whole_budget_is_503_gig_busy_with_retry_after_and_unchanged(
    impatient_gig_api: GigApi,
) -> None:
    api = impatient_gig_api
    gig = await api.create(SELLER)
    claims = api.deps.mongo.get_default_database()[WRITE_CLAIMS_COLLECTION]
    claim = f"gigs:{gig['id']}:2"  # another writer at version 2 that does not finish within the budget
    await claims.insert_one({"_id": claim, "expires_at": datetime.now(UTC) + timedelta(seconds=60)})
    started = time.monotonic()
    response = await edit(api, gig["id"], 1, 7000)
    took = time.monotonic() - started

    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "gig_busy"
    assert "send the same request again" in error["message"]
    assert response.headers["Retry-After"] == "1"
    assert 0.5 <= took < 5, took  # the budget, not a fixed number of quick tries
    assert (await stored(api, gig["id"]))["price"] == 5000
    await claims.delete_one({"_id": claim})
    retried = await edit(
        api, gig["id"], 1, 7000
    )  # the same request once the gig is free: the version was good
    assert (retried.status_code, retried.json()["price"]) == (200, 7000)


async def test_a_seller_edit_waiting_for_the_lock_longer_than_its_budget_is_503_gig_busy(
    impatient_gig_api: GigApi,
) -> None:
    api = impatient_gig_api
    gig = await api.create(SELLER)
    async with api.deps.seller_writes.gig_writes.hold(gig["id"]):  # a consumer's write that takes too long
        response = await edit(api, gig["id"], 1, 7000)
    assert (response.status_code, response.json()["error"]["code"]) == (503, "gig_busy")
    assert (await stored(api, gig["id"]))["version"] == 1
