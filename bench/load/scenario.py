"""What a marketplace visitor does, as weighted gateway operations over all eight services.

Search-heavy: most traffic is anonymous search, gig pages, seller pages and gig reviews (gig, users, review),
then signed-in reads (auth, users, chat, order), then writes: gig edits and new gigs by their sellers,
messages between members (chat), orders moving through their life (order: placed, paid, delivered,
approved, then reviewed through review), and a trickle of signups (each one an outbox event, a broker
message, a profile in users, chat's and order's directories, and an email from notification). The gateway
carries every request, and its realtime queue receives the chat and order events.

Each operation returns the `Call` it made: the public operationId, the response and the statuses that count
as success. The order operation advances one order one step (the furthest-along order first), so orders
flow through their whole life during a run and no step is attempted out of turn.

The mix grows with the services: add an entry to `MIX` and, if it needs state, a field to `Marketplace`.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from gigstack_testinfra.mail import MailCatcher

API = "/api/v1/gateway"
AUTH = f"{API}/auth"
GIGS = f"{API}/gigs"
BUYERS = f"{API}/buyers"
SELLERS = f"{API}/sellers"
REVIEWS = f"{API}/reviews"
CHAT = f"{API}/chat"
ORDERS = f"{API}/orders"
PAYMENTS = f"{API}/payments"
DEVICE = {"X-Device-Id": "bench-load"}
PASSWORD = "Bench-Password-42"
VERIFY_TOKEN = re.compile(r"confirm_email\?v_token=([A-Za-z0-9_\-.~%]+)")
WORDS = ("logo", "illustration", "website", "podcast", "translation", "video", "branding", "python", "seo")
CATEGORIES = ("design", "illustration", "writing", "programming", "video")
SELLER_PROFILE = {
    "full_name": "Bench Seller",
    "one_liner": "Careful work, delivered on time",
    "description": "Years of design, writing and programming work for small and large clients.",
    "skills": ["illustration", "branding"],
    "languages": [{"language": "English", "level": "fluent"}],
    "response_time_hours": 12,
}
# A completed order reaches review through order.order.completed.v1; a review is written after that.
REVIEW_AFTER_SECONDS = 10.0
READY_WITHIN_SECONDS = 60.0


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
class Order:
    id: str
    version: int
    buyer: Member
    seller: Member
    completed_at: float = 0.0


@dataclass
class Marketplace:
    members: list[Member] = field(default_factory=list)
    gigs: list[Gig] = field(default_factory=list)
    # Gigs the order service already knows (from gig.gig.created.v1): orders are placed on these.
    orderable: list[Gig] = field(default_factory=list)
    # Orders by the next step they need; an operation takes an order out while it works on it.
    awaiting_payment: deque[Order] = field(default_factory=deque)
    in_progress: deque[Order] = field(default_factory=deque)
    delivered: deque[Order] = field(default_factory=deque)
    completed: deque[Order] = field(default_factory=deque)


@dataclass(frozen=True)
class Call:
    operation: str  # the public operationId (docs/contracts.md, marketplace.md)
    response: httpx.Response
    ok: frozenset[int]
    conflicts: int = 0  # 409s on a stale version, read again and retried (see reprice_gig)


Operation = Callable[[httpx.AsyncClient, Marketplace], Awaitable[Call]]
OK = frozenset({200})
CREATED = frozenset({201})


def _gig_body(word: str) -> dict[str, Any]:
    return {
        "title": f"Professional {word} for your brand {uuid.uuid4().hex[:6]}",
        "description": f"Careful {word} work, delivered on time, with revisions included.",
        "category": random.choice(CATEGORIES),
        "tags": [word],
        "price": random.randrange(1000, 20000, 500),
        "delivery_days": random.randint(1, 14),
    }


def _other(market: Marketplace, member: Member) -> Member:
    return random.choice([other for other in market.members if other is not member])


# --- anonymous reads ----------------------------------------------------------------------------------------


async def search(client: httpx.AsyncClient, market: Marketplace) -> Call:
    return Call("gigs.search", await client.get(f"{GIGS}/search", params={"q": random.choice(WORDS)}), OK)


async def gig_page(client: httpx.AsyncClient, market: Marketplace) -> Call:
    return Call("gigs.byId", await client.get(f"{GIGS}/{random.choice(market.gigs).id}"), OK)


async def similar(client: httpx.AsyncClient, market: Marketplace) -> Call:
    return Call("gigs.similar", await client.get(f"{GIGS}/{random.choice(market.gigs).id}/similar"), OK)


async def by_category(client: httpx.AsyncClient, market: Marketplace) -> Call:
    return Call("gigs.byCategory", await client.get(f"{GIGS}/category/{random.choice(CATEGORIES)}"), OK)


async def top_rated(client: httpx.AsyncClient, market: Marketplace) -> Call:
    return Call("gigs.topRated", await client.get(f"{GIGS}/top-rated"), OK)


async def seller_page(client: httpx.AsyncClient, market: Marketplace) -> Call:
    return Call("sellers.byId", await client.get(f"{SELLERS}/{random.choice(market.members).user_id}"), OK)


async def gig_reviews(client: httpx.AsyncClient, market: Marketplace) -> Call:
    return Call("reviews.byGig", await client.get(f"{REVIEWS}/gig/{random.choice(market.gigs).id}"), OK)


# --- signed-in reads ----------------------------------------------------------------------------------------


async def me(client: httpx.AsyncClient, market: Marketplace) -> Call:
    return Call("auth.me", await client.get(f"{AUTH}/me", headers=random.choice(market.members).headers), OK)


async def buyer_profile(client: httpx.AsyncClient, market: Marketplace) -> Call:
    member = random.choice(market.members)
    return Call("buyers.me", await client.get(f"{BUYERS}/me", headers=member.headers), OK)


async def conversations(client: httpx.AsyncClient, market: Marketplace) -> Call:
    member = random.choice(market.members)
    return Call("chat.conversations", await client.get(f"{CHAT}/conversations", headers=member.headers), OK)


async def my_orders(client: httpx.AsyncClient, market: Marketplace) -> Call:
    member = random.choice(market.members)
    return Call("orders.asBuyer", await client.get(f"{ORDERS}/as-buyer", headers=member.headers), OK)


# --- writes -------------------------------------------------------------------------------------------------


async def reprice_gig(client: httpx.AsyncClient, market: Marketplace) -> Call:
    """A seller's edit with the version it last read; on 409 it reads the gig again and retries once.

    The version also moves without the seller (a new rating, a changed seller summary: gig's denormalised.py),
    but since the gig's `edit_version` those do not refuse the seller's edit; a 409 now means another edit
    of the seller's got there first (a lost write race retried too often, rarely). The retry is what the web
    client does; it is counted (`conflicts`) and should stay near 0 with one writer per gig.
    """
    gig = random.choice(market.gigs)
    # One writer per gig at a time from the generator: the conflicts left come from the other services.
    async with gig.lock:
        conflicts = 0
        for _ in range(2):
            body = {"version": gig.version, "price": random.randrange(1000, 20000, 500)}
            response = await client.patch(f"{GIGS}/{gig.id}", json=body, headers=gig.owner.headers)
            if response.status_code == 200:
                gig.version = int(response.json()["version"])
            if response.status_code != 409 or conflicts:
                break
            conflicts += 1
            fresh = await client.get(f"{GIGS}/{gig.id}")
            if fresh.status_code != 200:
                break
            gig.version = int(fresh.json()["version"])
    return Call("gigs.update", response, OK, conflicts=conflicts)


async def create_gig(client: httpx.AsyncClient, market: Marketplace) -> Call:
    owner = random.choice(market.members)
    response = await client.post(GIGS, json=_gig_body(random.choice(WORDS)), headers=owner.headers)
    if response.status_code == 201:
        body = response.json()
        market.gigs.append(Gig(id=str(body["id"]), version=int(body["version"]), owner=owner))
    return Call("gigs.create", response, CREATED)


async def send_message(client: httpx.AsyncClient, market: Marketplace) -> Call:
    sender = random.choice(market.members)
    body = {"recipient_id": _other(market, sender).user_id, "kind": "text", "text": "Is this still open?"}
    response = await client.post(f"{CHAT}/messages", json=body, headers=sender.headers)
    return Call("chat.send", response, CREATED)


async def signup(client: httpx.AsyncClient, market: Marketplace) -> Call:
    suffix = uuid.uuid4().hex[:12]
    account = {"username": f"load{suffix}", "email": f"load{suffix}@example.com", "password": PASSWORD}
    response = await client.post(f"{AUTH}/signup", json=account, headers=DEVICE)
    return Call("auth.signup", response, frozenset({202}))


async def _place_order(client: httpx.AsyncClient, market: Marketplace) -> Call:
    gig = random.choice(market.orderable)
    buyer = _other(market, gig.owner)
    response = await client.post(ORDERS, json={"gig_id": gig.id}, headers=buyer.headers)
    if response.status_code == 201:
        order = response.json()["order"]
        market.awaiting_payment.append(Order(str(order["id"]), int(order["version"]), buyer, gig.owner))
    return Call("orders.create", response, CREATED)


async def _step(
    client: httpx.AsyncClient,
    order: Order,
    operation: str,
    path: str,
    body: dict[str, Any],
    actor: Member,
    then: deque[Order] | None,
) -> Call:
    response = await client.post(path, json=body, headers=actor.headers)
    if response.status_code == 200:
        payload = response.json()
        order.version = int(payload.get("order", payload)["version"])
        if then is not None:
            order.completed_at = time.monotonic()
            then.append(order)
    return Call(operation, response, OK)


async def advance_order(client: httpx.AsyncClient, market: Marketplace) -> Call:
    """One step of one order's life, the furthest-along order first: review, approve, deliver, pay, place."""
    now = time.monotonic()
    if market.completed and now - market.completed[0].completed_at >= REVIEW_AFTER_SECONDS:
        order = market.completed.popleft()
        body = {"order_id": order.id, "rating": random.randint(3, 5), "comment": "Good work, on time"}
        response = await client.post(REVIEWS, json=body, headers=order.buyer.headers)
        return Call("reviews.create", response, CREATED)
    if market.delivered:
        order = market.delivered.popleft()
        path = f"{ORDERS}/{order.id}/approve"
        return await _step(
            client, order, "orders.approve", path, {"version": order.version}, order.buyer, market.completed
        )
    if market.in_progress:
        order = market.in_progress.popleft()
        path, body = f"{ORDERS}/{order.id}/delivery", {"message": "Here you go", "version": order.version}
        return await _step(client, order, "orders.deliver", path, body, order.seller, market.delivered)
    if market.awaiting_payment:
        order = market.awaiting_payment.popleft()
        path, body = f"{PAYMENTS}/dev-confirm", {"order_id": order.id}
        return await _step(client, order, "payments.devConfirm", path, body, order.buyer, market.in_progress)
    return await _place_order(client, market)


# (label, weight in percent, operation): reads 74 % (anonymous 58, signed in 16), writes 26 %.
MIX: tuple[tuple[str, int, Operation], ...] = (
    ("gigs.search", 30, search),
    ("gigs.byId", 10, gig_page),
    ("gigs.byCategory", 5, by_category),
    ("gigs.similar", 3, similar),
    ("gigs.topRated", 3, top_rated),
    ("sellers.byId", 3, seller_page),
    ("reviews.byGig", 4, gig_reviews),
    ("auth.me", 5, me),
    ("buyers.me", 3, buyer_profile),
    ("chat.conversations", 4, conversations),
    ("orders.asBuyer", 4, my_orders),
    ("gigs.update", 6, reprice_gig),
    ("gigs.create", 2, create_gig),
    ("chat.send", 7, send_message),
    ("orders: create, pay, deliver, approve, review", 8, advance_order),
    ("auth.signup", 3, signup),
)


def pick() -> Operation:
    return random.choices([operation for _, _, operation in MIX], weights=[weight for _, weight, _ in MIX])[0]


# --- the marketplace before the load ------------------------------------------------------------------------


async def _eventually(probe: Callable[[], Awaitable[httpx.Response]], ok: int, what: str) -> httpx.Response:
    """Repeat `probe` until it answers `ok`: the other services learn accounts and gigs from events."""
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while True:
        response = await probe()
        if response.status_code == ok:
            return response
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: still {response.status_code} {response.text[:300]}")
        await asyncio.sleep(0.2)


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
    """Members who buy and sell (seller profiles in users), their gigs, and every service aware of them."""
    if members < 2:
        raise ValueError("orders and messages need at least two members")
    market = Marketplace(members=[await _member(client, mail) for _ in range(members)])
    for member in market.members:
        # 404 until users has the buyer profile from auth's account event.
        await _eventually(
            lambda m=member: client.post(SELLERS, json=SELLER_PROFILE, headers=m.headers),  # type: ignore[misc]
            201,
            "sellers.create",
        )
    for index in range(gigs):
        owner = market.members[index % members]
        created = await client.post(GIGS, json=_gig_body(WORDS[index % len(WORDS)]), headers=owner.headers)
        created.raise_for_status()
        body = created.json()
        market.gigs.append(Gig(id=str(body["id"]), version=int(body["version"]), owner=owner))
    # Chat and order learn the members from auth.account.created.v1, order learns the gigs from gig's events:
    # one message between every pair of neighbours and one order on the last gig show they have.
    for sender, recipient in zip(market.members, market.members[1:] + market.members[:1], strict=True):
        body = {"recipient_id": recipient.user_id, "kind": "text", "text": "Hello"}
        await _eventually(
            lambda b=body, s=sender: client.post(f"{CHAT}/messages", json=b, headers=s.headers),  # type: ignore[misc]
            201,
            "chat.send",
        )
    last = market.gigs[-1]
    buyer = _other(market, last.owner)
    placed = await _eventually(
        lambda: client.post(ORDERS, json={"gig_id": last.id}, headers=buyer.headers), 201, "orders.create"
    )
    order = placed.json()["order"]
    market.awaiting_payment.append(Order(str(order["id"]), int(order["version"]), buyer, last.owner))
    market.orderable = list(market.gigs)
    return market
