"""GatewayClient: every call the storefront makes, by operationId, to the gateway's public API.

Method and path come from operations.py (checked against the gateway's OpenAPI by a test). The client adds
the session's access token, refreshes it through ``auth.refresh`` once when it has expired or the gateway
answers 401, and signs the session out when the refresh is refused. Calls that never reached the gateway, and
idempotent calls that met a timeout or a 502/503/504, are retried with a short backoff; anything else is
answered once. A 4xx becomes ``GatewayError`` (pages show its message); no answer or a 5xx becomes
``GatewayUnavailable`` (the 503 page).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from servicekit.logging import get_correlation_id

from storefront_service.operations import OPERATIONS, PUBLIC_PREFIX, Operation
from storefront_service.sessions import Session

logger = logging.getLogger(__name__)

_RETRY_STATUSES = frozenset({502, 503, 504})
_BACKOFF_SECONDS = (0.1, 0.3, 0.8, 1.5, 3.0)

# Set per request by the session middleware: who the browser is, for the gateway's per-IP limits and for
# auth's known-device check (X-Device-Id).
client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)
device_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("device_id", default=None)

QueryValue = str | int | float | bool | None


@dataclass
class GatewayError(Exception):
    """The gateway refused the request (4xx): the message is for the user, ``details`` for the form."""

    status_code: int
    code: str
    message: str
    details: Any = None
    retry_after: str | None = None

    def __str__(self) -> str:
        return f"{self.status_code} {self.code}: {self.message}"

    def field_errors(self) -> dict[str, str]:
        """Per-field messages from a 422's details (servicekit's ``{"field": "body.email", "message"}``
        items), keyed by the last part of the field's path, so a form shows each beside its input."""
        found: dict[str, str] = {}
        items = self.details if isinstance(self.details, list) else []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("field"), str) and item["field"]:
                name = item["field"].rsplit(".", 1)[-1]
                found.setdefault(name, _readable(str(item.get("message") or "is not valid")))
        return found


def _readable(message: str) -> str:
    # pydantic's "String should match pattern '^...$'" tells a person nothing; say what is wrong instead.
    if message.startswith("String should match pattern"):
        return "Not in the expected format."
    if message.startswith("Value error, "):
        return message.removeprefix("Value error, ")
    return message


class GatewayUnavailable(Exception):  # noqa: N818 - the page says "unavailable"; the name reads the same
    """No usable answer: the gateway is down, timed out or failed (5xx)."""


class SignedOutError(Exception):
    """The session's tokens are no longer accepted (refresh refused): the user must sign in again."""


class UnknownOperationError(KeyError):
    pass


@dataclass
class GatewayResponse:
    status_code: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


class GatewayClient:
    def __init__(self, http: httpx.AsyncClient, *, max_retries: int = 2) -> None:
        self._http = http
        self._max_retries = max_retries

    async def call(
        self,
        operation_id: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        session: Session | None = None,
    ) -> Any:
        """The decoded JSON body of a 2xx answer (None when it has none)."""
        return (await self.request(operation_id, path=path, query=query, json=json, session=session)).body

    async def request(
        self,
        operation_id: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        session: Session | None = None,
    ) -> GatewayResponse:
        operation = OPERATIONS.get(operation_id)
        if operation is None:
            raise UnknownOperationError(operation_id)
        url = PUBLIC_PREFIX + _fill(operation.path, path or {})
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None and v != ""}
        authorised = session is not None and session.signed_in and operation.session != "none"
        if operation.session == "required" and not authorised:
            raise SignedOutError(operation_id)
        if authorised and session is not None and time.time() >= session.access_expires_at:
            await self._refresh(session)
        answer = await self._send(operation, url, params, json, session if authorised else None)
        if answer.status_code == 401 and authorised and session is not None:
            await self._refresh(session)
            answer = await self._send(operation, url, params, json, session)
        if answer.status_code == 401 and operation.session == "required":
            if session is not None:
                session.forget_user()
            raise SignedOutError(operation_id)
        return _result(answer)

    async def _refresh(self, session: Session) -> None:
        if not session.refresh_token:
            session.forget_user()
            raise SignedOutError("auth.refresh")
        refresh = OPERATIONS["auth.refresh"]
        answer = await self._send(
            refresh, PUBLIC_PREFIX + refresh.path, {}, {"refresh_token": session.refresh_token}, None
        )
        if answer.status_code == 200:
            body = answer.json()
            session.set_tokens(body["access_token"], body["refresh_token"], int(body["expires_in"]))
            return
        if 400 <= answer.status_code < 500:
            # Expired, revoked (signed out elsewhere, password changed) or reused: this session is over.
            session.forget_user()
            raise SignedOutError("auth.refresh")
        raise GatewayUnavailable(f"auth.refresh answered {answer.status_code}")

    async def _send(
        self,
        operation: Operation,
        url: str,
        params: Mapping[str, str],
        json: Any,
        session: Session | None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if session is not None and session.access_token:
            headers["Authorization"] = f"Bearer {session.access_token}"
        if (ip := client_ip.get()) is not None:
            headers["X-Forwarded-For"] = ip
        if (device := device_id.get()) is not None:
            headers["X-Device-Id"] = device
        if (correlation := get_correlation_id()) is not None:
            headers["X-Correlation-ID"] = correlation
        attempts = 1 + self._max_retries
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                answer = await self._http.request(
                    operation.method, url, params=params, json=json, headers=headers
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                # Never reached the gateway: safe to repeat whatever the method.
                if last:
                    raise GatewayUnavailable(f"{operation.method} {url}: {type(error).__name__}") from error
            except httpx.TransportError as error:
                # Sent, answer lost: only an idempotent call may be repeated.
                if last or not operation.idempotent:
                    raise GatewayUnavailable(f"{operation.method} {url}: {type(error).__name__}") from error
            else:
                if answer.status_code not in _RETRY_STATUSES or last or not operation.idempotent:
                    return answer
            await asyncio.sleep(_BACKOFF_SECONDS[min(attempt, len(_BACKOFF_SECONDS) - 1)])
        raise AssertionError("unreachable: the last attempt returns or raises")


def _fill(template: str, values: Mapping[str, str]) -> str:
    try:
        # Each value is one path segment: quote everything, "/" included, so input cannot reach another route.
        return template.format(**{k: quote(str(v), safe="") for k, v in values.items()})
    except KeyError as missing:
        raise ValueError(f"path parameter {missing} missing for {template}") from None


def _query_value(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _result(answer: httpx.Response) -> GatewayResponse:
    body: Any = None
    if answer.content:
        try:
            body = answer.json()
        except ValueError:
            body = None
    if answer.status_code < 400:
        return GatewayResponse(answer.status_code, body, dict(answer.headers))
    if answer.status_code >= 500:
        raise GatewayUnavailable(f"gateway answered {answer.status_code}")
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    raise GatewayError(
        status_code=answer.status_code,
        code=str(error.get("code", "error")),
        message=str(error.get("message") or _DEFAULT_MESSAGES.get(answer.status_code, "Request refused")),
        details=error.get("details"),
        retry_after=answer.headers.get("Retry-After"),
    )


_DEFAULT_MESSAGES = {
    400: "The request was not valid.",
    401: "Please sign in.",
    403: "You are not allowed to do that.",
    404: "Not found.",
    409: "That conflicts with the current state; reload and try again.",
    422: "Some fields are not valid.",
    429: "Too many attempts; wait a moment and try again.",
}
