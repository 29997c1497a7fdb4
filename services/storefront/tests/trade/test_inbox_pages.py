"""Inbox pages: the conversation (escaped text, offer cards by role), sending messages and offers, responding
to offers, the live page's catch-up fragment, and what a stranger gets."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from conftest import TradeBrowser
from storefront_fakes import error_body, gig
from trade_samples import BUYER, SELLER, body_of, conversation, message, offer


def _messages(*items: dict[str, object]) -> dict[str, object]:
    return {"items": list(items), "next_cursor": None}


async def test_the_buyer_sees_the_conversation_with_escaped_text_and_offer_actions(
    trade: TradeBrowser,
) -> None:
    await trade.sign_in(BUYER, "bea")
    trade.gateway.on("chat.conversationWith", conversation(unread_count=1))
    # chat answers newest first; the page shows oldest first.
    trade.gateway.on(
        "chat.messages",
        _messages(
            message(2, SELLER, "", kind="offer", offer=offer()),
            message(1, BUYER, "<script>alert(1)</script>"),
        ),
    )
    trade.gateway.on("chat.markRead", {"marked": 1, "remaining": 0})
    trade.gateway.on("gigs.bySeller", {"items": []})

    page = await trade.client.get("/inbox/with/sam")

    assert page.status_code == 200
    assert 'data-testid="message-list"' in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text
    assert page.text.index('data-seq="1"') < page.text.index('data-seq="2"')
    card = page.text[page.text.index('data-testid="offer-card"') :]
    assert "Accept offer" in card
    assert "Decline offer" in card
    assert "Withdraw offer" not in card
    assert "$32.00" in card
    assert "vendor/socket.io.min.js" in page.text
    # Opening the page marks what it shows as read.
    assert body_of(trade.gateway.called("chat.markRead")[0]) == {"up_to_seq": 2}
    # Not a seller: no offer form.
    assert 'data-testid="offer-form"' not in page.text


async def test_the_seller_may_withdraw_and_send_offers(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on("chat.conversationWith", conversation(other_user={"id": BUYER, "username": "bea"}))
    trade.gateway.on("chat.messages", _messages(message(2, SELLER, "", kind="offer", offer=offer())))
    trade.gateway.on("gigs.bySeller", {"items": [gig("g1", seller_id=SELLER, title="Hand drawn logos")]})

    page = await trade.client.get("/inbox/with/bea")

    card = page.text[page.text.index('data-testid="offer-card"') :]
    assert "Withdraw offer" in card
    assert "Accept offer" not in card
    assert 'data-testid="offer-form"' in page.text
    assert 'for="f-offer_price"' in page.text


async def test_sending_an_offer_converts_the_terms(trade: TradeBrowser) -> None:
    await trade.sign_in(SELLER, "sam")
    trade.gateway.on("chat.send", lambda _: httpx.Response(201, json=message(3, SELLER, "", kind="offer")))
    form = {
        "username": "bea",
        "conversation_id": "conv-1",
        "offer_gig_id": "g1",
        "offer_description": "Two illustrations",
        "offer_price": "32",
        "offer_delivery_days": "3",
        "offer_expires_days": "2",
    }

    done = await trade.post("/inbox/offers", form)

    assert (done.status_code, done.headers["location"]) == (303, "/inbox/with/bea")
    sent = body_of(trade.gateway.called("chat.send")[0])
    assert sent["kind"] == "offer"
    assert sent["conversation_id"] == "conv-1"
    terms = sent["offer"]
    assert (terms["gig_id"], terms["price"], terms["delivery_days"]) == ("g1", 3200, 3)
    days_left = (datetime.fromisoformat(terms["expires_at"]) - datetime.now(UTC)).total_seconds() / 86400
    assert 1.99 < days_left <= 2


async def test_a_refused_message_is_shown_with_the_text_kept(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    trade.gateway.on(
        "chat.send", lambda _: httpx.Response(403, json=error_body(403, "That file is not yours"))
    )
    trade.gateway.on("chat.conversationWith", conversation())
    trade.gateway.on("chat.messages", _messages(message(1)))
    trade.gateway.on("gigs.bySeller", {"items": []})

    page = await trade.post(
        "/inbox/messages",
        {"username": "sam", "conversation_id": "conv-1", "text": "my draft", "file_key": "chat/u-x/f.pdf"},
    )

    assert page.status_code == 403
    assert "That file is not yours" in page.text
    assert ">my draft</textarea>" in page.text
    sent = body_of(trade.gateway.called("chat.send")[0])
    assert (sent["kind"], sent["file_key"]) == ("file", "chat/u-x/f.pdf")


async def test_the_first_message_goes_to_the_recipient(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    trade.gateway.on("chat.conversationWith", conversation(started=False))
    trade.gateway.on("gigs.bySeller", {"items": []})
    page = await trade.client.get("/inbox/with/sam")
    assert f'name="recipient_id" value="{SELLER}"' in page.text
    assert trade.gateway.called("chat.messages") == []
    trade.gateway.on("chat.send", lambda _: httpx.Response(201, json=message(1)))

    done = await trade.post("/inbox/messages", {"username": "sam", "recipient_id": SELLER, "text": "Hi!"})

    assert done.status_code == 303
    assert body_of(trade.gateway.called("chat.send")[0]) == {
        "kind": "text",
        "text": "Hi!",
        "recipient_id": SELLER,
    }


async def test_the_live_fragment_has_only_the_messages_after_the_cursor(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    trade.gateway.on("chat.conversationWith", conversation())
    trade.gateway.on("chat.messages", _messages(message(3, SELLER, "third"), message(4, SELLER, "fourth")))

    fragment = await trade.client.get("/inbox/with/sam/messages", params={"after": "2"})

    assert fragment.status_code == 200
    assert re.findall(r'data-seq="(\d+)"', fragment.text) == ["3", "4"]
    assert "<html" not in fragment.text
    assert trade.gateway.called("chat.messages")[0].url.params["after"] == "2"


async def test_offer_responses_that_lost_a_race_are_shown(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    trade.gateway.on(
        "chat.respondToOffer", lambda _: httpx.Response(409, json=error_body(409, "The offer was withdrawn"))
    )

    trade.gateway.on("chat.conversations", {"items": [], "next_cursor": None})

    done = await trade.post("/inbox/offers/offer-1", {"action": "accept", "username": "sam"})
    page = await trade.client.get("/inbox")  # the flash shows on the next page

    assert (done.status_code, done.headers["location"]) == (303, "/inbox/with/sam")
    assert body_of(trade.gateway.called("chat.respondToOffer")[0]) == {"action": "accept"}
    assert page.status_code == 200
    assert "The offer was withdrawn" in page.text


async def test_a_stranger_gets_not_found_pages(trade: TradeBrowser) -> None:
    await trade.sign_in("u-stranger", "sly")
    trade.gateway.on("chat.conversationWith", 404)
    trade.gateway.on("chat.markRead", 404)
    trade.gateway.on("chat.send", 404)

    pages = {
        "conversation": await trade.client.get("/inbox/with/nobody"),
        "fragment": await trade.client.get("/inbox/with/nobody/messages", params={"after": "0"}),
        "mark read": await trade.post("/inbox/c/conv-1/read", {"up_to_seq": "3"}),
        "post": await trade.post("/inbox/messages", {"conversation_id": "conv-1", "text": "hi"}),
    }

    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 404)
    assert all("Traceback" not in page.text for page in pages.values())


async def test_a_form_username_cannot_redirect_off_the_conversation_path(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    trade.gateway.on("chat.respondToOffer", offer("declined"))

    done = await trade.post("/inbox/offers/offer-1", {"action": "decline", "username": "../../evil?x=1\r\n"})

    assert done.status_code == 303
    assert done.headers["location"].startswith("/inbox/with/..%2F..%2Fevil%3Fx%3D1")


async def test_the_unread_emails_link_opens_the_conversation(trade: TradeBrowser) -> None:
    await trade.sign_in(BUYER, "bea")
    trade.gateway.on("chat.conversations", {"items": [conversation()], "next_cursor": None})

    found = await trade.client.get("/inbox", params={"conversation": "conv-1"})
    unknown = await trade.client.get("/inbox", params={"conversation": "conv-9"})

    assert (found.status_code, found.headers["location"]) == (303, "/inbox/with/sam")
    assert unknown.status_code == 200
    assert 'data-testid="conversation-list"' in unknown.text
