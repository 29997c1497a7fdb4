"""Realtime fault tests on real processes (chat + two gateway processes, realtime_support.py).

- Redis restarted: the gateway's own redis-server (durable, as every environment runs it: AOF/RDB) is
  stopped and started again on the same port while sockets are connected. The sockets stay up; a push that
  could not reach Redis is retried, not dropped; each replica whose subscription broke tells its sockets
  `realtime.resync`; a message sent after the restart reaches the recipient's socket; presence recovers
  without a false "offline".
- Chat's event path killed: chat SIGKILLed while messages are being sent (and the gateway process that
  consumes pushes SIGKILLed too), both restarted: every persisted message reaches its recipient's socket at
  least once, and deduplicated by message id the pushes are exactly the persisted set.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import Backend
from gigstack_testinfra.net import free_port
from gigstack_testinfra.servers.redis import RedisServer

# importlib import mode does not put this folder on sys.path; the realtime stack sits beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from realtime_support import Listener, Stack, auth, connected, realtime_stack

pytestmark = pytest.mark.integration

SEND = "/api/v1/gateway/chat/messages"
PRESENCE_TTL_SECONDS = 3.0  # realtime_support's gateways


@dataclass
class FaultStack:
    stack: Stack
    redis: RedisServer


@pytest.fixture(scope="module")
async def faults(
    gigstack_backend: Backend,
    internal_keypair: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[FaultStack]:
    """One stack for the module (process start-up is most of a test's time on a loaded machine): its own
    redis-server, so stopping it disturbs no other test, and its own vhost and Mongo database."""
    redis = RedisServer(tmp_path_factory.mktemp("redis"), free_port(), durable=True)
    await asyncio.to_thread(redis.start)
    broker, mongo = gigstack_backend.rabbitmq(), gigstack_backend.mongodb()
    name = isolation.unique_name("rtfaults")
    await asyncio.to_thread(isolation.create_vhost, broker.endpoint, name)
    try:
        async with realtime_stack(
            redis.endpoint.url(0),
            broker.endpoint.url(name),
            mongo.url(name),
            internal_keypair,
            # A claim left by the chat process killed mid-write blocks its conversation this long.
            chat_env={"MONGO_CLAIM_LEASE_SECONDS": "3"},
        ) as stack:
            yield FaultStack(stack, redis)
    finally:
        await asyncio.to_thread(redis.stop)
        await asyncio.to_thread(isolation.delete_vhost, broker.endpoint, name)
        await asyncio.to_thread(isolation.drop_mongo_database, mongo, name)


async def _send(http: httpx.AsyncClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(SEND, json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    sent: dict[str, Any] = response.json()
    return sent


async def _missed(http: httpx.AsyncClient, token: str, conversation: str, after: int) -> list[dict[str, Any]]:
    """What a client does on `realtime.resync` or a reconnect: fetch after its last seen number."""
    response = await http.get(
        f"/api/v1/gateway/chat/conversations/{conversation}/messages",
        params={"after": str(after)},
        headers=auth(token),
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _handed_back(stack: Stack) -> float:
    """`events_consumed_total{queue="gateway.realtime", outcome="handed_back"}` over both gateways."""
    total = 0.0
    async with httpx.AsyncClient() as client:
        for gateway in stack.gateways:
            text = (await client.get(f"{gateway.url}/metrics")).text
            for line in text.splitlines():
                if line.startswith("events_consumed_total{") and all(
                    label in line for label in ('outcome="handed_back"', 'queue="gateway.realtime"')
                ):
                    total += float(line.rsplit(" ", 1)[1])
    return total


def _offline_events(listener: Listener) -> list[dict[str, Any]]:
    return [data for data in listener.of("presence.changed") if not data["online"]]


async def test_redis_restarted_realtime_resumes(faults: FaultStack) -> None:
    stack, own_redis = faults.stack, faults.redis
    gw_a, gw_b = stack.gateways
    alice, alice_token, _ = await stack.user("alice_redis")
    bob, bob_token, _ = await stack.user("bob_redis")
    _carol, carol_token, _ = await stack.user("carol_redis")
    await stack.wait_known(alice_token, "bob_redis")
    async with (
        connected(gw_a.url, alice_token) as a,
        connected(gw_b.url, bob_token) as b,
        connected(gw_a.url, carol_token) as watcher,
        httpx.AsyncClient(base_url=gw_a.url) as http_a,
        stack.chat_client(alice) as chat_as_alice,
    ):
        assert await watcher.client.call("presence.watch", [alice, bob]) == {alice: True, bob: True}
        first = await _send(http_a, alice_token, {"recipient_id": bob, "text": "before"})
        conversation = first["conversation_id"]
        await b.wait_for("message.created", lambda d: d["id"] == first["id"])

        await asyncio.to_thread(own_redis.stop)
        # During the outage the gateway cannot check sessions, but chat still persists what is sent to
        # it; the push of that message cannot reach Redis and must not be acked away.
        during = await chat_as_alice.post(
            "/api/v1/chat/messages", json={"conversation_id": conversation, "text": "during"}
        )
        assert during.status_code == 201, during.text
        await asyncio.sleep(PRESENCE_TTL_SECONDS + 1)  # longer than the presence TTL
        await asyncio.to_thread(own_redis.start)
        restarted_at = time.monotonic()

        # Bob's replica re-subscribed and says so; bob fetches what he may have missed, as a client does.
        await b.wait_for("realtime.resync", within=10)
        fetched = await _missed(http_a, bob_token, conversation, first["seq"])
        after = await _send(http_a, alice_token, {"conversation_id": conversation, "text": "after"})
        _, received_at = await b.wait_for("message.created", lambda d: d["id"] == after["id"], within=5)
        # The push of the message persisted during the outage was given back to the broker, not acked
        # away. (Whether bob's socket gets it as a push depends on whether his replica had re-subscribed
        # when another replica published it; the resync fetch covers the other case: the union counts.)
        assert await _handed_back(stack) > 0
        seen = {m["id"] for m in b.of("message.created")} | {m["id"] for m in fetched}
        assert {first["id"], during.json()["id"], after["id"]} <= seen
        for listener in (a, b, watcher):
            assert listener.client.connected
        # Presence: still online for both, and no false "offline" although every heartbeat entry went
        # stale during the outage.
        await asyncio.sleep(PRESENCE_TTL_SECONDS)
        assert await watcher.client.call("presence.watch", [alice, bob]) == {alice: True, bob: True}
        assert _offline_events(watcher) == []
        print(f"[realtime] pushed {received_at - restarted_at:.2f}s after Redis started again")


SENDERS = 3
MESSAGES_PER_SENDER = 20
KILL_CHAT_AFTER = 12  # messages accepted, of SENDERS * MESSAGES_PER_SENDER
KILL_GATEWAY_AFTER = 36


async def _send_retrying(http: httpx.AsyncClient, token: str, body: dict[str, Any]) -> None:
    """As a client does: retry while chat (or its gateway route) is down. A retried send whose first
    attempt was persisted after all is a second message: both are persisted, both must be pushed."""
    deadline = time.monotonic() + 45
    while True:
        try:
            response = await http.post(SEND, json=body, headers=auth(token), timeout=10)
            if response.status_code == 201:
                return
            # 409 "busy, try again": a claim the killed chat process left on the conversation (its lease).
            assert response.status_code >= 500 or response.status_code == 409, response.text
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "chat never came back"
        await asyncio.sleep(0.2)


async def _persisted_ids(http: httpx.AsyncClient, token: str) -> set[str]:
    """Every message of every conversation of the reader, through the API (cursor pages)."""
    listed = await http.get("/api/v1/gateway/chat/conversations", headers=auth(token))
    assert listed.status_code == 200, listed.text
    ids: set[str] = set()
    for conversation in listed.json()["items"]:
        after = 0
        while True:
            page = await _missed(http, token, conversation["id"], after)
            if not page:
                break
            ids |= {message["id"] for message in page}
            after = max(message["seq"] for message in page)
    return ids


async def test_chat_and_push_consumer_killed_every_persisted_message_is_pushed(faults: FaultStack) -> None:
    stack = faults.stack
    gw_a, gw_b = stack.gateways
    bob, bob_token, _ = await stack.user("bob_kill9")
    senders = [await stack.user(f"sender{index}_kill9") for index in range(SENDERS)]
    for _, token, _ in senders:
        await stack.wait_known(token, "bob_kill9")
    accepted = 0
    restarts: list[asyncio.Task[None]] = []

    async def sender(token: str, index: int) -> None:
        nonlocal accepted
        for n in range(MESSAGES_PER_SENDER):
            await _send_retrying(http_b, token, {"recipient_id": bob, "text": f"s{index} m{n}"})
            accepted += 1
            if accepted == KILL_CHAT_AFTER:
                # Other senders' requests are in flight: the kill lands between a message's writes and
                # its outbox being relayed for some of them.
                stack.chat.kill()
                restarts.append(asyncio.create_task(stack.chat.respawn()))
            elif accepted == KILL_GATEWAY_AFTER:
                # The other replica consumes gateway.realtime too: whatever it held unacked comes back.
                gw_a.kill()
                restarts.append(asyncio.create_task(gw_a.respawn()))

    # Bob stays on gw_b, which is not killed: his socket must see every persisted message.
    async with connected(gw_b.url, bob_token) as b, httpx.AsyncClient(base_url=gw_b.url) as http_b:
        started = time.monotonic()
        await asyncio.gather(*(sender(token, i) for i, (_, token, _) in enumerate(senders)))
        await asyncio.gather(*restarts)
        assert len(restarts) == 2
        persisted = await _persisted_ids(http_b, bob_token)
        assert len(persisted) >= SENDERS * MESSAGES_PER_SENDER

        def pushed() -> list[str]:
            return [message["id"] for message in b.of("message.created")]

        for _ in range(150):  # up to 30 s for redeliveries
            if persisted <= set(pushed()):
                break
            await asyncio.sleep(0.2)
        assert persisted - set(pushed()) == set(), "persisted messages never pushed"
        assert set(pushed()) == persisted  # deduplicated by id: exactly the persisted set
        print(
            f"[realtime] {len(persisted)} persisted, {len(pushed())} pushes "
            f"({len(pushed()) - len(set(pushed()))} duplicates), all in {time.monotonic() - started:.1f}s"
        )
