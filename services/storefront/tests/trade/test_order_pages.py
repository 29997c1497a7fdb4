"""Order pages: placing an order and paying with the local provider, the buyer's and the seller's actions,
refusals shown on the page with the input kept, reviews, notifications, and what a stranger gets."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import TradeBrowser
from storefront_fakes import error_body, gig
from trade_samples import BUYER, SELLER, body_of, order

PAYMENT = {
    "provider": "local",
    "intent_id": "pi_1",
    "client_secret": "pi_1_secret",
    "amount": 3576,
    "currency": "USD",
}


def _order_answers(trade: TradeBrowser, current: dict[str, Any]) -> None:
    trade.gateway.on("orders.byId", current)
    trade.gateway.on("gigs.byId", gig("g1", seller_id=SELLER, title="Hand drawn logos"))


async def test_ordering_an_accepted_offer_then_paying_with_the_local_provider(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    created = order("awaiting_payment")
    trade.gateway.on(
        "orders.create", lambda _: httpx.Response(201, json={"order": created, "payment": PAYMENT})
    )
    _order_answers(trade, created)

    placed = await trade.post("/orders", {"offer_id": "offer-1"})
    assert (placed.status_code, placed.headers["location"]) == (303, "/orders/order-1/checkout")
    assert body_of(trade.gateway.called("orders.create")[0]) == {"offer_id": "offer-1"}
    # The client secret is kept server-side for the checkout page, never in a URL.
    kept = json.loads(await trade.app.state.deps.redis.get("sf:checkout:order-1"))
    assert kept == {"user_id": BUYER, "provider": "local", "client_secret": "pi_1_secret"}

    checkout = await trade.client.get("/orders/order-1/checkout")
    assert checkout.status_code == 200
    assert 'data-testid="local-payment-form"' in checkout.text
    assert "Pay $35.76 (test payment)" in checkout.text
    assert "js.stripe.com" not in checkout.text

    trade.gateway.on("payments.devConfirm", {"outcome": "succeeded", "order": order("in_progress")})
    paid = await trade.post("/orders/order-1/pay")
    assert (paid.status_code, paid.headers["location"]) == (303, "/orders/order-1")
    assert body_of(trade.gateway.called("payments.devConfirm")[0]) == {"order_id": "order-1"}
    assert await trade.app.state.deps.redis.get("sf:checkout:order-1") is None


async def test_an_order_that_cannot_be_placed_goes_back_with_the_reason(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on(
        "orders.create", lambda _: httpx.Response(422, json=error_body(422, "You cannot order your own gig"))
    )
    trade.gateway.on("gigs.byId", gig("g1"))

    placed = await trade.post("/orders", {"gig_id": "g1"})

    assert (placed.status_code, placed.headers["location"]) == (303, "/gigs/g1")
    session = await trade.app.state.deps.sessions.load(trade.client.cookies["sf_session"])
    assert session.flashes == [("error", "You cannot order your own gig")]


async def test_the_seller_of_an_order_in_progress_may_deliver_extend_and_cancel(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    _order_answers(trade, order("in_progress"))

    page = await trade.client.get("/orders/order-1")

    assert page.status_code == 200
    assert 'data-testid="order-status"' in page.text
    assert "In progress" in page.text
    for control in ("Deliver order", "Request extension", "Cancel order", 'data-upload-area="deliveries"'):
        assert control in page.text
    assert "Approve delivery" not in page.text
    assert "Your earnings" in page.text
    assert 'name="version" value="4"' in page.text


async def test_the_buyer_decides_an_extension_and_approves_a_delivery(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    extension = {
        "days": 2,
        "reason": "One more round",
        "status": "requested",
        "requested_at": "2026-01-04T00:00:00Z",
    }
    _order_answers(trade, order("in_progress", extension=extension))
    page = await trade.client.get("/orders/order-1")
    assert "Approve extension" in page.text
    assert "Deliver order" not in page.text
    trade.gateway.on("orders.decideExtension", order("in_progress", version=5))

    decided = await trade.post("/orders/order-1/extension/decision", {"decision": "approve", "version": "4"})

    assert decided.status_code == 303
    assert body_of(trade.gateway.called("orders.decideExtension")[0]) == {"approve": True, "version": 4}
    delivery = {"message": "Here you go", "file_keys": ["deliveries/u-seller/0f3a.pdf"], "delivered_at": "x"}
    await trade.app.state.deps.redis.set("sf:media-name:deliveries/u-seller/0f3a.pdf", "work.pdf")
    _order_answers(trade, order("delivered", delivery=delivery))
    trade.gateway.on("orders.approve", order("completed", version=6))
    page = await trade.client.get("/orders/order-1")
    assert "Approve delivery" in page.text
    assert "work.pdf" in page.text

    approved = await trade.post("/orders/order-1/approve", {"version": "5"})

    assert approved.status_code == 303
    assert body_of(trade.gateway.called("orders.approve")[0]) == {"version": 5}


async def test_delivering_sends_every_uploaded_key(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on("orders.deliver", order("delivered", version=5))
    form = {
        "version": "4",
        "message": "Done",
        "file_keys": ["deliveries/u-seller/a.pdf", "deliveries/u-seller/b.pdf"],
    }

    done = await trade.post("/orders/order-1/delivery", form)

    assert done.status_code == 303
    assert body_of(trade.gateway.called("orders.deliver")[0]) == {
        "message": "Done",
        "file_keys": ["deliveries/u-seller/a.pdf", "deliveries/u-seller/b.pdf"],
        "version": 4,
    }


async def test_a_refused_action_is_shown_on_the_order_with_the_input_kept(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    _order_answers(trade, order("in_progress", version=9))
    trade.gateway.on(
        "orders.requestExtension",
        lambda _: httpx.Response(409, json=error_body(409, "The order changed meanwhile.")),
    )

    page = await trade.post(
        "/orders/order-1/extension", {"days": "2", "reason": "Need a second round", "version": "4"}
    )

    assert page.status_code == 409
    assert "The order changed meanwhile. The order below is its current state." in page.text
    assert ">Need a second round</textarea>" in page.text
    assert 'name="version" value="9"' in page.text


async def test_an_extension_without_a_reason_never_reaches_the_gateway(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    _order_answers(trade, order("in_progress"))

    page = await trade.post("/orders/order-1/extension", {"days": "40", "reason": "", "version": "4"})

    assert page.status_code == 400
    assert "Enter a number from 1 to 30." in page.text
    assert "Tell the buyer why you need more time." in page.text
    assert trade.gateway.called("orders.requestExtension") == []


async def test_reviewing_a_completed_order(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    _order_answers(trade, order("completed"))
    page = await trade.client.get("/orders/order-1")
    assert 'data-testid="review-form"' in page.text
    assert 'name="rating" value="5"' in page.text
    trade.gateway.on("reviews.create", lambda _: httpx.Response(201, json={"id": "r1"}))

    done = await trade.post("/orders/order-1/review", {"rating": "5", "comment": "Lovely work"})

    assert done.status_code == 303
    assert body_of(trade.gateway.called("reviews.create")[0]) == {
        "order_id": "order-1",
        "rating": 5,
        "comment": "Lovely work",
    }
    _order_answers(trade, order("completed", buyer_review_id="r1"))
    again = await trade.client.get("/orders/order-1")
    assert 'data-testid="review-form"' not in again.text


async def test_notifications_are_listed_and_marked_read(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    note = {"id": "n1", "order_id": "order-1", "kind": "delivered", "text": "Your order was delivered",
            "created_at": "2026-01-05T00:00:00Z", "read_at": None}  # fmt: skip
    trade.gateway.on("orders.notifications", {"notifications": [note]})
    trade.gateway.on("orders.markNotificationRead", {**note, "read_at": "2026-01-05T00:01:00Z"})

    page = await trade.client.get("/notifications")
    done = await trade.post("/notifications/n1/read")

    assert page.status_code == 200
    assert "Your order was delivered" in page.text
    assert '<span data-testid="notification-count">1</span>' in page.text
    assert (done.status_code, done.headers["location"]) == (303, "/notifications")
    assert len(trade.gateway.called("orders.markNotificationRead")) == 1


async def test_someone_elses_order_is_a_not_found_page(trade: TradeBrowser) -> None:
    await trade.sign_in("u-stranger", "sly")
    trade.gateway.on("orders.byId", 404)
    trade.gateway.on("orders.approve", 404)
    trade.gateway.on("payments.devConfirm", 404)

    pages = {
        "order": await trade.client.get("/orders/order-1"),
        "panel": await trade.client.get("/orders/order-1/panel"),
        "checkout": await trade.client.get("/orders/order-1/checkout"),
        "approve": await trade.post("/orders/order-1/approve", {"version": "4"}),
        "pay": await trade.post("/orders/order-1/pay"),
    }

    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 404)
    assert all(page.headers["content-type"].startswith("text/html") for page in pages.values())


async def test_a_page_needs_a_signed_in_user(trade: TradeBrowser) -> None:
    for url in ("/orders", "/orders/order-1", "/notifications", "/inbox", "/selling"):
        page = await trade.client.get(url)
        assert page.status_code == 303, url
        assert page.headers["location"].startswith("/signin?next="), url


async def test_the_gig_pages_continue_confirms_before_placing_the_order(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    trade.gateway.on("gigs.byId", gig("g1", seller_id=SELLER, title="Hand drawn logos"))

    page = await trade.client.get("/checkout/g1")

    assert page.status_code == 200
    assert 'action="/orders"' in page.text
    assert 'name="gig_id" value="g1"' in page.text
    assert trade.gateway.called("orders.create") == []


async def test_the_order_emails_link_opens_the_order(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")

    page = await trade.client.get("/orders", params={"order_id": "order-1"})

    assert (page.status_code, page.headers["location"]) == (303, "/orders/order-1")


@pytest.mark.parametrize(
    "status", ["awaiting_payment", "in_progress", "delivered", "completed", "cancelled", "expired"]
)
@pytest.mark.parametrize("viewer", [BUYER, SELLER])
async def test_every_order_state_renders_for_both_parties(
    trade: TradeBrowser, status: str, viewer: str
) -> None:
    await trade.sign_in(viewer, "bea" if viewer == BUYER else "sam")
    _order_answers(trade, order(status, refunded_amount=3576 if status == "cancelled" else 0))

    page = await trade.client.get("/orders/order-1")
    panel = await trade.client.get("/orders/order-1/panel")

    assert (page.status_code, panel.status_code) == (200, 200)
    assert 'data-testid="order-status"' in panel.text
    assert "<html" not in panel.text
    assert ("Pay for this order" in page.text) == (status == "awaiting_payment" and viewer == BUYER)


async def test_the_lists_render_with_their_rows(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    trade.gateway.on("orders.asBuyer", {"orders": [order("in_progress")], "next_before": "cursor-2"})
    trade.gateway.on("orders.asSeller", {"orders": [], "next_before": None})
    trade.gateway.on("chat.conversations", {"items": [], "next_cursor": None})
    trade.gateway.on("orders.notifications", {"notifications": []})
    trade.gateway.on("sellers.byId", 404)

    buying = await trade.client.get("/orders")
    selling = await trade.client.get("/orders", params={"as": "seller"})
    inbox = await trade.client.get("/inbox")
    notes = await trade.client.get("/notifications")
    dashboard = await trade.client.get("/selling")

    assert 'data-order-id="order-1"' in buying.text
    assert "before=cursor-2" in buying.text
    assert 'data-testid="no-orders"' in selling.text
    assert 'data-testid="no-conversations"' in inbox.text
    assert notes.status_code == 200
    assert "Become a seller" in dashboard.text
