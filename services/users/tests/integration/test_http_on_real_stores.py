"""The HTTP API in process on real FerretDB and RabbitMQ: seller lifecycle, the owner rule, random picks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from servicekit.events import EventBus
from servicekit.security import InternalTokenIssuer
from users_harness import RunningUsers, account_created, eventually, new_id, publisher, start_users, store
from users_service.adapters.profiles import MongoProfileReader, MongoProfileUnitOfWork
from users_service.domain.profile import Profile, ProfileDelta
from users_service.entrypoints.bootstrap import handler_dependencies
from users_service.service_layer.ports import ConcurrentUpdateError

pytestmark = pytest.mark.integration

SELLER: dict[str, Any] = {
    "full_name": "Alice Example",
    "one_liner": "I build reliable APIs",
    "description": "Ten years of backend work on payment and booking systems.",
    "skills": ["python"],
    "languages": [{"language": "English", "level": "native"}],
    "response_time_hours": 6,
}


@pytest.fixture
async def users(
    mongodb_url: str, amqp_url: str, internal_keypair: tuple[str, str]
) -> AsyncIterator[tuple[RunningUsers, InternalTokenIssuer, EventBus]]:
    async with (
        publisher(amqp_url) as bus,
        start_users(
            mongodb_url=mongodb_url, amqp_url=amqp_url, public_key_pem=internal_keypair[1]
        ) as running,
    ):
        yield running, InternalTokenIssuer(internal_keypair[0]), bus


def _as(issuer: InternalTokenIssuer, user: str | None, *, email_verified: bool = True) -> dict[str, str]:
    claims = {"email_verified": email_verified} if user is not None else None
    return {"Authorization": f"Bearer {issuer.issue('users', subject=user, extra=claims)}"}


async def test_seller_lifecycle_and_owner_only_updates(users: Any) -> None:
    running, issuer, bus = users
    client = running.client
    owner, other = new_id(), new_id()
    await bus.publish(account_created(owner, "owner_user"))
    await bus.publish(account_created(other, "other_user"))

    async def announced() -> bool:
        return bool((await client.get("/api/v1/buyers/me", headers=_as(issuer, owner))).status_code == 200)

    await eventually(announced, what="the owner's buyer profile")
    created = await client.post("/api/v1/sellers", json=SELLER, headers=_as(issuer, owner))
    assert created.status_code == 201, created.text

    edit = {**SELLER, "one_liner": "Now with Rust", "revision": 1}
    forbidden = await client.put(f"/api/v1/sellers/{owner}", json=edit, headers=_as(issuer, other))
    anonymous = await client.put(f"/api/v1/sellers/{owner}", json=edit, headers=_as(issuer, None))
    assert forbidden.status_code == 403
    assert anonymous.status_code == 401
    updated = await client.put(f"/api/v1/sellers/{owner}", json=edit, headers=_as(issuer, owner))
    assert updated.status_code == 200
    assert updated.json()["one_liner"] == "Now with Rust"
    read = await client.get("/api/v1/sellers/by-username/owner_user", headers=_as(issuer, None))
    assert read.json()["revision"] == 2


async def test_random_sellers_are_distinct_and_bounded(users: Any, mongodb_url: str) -> None:
    running, issuer, bus = users
    client = running.client
    sellers = [new_id() for _ in range(6)]
    for index, user in enumerate(sellers):
        await bus.publish(account_created(user, f"seller_{index}"))
    for user in sellers:

        async def announced(user: str = user) -> bool:
            return bool((await client.get("/api/v1/buyers/me", headers=_as(issuer, user))).status_code == 200)

        await eventually(announced, what="buyer profiles")
        assert (
            await client.post("/api/v1/sellers", json=SELLER, headers=_as(issuer, user))
        ).status_code == 201
    seen: set[str] = set()
    for _ in range(10):
        response = await client.get("/api/v1/sellers/random?count=4", headers=_as(issuer, None))
        ids = [seller["id"] for seller in response.json()["sellers"]]
        assert len(ids) == 4
        assert len(set(ids)) == 4
        seen |= set(ids)
    assert len(seen) > 4, "every pick returned the same sellers"
    everyone = await client.get("/api/v1/sellers/random?count=50", headers=_as(issuer, None))
    assert sorted(s["id"] for s in everyone.json()["sellers"]) == sorted(sellers)


async def test_concurrent_writers_of_one_profile_never_lose_an_update(mongodb_url: str) -> None:
    # Two units of work read the same version; only one may write it (FerretDB v1 needs the write claim).
    async with store(mongodb_url) as database:
        user = new_id()
        async with MongoProfileUnitOfWork(database, claim_lease_seconds=6) as uow:
            uow.profiles.add(Profile.new(user))
            await uow.commit()
        first = MongoProfileUnitOfWork(database, claim_lease_seconds=6)
        second = MongoProfileUnitOfWork(database, claim_lease_seconds=6)
        async with first, second:
            mine = await first.profiles.get(user)
            theirs = await second.profiles.get(user)
            assert mine is not None
            assert theirs is not None
            first.profiles.save(mine.apply("e1", ProfileDelta(gig_count=1)))
            second.profiles.save(theirs.apply("e2", ProfileDelta(gig_count=1)))
            await first.commit()
            with pytest.raises(ConcurrentUpdateError):
                await second.commit()
        async with MongoProfileUnitOfWork(database, claim_lease_seconds=6) as uow:
            uow.profiles.add(Profile.new(user))
            with pytest.raises(ConcurrentUpdateError):
                await uow.commit()

        # Two "replicas" (separate in-process locks) adding to one profile at once: none may be lost.
        writers = [
            handler_dependencies(database, store_timeout_seconds=5).writer,
            handler_dependencies(database, store_timeout_seconds=5).writer,
        ]

        def one_more(n: int) -> Callable[[Profile], Profile]:
            return lambda profile: profile.apply(f"c{n}", ProfileDelta(gig_count=1))

        await asyncio.gather(*(writers[n % 2].change(user, one_more(n)) for n in range(20)))
        stored = await MongoProfileReader(database).get(user)
        assert stored is not None
        assert stored.counters.gig_count == 21


async def test_a_control_character_in_a_username_is_422_not_a_store_failure(users: Any) -> None:
    """FerretDB (on PostgreSQL) refuses a NUL in a string: buyers.byUsername answered 500 (a 502 outside)."""
    running, issuer, _bus = users
    for path in ("/api/v1/buyers/by-username/a%00b", "/api/v1/sellers/by-username/a%00b"):
        response = await running.client.get(path, headers=_as(issuer, "someone"))
        assert response.status_code == 422, (path, response.text)
