"""The marketplace journey through the gateway's ClusterIP Service (kube-proxy, CoreDNS, every service pod
and the stores behind their selector-less Services): sign up, confirm the emailed link, sign in, publish a
gig, find it in search."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest
from local_cluster import NODE_IP, store_ports

pytestmark = pytest.mark.slow

AUTH = "/api/v1/gateway/auth"
GIGS = "/api/v1/gateway/gigs"
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


def test_signup_verify_signin_publish_and_find_a_gig(gateway_url: str) -> None:
    suffix = uuid.uuid4().hex[:10]
    account = {"username": f"seller{suffix}", "email": f"seller{suffix}@example.com", "password": PASSWORD}
    with httpx.Client(base_url=gateway_url, timeout=30) as gateway:
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
        bearer = {"Authorization": f"Bearer {session['access_token']}"}
        word = f"zebra{uuid.uuid4().hex[:8]}"
        created = gateway.post(
            GIGS,
            json={
                "title": f"Hand drawn {word} illustrations",
                "description": "Vector illustrations for your brand",
                "category": "illustration",
                "tags": ["vector"],
                "price": 4500,
                "delivery_days": 4,
                "cover_image_key": f"gigs/{session['user']['id']}/cover.png",
            },
            headers=bearer,
        )
        assert created.status_code == 201, created.text
        found = _search(gateway, word)
        assert [item["id"] for item in found] == [created.json()["id"]]
