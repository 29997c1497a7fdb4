"""The marketplace end to end, through the gateway only, on one stack of every service.

Journey 1: a seller signs up, verifies, becomes a seller, uploads a cover and creates a gig; a buyer finds it
by search, messages the seller, receives a custom offer and accepts it; the order is created at the offer's
price, paid through payments.devConfirm; the seller asks for more time and the buyer agrees; the seller
delivers a file and the buyer approves; both review; the seller's rating and the gig's rating (in search
too) reflect the buyer's review. Then: each party received the right emails and realtime events, and a
bystander received nothing. Journey 2: an unpaid order expires. Journey 3: a paid order is cancelled (by the
seller: the buyer may not before the due date) and the refund is recorded.

Each journey runs once per module (module-scoped fixtures); the tests assert on what it recorded, so a
missing piece in one service shows up as its own failing (or expected-to-fail) test, not as an error in all.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_mail import VERIFY_TOKEN, wait_for_mail
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import Backend
from gigstack_testinfra.mail import MailCatcher
from journey_realtime import RealtimeListener
from marketplace_stack import marketplace_stack
from stack import GigstackStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

API = "/api/v1/gateway"
PASSWORD = "Correct-Horse-Battery-9"
LAPTOP = {"X-Device-Id": "laptop-journey"}
COVER = b"\x89PNG\r\n\x1a\n" + b"\0" * 256
DELIVERY = b"%PDF-1.4\n% the delivered work\n"
GIG_PRICE, OFFER_PRICE = 4500, 3200
# Short enough for journey 2 to watch an order expire, long enough for journey 1 to pay in time.
PAYMENT_WINDOW_SECONDS = 25
SELLER_PROFILE = {
    "full_name": "Sam Seller",
    "one_liner": "Illustrations that tell your story",
    "description": "Ten years of editorial and brand illustration for magazines and startups.",
    "skills": ["illustration", "branding"],
    "languages": [{"language": "English", "level": "fluent"}],
    "response_time_hours": 12,
}

# Which email is which: the subject lines of notification's templates.
EMAIL_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("verify_email", re.compile(r"^Confirm your email address")),
    ("review_received", re.compile(r" rated your work \d out of 5")),
    ("offer_received", re.compile(r" sent you a custom offer")),
    ("unread_messages", re.compile(r"^You have unread messages")),
    ("order_placed", re.compile(r"^New order: ")),
    ("order_receipt", re.compile(r"^Your receipt for order #")),
    ("extension_requested", re.compile(r"^The seller asks for \d+ more day")),
    ("extension_decided", re.compile(r"^Your extension request was (approved|rejected)")),
    ("order_delivered", re.compile(r"^Order #\S+ was delivered")),
    ("delivery_approved", re.compile(r"^The buyer approved order #")),
    ("order_cancelled", re.compile(r"^Order #\S+ was cancelled")),
    ("order_expired", re.compile(r"^Order #\S+ expired unpaid")),
]


def email_kind(subject: str) -> str:
    return next((kind for kind, pattern in EMAIL_KINDS if pattern.search(subject)), f"unknown: {subject}")


@dataclass
class Party:
    user_id: str
    username: str
    email: str
    access_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Journey:
    stack: GigstackStack
    gateway: httpx.AsyncClient
    parties: dict[str, Party] = field(default_factory=dict)
    realtime: RealtimeListener | None = None
    record: dict[str, Any] = field(default_factory=dict)

    def emails_by_party(self) -> dict[str, list[str]]:
        """Email kinds each party received, plus "elsewhere" for any address that is not a party's."""
        addresses = {party.email: name for name, party in self.parties.items()}
        received: dict[str, list[str]] = {name: [] for name in self.parties}
        for message in self.stack.mail.messages():
            for to in message.get("to", []):
                received.setdefault(addresses.get(to, "elsewhere"), []).append(email_kind(message["subject"]))
        return {name: sorted(kinds) for name, kinds in received.items()}


async def eventually(
    probe: Callable[[], Awaitable[httpx.Response]],
    accept: Callable[[httpx.Response], bool],
    *,
    within: float = 30.0,
    what: str,
) -> httpx.Response:
    """Repeat `probe` until `accept` holds: the read models and replicas are eventually consistent."""
    deadline = time.monotonic() + within
    while True:
        response = await probe()
        if accept(response):
            return response
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {response.status_code} {response.text[:500]}")
        await asyncio.sleep(0.25)


async def until(condition: Callable[[], bool], *, within: float) -> bool:
    """Poll a condition on what has arrived (mail, events) until it holds or `within` passes."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


async def sign_up_and_in(journey: Journey, role: str) -> Party:
    gateway, suffix = journey.gateway, uuid.uuid4().hex[:8]
    account = {"username": f"{role}{suffix}", "email": f"{role}{suffix}@example.com", "password": PASSWORD}
    signup = await gateway.post(f"{API}/auth/signup", json={**account, "country": "Norway"}, headers=LAPTOP)
    assert signup.status_code == 202, signup.text
    token = await wait_for_mail(journey.stack.mail, account["email"], VERIFY_TOKEN)
    verified = await gateway.post(f"{API}/auth/verify-email", json={"token": token}, headers=LAPTOP)
    assert verified.status_code == 200, verified.text
    signin = await gateway.post(
        f"{API}/auth/signin",
        json={"email_or_username": account["email"], "password": PASSWORD},
        headers=LAPTOP,
    )
    assert signin.status_code == 200, signin.text
    session = signin.json()
    party = Party(session["user"]["id"], account["username"], account["email"], session["access_token"])
    journey.parties[role] = party
    return party


async def upload(journey: Journey, party: Party, area: str, content_type: str, body: bytes) -> str:
    """media.createUpload, then the bytes POSTed to the presigned form as a browser would; the key."""
    planned = await journey.gateway.post(
        f"{API}/media/uploads",
        json={"area": area, "content_type": content_type, "size": len(body)},
        headers=party.auth,
    )
    assert planned.status_code == 200, planned.text
    form = planned.json()
    async with httpx.AsyncClient(timeout=30, trust_env=False) as browser:
        stored = await browser.post(
            form["url"], data=form["fields"], files={"file": ("f", body, content_type)}
        )
    assert stored.status_code in (200, 201, 204), stored.text
    key: str = form["key"]
    assert key.startswith(f"{area}/{party.user_id}/")
    return key


async def published_gig(journey: Journey, seller: Party, word: str) -> dict[str, Any]:
    gateway = journey.gateway
    # 404 until the buyer profile has arrived from auth's account event (users consumes it).
    became = await eventually(
        lambda: gateway.post(f"{API}/sellers", json=SELLER_PROFILE, headers=seller.auth),
        lambda response: response.status_code != 404,
        what="sellers.create",
    )
    assert became.status_code == 201, became.text
    cover = await upload(journey, seller, "gigs", "image/png", COVER)
    body = {
        "title": f"Hand drawn {word} illustrations",
        "description": "Vector illustrations for your brand, delivered as print-ready files",
        "category": "illustration",
        "tags": ["vector", word],
        "price": GIG_PRICE,
        "delivery_days": 5,
        "cover_image_key": cover,
    }
    created = await gateway.post(f"{API}/gigs", json=body, headers=seller.auth)
    assert created.status_code == 201, created.text
    gig: dict[str, Any] = created.json()
    assert (gig["seller_id"], gig["cover_image_key"]) == (seller.user_id, cover)
    return gig


async def search_finds(
    journey: Journey, word: str, accept: Callable[[list[dict[str, Any]]], bool]
) -> list[Any]:
    found = await eventually(
        lambda: journey.gateway.get(f"{API}/gigs/search", params={"q": word}),
        lambda response: response.status_code == 200 and accept(response.json()["items"]),
        what=f"gigs.search for {word!r}",
    )
    items: list[Any] = found.json()["items"]
    return items


async def accepted_offer(
    journey: Journey, buyer: Party, seller: Party, gig: dict[str, Any]
) -> dict[str, Any]:
    """The buyer writes first; the seller answers with a custom offer; the buyer accepts it."""
    gateway = journey.gateway
    hello = await gateway.post(
        f"{API}/chat/messages",
        json={"recipient_id": seller.user_id, "kind": "text", "text": "Could you do a smaller version?"},
        headers=buyer.auth,
    )
    assert hello.status_code == 201, hello.text
    offer_terms = {
        "gig_id": gig["id"],
        "description": "Two illustrations instead of three",
        "price": OFFER_PRICE,
        "currency": "USD",
        "delivery_days": 3,
        "expires_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
    }
    sent = await gateway.post(
        f"{API}/chat/messages",
        json={"conversation_id": hello.json()["conversation_id"], "kind": "offer", "offer": offer_terms},
        headers=seller.auth,
    )
    assert sent.status_code == 201, sent.text
    offer = sent.json()["offer"]
    assert (offer["status"], offer["price"], offer["buyer_id"]) == ("pending", OFFER_PRICE, buyer.user_id)
    accepted = await gateway.post(
        f"{API}/chat/offers/{offer['id']}/response", json={"action": "accept"}, headers=buyer.auth
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    result: dict[str, Any] = accepted.json()
    return result


async def created_order(journey: Journey, buyer: Party, source: dict[str, str]) -> dict[str, Any]:
    """orders.create, retried while the order service has not yet replicated the gig or the offer."""
    created = await eventually(
        lambda: journey.gateway.post(f"{API}/orders", json=source, headers=buyer.auth),
        lambda response: response.status_code == 201,
        what=f"orders.create from {source}",
    )
    order: dict[str, Any] = created.json()["order"]
    assert order["status"] == "awaiting_payment"
    return order


async def order_action(
    journey: Journey, party: Party, order: dict[str, Any], action: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await journey.gateway.post(
        f"{API}/orders/{order['id']}/{action}", json={**body, "version": order["version"]}, headers=party.auth
    )
    assert response.status_code == 200, f"{action}: {response.status_code} {response.text}"
    updated: dict[str, Any] = response.json()
    assert updated["version"] > order["version"]
    return updated


async def paid(journey: Journey, buyer: Party, order: dict[str, Any]) -> dict[str, Any]:
    confirmed = await journey.gateway.post(
        f"{API}/payments/dev-confirm", json={"order_id": order["id"]}, headers=buyer.auth
    )
    assert confirmed.status_code == 200, confirmed.text
    now_paid: dict[str, Any] = confirmed.json()["order"]
    assert (now_paid["status"], now_paid["paid_amount"]) == ("in_progress", order["total"])
    return now_paid


async def review(journey: Journey, party: Party, order_id: str, rating: int, comment: str) -> dict[str, Any]:
    """reviews.create, retried while the completion has not reached the review service (409)."""
    response = await eventually(
        lambda: journey.gateway.post(
            f"{API}/reviews",
            json={"order_id": order_id, "rating": rating, "comment": comment},
            headers=party.auth,
        ),
        lambda response: (
            response.status_code != 409 or response.json()["error"]["code"] != "order_not_completed"
        ),
        what="reviews.create after completion",
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# --- the stack and the journeys (once per module) -----------------------------------------------------------


@pytest.fixture(scope="module")
async def marketplace(
    gigstack_backend: Backend,
    _mail_catcher_session: MailCatcher,
    internal_keypair: tuple[str, str],
    _redis_databases: isolation.RedisDatabaseAllocator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[GigstackStack]:
    async with marketplace_stack(
        gigstack_backend,
        _mail_catcher_session,
        internal_keypair,
        Path(tmp_path_factory.mktemp("journey-logs")),
        order_env={"PAYMENT_WINDOW_SECONDS": str(PAYMENT_WINDOW_SECONDS)},
        redis_databases=_redis_databases,
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
async def journey(marketplace: GigstackStack) -> AsyncIterator[Journey]:
    """Journey 1, step by step; each step asserts its own outcome, the tests below assert the aftermath."""
    async with marketplace.gateway_client() as gateway:
        journey = Journey(marketplace, gateway)
        seller = await sign_up_and_in(journey, "seller")
        buyer = await sign_up_and_in(journey, "buyer")
        await sign_up_and_in(journey, "bystander")
        journey.realtime = await RealtimeListener.connect(marketplace.gateway_url, journey.parties)

        word = f"quokka{uuid.uuid4().hex[:8]}"
        gig = await published_gig(journey, seller, word)
        found = await search_finds(journey, word, lambda items: [item["id"] for item in items] == [gig["id"]])
        assert found[0]["price"] == GIG_PRICE

        offer = await accepted_offer(journey, buyer, seller, gig)
        order = await created_order(journey, buyer, {"offer_id": offer["id"]})
        assert (order["price"], order["offer_id"], order["gig_id"]) == (OFFER_PRICE, offer["id"], gig["id"])
        assert (order["buyer_id"], order["seller_id"]) == (buyer.user_id, seller.user_id)
        assert order["total"] == order["price"] + order["service_fee"]
        assert order["seller_earnings"] <= order["price"]

        order = await paid(journey, buyer, order)
        due = datetime.fromisoformat(order["due_at"])
        order = await order_action(
            journey, seller, order, "extension", {"days": 2, "reason": "One more round"}
        )
        assert order["extension"]["status"] == "requested"
        order = await order_action(journey, buyer, order, "extension/decision", {"approve": True})
        assert order["extension"]["status"] == "approved"
        assert datetime.fromisoformat(order["due_at"]) - due == timedelta(days=2)

        delivered_file = await upload(journey, seller, "deliveries", "application/pdf", DELIVERY)
        order = await order_action(
            journey, seller, order, "delivery", {"message": "Here you go", "file_keys": [delivered_file]}
        )
        assert (order["status"], order["delivery"]["file_keys"]) == ("delivered", [delivered_file])
        order = await order_action(journey, buyer, order, "approve", {})
        assert order["status"] == "completed"

        by_buyer = await review(journey, buyer, order["id"], 5, "Lovely work, on time after the extension")
        by_seller = await review(journey, seller, order["id"], 4, "Clear brief, quick answers")
        assert (by_buyer["reviewer_role"], by_seller["reviewer_role"]) == ("buyer", "seller")
        again = await gateway.post(
            f"{API}/reviews", json={"order_id": order["id"], "rating": 1}, headers=buyer.auth
        )
        assert again.status_code == 409

        journey.record.update(
            gig=gig, word=word, offer=offer, order=order, delivered_file=delivered_file,
            reviews={"buyer": by_buyer, "seller": by_seller},
        )  # fmt: skip
        try:
            yield journey
        finally:
            await journey.realtime.close()


# --- journey 1: the aftermath -------------------------------------------------------------------------------


async def test_seller_rating_counts_the_buyers_review_once(journey: Journey) -> None:
    seller, order = journey.parties["seller"], journey.record["order"]
    profile = await eventually(
        lambda: journey.gateway.get(f"{API}/sellers/{seller.user_id}"),
        lambda response: response.status_code == 200 and response.json()["ratings"]["rating_count"] >= 1,
        what="the seller's rating",
    )
    ratings, stats = profile.json()["ratings"], profile.json()["stats"]
    assert (ratings["rating_count"], ratings["rating_sum"], ratings["average"]) == (1, 5, 5.0)
    assert ratings["stars"]["5"] == 1
    assert (stats["completed_jobs"], stats["ongoing_jobs"]) == (1, 0)
    assert stats["earnings"] == [{"currency": "USD", "amount_minor": order["seller_earnings"]}]


async def test_gig_rating_reflects_the_review_in_the_gig_and_in_search(journey: Journey) -> None:
    gig, word = journey.record["gig"], journey.record["word"]
    read = await eventually(
        lambda: journey.gateway.get(f"{API}/gigs/{gig['id']}"),
        lambda response: response.status_code == 200 and response.json()["rating_count"] == 1,
        what="the gig's rating",
    )
    assert read.json()["rating_average"] == 5.0
    found = await search_finds(
        journey,
        word,
        lambda items: bool(items) and items[0]["id"] == gig["id"] and items[0]["rating_count"] == 1,
    )
    assert found[0]["rating_average"] == 5.0


async def test_reviews_are_listed_by_gig_and_seller_and_recorded_on_the_order(journey: Journey) -> None:
    gig, order, reviews = journey.record["gig"], journey.record["order"], journey.record["reviews"]
    seller, buyer = journey.parties["seller"], journey.parties["buyer"]
    for path in (f"{API}/reviews/gig/{gig['id']}", f"{API}/reviews/seller/{seller.user_id}"):
        listed = await journey.gateway.get(path)  # anonymous
        assert listed.status_code == 200, listed.text
        assert [(item["id"], item["rating"]) for item in listed.json()["items"]] == [
            (reviews["buyer"]["id"], 5)
        ]
    recorded = await eventually(
        lambda: journey.gateway.get(f"{API}/orders/{order['id']}", headers=buyer.auth),
        lambda response: response.status_code == 200 and response.json()["seller_review_id"] is not None,
        what="the order's review fields",
    )
    assert (recorded.json()["buyer_review_id"], recorded.json()["seller_review_id"]) == (
        reviews["buyer"]["id"],
        reviews["seller"]["id"],
    )


async def test_only_the_parties_could_touch_the_order(journey: Journey) -> None:
    """The bystander and an anonymous caller are refused on every order and review operation of it."""
    order, bystander = journey.record["order"], journey.parties["bystander"]
    gateway = journey.gateway
    attempts = [
        ("GET", f"{API}/orders/{order['id']}", None),
        ("POST", f"{API}/orders/{order['id']}/cancel", {"reason": "mine now"}),
        ("POST", f"{API}/orders/{order['id']}/approve", {}),
        ("POST", f"{API}/payments/dev-confirm", {"order_id": order["id"]}),
        ("POST", f"{API}/reviews", {"order_id": order["id"], "rating": 1}),
    ]
    for method, path, body in attempts:
        as_bystander = await gateway.request(method, path, json=body, headers=bystander.auth)
        anonymous = await gateway.request(method, path, json=body)
        assert as_bystander.status_code in (403, 404), (path, as_bystander.text)
        assert anonymous.status_code == 401, (path, anonymous.text)


async def test_each_party_got_exactly_its_emails(journey: Journey) -> None:
    expected = {
        "seller": [
            "delivery_approved", "extension_decided", "order_placed", "review_received", "verify_email",
        ],
        "buyer": [
            "extension_requested", "offer_received", "order_delivered", "order_receipt", "review_received",
            "verify_email",
        ],
        "bystander": ["verify_email"],
    }  # fmt: skip

    def all_arrived() -> bool:
        received = journey.emails_by_party()
        return all(set(kinds) <= set(received.get(party, [])) for party, kinds in expected.items())

    await until(all_arrived, within=30)
    await asyncio.sleep(2)  # anything extra that was on its way
    assert journey.emails_by_party() == expected


async def test_review_emails_went_to_the_reviewed_party_only(journey: Journey) -> None:
    """The part of the email contract that review and notification own, asserted on its own."""

    def both_sent() -> bool:
        received = journey.emails_by_party()
        return all("review_received" in received[party] for party in ("seller", "buyer"))

    assert await until(both_sent, within=30), journey.emails_by_party()
    received = journey.emails_by_party()
    assert received["seller"].count("review_received") == 1
    assert received["buyer"].count("review_received") == 1
    assert "review_received" not in received["bystander"]
    assert "elsewhere" not in received


async def test_each_party_got_its_realtime_events_and_nobody_else(journey: Journey) -> None:
    listener = journey.realtime
    assert listener is not None
    assert listener.errors == {}, listener.errors
    order_id = journey.record["order"]["id"]
    await listener.wait_for(
        lambda events: all(
            any(name == "order.updated" and order_id in str(data) for name, data in events.get(party, []))
            for party in ("buyer", "seller")
        )
    )
    for party in ("buyer", "seller"):
        names = {name for name, _ in listener.events[party]}
        assert {"message.created", "offer.updated", "order.updated", "notification.created"} <= names, party
        assert all(order_id in str(data) for name, data in listener.events[party] if name == "order.updated")
    assert listener.events.get("bystander", []) == []


# --- journeys 2 and 3 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def short_journeys(marketplace: GigstackStack) -> AsyncIterator[Journey]:
    """A second seller's gig; one buyer leaves an order unpaid; another pays one, which the seller cancels."""
    async with marketplace.gateway_client() as gateway:
        journey = Journey(marketplace, gateway)
        seller = await sign_up_and_in(journey, "seller2")
        late = await sign_up_and_in(journey, "latebuyer")
        canceller = await sign_up_and_in(journey, "canceller")
        gig = await published_gig(journey, seller, f"wombat{uuid.uuid4().hex[:8]}")
        unpaid = await created_order(journey, late, {"gig_id": gig["id"]})
        assert unpaid["price"] == GIG_PRICE  # the gig's price, set by the server
        to_cancel = await paid(
            journey, canceller, await created_order(journey, canceller, {"gig_id": gig["id"]})
        )
        # The documented rule: a buyer may cancel a paid order only after its due date; the seller any time.
        early = await gateway.post(
            f"{API}/orders/{to_cancel['id']}/cancel",
            json={"reason": "Changed my mind", "version": to_cancel["version"]},
            headers=canceller.auth,
        )
        assert early.status_code == 409, early.text
        cancelled = await order_action(journey, seller, to_cancel, "cancel", {"reason": "Cannot take it on"})
        journey.record.update(gig=gig, unpaid=unpaid, cancelled=cancelled)
        yield journey


async def test_an_unpaid_order_expires(short_journeys: Journey) -> None:
    unpaid, buyer = short_journeys.record["unpaid"], short_journeys.parties["latebuyer"]
    expired = await eventually(
        lambda: short_journeys.gateway.get(f"{API}/orders/{unpaid['id']}", headers=buyer.auth),
        lambda response: response.status_code == 200 and response.json()["status"] == "expired",
        within=PAYMENT_WINDOW_SECONDS + 30,
        what="the unpaid order's expiry",
    )
    assert (expired.json()["paid_amount"], expired.json()["refunded_amount"]) == (0, 0)
    too_late = await short_journeys.gateway.post(
        f"{API}/payments/dev-confirm", json={"order_id": unpaid["id"]}, headers=buyer.auth
    )
    assert too_late.status_code == 409, too_late.text


async def test_a_cancelled_paid_order_records_its_refund(short_journeys: Journey) -> None:
    cancelled, buyer = short_journeys.record["cancelled"], short_journeys.parties["canceller"]
    assert cancelled["status"] == "cancelled"
    refunded = await eventually(
        lambda: short_journeys.gateway.get(f"{API}/orders/{cancelled['id']}", headers=buyer.auth),
        lambda response: response.status_code == 200 and response.json()["refunded_amount"] > 0,
        what="the refund of the cancelled order",
    )
    assert refunded.json()["refunded_amount"] == refunded.json()["paid_amount"] == cancelled["total"]


async def test_expiry_and_cancellation_emails_reach_their_buyers(short_journeys: Journey) -> None:
    await test_an_unpaid_order_expires(short_journeys)  # the expiry has happened

    def both_sent() -> bool:
        received = short_journeys.emails_by_party()
        return "order_expired" in received["latebuyer"] and "order_cancelled" in received["canceller"]

    await until(both_sent, within=30)
    received = short_journeys.emails_by_party()
    assert received["latebuyer"] == ["order_expired", "verify_email"]
    assert received["canceller"] == ["order_cancelled", "order_receipt", "verify_email"]
    # Only the paid order was ever the seller's: no email about the unpaid one.
    assert received["seller2"] == ["order_cancelled", "order_placed", "verify_email"]
