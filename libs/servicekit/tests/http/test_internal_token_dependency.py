"""The app-wide internal-token check: one 401 body for every bad token, probes and docs left open."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import httpx
import jwt
import pytest
from fastapi import APIRouter, FastAPI
from servicekit.security import (
    CurrentUserIdDep,
    InternalPrincipalDep,
    VerifiedUserIdDep,
    generate_ed25519_keypair,
)

AppFactory = Callable[..., FastAPI]
ClientFactory = Callable[[FastAPI], httpx.AsyncClient]
HeadersFactory = Callable[..., dict[str, str]]


def _router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/orders")

    @router.get("/whoami")
    async def whoami(principal: InternalPrincipalDep) -> dict[str, object]:
        return {"subject": principal.subject, "email_verified": principal.email_verified}

    @router.get("/mine")
    async def mine(user_id: CurrentUserIdDep) -> dict[str, str]:
        return {"user_id": user_id}

    @router.post("/place")
    async def place(user_id: VerifiedUserIdDep) -> dict[str, str]:
        return {"user_id": user_id}

    @router.get("/public-catalogue")
    async def catalogue() -> dict[str, str]:
        return {"status": "ok"}

    return router


@pytest.fixture
def client(build_app: AppFactory, make_client: ClientFactory) -> httpx.AsyncClient:
    return make_client(build_app(_router()))


def _assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert error["message"] == "Missing or invalid internal token"
    assert error["details"] == []


async def test_valid_token_reaches_the_route_with_its_principal(
    client: httpx.AsyncClient, auth_headers: HeadersFactory
) -> None:
    response = await client.get("/api/v1/orders/whoami", headers=auth_headers("user-9", email_verified=True))
    assert response.status_code == 200
    assert response.json() == {"subject": "user-9", "email_verified": True}


async def test_every_route_of_the_service_requires_the_token(client: httpx.AsyncClient) -> None:
    # The route declares no dependency itself; the check comes from create_service_app.
    _assert_unauthorized(await client.get("/api/v1/orders/public-catalogue"))


async def test_missing_or_non_bearer_authorization_is_refused(client: httpx.AsyncClient) -> None:
    _assert_unauthorized(await client.get("/api/v1/orders/whoami"))
    _assert_unauthorized(await client.get("/api/v1/orders/whoami", headers={"Authorization": "Basic dTpw"}))


async def test_wrong_audience_expired_and_foreign_key_tokens_get_the_same_401(
    client: httpx.AsyncClient, auth_headers: HeadersFactory, keypair: tuple[str, str]
) -> None:
    _assert_unauthorized(await client.get("/api/v1/orders/whoami", headers=auth_headers(audience="review")))

    past = int(time.time()) - 300
    expired = jwt.encode(
        {"iss": "gateway", "aud": "order", "iat": past, "exp": past + 30, "jti": "j", "sub": "u"},
        keypair[0],
        algorithm="EdDSA",
    )
    _assert_unauthorized(
        await client.get("/api/v1/orders/whoami", headers={"Authorization": f"Bearer {expired}"})
    )

    other_private, _ = generate_ed25519_keypair()
    now = int(time.time())
    foreign = jwt.encode(
        {"iss": "gateway", "aud": "order", "iat": now, "exp": now + 30, "jti": "j", "sub": "u"},
        other_private,
        algorithm="EdDSA",
    )
    _assert_unauthorized(
        await client.get("/api/v1/orders/whoami", headers={"Authorization": f"Bearer {foreign}"})
    )


async def test_current_user_requires_a_subject(
    client: httpx.AsyncClient, auth_headers: HeadersFactory
) -> None:
    anonymous = await client.get("/api/v1/orders/mine", headers=auth_headers(subject=None))
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"

    signed_in = await client.get("/api/v1/orders/mine", headers=auth_headers("user-3"))
    assert signed_in.json() == {"user_id": "user-3"}


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/metrics", "/openapi.json", "/docs"])
async def test_probes_metrics_and_docs_need_no_token(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 200


async def test_openapi_documents_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["InternalToken"]["scheme"] == "bearer"


async def test_app_without_internal_token_leaves_routes_open(
    build_app: AppFactory, make_client: ClientFactory
) -> None:
    client = make_client(build_app(_router(), require_internal_token=False))
    assert (await client.get("/api/v1/orders/public-catalogue")).status_code == 200
    # Asking for a principal on such an app is a wiring mistake: refused, never let through.
    _assert_unauthorized(await client.get("/api/v1/orders/whoami"))


def _hand_made_token(alg: str, claims: dict[str, object], key: bytes = b"") -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        f"{b64(json.dumps({'alg': alg, 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    )
    signature = b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()) if key else ""
    return f"{signing_input}.{signature}"


async def test_alg_none_hs256_confusion_and_wrong_issuer_get_the_same_401(
    client: httpx.AsyncClient, keypair: tuple[str, str]
) -> None:
    now = int(time.time())
    claims: dict[str, object] = {"iss": "gateway", "aud": "order", "iat": now, "exp": now + 30, "jti": "j"}
    wrong_issuer = jwt.encode({**claims, "iss": "auth"}, keypair[0], algorithm="EdDSA")
    for token in (
        _hand_made_token("none", claims),
        _hand_made_token("HS256", claims, key=keypair[1].encode()),
        wrong_issuer,
    ):
        response = await client.get("/api/v1/orders/whoami", headers={"Authorization": f"Bearer {token}"})
        _assert_unauthorized(response)


async def test_an_operation_needing_a_verified_email_refuses_an_unverified_or_unsaid_claim(
    client: httpx.AsyncClient, auth_headers: HeadersFactory
) -> None:
    verified = await client.post("/api/v1/orders/place", headers=auth_headers("user-9", email_verified=True))
    assert verified.status_code == 200
    assert verified.json() == {"user_id": "user-9"}

    for headers in (auth_headers("user-9", email_verified=False), auth_headers("user-9")):
        refused = await client.post("/api/v1/orders/place", headers=headers)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "email_not_verified"

    anonymous = await client.post("/api/v1/orders/place", headers=auth_headers(None, email_verified=True))
    assert anonymous.status_code == 401
