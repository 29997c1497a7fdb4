"""Realtime end to end with real processes: two gateway processes (no sticky routing: each client is pinned
to one process by its URL, as a non-sticky balancer would do per WebSocket), the chat service process, real
Redis, RabbitMQ and FerretDB, and real python-socketio AsyncClients.

A and B are on different gateway processes, C is connected too: A's message to B over HTTP reaches B's
socket as `message.created` within a second and never reaches C; an offer reaches the buyer; an accept
reaches both as `offer.updated`; a second accept is 409. A third user is refused everything; a handshake
without a valid token is refused; a revoked session's socket is dropped; a SIGKILLed gateway's users
reconnect to the other process and fetch what they missed from their last seen message number.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import socketio

# importlib import mode does not put this folder on sys.path; the realtime stack sits beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from realtime_support import Stack, auth, connected, realtime_stack

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(
    redis_url: str, amqp_url: str, mongodb_url: str, internal_keypair: tuple[str, str]
) -> AsyncIterator[Stack]:
    async with realtime_stack(redis_url, amqp_url, mongodb_url, internal_keypair) as running:
        yield running


def _expires() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).isoformat()


async def test_pushes_reach_only_the_users_concerned_across_gateway_processes(stack: Stack) -> None:
    gw_a, gw_b = stack.gateways
    _alice, alice_token, _ = await stack.user("alice_rt")
    bob, bob_token, _ = await stack.user("bob_rt")
    _carol, carol_token, _ = await stack.user("carol_rt")
    await stack.wait_known(alice_token, "bob_rt")
    await stack.wait_known(alice_token, "carol_rt")
    await stack.wait_known(bob_token, "alice_rt")

    async with (
        connected(gw_a.url, alice_token) as a,
        connected(gw_b.url, bob_token) as b,
        connected(gw_a.url, carol_token) as c,
        httpx.AsyncClient(base_url=gw_a.url) as http_a,
        httpx.AsyncClient(base_url=gw_b.url) as http_b,
    ):
        sent_at = time.monotonic()
        response = await http_a.post(
            "/api/v1/gateway/chat/messages",
            json={"recipient_id": bob, "text": "hello B"},
            headers=auth(alice_token),
        )
        assert response.status_code == 201, response.text
        message = response.json()
        pushed, received_at = await b.wait_for("message.created", lambda d: d["id"] == message["id"])
        assert pushed["text"] == "hello B"
        assert received_at - sent_at < 1.0, f"delivered after {received_at - sent_at:.3f}s"
        await a.wait_for("message.created", lambda d: d["id"] == message["id"])

        # The seller (bob) sends an offer; the buyer (alice) gets it; she accepts; both see the update.
        offer_response = await http_b.post(
            "/api/v1/gateway/chat/messages",
            json={
                "conversation_id": message["conversation_id"],
                "kind": "offer",
                "offer": {
                    "gig_id": "gig-1",
                    "description": "Logo",
                    "price": 9900,
                    "delivery_days": 3,
                    "expires_at": _expires(),
                },
            },
            headers=auth(bob_token),
        )
        assert offer_response.status_code == 201, offer_response.text
        offer = offer_response.json()["offer"]
        await a.wait_for("message.created", lambda d: (d.get("offer") or {}).get("id") == offer["id"])
        url = f"/api/v1/gateway/chat/offers/{offer['id']}/response"
        accepted = await http_a.post(url, json={"action": "accept"}, headers=auth(alice_token))
        assert accepted.status_code == 200, accepted.text
        for side in (a, b):
            update, _ = await side.wait_for("offer.updated", lambda d: d["id"] == offer["id"])
            assert update["status"] == "accepted"
        again = await http_a.post(url, json={"action": "accept"}, headers=auth(alice_token))
        assert again.status_code == 409

        # Authorization matrix through the gateway: carol is refused everything.
        conversation = message["conversation_id"]
        refusals = {
            "read": await http_a.get(
                f"/api/v1/gateway/chat/conversations/{conversation}/messages", headers=auth(carol_token)
            ),
            "post": await http_a.post(
                "/api/v1/gateway/chat/messages",
                json={"conversation_id": conversation, "text": "hi"},
                headers=auth(carol_token),
            ),
            "mark read": await http_a.post(
                f"/api/v1/gateway/chat/conversations/{conversation}/read", json={}, headers=auth(carol_token)
            ),
            "accept": await http_a.post(url, json={"action": "accept"}, headers=auth(carol_token)),
            "no session": await http_a.get("/api/v1/gateway/chat/conversations"),
        }
        assert {k: r.status_code for k, r in refusals.items()} == {
            "read": 404,
            "post": 404,
            "mark read": 404,
            "accept": 404,
            "no session": 401,
        }
        # presence.watch takes user ids only: anything else is answered with the reason, and joins nothing.
        for bad in (["carol_rt"], [bob, "not-an-id"], "nope", [bob] * 201):
            refused = await c.client.call("presence.watch", bad, timeout=5)
            assert refused["error"]["code"] == "invalid_watch_request", refused
            assert refused["error"]["status"] == 422
        assert await c.client.call("presence.watch", [bob, bob], timeout=5) == {bob: True}
        await asyncio.sleep(0.5)
        assert c.events == [] or all(e == "presence.changed" for e, _, _ in c.events), c.events


@pytest.mark.parametrize("token", [None, "not-a-jwt", "revoked"])
async def test_a_handshake_without_a_valid_token_is_refused(stack: Stack, token: str | None) -> None:
    if token == "revoked":
        _, token, session_id = await stack.user("revoked_rt")
        await stack.sessions.end(session_id)
    with pytest.raises(socketio.exceptions.ConnectionError):
        async with connected(stack.gateways[0].url, token):
            pass


async def test_a_revoked_sessions_socket_is_disconnected(stack: Stack) -> None:
    _, token, session_id = await stack.user("dora_rt")
    async with connected(stack.gateways[1].url, token) as listener:
        assert listener.client.connected
        await stack.sessions.end(session_id)
        for _ in range(50):
            if not listener.client.connected:
                break
            await asyncio.sleep(0.1)
        assert not listener.client.connected


async def test_a_killed_gateways_users_reconnect_and_miss_nothing(stack: Stack) -> None:
    gw_a, gw_b = stack.gateways
    _alice, alice_token, _ = await stack.user("alice_kill")
    bob, bob_token, _ = await stack.user("bob_kill")
    await stack.wait_known(alice_token, "bob_kill")
    async with httpx.AsyncClient(base_url=gw_a.url) as http_a:
        async with connected(gw_b.url, bob_token) as b, connected(gw_a.url, alice_token) as watcher:
            first = await http_a.post(
                "/api/v1/gateway/chat/messages",
                json={"recipient_id": bob, "text": "m1"},
                headers=auth(alice_token),
            )
            conversation = first.json()["conversation_id"]
            await b.wait_for("message.created", lambda d: d["text"] == "m1")
            last_seen = max(d["seq"] for d in b.of("message.created"))
            await watcher.client.call("presence.watch", [bob])
            gw_b.popen.send_signal(signal.SIGKILL)  # bob's gateway dies without a goodbye
            gw_b.popen.wait(timeout=10)
            for n in (2, 3):
                sent = await http_a.post(
                    "/api/v1/gateway/chat/messages",
                    json={"conversation_id": conversation, "text": f"m{n}"},
                    headers=auth(alice_token),
                )
                assert sent.status_code == 201
            # Presence: the dead replica's socket stops heartbeating; the TTL takes bob offline.
            offline, _ = await watcher.wait_for(
                "presence.changed", lambda d: d["user_id"] == bob and not d["online"], within=10
            )
            assert offline["online"] is False
        async with connected(gw_a.url, bob_token) as again:
            assert again.client.connected
            missed = await http_a.get(
                f"/api/v1/gateway/chat/conversations/{conversation}/messages",
                params={"after": str(last_seen)},
                headers=auth(bob_token),
            )
            assert [m["text"] for m in missed.json()["items"]] == ["m2", "m3"]
            fourth = await http_a.post(
                "/api/v1/gateway/chat/messages",
                json={"conversation_id": conversation, "text": "m4"},
                headers=auth(alice_token),
            )
            assert fourth.status_code == 201
            await again.wait_for("message.created", lambda d: d["text"] == "m4")
