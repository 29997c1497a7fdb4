"""What a marketplace visitor does, as weighted gateway operations for what exists (auth, users, gig).

Search-heavy: most traffic is anonymous search and gig pages, then signed-in reads, gig writes by sellers and
a trickle of signups (each one an outbox event, a broker message, a users profile and an email). The mix
grows with the services: add an entry to `MIX` and, if it needs state, a field to `Marketplace`.
"""

from __future__ import annotations

import asyncio
import random
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from gigstack_testinfra.mail import MailCatcher

AUTH = "/api/v1/gateway/auth"
GIGS = "/api/v1/gateway/gigs"
BUYERS = "/api/v1/gateway/buyers"
DEVICE = {"X-Device-Id": "bench-load"}
PASSWORD = "Bench-Password-42"
VERIFY_TOKEN = re.compile(r"confirm_email\?v_token=([A-Za-z0-9_\-.~%]+)")
WORDS = ("logo", "illustration", "website", "podcast", "translation", "video", "branding", "python", "seo")
CATEGORIES = ("design", "illustration", "writing", "programming", "video")


@dataclass
class Member:
    user_id: str
    headers: dict[str, str]


@dataclass
class Gig:
    id: str
    version: int
    owner: Member
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Marketplace:
    members: list[Member] = field(default_factory=list)
    gigs: list[Gig] = field(default_factory=list)


Operation = Callable[[httpx.AsyncClient, Marketplace], Awaitable[httpx.Response]]


def _gig_body(word: str) -> dict[str, Any]:
    return {
        "title": f"Professional {word} for your brand {uuid.uuid4().hex[:6]}",
        "description": f"Careful {word} work, delivered on time, with revisions included.",
        "category": random.choice(CATEGORIES),
        "tags": [word],
        "price": random.randrange(1000, 20000, 500),
        "delivery_days": random.randint(1, 14),
    }


async def search(client: httpx.AsyncClient, market: Marketplace) -> httpx.Response:
    return await client.get(f"{GIGS}/search", params={"q": random.choice(WORDS)})


async def gig_page(client: httpx.AsyncClient, market: Marketplace) -> httpx.Response:
    return await client.get(f"{GIGS}/{random.choice(market.gigs).id}")


async def similar(client: httpx.AsyncClient, market: Marketplace) -> httpx.Response:
    return await client.get(f"{GIGS}/{random.choice(market.gigs).id}/similar")


async def by_category(client: httpx.AsyncClient, market: Marketplace) -> httpx.Response:
    return await client.get(f"{GIGS}/category/{random.choice(CATEGORIES)}")


async def top_rated(client: httpx.AsyncClient, market: Marketplace) -> httpx.Response:
    return await client.get(f"{GIGS}/top-rated")


async def me(client: httpx.AsyncClient, market: Marketplace) -> httpx.Response:
    return await client.get(f"{AUTH}/me", headers=random.choice(market.members).headers)


async def buyer_profile(client: httpx.AsyncClient, market: Marketplace) -> httpx.Response:
    return await client.get(f"{BUYERS}/me", headers=random.choice(market.members).headers)


async def reprice_gig(client: httpx.AsyncClient, market: Marketplace) -> httpx.Response:
    gig = random.choice(market.gigs)
    # One writer per gig at a time: the load is about throughput, not about provoking version conflicts.
    async with gig.lock:
        response = await client.patch(
            f"{GIGS}/{gig.id}",
            json={"version": gig.version, "price": random.randrange(1000, 20000, 500)},
            headers=gig.owner.headers,
        )
        if response.status_code == 200:
            gig.version = int(response.json()["version"])
    return response


async def create_gig(client: httpx.AsyncClient, market: Marketplace) -> httpx.Response:
    owner = random.choice(market.members)
    response = await client.post(GIGS, json=_gig_body(random.choice(WORDS)), headers=owner.headers)
    if response.status_code == 201:
        body = response.json()
        market.gigs.append(Gig(id=str(body["id"]), version=int(body["version"]), owner=owner))
    return response


async def signup(client: httpx.AsyncClient, market: Marketplace) -> httpx.Response:
    suffix = uuid.uuid4().hex[:12]
    account = {"username": f"load{suffix}", "email": f"load{suffix}@example.com", "password": PASSWORD}
    return await client.post(f"{AUTH}/signup", json=account, headers=DEVICE)


# (name, weight in percent, operation, statuses that count as success)
MIX: tuple[tuple[str, int, Operation, frozenset[int]], ...] = (
    ("gigs.search", 40, search, frozenset({200})),
    ("gigs.byId", 12, gig_page, frozenset({200})),
    ("gigs.byCategory", 8, by_category, frozenset({200})),
    ("gigs.similar", 5, similar, frozenset({200})),
    ("gigs.topRated", 5, top_rated, frozenset({200})),
    ("auth.me", 10, me, frozenset({200})),
    ("buyers.me", 6, buyer_profile, frozenset({200})),
    ("gigs.update", 8, reprice_gig, frozenset({200})),
    ("gigs.create", 3, create_gig, frozenset({201})),
    ("auth.signup", 3, signup, frozenset({202})),
)


def pick() -> tuple[str, Operation, frozenset[int]]:
    name, _, operation, ok = random.choices(MIX, weights=[weight for _, weight, _, _ in MIX])[0]
    return name, operation, ok


async def _member(client: httpx.AsyncClient, mail: MailCatcher) -> Member:
    """Sign up, confirm the email on this device, sign in (an unverified account gets no session)."""
    suffix = uuid.uuid4().hex[:10]
    account = {"username": f"seller{suffix}", "email": f"seller{suffix}@example.com", "password": PASSWORD}
    (await client.post(f"{AUTH}/signup", json=account, headers=DEVICE)).raise_for_status()

    def matches(message: dict[str, Any]) -> bool:
        text = str(message.get("text", ""))
        return account["email"] in message.get("to", []) and VERIFY_TOKEN.search(text) is not None

    found = await mail.wait_for_messages(1, timeout=60.0, where=matches)
    token = VERIFY_TOKEN.search(str(found[0].get("text", "")))
    assert token is not None
    verified = await client.post(f"{AUTH}/verify-email", json={"token": token.group(1)}, headers=DEVICE)
    verified.raise_for_status()
    signin = await client.post(
        f"{AUTH}/signin",
        json={"email_or_username": account["username"], "password": PASSWORD},
        headers=DEVICE,
    )
    signin.raise_for_status()
    body = signin.json()
    return Member(str(body["user"]["id"]), {"Authorization": f"Bearer {body['access_token']}", **DEVICE})


async def populate(client: httpx.AsyncClient, mail: MailCatcher, *, members: int, gigs: int) -> Marketplace:
    """Members who sell, their gigs, and their buyer profiles (made by users from auth's event)."""
    market = Marketplace(members=[await _member(client, mail) for _ in range(members)])
    for index in range(gigs):
        owner = market.members[index % members]
        created = await client.post(GIGS, json=_gig_body(WORDS[index % len(WORDS)]), headers=owner.headers)
        created.raise_for_status()
        body = created.json()
        market.gigs.append(Gig(id=str(body["id"]), version=int(body["version"]), owner=owner))
    for member in market.members:
        for _ in range(300):
            if (await client.get(f"{BUYERS}/me", headers=member.headers)).status_code == 200:
                break
            await asyncio.sleep(0.1)
    return market
