"""The fake gateway and sample bodies shared by the storefront's route tests (imported by conftest.py and
the tests; uniquely named, because sys.path is shared by every suite in one pytest run)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from storefront_service.operations import OPERATIONS, PUBLIC_PREFIX

BASE_URL = "http://storefront.test"
Handler = Callable[[httpx.Request], httpx.Response]


def _route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(PUBLIC_PREFIX + path)) + "$")


_PATTERNS = [(op_id, op.method, _route_pattern(op.path)) for op_id, op in OPERATIONS.items()]


def operation_of(request: httpx.Request) -> str:
    # Literal paths win over templated ones (gigs/top-rated before gigs/{gig_id}), as in the gateway.
    matches = [
        (op_id, pattern)
        for op_id, method, pattern in _PATTERNS
        if method == request.method and pattern.match(request.url.path)
    ]
    if not matches:
        raise AssertionError(f"the storefront called {request.method} {request.url.path}, no operation")
    return min(matches, key=lambda match: match[1].pattern.count("[^/]+"))[0]


@dataclass
class FakeGateway:
    handlers: dict[str, Handler] = field(default_factory=dict)
    calls: list[tuple[str, httpx.Request]] = field(default_factory=list)
    down: bool = False

    def on(self, operation_id: str, handler: Handler | dict[str, Any] | int) -> None:
        if isinstance(handler, int):
            status = handler
            self.handlers[operation_id] = lambda _: httpx.Response(status, json=error_body(status))
        elif isinstance(handler, dict):
            body = handler
            self.handlers[operation_id] = lambda _: httpx.Response(200, json=body)
        else:
            self.handlers[operation_id] = handler

    def called(self, operation_id: str) -> list[httpx.Request]:
        return [request for op_id, request in self.calls if op_id == operation_id]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        operation_id = operation_of(request)
        self.calls.append((operation_id, request))
        handler = self.handlers.get(operation_id)
        if handler is None:
            raise AssertionError(f"the test gave the fake gateway no answer for {operation_id}")
        return handler(request)


def error_body(status: int, message: str = "Refused", details: Any = None) -> dict[str, Any]:
    return {"error": {"code": "error", "message": message, "details": details, "correlation_id": "c"}}


def empty_page() -> dict[str, Any]:
    return {"items": [], "total": 0, "next_cursor": None, "facets": {}}


def gig(gig_id: str = "g1", **changes: Any) -> dict[str, Any]:
    base = {
        "id": gig_id,
        "seller_id": "s1",
        "title": f"Logo design {gig_id}",
        "description": "A logo in three days.",
        "category": "Design",
        "sub_categories": ["Logos"],
        "tags": ["logo"],
        "price": 2500,
        "currency": "USD",
        "delivery_days": 3,
        "cover_image_key": None,
        "active": True,
        "rating_average": 4.5,
        "rating_count": 2,
        "seller_username": "sam",
        "seller_rating_average": 4.5,
        "seller_rating_count": 2,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "version": 1,
    }
    return {**base, **changes}


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token_of(client: httpx.AsyncClient, path: str = "/signin") -> str:
    """Open a page with a form (as a browser would) and read its CSRF token."""
    page = await client.get(path)
    match = CSRF_INPUT.search(page.text)
    assert match, f"{path} has no CSRF input"
    return match.group(1)


def user_json(username: str = "alice") -> dict[str, Any]:
    return {
        "id": f"id-{username}",
        "username": username,
        "email": f"{username}@example.com",
        "country": None,
        "email_verified": True,
        "created_at": "2026-01-01T00:00:00Z",
    }


def session_json(
    username: str = "alice", access: str = "access-1", refresh: str = "refresh-1"
) -> dict[str, Any]:
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": 900,
        "user": user_json(username),
    }


async def sign_in(client: httpx.AsyncClient, gateway: FakeGateway, username: str = "alice") -> None:
    """Sign the test browser in through the real sign-in page."""
    gateway.on("auth.signin", session_json(username))
    token = await csrf_token_of(client)
    answer = await client.post(
        "/signin", data={"csrf_token": token, "email_or_username": username, "password": "pw-123456"}
    )
    assert answer.status_code == 303, answer.text
