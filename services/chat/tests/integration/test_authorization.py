"""Participants only: a third user can neither read, post to, mark read nor answer an offer in a
conversation of two others; a participant in the wrong role is refused too. Every case is listed."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from chat_service.adapters.directory import MongoDirectory
from chat_service.entrypoints.cli import backfill_directory
from conftest import ChatApi, eventually, new_user, offer_body
from servicekit.events import EventBus, EventEnvelope

pytestmark = pytest.mark.integration


async def test_a_third_user_is_refused_everything(chat_api: ChatApi) -> None:
    seller, buyer, mallory = new_user(), new_user(), new_user()
    for user in (seller, buyer, mallory):
        await chat_api.register(user)
    message = await chat_api.sent(seller, recipient_id=buyer, kind="offer", offer=offer_body())
    conversation_id, offer_id = message["conversation_id"], message["offer"]["id"]
    as_mallory = chat_api.as_user(mallory)
    cases = {
        "read": await chat_api.client.get(
            f"/api/v1/chat/conversations/{conversation_id}/messages", auth=as_mallory
        ),
        "post": await chat_api.send(mallory, conversation_id=conversation_id, text="hi"),
        "mark read": await chat_api.client.post(
            f"/api/v1/chat/conversations/{conversation_id}/read", json={}, auth=as_mallory
        ),
        "accept": await chat_api.client.post(
            f"/api/v1/chat/offers/{offer_id}/response", json={"action": "accept"}, auth=as_mallory
        ),
        "withdraw": await chat_api.client.post(
            f"/api/v1/chat/offers/{offer_id}/response", json={"action": "withdraw"}, auth=as_mallory
        ),
        "seller accepts own offer": await chat_api.client.post(
            f"/api/v1/chat/offers/{offer_id}/response",
            json={"action": "accept"},
            auth=chat_api.as_user(seller),
        ),
        "buyer withdraws": await chat_api.client.post(
            f"/api/v1/chat/offers/{offer_id}/response",
            json={"action": "withdraw"},
            auth=chat_api.as_user(buyer),
        ),
        "anonymous": await chat_api.client.get("/api/v1/chat/conversations", auth=chat_api.as_user(None)),
        "no token": await chat_api.client.get("/api/v1/chat/conversations"),
        "foreign file key": await chat_api.send(
            buyer, conversation_id=conversation_id, kind="file", file_key=f"chat/{seller}/x.png"
        ),
    }
    statuses = {name: response.status_code for name, response in cases.items()}
    assert statuses == {
        "read": 404,
        "post": 404,
        "mark read": 404,
        "accept": 404,
        "withdraw": 404,
        "seller accepts own offer": 403,
        "buyer withdraws": 403,
        "anonymous": 401,
        "no token": 401,
        "foreign file key": 403,
    }
    listing = await chat_api.client.get("/api/v1/chat/conversations", auth=as_mallory)
    assert listing.json()["items"] == []
    still = await chat_api.client.get(
        f"/api/v1/chat/conversations/{conversation_id}/messages", auth=chat_api.as_user(buyer)
    )
    assert still.json()["items"][0]["offer"]["status"] == "pending"


async def test_bad_input_is_a_client_error(chat_api: ChatApi) -> None:
    alice, bob = new_user(), new_user()
    await chat_api.register(alice), await chat_api.register(bob)
    cases = [
        await chat_api.send(alice, recipient_id=alice, text="me"),
        await chat_api.send(alice, recipient_id=new_user(), text="nobody"),
        await chat_api.send(alice, text="no target"),
        await chat_api.send(alice, recipient_id=bob, text="   "),
        await chat_api.client.get(
            "/api/v1/chat/conversations", params={"cursor": "not-a-cursor"}, auth=chat_api.as_user(alice)
        ),
        await chat_api.client.get(
            "/api/v1/chat/conversations/with/nobody_here", auth=chat_api.as_user(alice)
        ),
    ]
    assert [r.status_code for r in cases] == [422, 404, 422, 422, 400, 404], [r.text for r in cases]


async def test_the_directory_replica_fills_from_account_events_and_from_a_backfill(
    chat_api: ChatApi, amqp_url: str
) -> None:
    user = new_user()
    bus = EventBus(amqp_url, service_name="tests-auth")
    await bus.connect()
    try:
        payload = {"user_id": user, "username": "Dora", "email": "dora@example.test", "country": "DE"}
        envelope = EventEnvelope.new(type="auth.account.created.v1", producer="auth", payload=payload)
        await bus.publish(envelope)
        await bus.publish(envelope)  # a redelivery changes nothing
    finally:
        await bus.close()
    directory = MongoDirectory(chat_api.deps.database)

    async def recorded() -> bool:
        return await directory.by_username("dora") is not None

    await eventually(recorded, what="the directory entry")
    other = new_user()
    lines = StringIO(
        "\n".join(
            [
                json.dumps(
                    {"user_id": other.replace("-", ""), "username": "eve", "email": "eve@example.test"}
                ),
                json.dumps({"user_id": user, "username": "Dora", "email": "dora@example.test"}),
                "not json",
            ]
        )
    )
    report = await backfill_directory(lines, directory)
    assert (report.added, report.refreshed, report.rejected_lines) == (1, 1, [3])
    entry = await directory.get(other)
    assert entry is not None
    assert entry.username == "eve"
