"""A by-hand schemathesis-style sweep: every route answers malformed input with a 4xx and an error message.

Cases: broken and non-object JSON, wrong types, missing and unknown fields, oversized strings, odd Unicode
(NUL, emoji, lone surrogates escaped in JSON), non-JSON media types, missing or malformed headers and
tokens. All against the real app and MariaDB, so a query the store refuses would show up as a 5xx here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest

pytestmark = pytest.mark.integration

if TYPE_CHECKING:
    from services.auth.tests.integration.conftest import AuthApi

BASE = "/api/v1/auth"
ODD_STRINGS = [
    "",
    " ",
    "a\x00b",
    "\u202e\u200b",
    "😀" * 20,
    "x" * 100_000,
    "' OR 1=1 --",
    "%s%s%n",
    "alice@example.com\r\nBcc: x@y.z",
]
WRONG_TYPES: list[Any] = [None, 123, 1.5, True, [], {}, ["a"], {"a": "b"}]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    fields: dict[str, str] = field(default_factory=dict)  # a well-formed body, varied field by field
    signed_in: bool = False
    device: bool = False


ROUTES = [
    Route(
        "POST",
        "/signup",
        {"username": "bob", "email": "bob@example.com", "password": "correct horse", "country": "Kenya"},
        device=True,
    ),
    Route("POST", "/signin", {"email_or_username": "bob", "password": "correct horse"}, device=True),
    Route("POST", "/verify-otp", {"email_or_username": "bob", "otp": "123456"}, device=True),
    Route("POST", "/verify-email", {"token": "t" * 43}),
    Route("POST", "/forgot-password", {"email": "bob@example.com"}),
    Route(
        "POST",
        "/reset-password",
        {"token": "t" * 43, "password": "new password", "confirm_password": "new password"},
    ),
    Route(
        "PUT",
        "/change-password",
        {"current_password": "correct horse", "new_password": "new password"},
        signed_in=True,
    ),
    Route("POST", "/resend-verification", signed_in=True),
    Route("GET", "/me", signed_in=True),
    Route("POST", "/signout", signed_in=True),
]


@dataclass(frozen=True)
class Case:
    route: Route
    label: str
    content: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    signed_in_as: str | None = None


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


def _body_cases(route: Route) -> list[Case]:
    cases = [
        Case(route, "truncated json", b'{"a": '),
        Case(route, "not json", b"\xff\xfe\x00garbage"),
        Case(route, "json null", b"null"),
        Case(route, "json array", _json([route.fields])),
        Case(route, "json string", _json("hello")),
        Case(route, "empty object", _json({})),
        Case(route, "unknown field", _json(route.fields | {"is_admin": True})),
        Case(route, "form encoded", b"a=b", content_type="application/x-www-form-urlencoded"),
        Case(route, "text body", _json(route.fields), content_type="text/plain"),
        Case(route, "lone surrogate", b'{"' + next(iter(route.fields)).encode() + b'": "\\ud800"}'),
        Case(route, "deep nesting", b"[" * 5_000 + b"]" * 5_000),
    ]
    for name in route.fields:
        without = {key: value for key, value in route.fields.items() if key != name}
        cases.append(Case(route, f"{name} missing", _json(without)))
        for wrong in WRONG_TYPES:
            cases.append(Case(route, f"{name}={wrong!r}", _json(route.fields | {name: wrong})))
        for odd in ODD_STRINGS:
            cases.append(Case(route, f"{name}={odd[:12]!r}", _json(route.fields | {name: odd})))
    return cases


def _header_cases(route: Route) -> list[Case]:
    body = _json(route.fields) if route.fields else None
    cases = [
        Case(route, "no internal token", body, headers={"Authorization": ""}),
        Case(route, "garbage token", body, headers={"Authorization": "Bearer not.a.jwt"}),
        Case(route, "basic auth", body, headers={"Authorization": "Basic Ym9iOnB3"}),
    ]
    if route.device:
        for device in ["", "x" * 10_000, "dev ice", "😀", "a\tb"]:
            cases.append(Case(route, f"device={device[:12]!r}", body, headers={"X-Device-Id": device}))
        cases.append(Case(route, "no device header", body, headers={"X-Device-Id": ""}))
    if route.signed_in:
        for subject in ["not-a-uuid", "", "00000000-0000-0000-0000-000000000000", "😀"]:
            cases.append(Case(route, f"subject={subject!r}", body, signed_in_as=subject))
    return cases


def _all_cases() -> list[Case]:
    cases: list[Case] = []
    for route in ROUTES:
        if route.fields:
            cases.extend(_body_cases(route))
        cases.extend(_header_cases(route))
    for count in ["abc", "-1", "0", "101", "1e3", str(10**40), "%00"]:
        cases.append(Case(Route("POST", f"/seed/{count}"), f"seed count {count}"))
    cases.append(Case(Route("POST", "/seed/{count}"), "unexpanded path template"))
    return cases


async def _send(api: AuthApi, case: Case) -> httpx.Response:
    headers = {"Content-Type": case.content_type}
    if case.route.device:
        headers["X-Device-Id"] = "laptop-1"
    # An empty value in a case means "leave the header out" (X-Device-Id) or "send it empty" (Authorization).
    headers |= case.headers
    if headers.get("X-Device-Id") == "":
        del headers["X-Device-Id"]
    auth: httpx.Auth | httpx._client.UseClientDefault = httpx.USE_CLIENT_DEFAULT
    if case.route.signed_in:
        auth = api.as_user(case.signed_in_as if case.signed_in_as is not None else _NO_SUCH_USER)
    return await api.client.request(
        case.route.method,
        f"{BASE}{case.route.path}",
        content=case.content,
        # Raw UTF-8 bytes: a client may send any octets in a header, not only ASCII.
        headers=[(name.encode(), value.encode()) for name, value in headers.items()],
        auth=auth,
    )


_NO_SUCH_USER = "6f0c1c3e-8d9f-4a57-9a5e-1f0d0f0b7c11"


async def test_every_route_answers_malformed_input_with_a_4xx_and_a_message(loaded_auth_api: AuthApi) -> None:
    assert (await loaded_auth_api.sign_up(username="bob", email="bob@example.com")).status_code == 202
    cases = _all_cases()
    failures: list[str] = []

    for case in cases:
        response = await _send(loaded_auth_api, case)
        label = f"{case.route.method} {case.route.path} [{case.label}] -> {response.status_code}"
        if response.status_code >= 500:
            failures.append(f"{label}: {response.text[:300]}")
        elif response.status_code >= 400:
            error = response.json().get("error", {})
            if not (isinstance(error, dict) and error.get("code") and error.get("message")):
                failures.append(f"{label}: no error body: {response.text[:300]}")

    assert len(cases) > 300
    assert failures == []
