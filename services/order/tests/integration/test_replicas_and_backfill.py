"""Replicas applied once and by version, review fields, the directory backfill, and devConfirm's absence
outside development/test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import WEBHOOK_SECRET, OrderApi, running_order_api
from order_service.entrypoints.cli import backfill_directory
from order_service.settings import OrderSettings
from sqlalchemy import text


def new_user() -> str:
    return str(uuid.uuid4())


async def test_gig_price_follows_the_newest_version_only(order_api: OrderApi) -> None:
    seller, buyer = new_user(), new_user()
    gig_id = await order_api.add_gig(seller, price=5_000, version=2)
    stale = {"id": gig_id, "seller_id": seller, "price": 1, "currency": "USD", "delivery_days": 1}
    await order_api.feed("gig.gig.updated.v1", {"gig": stale, "version": 1})
    order = await order_api.order_from_gig(buyer, gig_id)
    assert order["order"]["price"] == 5_000
    paused = {**stale, "price": 6_000, "active": False}
    await order_api.feed("gig.gig.updated.v1", {"gig": paused, "version": 3})
    refused = await order_api.call("POST", "/api/v1/orders", buyer, {"gig_id": gig_id})
    assert refused.status_code == 422
    assert (await order_api.call("POST", "/api/v1/orders", seller, {"gig_id": gig_id})).status_code == 422


async def test_review_events_fill_the_orders_review_fields(order_api: OrderApi) -> None:
    buyer, seller = new_user(), new_user()
    order = await order_api.paid_order(buyer, seller)
    review_id = str(uuid.uuid4())
    await order_api.feed(
        "review.review.created.v1",
        {"review_id": review_id, "order_id": order["id"], "reviewer_role": "buyer", "rating": 5},
    )
    fetched = (await order_api.call("GET", f"/api/v1/orders/{order['id']}", seller)).json()
    assert (fetched["buyer_review_id"], fetched["seller_review_id"]) == (review_id, None)


async def test_directory_backfill_is_idempotent(order_api: OrderApi, order_settings: OrderSettings) -> None:
    user = new_user()
    lines = [
        f'{{"user_id": "{user}", "username": "ann", "email": "ann@example.com"}}',
        "not json",
        '{"user_id": "x"}',
        "",
    ]
    url = order_settings.database_url.get_secret_value()
    assert await backfill_directory(lines, url) == {"created": 1, "already_present": 0, "rejected": 2}
    assert await backfill_directory(lines, url) == {"created": 0, "already_present": 1, "rejected": 2}
    assert (
        await order_api.scalar("SELECT email FROM directory WHERE user_id = :u", u=user) == "ann@example.com"
    )


async def test_dev_confirm_does_not_exist_with_stripe(
    order_settings: OrderSettings, internal_keypair: tuple[str, str], stripe_mock_url: str
) -> None:
    settings = OrderSettings(
        **{
            **order_settings.model_dump(),
            "environment": "staging",
            "payment_provider": "stripe",
            "stripe_secret_key": "sk_test_123",
            "stripe_api_base": stripe_mock_url,
            "payment_webhook_secret": WEBHOOK_SECRET,
        }
    )
    async with running_order_api(settings, internal_keypair) as api:
        buyer, seller = new_user(), new_user()
        created = await api.order_from_gig(buyer, await api.add_gig(seller))
        assert created["payment"]["provider"] == "stripe"
        assert created["payment"]["intent_id"].startswith("pi_")
        response = await api.call(
            "POST", "/api/v1/payments/dev-confirm", buyer, {"order_id": created["order"]["id"]}
        )
        assert response.status_code == 404


async def test_order_lists_page_and_refuse_bad_cursors(order_api: OrderApi) -> None:
    buyer, seller = new_user(), new_user()
    gig_id = await order_api.add_gig(seller)
    ids = [(await order_api.order_from_gig(buyer, gig_id))["order"]["id"] for _ in range(3)]
    first = (await order_api.call("GET", "/api/v1/orders/as-buyer?limit=2", buyer)).json()
    assert len(first["orders"]) == 2
    assert first["next_before"]
    second = await order_api.client.get(
        "/api/v1/orders/as-buyer",
        params={"limit": 2, "before": first["next_before"]},
        auth=order_api.as_user(buyer),
    )
    listed = [o["id"] for o in first["orders"]] + [o["id"] for o in second.json()["orders"]]
    assert sorted(listed) == sorted(ids)
    assert len((await order_api.call("GET", "/api/v1/orders/as-seller", seller)).json()["orders"]) == 3
    for bad in ("2026-13-45T99:99+00:00", "2026-12-05T10:00:00", "x"):
        response = await order_api.client.get(
            "/api/v1/orders/as-buyer", params={"before": bad}, auth=order_api.as_user(buyer)
        )
        assert response.status_code == 422, bad


async def _every_page(order_api: OrderApi, path: str, user: str, items: str) -> list[str]:
    """Follow `next_before` from the first page to the last, two rows a page."""
    listed: list[str] = []
    before: str | None = None
    for _ in range(10):
        params = {"limit": 2} | ({"before": before} if before else {})
        page = await order_api.client.get(path, params=params, auth=order_api.as_user(user))
        assert page.status_code == 200, page.text
        listed += [item["id"] for item in page.json()[items]]
        before = page.json()["next_before"]
        if before is None:
            return listed
    raise AssertionError(f"{path}: more pages than rows")


async def test_order_and_notification_pages_neither_skip_nor_repeat_rows_of_one_instant(
    order_api: OrderApi,
) -> None:
    """Rows created in the same microsecond straddle a page boundary: a timestamp-only cursor skipped the
    rest of them; orders.notifications had no cursor at all (only its first 100 were ever reachable)."""
    buyer = new_user()
    orders = [await order_api.paid_order(buyer, new_user()) for _ in range(5)]
    instant = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    async with order_api.engine.begin() as connection:
        for statement in (
            "UPDATE orders SET created_at = :at WHERE buyer_id = :user",
            "UPDATE notifications SET created_at = :at WHERE user_id = :user",
        ):
            await connection.execute(text(statement), {"user": buyer, "at": instant})
    listed_orders = await _every_page(order_api, "/api/v1/orders/as-buyer", buyer, "orders")
    assert sorted(listed_orders) == sorted(order["id"] for order in orders)
    notification_ids = await _every_page(order_api, "/api/v1/orders/notifications", buyer, "notifications")
    stored = await order_api.scalar("SELECT count(*) FROM notifications WHERE user_id = :u", u=buyer)
    assert stored >= 5
    assert len(notification_ids) == len(set(notification_ids)) == stored


async def _page_at(order_api: OrderApi, path: str, user: str, limit: int, before: str | None = None) -> Any:
    params: dict[str, Any] = {"limit": limit} | ({"before": before} if before else {})
    page = await order_api.client.get(path, params=params, auth=order_api.as_user(user))
    assert page.status_code == 200, page.text
    return page.json()


@pytest.mark.parametrize(
    ("path", "items", "side"),
    [
        ("/api/v1/orders/as-buyer", "orders", "buyer"),
        ("/api/v1/orders/as-seller", "orders", "seller"),
        ("/api/v1/orders/notifications", "notifications", "buyer"),
    ],
)
async def test_a_full_last_page_has_no_next_before(
    order_api: OrderApi, path: str, items: str, side: str
) -> None:
    """A page of exactly `limit` rows with nothing behind it handed out a `next_before` that led only to an
    empty page; now a position comes only when another row exists."""
    buyer, seller = new_user(), new_user()
    await order_api.paid_order(buyer, seller)
    await order_api.paid_order(buyer, seller)
    user = buyer if side == "buyer" else seller
    rows = len((await _page_at(order_api, path, user, 100))[items])
    assert rows >= 2

    whole = await _page_at(order_api, path, user, rows)
    assert (len(whole[items]), whole["next_before"]) == (rows, None)
    first = await _page_at(order_api, path, user, rows - 1)
    assert len(first[items]) == rows - 1
    assert first["next_before"] is not None
    last = await _page_at(order_api, path, user, rows - 1, first["next_before"])
    assert (len(last[items]), last["next_before"]) == (1, None)
