"""Conversations, messages, offers and receipts on real FerretDB and RabbitMQ, through the HTTP API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import ChatApi, EventTap, new_user, offer_body

pytestmark = pytest.mark.integration


async def test_first_message_creates_one_conversation_and_both_sides_page_it(chat_api: ChatApi) -> None:
    alice, bob = new_user(), new_user()
    await chat_api.register(alice), await chat_api.register(bob, "bob_the_buyer")
    first = await chat_api.sent(alice, recipient_id=bob, text="<b>hi</b> & welcome")
    assert first["text"] == "<b>hi</b> & welcome"
    assert first["seq"] == 1
    for n in range(2, 6):
        await chat_api.sent(bob if n % 2 else alice, conversation_id=first["conversation_id"], text=f"m{n}")

    listing = await chat_api.client.get("/api/v1/chat/conversations", auth=chat_api.as_user(bob))
    assert listing.status_code == 200
    [conversation] = listing.json()["items"]
    assert conversation["id"] == first["conversation_id"]
    assert conversation["last_seq"] == 5
    assert conversation["unread_count"] == 3  # alice sent seq 1, 2 and 4
    newest = await chat_api.client.get(
        f"/api/v1/chat/conversations/{first['conversation_id']}/messages",
        params={"limit": 2},
        auth=chat_api.as_user(alice),
    )
    page = newest.json()
    assert [m["seq"] for m in page["items"]] == [5, 4]
    assert page["next_cursor"] == "4"
    older = await chat_api.client.get(
        f"/api/v1/chat/conversations/{first['conversation_id']}/messages",
        params={"before": page["next_cursor"], "limit": 10},
        auth=chat_api.as_user(alice),
    )
    assert [m["seq"] for m in older.json()["items"]] == [3, 2, 1]
    catch_up = await chat_api.client.get(
        f"/api/v1/chat/conversations/{first['conversation_id']}/messages",
        params={"after": "2"},
        auth=chat_api.as_user(bob),
    )
    assert [m["seq"] for m in catch_up.json()["items"]] == [3, 4, 5]

    with_bob = await chat_api.client.get(
        "/api/v1/chat/conversations/with/BOB_the_buyer", auth=chat_api.as_user(alice)
    )
    assert with_bob.status_code == 200
    assert with_bob.json()["id"] == first["conversation_id"]
    assert with_bob.json()["started"] is True


async def test_read_receipts_and_unread_counts(chat_api: ChatApi, event_tap: EventTap) -> None:
    alice, bob = new_user(), new_user()
    await chat_api.register(alice), await chat_api.register(bob)
    first = await chat_api.sent(alice, recipient_id=bob, text="one")
    conversation_id = first["conversation_id"]
    await chat_api.sent(alice, conversation_id=conversation_id, text="two")
    await chat_api.sent(alice, conversation_id=conversation_id, text="three")

    partial = await chat_api.client.post(
        f"/api/v1/chat/conversations/{conversation_id}/read",
        json={"up_to_seq": 2},
        auth=chat_api.as_user(bob),
    )
    assert partial.json() == {"marked": 2, "remaining": 1}
    by_sender = await chat_api.client.post(
        f"/api/v1/chat/conversations/{conversation_id}/read", json={}, auth=chat_api.as_user(alice)
    )
    assert by_sender.json() == {"marked": 0, "remaining": 0}  # the sender has nothing unread
    everything = await chat_api.client.post("/api/v1/chat/read", auth=chat_api.as_user(bob))
    assert everything.json() == {"marked": 1, "remaining": 0}
    again = await chat_api.client.post("/api/v1/chat/read", auth=chat_api.as_user(bob))
    assert again.json() == {"marked": 0, "remaining": 0}

    updates = await event_tap.wait_for(
        lambda t, p: t == "chat.message.updated.v1" and p["message"]["read_at"] is not None
    )
    await asyncio.sleep(1.0)  # any duplicate announcement would arrive by now
    updates = [p for t, p in event_tap.received if t == "chat.message.updated.v1"]
    assert sorted(p["message"]["seq"] for p in updates) == [1, 2, 3]
    created = [p for t, p in event_tap.received if t == "chat.message.created.v1"]
    assert all(sorted(p["participants"]) == sorted([alice, bob]) for p in created)


async def test_concurrent_first_messages_make_one_conversation_with_dense_numbers(chat_api: ChatApi) -> None:
    alice, bob = new_user(), new_user()
    await chat_api.register(alice), await chat_api.register(bob)
    results = await asyncio.gather(
        *(
            chat_api.send(alice if i % 2 else bob, recipient_id=bob if i % 2 else alice, text=f"m{i}")
            for i in range(8)
        )
    )
    assert [r.status_code for r in results] == [201] * 8, [r.text for r in results]
    assert len({r.json()["conversation_id"] for r in results}) == 1
    assert sorted(r.json()["seq"] for r in results) == list(range(1, 9))
    assert await chat_api.deps.database["conversations"].count_documents({}) == 1


async def test_an_offer_is_accepted_exactly_once_under_concurrency(
    chat_api: ChatApi, event_tap: EventTap
) -> None:
    seller, buyer = new_user(), new_user()
    await chat_api.register(seller, "sally_seller"), await chat_api.register(buyer, "bert_buyer")
    message = await chat_api.sent(seller, recipient_id=buyer, kind="offer", offer=offer_body())
    offer: dict[str, Any] = message["offer"]
    assert (offer["status"], offer["seller_id"], offer["buyer_id"]) == ("pending", seller, buyer)

    url = f"/api/v1/chat/offers/{offer['id']}/response"
    accepts = await asyncio.gather(
        *(
            chat_api.client.post(url, json={"action": "accept"}, auth=chat_api.as_user(buyer))
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in accepts) == [200, 409, 409, 409, 409], [r.text for r in accepts]
    second = await chat_api.client.post(url, json={"action": "accept"}, auth=chat_api.as_user(buyer))
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "offer_not_pending"
    withdraw = await chat_api.client.post(url, json={"action": "withdraw"}, auth=chat_api.as_user(seller))
    assert withdraw.status_code == 409

    accepted = await event_tap.wait_for(
        lambda t, p: t == "chat.offer.updated.v1" and p["offer"]["status"] == "accepted"
    )
    assert accepted[0][1]["offer"]["price"] == 12_500
    assert accepted[0][1]["offer"]["version"] == 2
    emails = await event_tap.wait_for(lambda t, p: t == "chat.email.offer_received.v1")
    assert emails[0][1]["to"] == "bert_buyer@example.test"
    assert emails[0][1]["seller_username"] == "sally_seller"
    await asyncio.sleep(1.0)
    assert len([1 for t, p in event_tap.received if t == "chat.offer.updated.v1"]) == 1


async def test_seller_withdraws_and_an_expired_offer_cannot_be_accepted(chat_api: ChatApi) -> None:
    seller, buyer = new_user(), new_user()
    await chat_api.register(seller), await chat_api.register(buyer)
    first = await chat_api.sent(seller, recipient_id=buyer, kind="offer", offer=offer_body())
    response = await chat_api.client.post(
        f"/api/v1/chat/offers/{first['offer']['id']}/response",
        json={"action": "withdraw"},
        auth=chat_api.as_user(seller),
    )
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"

    short = await chat_api.sent(
        seller, recipient_id=buyer, kind="offer", offer=offer_body(expires_at=_in_seconds(1))
    )
    await asyncio.sleep(1.2)
    late = await chat_api.client.post(
        f"/api/v1/chat/offers/{short['offer']['id']}/response",
        json={"action": "accept"},
        auth=chat_api.as_user(buyer),
    )
    assert late.status_code == 409
    page = await chat_api.client.get(
        f"/api/v1/chat/conversations/{short['conversation_id']}/messages", auth=chat_api.as_user(buyer)
    )
    assert page.json()["items"][0]["offer"]["status"] == "expired"


async def test_unread_email_is_sent_once_per_conversation_per_period(
    chat_api: ChatApi, event_tap: EventTap
) -> None:
    alice, bob = new_user(), new_user()
    await chat_api.register(alice, "alice_a"), await chat_api.register(bob, "bob_b")
    first = await chat_api.sent(alice, recipient_id=bob, text="are you there?")
    await chat_api.sent(alice, conversation_id=first["conversation_id"], text="hello?")
    emails = await event_tap.wait_for(lambda t, p: t == "chat.email.unread_messages.v1", within=20)
    assert emails[0][1]["to"] == "bob_b@example.test"
    assert emails[0][1]["sender_username"] == "alice_a"
    assert emails[0][1]["unread_count"] == 2
    await chat_api.sent(alice, conversation_id=first["conversation_id"], text="third")
    await asyncio.sleep(3.0)  # several sweeps later, inside the period: still one email
    assert len([1 for t, _ in event_tap.received if t == "chat.email.unread_messages.v1"]) == 1


def _in_seconds(seconds: float) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


@pytest.mark.parametrize("not_an_integer", [True, "2", 2.5])
async def test_marking_read_takes_only_a_json_integer(chat_api: ChatApi, not_an_integer: object) -> None:
    """The schema says `up_to_seq` is an integer; lax parsing took `true` for 1 and marked a message read
    (make fuzz-deep FUZZ_SEED=4: "schema-violating request accepted")."""
    alice, bob = new_user(), new_user()
    await chat_api.register(alice), await chat_api.register(bob)
    first = await chat_api.sent(alice, recipient_id=bob, text="one")
    conversation_id = first["conversation_id"]
    refused = await chat_api.client.post(
        f"/api/v1/chat/conversations/{conversation_id}/read",
        json={"up_to_seq": not_an_integer},
        auth=chat_api.as_user(bob),
    )
    assert refused.status_code == 422, refused.text
    whole = await chat_api.client.post(
        f"/api/v1/chat/conversations/{conversation_id}/read",
        json={"up_to_seq": 1.0},
        auth=chat_api.as_user(bob),
    )
    assert whole.json() == {"marked": 1, "remaining": 0}  # 1.0 is a JSON Schema integer


async def test_a_full_last_page_has_no_cursor(chat_api: ChatApi) -> None:
    """A page of exactly `limit` items with nothing behind it handed out a `next_cursor` that led only to an
    empty page (chat.messages and chat.conversations); now a cursor comes only when more exists."""
    alice, bob, carol = new_user(), new_user(), new_user()
    await chat_api.register(alice), await chat_api.register(bob), await chat_api.register(carol)
    first = await chat_api.sent(alice, recipient_id=bob, text="m1")
    conversation_id = first["conversation_id"]
    for n in range(2, 5):
        await chat_api.sent(alice, conversation_id=conversation_id, text=f"m{n}")
    await chat_api.sent(carol, recipient_id=alice, text="hello")

    async def page(path: str, **params: Any) -> Any:
        answer = await chat_api.client.get(path, params=params, auth=chat_api.as_user(alice))
        assert answer.status_code == 200, answer.text
        return answer.json()

    messages = f"/api/v1/chat/conversations/{conversation_id}/messages"
    whole = await page(messages, limit=4)
    assert ([m["seq"] for m in whole["items"]], whole["next_cursor"]) == ([4, 3, 2, 1], None)
    newest = await page(messages, limit=2)
    assert ([m["seq"] for m in newest["items"]], newest["next_cursor"]) == ([4, 3], "3")
    oldest = await page(messages, limit=2, before=newest["next_cursor"])
    assert ([m["seq"] for m in oldest["items"]], oldest["next_cursor"]) == ([2, 1], None)
    caught_up = await page(messages, limit=2, after="2")
    assert ([m["seq"] for m in caught_up["items"]], caught_up["next_cursor"]) == ([3, 4], None)

    conversations = "/api/v1/chat/conversations"
    both = await page(conversations, limit=2)
    assert (len(both["items"]), both["next_cursor"]) == (2, None)
    one = await page(conversations, limit=1)
    assert one["next_cursor"] is not None
    other = await page(conversations, limit=1, cursor=one["next_cursor"])
    assert (len(other["items"]), other["next_cursor"]) == (1, None)
