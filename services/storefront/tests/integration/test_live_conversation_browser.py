"""The live conversation page in a real Chromium, under the storefront's real CSP: the vendored Socket.IO
client connects through the storefront's websocket proxy to a REAL gateway process; a chat event published
on the bus makes the page fetch and append the new message without a reload; the same message pushed twice
is shown once (dedupe by id); the page marks it read; after the gateway is killed and started again, the
page reconnects and fetches what was persisted meanwhile (after its last seen seq).

Page data comes from a fake gateway (MockTransport, as in the route tests); the realtime path is all real.
A second test does the same for static/js/upload.js against the real object store.
The whole journey through every service is tests/browser's; this one checks static/js/conversation.js and
realtime.py together, quickly. Skipped where Playwright or Debian's chromium is missing.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gigstack_testinfra.object_store import ObjectStoreBucket
from gigstack_testinfra.plugin import RedisWithServiceUsers
from redis.asyncio import Redis
from servicekit.events import EventBus, EventEnvelope
from servicekit.media.keys import MediaArea
from servicekit.media.s3 import S3ObjectStore
from servicekit.media.settings import ObjectStoreSettings
from servicekit.media.uploads import plan_upload
from storefront_service.entrypoints.app import create_app
from storefront_service.sessions import SignedInUser
from storefront_service.settings import StorefrontSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sf_realtime_stack import GatewayProcess, gateway_env, gateway_sessions, running_gateway, serve
from storefront_fakes import FakeGateway

playwright_api = pytest.importorskip("playwright.async_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,  # ~60 s each on 2 shared cores: a gateway process (or the object store) and Chromium
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

SELLER_ID = "u-seller-live"


def _message(seq: int, sender: str, recipient: str, text: str) -> dict[str, Any]:
    return {
        "id": f"msg-{seq}",
        "conversation_id": "conv-live",
        "seq": seq,
        "sender_id": sender,
        "recipient_id": recipient,
        "kind": "text",
        "text": text,
        "file_key": None,
        "offer": None,
        "read_at": None,
        "created_at": "2026-01-03T10:00:00Z",
    }


@dataclass
class Chat:
    """What the fake gateway answers for chat: the messages stored so far."""

    buyer_id: str
    messages: list[dict[str, Any]]
    fake: FakeGateway | None = None
    gateway: GatewayProcess | None = None

    def handle_messages(self, request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        if after is not None:
            items = [m for m in self.messages if m["seq"] > int(after)]
        else:
            items = list(reversed(self.messages))
        return httpx.Response(200, json={"items": items, "next_cursor": None})


@pytest.fixture
async def live_storefront(
    redis_url: str,
    amqp_url: str,
    internal_keypair: tuple[str, str],
    redis_with_service_users: RedisWithServiceUsers,
) -> AsyncIterator[tuple[str, str, Chat, EventBus]]:
    """(storefront URL, the buyer's session cookie value, the chat data, the bus)."""
    redis = Redis.from_url(redis_url)
    bus = EventBus(amqp_url, service_name="tests-chat")
    buyer_id = str(uuid.uuid4())
    chat = Chat(buyer_id, [_message(1, buyer_id, SELLER_ID, "Could you do a smaller version?")])
    fake = FakeGateway()
    chat.fake = fake
    fake.on(
        "chat.conversationWith",
        {
            "id": "conv-live",
            "participants": [buyer_id, SELLER_ID],
            "other_user": {"id": SELLER_ID, "username": "sam"},
            "started": True,
            "last_message_at": "2026-01-03T10:00:00Z",
            "last_seq": 1,
            "unread_count": 0,
        },
    )
    fake.on("chat.messages", chat.handle_messages)
    fake.on("chat.markRead", {"marked": 1, "remaining": 0})
    fake.on("gigs.bySeller", {"items": []})
    http = httpx.AsyncClient(base_url="http://gateway.test", transport=httpx.MockTransport(fake))
    try:
        async with running_gateway(gateway_env(redis_url, amqp_url, internal_keypair)) as gateway:
            chat.gateway = gateway
            await bus.connect()
            tokens = await gateway_sessions(redis).start(user_id=buyer_id, device_id=None)
            settings = StorefrontSettings(
                environment="test",
                redis_url=redis_with_service_users.url("storefront"),
                gateway_url=gateway.url,
                log_level="WARNING",
            )
            app = create_app(settings, http=http)
            store = app.state.deps.sessions
            session = store.new()
            session.user = SignedInUser(
                id=buyer_id, username="bea", email="bea@example.test", email_verified=True
            )
            session.set_tokens(tokens.access_token, tokens.refresh_token, 900)
            await store.save(session)
            async with serve(app, lifespan="on") as url:
                yield url, session.id, chat, bus
    finally:
        await bus.close()
        await redis.aclose()
        await http.aclose()


async def test_a_pushed_message_appears_once_without_a_reload(
    live_storefront: tuple[str, str, Chat, EventBus],
) -> None:
    url, cookie, chat, bus = live_storefront
    async with playwright_api.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            context = await browser.new_context(base_url=url)
            await context.add_cookies([{"name": "sf_session", "value": cookie, "url": url}])
            page = await context.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            await page.goto("/inbox/with/sam")
            expect = playwright_api.expect
            await expect(page.get_by_test_id("live-status")).to_contain_text("Live", timeout=15_000)
            await page.evaluate("window.__sameDocument = true")

            pushed = _message(2, SELLER_ID, chat.buyer_id, "Two illustrations would be enough")
            chat.messages.append(pushed)
            for _ in range(2):  # at-least-once delivery: the same message twice
                await bus.publish(
                    EventEnvelope.new(
                        type="chat.message.created.v1",
                        producer="chat",
                        payload={"participants": [chat.buyer_id, SELLER_ID], "message": pushed},
                    )
                )
            messages = page.get_by_test_id("message-list")
            await expect(messages).to_contain_text("Two illustrations would be enough", timeout=10_000)
            await asyncio.sleep(0.5)  # let the second push's catch-up land too
            assert await page.locator('[data-message-id="msg-2"]').count() == 1
            assert await page.evaluate("window.__sameDocument") is True
            # The page marked what arrived as read (the receipt goes through the storefront, CSRF header).
            assert chat.fake is not None
            receipts = [request.content for request in chat.fake.called("chat.markRead")]
            assert b'{"up_to_seq":2}' in receipts

            # The gateway dies; a message is persisted meanwhile (no push reaches anyone); the gateway comes
            # back on its address: the client reconnects through the proxy and fetches after its last seq.
            assert chat.gateway is not None
            chat.gateway.kill()
            await expect(page.get_by_test_id("live-status")).to_contain_text("Reconnecting", timeout=10_000)
            chat.messages.append(_message(3, SELLER_ID, chat.buyer_id, "Sent while you were offline"))
            await chat.gateway.start()
            await expect(messages).to_contain_text("Sent while you were offline", timeout=30_000)
            assert await page.evaluate("window.__sameDocument") is True
            assert [p for p in problems if "WebSocket" not in p and "ERR_CONNECTION_REFUSED" not in p] == []
        finally:
            await browser.close()


TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf000000030101001825dd560000000049454e44ae426082"
)


async def test_a_cover_goes_straight_to_the_presigned_url(
    redis_with_service_users: RedisWithServiceUsers, object_store_bucket: ObjectStoreBucket
) -> None:
    """upload.js in Chromium: the storefront plans the upload (here the fake gateway presigns with
    servicekit's real media code against the real object store), the browser POSTs the file to the store's
    origin, the key lands in the form; that POST is the page's only request off its own origin."""
    env: dict[str, Any] = {name.lower(): value for name, value in object_store_bucket.settings_env().items()}
    store = S3ObjectStore(ObjectStoreSettings.model_validate(env))

    async def create_upload(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        planned = await plan_upload(
            store,
            owner=SELLER_ID,
            area=MediaArea(body["area"]),
            content_type=body["content_type"],
            size=body["size"],
            expires_in_seconds=600,
        )
        return httpx.Response(
            200,
            json={
                "key": str(planned.key),
                "url": planned.url,
                "fields": planned.fields,
                "max_bytes": planned.max_bytes,
                "content_types": list(planned.content_types),
                "expires_at": planned.expires_at.isoformat(),
            },
        )

    fake = FakeGateway()
    fake.on("sellers.byId", {"id": SELLER_ID, "username": "sam"})
    fake.on("media.createUpload", create_upload)
    media_origin = object_store_bucket.url.rstrip("/")
    http = httpx.AsyncClient(base_url="http://gateway.test", transport=httpx.MockTransport(fake))
    settings = StorefrontSettings(
        environment="test",
        redis_url=redis_with_service_users.url("storefront"),
        gateway_url="http://gateway.test",
        media_public_origin=media_origin,
        log_level="WARNING",
    )
    app = create_app(settings, http=http)
    session = app.state.deps.sessions.new()
    session.user = SignedInUser(id=SELLER_ID, username="sam", email="sam@example.test", email_verified=True)
    session.set_tokens("access-sam", "refresh-sam", 900)
    await app.state.deps.sessions.save(session)
    try:
        async with serve(app, lifespan="on") as url, playwright_api.async_playwright() as driver:
            browser = await driver.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            try:
                context = await browser.new_context(base_url=url)
                await context.add_cookies([{"name": "sf_session", "value": session.id, "url": url}])
                page = await context.new_page()
                requests: list[tuple[str, str]] = []
                page.on("request", lambda r: requests.append((r.method, r.url)))
                problems: list[str] = []
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                await page.goto("/selling/gigs/new")
                form = page.get_by_test_id("gig-form")
                await form.get_by_label("Cover image").set_input_files(
                    {"name": "cover.png", "mimeType": "image/png", "buffer": TINY_PNG}
                )
                expect = playwright_api.expect
                await expect(form.get_by_test_id("upload-status")).to_contain_text("Uploaded: cover.png")
                key = await form.locator("input[name=cover_image_key]").input_value()
                assert key.startswith(f"gigs/{SELLER_ID}/")
                stored = await store.stat(key)
                assert stored is not None
                assert stored.size == len(TINY_PNG)
                off_origin = [(m, u) for m, u in requests if not u.startswith(url)]
                assert len(off_origin) == 1, off_origin
                assert off_origin[0][0] == "POST"
                assert off_origin[0][1].startswith(media_origin)
                assert problems == []
            finally:
                await browser.close()
    finally:
        await store.close()
        await app.state.deps.redis.aclose()
        await http.aclose()
