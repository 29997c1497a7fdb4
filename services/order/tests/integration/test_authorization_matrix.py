"""Every order operation refused for anonymous callers, strangers and the wrong party (100%)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from conftest import OrderApi


def new_user() -> str:
    return str(uuid.uuid4())


def operations(order_id: str, seller: str) -> list[tuple[str, str, str, Any, str]]:
    """(operation, method, path, body, the party allowed) for every per-order operation."""
    base = f"/api/v1/orders/{order_id}"
    return [
        ("orders.byId", "GET", base, None, "both"),
        ("orders.cancel", "POST", f"{base}/cancel", {"reason": "r"}, "seller"),
        ("orders.requestExtension", "POST", f"{base}/extension", {"days": 1, "reason": "r"}, "seller"),
        ("orders.decideExtension", "POST", f"{base}/extension/decision", {"approve": True}, "buyer"),
        ("orders.deliver", "POST", f"{base}/delivery", {"message": "m"}, "seller"),
        ("orders.approve", "POST", f"{base}/approve", {}, "buyer"),
        ("payments.devConfirm", "POST", "/api/v1/payments/dev-confirm", {"order_id": order_id}, "buyer"),
    ]


async def test_anonymous_and_strangers_are_refused_everything(order_api: OrderApi) -> None:
    buyer, seller, stranger = new_user(), new_user(), new_user()
    order = await order_api.paid_order(buyer, seller)
    refused = 0
    table = operations(order["id"], seller)
    for _name, method, path, body, _allowed in table:
        assert (await order_api.call(method, path, None, body)).status_code == 401, path
        assert (await order_api.call(method, path, stranger, body)).status_code == 404, path
        refused += 2
    for method, path, body in (
        ("POST", "/api/v1/orders", {"gig_id": "x"}),
        ("GET", "/api/v1/orders/as-buyer", None),
        ("GET", "/api/v1/orders/as-seller", None),
        ("GET", "/api/v1/orders/notifications", None),
        ("POST", "/api/v1/orders/notifications/abc/read", None),
    ):
        assert (await order_api.call(method, path, None, body)).status_code == 401, path
        refused += 1
    assert refused == 2 * len(table) + 5
    # A stranger's lists hold nothing of the order; the order is unchanged.
    for path in ("/api/v1/orders/as-buyer", "/api/v1/orders/as-seller", "/api/v1/orders/notifications"):
        listed = (await order_api.call("GET", path, stranger)).json()
        assert all(not items for items in listed.values() if isinstance(items, list)), path
    final = (await order_api.call("GET", f"/api/v1/orders/{order['id']}", buyer)).json()
    assert (final["status"], final["version"]) == ("in_progress", 2)


async def test_a_stranger_naming_a_version_gets_404_not_the_orders_version(order_api: OrderApi) -> None:
    """The version check comes after the party check: a 409 would reveal the order and its version."""
    buyer, seller, stranger = new_user(), new_user(), new_user()
    order = await order_api.paid_order(buyer, seller)
    for name, method, path, body, _allowed in operations(order["id"], seller):
        if method != "POST" or name == "payments.devConfirm":
            continue
        for version in (1, order["version"]):  # a stale one and the current one
            response = await order_api.call(method, path, stranger, {**body, "version": version})
            assert response.status_code == 404, (name, version, response.text)
            assert str(order["version"]) not in response.json()["error"]["message"]
    final = (await order_api.call("GET", f"/api/v1/orders/{order['id']}", buyer)).json()
    assert (final["status"], final["version"]) == ("in_progress", order["version"])


@pytest.mark.parametrize(
    ("operation", "state"),
    [
        ("orders.requestExtension", "in_progress"),
        ("orders.decideExtension", "extension_requested"),
        ("orders.deliver", "in_progress"),
        ("orders.approve", "delivered"),
        ("payments.devConfirm", "awaiting_payment"),
    ],
)
async def test_the_wrong_party_is_refused(order_api: OrderApi, operation: str, state: str) -> None:
    buyer, seller = new_user(), new_user()
    if state == "awaiting_payment":
        order = (await order_api.order_from_gig(buyer, await order_api.add_gig(seller)))["order"]
    else:
        order = await order_api.paid_order(buyer, seller)
    base = f"/api/v1/orders/{order['id']}"
    if state == "extension_requested":
        await order_api.call("POST", f"{base}/extension", seller, {"days": 1, "reason": "r"})
    if state == "delivered":
        await order_api.call("POST", f"{base}/delivery", seller, {"message": "m"})
    before = (await order_api.call("GET", base, buyer)).json()
    entry = next(op for op in operations(order["id"], seller) if op[0] == operation)
    _name, method, path, body, allowed = entry
    wrong = buyer if allowed == "seller" else seller
    response = await order_api.call(method, path, wrong, body)
    assert response.status_code in (403, 404), response.text
    after = (await order_api.call("GET", base, buyer)).json()
    assert after["version"] == before["version"]
    assert after["status"] == before["status"]


async def test_a_seller_cannot_deliver_someone_elses_file(order_api: OrderApi) -> None:
    buyer, seller = new_user(), new_user()
    order = await order_api.paid_order(buyer, seller)
    path = f"/api/v1/orders/{order['id']}/delivery"
    for key in (f"deliveries/{buyer}/x.png", f"gigs/{seller}/x.png", f"deliveries/{seller}/../x", "x"):
        response = await order_api.call("POST", path, seller, {"message": "m", "file_keys": [key]})
        assert response.status_code == 422, key


async def test_orders_from_offers_only_for_the_offers_buyer(order_api: OrderApi) -> None:
    buyer, seller, stranger = new_user(), new_user(), new_user()
    offer = {
        "id": str(uuid.uuid4()),
        "conversation_id": "c",
        "message_id": "m",
        "gig_id": await order_api.add_gig(seller),
        "seller_id": seller,
        "buyer_id": buyer,
        "description": "d",
        "price": 12_345,
        "currency": "usd",
        "delivery_days": 5,
        "expires_at": None,
        "status": "pending",
        "version": 1,
        "updated_at": None,
    }
    await order_api.feed("chat.offer.updated.v1", {"offer": offer, "participants": [buyer, seller]})
    body = {"offer_id": offer["id"]}
    assert (await order_api.call("POST", "/api/v1/orders", buyer, body)).status_code == 422  # still pending
    await order_api.feed("chat.offer.updated.v1", {"offer": {**offer, "status": "accepted", "version": 2}})
    # A stale event (older version) arriving later does not undo the acceptance.
    await order_api.feed("chat.offer.updated.v1", {"offer": offer, "participants": [buyer, seller]})
    assert (await order_api.call("POST", "/api/v1/orders", stranger, body)).status_code == 422
    assert (await order_api.call("POST", "/api/v1/orders", seller, body)).status_code == 422
    created = await order_api.call("POST", "/api/v1/orders", buyer, body)
    assert created.status_code == 201, created.text
    assert (created.json()["order"]["price"], created.json()["order"]["delivery_days"]) == (12_345, 5)
    assert created.json()["order"]["currency"] == "USD"
    assert (await order_api.call("POST", "/api/v1/orders", buyer, body)).status_code == 422  # once per offer


async def test_concurrent_orders_of_one_offer_make_one_order(order_api: OrderApi) -> None:
    import asyncio

    buyer, seller = new_user(), new_user()
    offer = {
        "id": str(uuid.uuid4()),
        "gig_id": await order_api.add_gig(seller),
        "seller_id": seller,
        "buyer_id": buyer,
        "price": 9_000,
        "currency": "USD",
        "delivery_days": 2,
        "status": "accepted",
        "version": 1,
    }
    await order_api.feed("chat.offer.updated.v1", {"offer": offer})
    body = {"offer_id": offer["id"]}
    results = await asyncio.gather(*(order_api.call("POST", "/api/v1/orders", buyer, body) for _ in range(5)))
    assert sorted(r.status_code for r in results) == [201, 422, 422, 422, 422], [r.text for r in results]
    assert await order_api.scalar("SELECT count(*) FROM orders WHERE offer_id = :o", o=offer["id"]) == 1


async def test_an_offer_orders_only_a_live_gig_of_the_offers_seller(order_api: OrderApi) -> None:
    """Chat accepts any gig id in an offer; ordering one on someone else's gig (or an unknown or deleted one)
    would put the order, its review and its rating on a gig its seller never sold."""
    buyer, seller, victim = new_user(), new_user(), new_user()
    victims_gig, own_gig = await order_api.add_gig(victim), await order_api.add_gig(seller)
    deleted = await order_api.add_gig(seller)
    gone = {"id": deleted, "seller_id": seller, "price": 10_000, "currency": "USD", "delivery_days": 3}
    await order_api.feed(
        "gig.gig.deleted.v1", {"gig": {**gone, "active": True, "deleted": True}, "version": 2}
    )
    outcomes: dict[str, int] = {}
    for name, gig_id in (
        ("victim's", victims_gig),
        ("unknown", str(uuid.uuid4())),
        ("deleted", deleted),
        ("own", own_gig),
    ):
        offer = {
            "id": str(uuid.uuid4()), "gig_id": gig_id, "seller_id": seller, "buyer_id": buyer, "price": 500,
            "currency": "USD", "delivery_days": 2, "status": "accepted", "version": 1,
        }  # fmt: skip
        await order_api.feed("chat.offer.updated.v1", {"offer": offer})
        response = await order_api.call("POST", "/api/v1/orders", buyer, {"offer_id": offer["id"]})
        outcomes[name] = response.status_code
    assert outcomes == {"victim's": 422, "unknown": 422, "deleted": 422, "own": 201}
