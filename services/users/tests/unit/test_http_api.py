"""The HTTP API in process over the fakes: status codes, the owner rule, validation and the OpenAPI ids."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from servicekit.security import InternalTokenIssuer, generate_ed25519_keypair
from users_fakes import account, fake_dependencies
from users_service.entrypoints.app import create_app
from users_service.service_layer import profiles
from users_service.service_layer.commands import RegisterAccount
from users_service.service_layer.dependencies import HandlerDependencies
from users_service.settings import UsersSettings

PRIVATE_KEY, PUBLIC_KEY = generate_ed25519_keypair()
ISSUER = InternalTokenIssuer(PRIVATE_KEY)

SELLER_BODY: dict[str, Any] = {
    "full_name": "Alice Example",
    "one_liner": "I build reliable APIs",
    "description": "Ten years of backend work on payment and booking systems.",
    "skills": ["python", "fastapi"],
    "languages": [{"language": "English", "level": "fluent"}],
    "experience": [{"company": "Acme", "title": "Engineer", "start_year": 2015, "end_year": None}],
    "education": [],
    "certificates": [{"name": "CKA", "issuer": "CNCF", "year": 2022}],
    "social_links": ["https://github.com/alice"],
    "response_time_hours": 12,
}


def _auth(user_id: str | None, *, email_verified: bool = True) -> dict[str, str]:
    claims = {"email_verified": email_verified} if user_id is not None else None
    return {"Authorization": f"Bearer {ISSUER.issue('users', subject=user_id, extra=claims)}"}


@pytest.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, HandlerDependencies]]:
    settings = UsersSettings(
        environment="test",
        internal_token_public_key=PUBLIC_KEY,
        mongodb_url="mongodb://127.0.0.1:1/users",
        amqp_url="amqp://guest:guest@127.0.0.1:1/",
    )
    app = create_app(settings)
    deps = fake_dependencies()
    app.state.deps = dataclasses.replace(app.state.deps, handlers=deps)
    for user_id, name in (("u-alice", "alice"), ("u-bob", "bob")):
        await profiles.register_account(RegisterAccount(user_id=user_id, account=account(name)), deps)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://users") as client:
        yield client, deps


async def test_become_seller_then_read_it_anonymously(api: tuple[httpx.AsyncClient, Any]) -> None:
    client, _ = api
    created = await client.post("/api/v1/sellers", json=SELLER_BODY, headers=_auth("u-alice"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["username"] == "alice"
    assert body["revision"] == 1
    assert body["ratings"]["stars"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
    for path in (
        "/api/v1/sellers/u-alice",
        "/api/v1/sellers/by-username/alice",
        "/api/v1/sellers/random?count=5",
    ):
        response = await client.get(path, headers=_auth(None))
        assert response.status_code == 200, (path, response.text)
    again = await client.post("/api/v1/sellers", json=SELLER_BODY, headers=_auth("u-alice"))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_seller"


async def test_update_is_refused_for_another_user_and_for_anonymous_callers(
    api: tuple[httpx.AsyncClient, Any],
) -> None:
    client, _ = api
    assert (
        await client.post("/api/v1/sellers", json=SELLER_BODY, headers=_auth("u-alice"))
    ).status_code == 201
    edit = {**SELLER_BODY, "one_liner": "Changed", "revision": 1}

    other = await client.put("/api/v1/sellers/u-alice", json=edit, headers=_auth("u-bob"))
    anonymous = await client.put("/api/v1/sellers/u-alice", json=edit, headers=_auth(None))
    no_token = await client.put("/api/v1/sellers/u-alice", json=edit)
    assert (other.status_code, other.json()["error"]["code"]) == (403, "not_owner")
    assert anonymous.status_code == 401
    assert no_token.status_code == 401

    owner = await client.put("/api/v1/sellers/u-alice", json=edit, headers=_auth("u-alice"))
    assert owner.status_code == 200
    assert owner.json()["revision"] == 2
    stale = await client.put("/api/v1/sellers/u-alice", json=edit, headers=_auth("u-alice"))
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "stale_revision")


async def test_session_operations_need_a_signed_in_user(api: tuple[httpx.AsyncClient, Any]) -> None:
    client, _ = api
    for method, path in (
        ("POST", "/api/v1/sellers"),
        ("GET", "/api/v1/buyers/me"),
        ("GET", "/api/v1/buyers/by-username/alice"),
    ):
        response = await client.request(method, path, json=SELLER_BODY, headers=_auth(None))
        assert response.status_code == 401, path
    me = await client.get("/api/v1/buyers/me", headers=_auth("u-bob"))
    assert me.status_code == 200
    assert me.json()["email"] == "bob@example.test"
    other = await client.get("/api/v1/buyers/by-username/bob", headers=_auth("u-alice"))
    assert other.status_code == 200
    assert other.json()["email"] is None
    missing = await client.get("/api/v1/buyers/me", headers=_auth("u-nobody"))
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "profile_not_found")


@pytest.mark.parametrize(
    "change",
    [
        {"skills": []},
        {"skills": ["python", "python"]},
        {"languages": [{"language": "English", "level": "godlike"}]},
        {"response_time_hours": 0},
        {"social_links": ["not a url"]},
        {"description": "short"},
        {"experience": [{"company": "A", "title": "B", "start_year": 2020, "end_year": 2010}]},
        {"unknown_field": 1},
    ],
)
async def test_bad_seller_input_is_a_422_with_a_message(
    api: tuple[httpx.AsyncClient, Any], change: dict[str, Any]
) -> None:
    client, _ = api
    response = await client.post("/api/v1/sellers", json={**SELLER_BODY, **change}, headers=_auth("u-alice"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"]


async def test_random_count_is_bounded(api: tuple[httpx.AsyncClient, Any]) -> None:
    client, _ = api
    for count in (0, 51, -1):
        response = await client.get(f"/api/v1/sellers/random?count={count}", headers=_auth(None))
        assert response.status_code == 422


async def test_openapi_names_every_operation_by_its_contract_id(api: tuple[httpx.AsyncClient, Any]) -> None:
    client, _ = api
    document = (await client.get("/openapi.json")).json()
    operations = {
        operation["operationId"]: (method, path)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if path.startswith("/api/v1/")  # the service's own routes; probes are servicekit's
    }
    assert set(operations) == {
        "sellers.create",
        "sellers.update",
        "sellers.byId",
        "sellers.byUsername",
        "sellers.random",
        "buyers.me",
        "buyers.byUsername",
    }
    update = document["paths"]["/api/v1/sellers/{seller_id}"]["put"]
    assert {"200", "401", "403", "404", "409", "422", "503"} <= set(update["responses"])


async def test_becoming_or_editing_a_seller_needs_a_verified_email(
    api: tuple[httpx.AsyncClient, Any],
) -> None:
    client, _ = api
    refused = await client.post(
        "/api/v1/sellers", json=SELLER_BODY, headers=_auth("u-alice", email_verified=False)
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "email_not_verified"

    await client.post("/api/v1/sellers", json=SELLER_BODY, headers=_auth("u-alice"))
    edit = {**SELLER_BODY, "one_liner": "Changed while unverified", "revision": 1}
    update = await client.put(
        "/api/v1/sellers/u-alice", json=edit, headers=_auth("u-alice", email_verified=False)
    )
    assert update.status_code == 403
    assert (await client.get("/api/v1/sellers/u-alice", headers=_auth(None))).json()["revision"] == 1
