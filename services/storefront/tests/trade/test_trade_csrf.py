"""Every form of the trading pages is refused without this session's CSRF token (403 page, no gateway call),
and every page form carries the token."""

from __future__ import annotations

import pytest
from conftest import TradeBrowser
from storefront_fakes import gig
from trade_samples import BUYER, SELLER, conversation, message, offer, order, seller_profile

POSTS = [
    "/selling/become",
    "/selling/profile",
    "/selling/gigs/new",
    "/selling/gigs/g1/edit",
    "/selling/gigs/g1/active",
    "/media/uploads",
    "/inbox/messages",
    "/inbox/offers",
    "/inbox/offers/offer-1",
    "/inbox/c/conv-1/read",
    "/orders",
    "/orders/order-1/pay",
    "/orders/order-1/extension",
    "/orders/order-1/extension/decision",
    "/orders/order-1/delivery",
    "/orders/order-1/approve",
    "/orders/order-1/cancel",
    "/orders/order-1/review",
    "/notifications/n1/read",
]


@pytest.mark.parametrize("tampered", ["missing", "wrong"])
async def test_every_trading_form_is_refused_without_the_sessions_token(
    trade: TradeBrowser, tampered: str
) -> None:
    await trade.sign_in(BUYER, "bea")
    token = {} if tampered == "missing" else {"csrf_token": "x" * 43}
    statuses = {}
    for url in POSTS:
        answer = await trade.client.post(url, data={**token, "text": "hi", "offer_id": "o1"})
        statuses[url] = answer.status_code
    assert statuses == dict.fromkeys(POSTS, 403)
    assert trade.gateway.calls == []


async def test_every_form_on_the_trading_pages_carries_the_token(trade: TradeBrowser) -> None:
    session = await trade.sign_in(SELLER, "sam")
    trade.gateway.on("sellers.byId", seller_profile())
    trade.gateway.on("gigs.bySeller", {"items": [gig("g1", seller_id=SELLER)]})
    trade.gateway.on("gigs.pausedBySeller", {"items": []})
    trade.gateway.on("gigs.byId", gig("g1", seller_id=SELLER))
    trade.gateway.on("chat.conversationWith", conversation(other_user={"id": BUYER, "username": "bea"}))
    trade.gateway.on(
        "chat.messages", {"items": [message(1, SELLER, "", kind="offer", offer=offer())], "next_cursor": None}
    )
    trade.gateway.on("orders.byId", order("in_progress"))
    pages = [
        "/selling",
        "/selling/profile",
        "/selling/gigs/new",
        "/selling/gigs/g1/edit",
        "/inbox/with/bea",
        "/orders/order-1",
    ]
    for url in pages:
        page = await trade.client.get(url)
        assert page.status_code == 200, url
        forms = page.text.count('method="post"')
        tokens = page.text.count(f'name="csrf_token" value="{session.csrf_token}"')
        assert forms > 0, url
        assert tokens >= forms, f"{url}: {forms} forms, {tokens} tokens"
