"""File messages on real s3proxy (the `object_store_bucket` fixture) and FerretDB: a file key is accepted only
when its object was really uploaded under the sender's own `chat/<id>/` prefix and fits the chat area's rules
(servicekit.media.verify_upload, as gig does for covers)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from conftest import ChatApi, new_user

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


async def uploaded(chat_api: ChatApi, key: str, body: bytes, content_type: str) -> None:
    """What media.createUpload hands a browser (a presigned form for exactly this key), then the upload."""
    form = await chat_api.deps.media.presign_post(
        key, content_type=content_type, max_bytes=len(body), expires_in_seconds=300
    )
    async with httpx.AsyncClient(timeout=30, trust_env=False) as browser:
        stored = await browser.post(form.url, data=form.fields, files={"file": ("f", body, content_type)})
    assert stored.status_code in (200, 201, 204), stored.text


async def test_a_file_message_needs_an_upload_of_the_senders_own(chat_api: ChatApi) -> None:
    alice, bob = new_user(), new_user()
    await chat_api.register(alice), await chat_api.register(bob)
    mine = f"chat/{alice}/{uuid.uuid4().hex}.png"
    await uploaded(chat_api, mine, PNG, "image/png")
    bobs = f"chat/{bob}/{uuid.uuid4().hex}.png"
    await uploaded(chat_api, bobs, PNG, "image/png")
    program = f"chat/{alice}/{uuid.uuid4().hex}.exe"
    await uploaded(chat_api, program, b"MZ" + b"\0" * 64, "application/x-msdownload")

    accepted = await chat_api.send(alice, recipient_id=bob, kind="file", file_key=mine)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["file_key"] == mine

    refusals = {
        "never uploaded": await chat_api.send(
            alice, recipient_id=bob, kind="file", file_key=f"chat/{alice}/{uuid.uuid4().hex}.png"
        ),
        "someone else's upload": await chat_api.send(alice, recipient_id=bob, kind="file", file_key=bobs),
        "another area": await chat_api.send(
            alice, recipient_id=bob, kind="file", file_key=f"gigs/{alice}/cover.png"
        ),
        "a type chat does not take": await chat_api.send(
            alice, recipient_id=bob, kind="file", file_key=program
        ),
    }
    assert {reason: response.status_code for reason, response in refusals.items()} == {
        "never uploaded": 422,
        "someone else's upload": 403,
        "another area": 422,
        "a type chat does not take": 422,
    }
    conversation = accepted.json()["conversation_id"]
    page = await chat_api.client.get(
        f"/api/v1/chat/conversations/{conversation}/messages", auth=chat_api.as_user(bob)
    )
    assert [item["file_key"] for item in page.json()["items"]] == [mine]
