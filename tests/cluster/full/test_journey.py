"""The marketplace journey through the gateway's ClusterIP Service (kube-proxy, CoreDNS, every service pod
and the stores behind their selector-less Services): sign up, confirm the emailed link, sign in, upload a
cover to the object store, publish a gig, find it in search, and a second account's chat message to the
seller, which the seller reads back."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import dns.resolver
import httpx
import pytest
from local_cluster import NODE_IP, store_ports

pytestmark = pytest.mark.slow

AUTH = "/api/v1/gateway/auth"
GIGS = "/api/v1/gateway/gigs"
CHAT = "/api/v1/gateway/chat"
MEDIA_UPLOADS = "/api/v1/gateway/media/uploads"
DNS_SERVICE_IP = "10.213.128.10"  # scripts/cluster/cluster.sh
COVER = b"\x89PNG\r\n\x1a\n" + b"\0" * 256
PASSWORD = "Correct-Horse-Battery-9"
DEVICE = {"X-Device-Id": "laptop-cluster"}
VERIFY_TOKEN = re.compile(r"confirm_email\?v_token=([A-Za-z0-9_\-.~%]+)")


def _mail_to(address: str, pattern: re.Pattern[str], timeout: float = 60) -> str:
    mail_api = f"http://{NODE_IP}:{store_ports()['mail_web']}/api/messages"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in httpx.get(mail_api, timeout=10).json():
            body = f"{message.get('text', '')}\n{message.get('html', '')}"
            if address in message.get("to", []) and (match := pattern.search(body)):
                return match.group(1)
        time.sleep(0.5)
    raise AssertionError(f"no mail to {address} matching {pattern.pattern} in {timeout}s")


def _search(gateway: httpx.Client, word: str, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        response = gateway.get(f"{GIGS}/search", params={"q": word})
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if items:
            return items
        time.sleep(0.5)
    raise AssertionError(f"search for {word!r} found nothing in {timeout}s")


def _signed_in(gateway: httpx.Client, role: str) -> tuple[str, dict[str, str]]:
    """Sign up, confirm the emailed link, sign in: the new account's user id and bearer header."""
    suffix = uuid.uuid4().hex[:10]
    account = {"username": f"{role}{suffix}", "email": f"{role}{suffix}@example.com", "password": PASSWORD}
    signup = gateway.post(f"{AUTH}/signup", json={**account, "country": "Norway"}, headers=DEVICE)
    assert signup.status_code == 202, signup.text
    token = _mail_to(account["email"], VERIFY_TOKEN)
    verified = gateway.post(f"{AUTH}/verify-email", json={"token": token}, headers=DEVICE)
    assert verified.status_code == 200, verified.text
    signin = gateway.post(
        f"{AUTH}/signin",
        json={"email_or_username": account["email"], "password": PASSWORD},
        headers=DEVICE,
    )
    assert signin.status_code == 200, signin.text
    session = signin.json()
    return session["user"]["id"], {"Authorization": f"Bearer {session['access_token']}"}


def _uploaded_cover(gateway: httpx.Client, bearer: dict[str, str]) -> str:
    """media.createUpload, then the bytes POSTed to the presigned form as a browser on this cluster would:
    the form's host (the s3proxy Service in gigstack-data) resolved by CoreDNS, reached through kube-proxy."""
    planned = gateway.post(
        MEDIA_UPLOADS, json={"area": "gigs", "content_type": "image/png", "size": len(COVER)}, headers=bearer
    )
    assert planned.status_code == 200, planned.text
    form = planned.json()
    url = httpx.URL(form["url"])
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [DNS_SERVICE_IP]
    [address] = [record.address for record in resolver.resolve(url.host, "A", lifetime=5)]
    stored = httpx.post(
        str(url.copy_with(host=address)),
        data=form["fields"],
        files={"file": ("cover.png", COVER, "image/png")},
        timeout=30,
    )
    assert stored.status_code in (200, 201, 204), stored.text
    key: str = form["key"]
    return key


def _chat_message(gateway: httpx.Client, sender: dict[str, str], recipient: dict[str, str], to: str) -> None:
    """One message from `sender` to the user `to`, read back by `recipient` (chat's directory learns of
    new accounts from auth.account.created.v1 over the bus, so the first attempts may not know `to` yet)."""
    text = f"Could you do a smaller version? {uuid.uuid4().hex[:6]}"
    deadline = time.monotonic() + 30
    while True:
        sent = gateway.post(
            f"{CHAT}/messages", json={"recipient_id": to, "kind": "text", "text": text}, headers=sender
        )
        if sent.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert sent.status_code == 201, sent.text
    conversation = sent.json()["conversation_id"]
    read = gateway.get(f"{CHAT}/conversations/{conversation}/messages", headers=recipient)
    assert read.status_code == 200, read.text
    assert text in [message.get("text") for message in read.json()["items"]]


def test_signup_verify_signin_publish_find_a_gig_and_chat(gateway_url: str) -> None:
    with httpx.Client(base_url=gateway_url, timeout=30) as gateway:
        seller_id, seller = _signed_in(gateway, "seller")
        word = f"zebra{uuid.uuid4().hex[:8]}"
        cover = _uploaded_cover(gateway, seller)
        assert cover.startswith(f"gigs/{seller_id}/")
        created = gateway.post(
            GIGS,
            json={
                "title": f"Hand drawn {word} illustrations",
                "description": "Vector illustrations for your brand",
                "category": "illustration",
                "tags": ["vector"],
                "price": 4500,
                "delivery_days": 4,
                "cover_image_key": cover,
            },
            headers=seller,
        )
        assert created.status_code == 201, created.text
        found = _search(gateway, word)
        assert [item["id"] for item in found] == [created.json()["id"]]
        _buyer_id, buyer = _signed_in(gateway, "buyer")
        _chat_message(gateway, buyer, seller, seller_id)
