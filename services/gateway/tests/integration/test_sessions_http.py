"""Sessions through the gateway's HTTP API, against real Redis and a real upstream auth app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

pytestmark = pytest.mark.integration

ACCESS_SECRET = "integration-access-token-key-0123456789abcdef"
ALICE_ID = "0b8f5a7e-3f6c-4f1b-9c55-6f2f1f0d2a11"
ALICE_PASSWORD = "correct horse battery staple"
KNOWN = {"X-Device-Id": "device-known"}


async def _signin(gateway: httpx.AsyncClient) -> dict[str, Any]:
    response = await gateway.post(
        "/api/v1/gateway/auth/signin",
        json={"email_or_username": "alice", "password": ALICE_PASSWORD},
        headers=KNOWN,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_signin_returns_a_session_and_me_carries_the_user_downstream(
    gateway: httpx.AsyncClient, upstream_log: Any
) -> None:
    session = await _signin(gateway)
    assert session["token_type"] == "bearer"
    assert session["expires_in"] == 900
    assert session["user"]["id"] == ALICE_ID

    me = await gateway.get(
        "/api/v1/gateway/auth/me",
        headers={**_bearer(session["access_token"]), "X-Correlation-ID": "corr-me-1"},
    )
    assert me.status_code == 200, me.text
    assert me.json()["user"]["id"] == ALICE_ID
    assert me.headers["x-correlation-id"] == "corr-me-1"

    principal, headers = upstream_log.last("/api/v1/auth/me")
    assert principal.subject == ALICE_ID
    assert principal.claims["aud"] == "auth"
    assert principal.session_id is not None
    assert headers["x-correlation-id"] == "corr-me-1"
    # A fresh internal token per request: two calls never share a jti.
    await gateway.get("/api/v1/gateway/auth/me", headers=_bearer(session["access_token"]))
    jtis = {p.claims["jti"] for path, p, _ in upstream_log.calls if path == "/api/v1/auth/me"}
    assert len(jtis) == 2


async def test_new_device_gets_otp_then_session(gateway: httpx.AsyncClient, upstream_log: Any) -> None:
    credentials = {"email_or_username": "alice", "password": ALICE_PASSWORD}
    pending = await gateway.post(
        "/api/v1/gateway/auth/signin", json=credentials, headers={"X-Device-Id": "device-new"}
    )
    assert pending.status_code == 202
    assert pending.json()["otp_required"] is True
    assert "access_token" not in pending.json()

    verified = await gateway.post(
        "/api/v1/gateway/auth/verify-otp",
        json={"email_or_username": "alice", "otp": "123456"},
        headers={"X-Device-Id": "device-new"},
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["access_token"]
    _, headers = upstream_log.last("/api/v1/auth/verify-otp")
    assert headers["x-device-id"] == "device-new"


async def test_refresh_rotates_and_reuse_revokes_the_family(gateway: httpx.AsyncClient) -> None:
    first = await _signin(gateway)
    rotated = await gateway.post(
        "/api/v1/gateway/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (
        await gateway.get("/api/v1/gateway/auth/me", headers=_bearer(second["access_token"]))
    ).status_code == 200

    reused = await gateway.post(
        "/api/v1/gateway/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_reused"

    for token in (first["access_token"], second["access_token"]):
        me = await gateway.get("/api/v1/gateway/auth/me", headers=_bearer(token))
        assert me.status_code == 401
        assert me.json()["error"]["code"] == "session_revoked"
    newest = await gateway.post(
        "/api/v1/gateway/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert newest.status_code == 401


async def test_signout_kills_access_and_refresh_tokens(gateway: httpx.AsyncClient, upstream_log: Any) -> None:
    session = await _signin(gateway)
    signout = await gateway.post("/api/v1/gateway/auth/signout", headers=_bearer(session["access_token"]))
    assert signout.status_code == 204
    assert "/api/v1/auth/signout" in upstream_log.paths()

    me = await gateway.get("/api/v1/gateway/auth/me", headers=_bearer(session["access_token"]))
    assert me.status_code == 401
    refreshed = await gateway.post(
        "/api/v1/gateway/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 401
    assert refreshed.json()["error"]["code"] == "invalid_refresh_token"


@pytest.mark.parametrize("kind", ["tampered", "expired", "foreign-key", "missing"])
async def test_bad_access_tokens_get_401_in_the_error_shape(
    gateway: httpx.AsyncClient, upstream_log: Any, kind: str
) -> None:
    session = await _signin(gateway)
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    headers: dict[str, str] = {}
    if kind == "tampered":
        header, _, signature = session["access_token"].split(".")
        forged = jwt.encode({**claims, "sub": "someone-else"}, "x" * 32, algorithm="HS256").split(".")[1]
        headers = _bearer(f"{header}.{forged}.{signature}")
    elif kind == "expired":
        past = datetime.now(UTC) - timedelta(minutes=1)
        headers = _bearer(jwt.encode({**claims, "exp": past}, ACCESS_SECRET, algorithm="HS256"))
    elif kind == "foreign-key":
        headers = _bearer(jwt.encode(claims, "another-key-another-key-another-key!", algorithm="HS256"))
    calls_before = len(upstream_log.calls)

    me = await gateway.get("/api/v1/gateway/auth/me", headers=headers)

    assert me.status_code == 401
    error = me.json()["error"]
    assert set(error) == {"code", "message", "details", "correlation_id"}
    assert me.headers["www-authenticate"] == "Bearer"
    assert len(upstream_log.calls) == calls_before, "a refused token must never reach the service"


async def test_unknown_refresh_token_is_401(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/v1/gateway/auth/refresh", json={"refresh_token": "forged"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_refresh_token"


async def test_password_change_signs_out_every_device(gateway: httpx.AsyncClient) -> None:
    laptop = await _signin(gateway)
    phone = await _signin(gateway)
    wrong = await gateway.put(
        "/api/v1/gateway/auth/change-password",
        json={"current_password": "nope", "new_password": "Another-Password-1"},
        headers=_bearer(laptop["access_token"]),
    )
    assert wrong.status_code == 401
    me = "/api/v1/gateway/auth/me"
    assert (await gateway.get(me, headers=_bearer(phone["access_token"]))).status_code == 200

    changed = await gateway.put(
        "/api/v1/gateway/auth/change-password",
        json={"current_password": ALICE_PASSWORD, "new_password": "Another-Password-1"},
        headers=_bearer(laptop["access_token"]),
    )
    assert changed.status_code == 200, changed.text

    # Every session ends, the one that made the change included: the user signs in with the new password.
    for device in (laptop, phone):
        ended = await gateway.get(me, headers=_bearer(device["access_token"]))
        assert ended.status_code == 401
        assert ended.json()["error"]["code"] == "session_revoked"


async def test_services_hear_the_session_email_verification_state(
    gateway: httpx.AsyncClient, upstream_log: Any
) -> None:
    session = await _signin(gateway)
    assert (
        await gateway.delete("/api/v1/gateway/gig/echo", headers=_bearer(session["access_token"]))
    ).is_success
    principal, _ = upstream_log.last("/api/v1/gig/echo")
    assert principal.email_verified is True

    # A refreshed access token says what the session says, not a default.
    refreshed = await gateway.post(
        "/api/v1/gateway/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    access = refreshed.json()["access_token"]
    assert (await gateway.delete("/api/v1/gateway/gig/echo", headers=_bearer(access))).is_success
    principal, _ = upstream_log.last("/api/v1/gig/echo")
    assert principal.email_verified is True

    unverified = await gateway.post(
        "/api/v1/gateway/auth/signin",
        json={"email_or_username": "carol", "password": ALICE_PASSWORD},
        headers=KNOWN,
    )
    assert unverified.status_code == 200, unverified.text
    carol = _bearer(unverified.json()["access_token"])
    assert (await gateway.delete("/api/v1/gateway/gig/echo", headers=carol)).is_success
    principal, _ = upstream_log.last("/api/v1/gig/echo")
    assert principal.email_verified is False

    # The gateway's own auth routes send the session's value too, as the pass-through routes do.
    for headers, verified in ((_bearer(access), True), (carol, False)):
        assert (await gateway.get("/api/v1/gateway/auth/me", headers=headers)).status_code == 200
        principal, _ = upstream_log.last("/api/v1/auth/me")
        assert principal.email_verified is verified
        resent = await gateway.post("/api/v1/gateway/auth/resend-verification", headers=headers)
        assert resent.status_code == 202, resent.text
        principal, _ = upstream_log.last("/api/v1/auth/resend-verification")
        assert principal.email_verified is verified

    # Anonymous calls carry no claim at all.
    assert (await gateway.get("/api/v1/gateway/gig/echo")).is_success
    principal, _ = upstream_log.last("/api/v1/gig/echo")
    assert "email_verified" not in principal.claims
