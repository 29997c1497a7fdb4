"""JSON bodies carrying U+0000 get a 422 from every service app; the stores never see them (PostgreSQL and
FerretDB on it refuse NUL in text and jsonb, which surfaced as a 500 under contract fuzzing)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from servicekit.http.nul_guard import carries_nul

AppFactory = Callable[..., FastAPI]
ClientFactory = Callable[[FastAPI], httpx.AsyncClient]


class Gig(BaseModel):
    title: str
    tags: list[str] = []


def _router(seen: list[Gig]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/gigs")

    @router.post("", status_code=201)
    async def create(body: Gig) -> dict[str, str]:
        seen.append(body)
        return {"title": body.title}

    return router


@pytest.fixture
def seen() -> list[Gig]:
    return []


@pytest.fixture
def client(build_app: AppFactory, make_client: ClientFactory, seen: list[Gig]) -> httpx.AsyncClient:
    return make_client(build_app(_router(seen), require_internal_token=False))


@pytest.mark.parametrize(
    "body",
    [
        {"title": "a\u0000b"},
        {"title": "ok", "tags": ["x", "\u0000"]},
        {"title": "ok", "\u0000key": 1},
        {"title": "\\\u0000"},  # an escaped backslash, then a NUL
    ],
)
async def test_a_nul_anywhere_in_the_body_is_a_422_and_the_handler_never_runs(
    client: httpx.AsyncClient, seen: list[Gig], body: dict[str, object]
) -> None:
    response = await client.post("/api/v1/gigs", content=json.dumps(body), headers=_json())
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "nul_character"
    assert "U+0000" in error["message"]
    assert error["correlation_id"]
    assert seen == []


async def test_the_text_backslash_u0000_and_ordinary_bodies_pass(
    client: httpx.AsyncClient, seen: list[Gig]
) -> None:
    for title in ("\\u0000 is how JSON escapes it", "plain", "ünïcödé \u0001"):
        response = await client.post("/api/v1/gigs", content=json.dumps({"title": title}), headers=_json())
        assert response.status_code == 201, response.text
    assert [gig.title for gig in seen] == ["\\u0000 is how JSON escapes it", "plain", "ünïcödé \u0001"]


async def test_a_body_in_several_chunks_reaches_the_handler_whole(
    client: httpx.AsyncClient, seen: list[Gig]
) -> None:
    payload = json.dumps({"title": "t" * 70_000, "tags": ["a"]}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 8192):
            yield payload[start : start + 8192]

    response = await client.post("/api/v1/gigs", content=chunks(), headers=_json())
    assert response.status_code == 201
    assert seen[0].title == "t" * 70_000


def test_carries_nul_reads_json_escapes_exactly() -> None:
    assert carries_nul(json.dumps({"a": "\u0000"}).encode())
    assert carries_nul(json.dumps({"a": "\\\u0000"}).encode())
    assert not carries_nul(json.dumps({"a": "\\u0000"}).encode())
    assert not carries_nul(json.dumps({"a": "\\\\u0000"}).encode())
    assert not carries_nul(b'{"a": "u0000"}')


def _json() -> dict[str, str]:
    return {"content-type": "application/json"}
