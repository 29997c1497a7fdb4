"""Downstream HTTP client: gateway -> internal service calls.

Every call mints its own internal token and builds its own headers; the shared links only hold keep-alive
connections and timeouts (no cookie jar, adapters/http_link.py), so nothing about one caller can leak into
another's request.
Failures become the shared error shape: a service that cannot be reached is 503, one that does not answer
in time is 504, and anything else broken (5xx, protocol errors) is 502, never a 500 carrying internals.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from opentelemetry import trace
from servicekit.errors import BadGateway, GatewayTimeout, ServiceUnavailable, ValidationFailed
from servicekit.logging import get_correlation_id
from servicekit.security import InternalTokenIssuer
from servicekit.tracing import inject_trace_headers

from gateway_service.adapters.http_link import (
    ServiceAddress,
    ServiceConnectionBrokenError,
    ServiceLinks,
    ServiceUnreachableError,
    service_address,
)

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("gateway_service.downstream")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Response headers a client may legitimately need; hop-by-hop and server internals are dropped.
FORWARDED_RESPONSE_HEADERS = (
    "content-type",
    "retry-after",
    "location",
    "etag",
    "last-modified",
    "cache-control",
)
_FORWARDED_RESPONSE_PAIRS = tuple((name, name.encode()) for name in FORWARDED_RESPONSE_HEADERS)
_FORWARDED_RESPONSE_NAMES = frozenset(raw for _, raw in _FORWARDED_RESPONSE_PAIRS)
_RETRY_BACKOFF_SECONDS = 0.05


@dataclass(frozen=True)
class DownstreamResponse:
    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.content) if self.content else None

    @property
    def media_type(self) -> str | None:
        return self.headers.get("content-type")


def _is_visible_ascii(value: str) -> bool:
    # " " to "~": ASCII without its control characters (NUL to US, DEL). Two C-level checks instead of a
    # Python loop over every character of every forwarded header.
    return value.isascii() and value.isprintable()


class DownstreamClient:
    def __init__(
        self,
        links: ServiceLinks,
        issuer: InternalTokenIssuer,
        service_urls: Mapping[str, str | None],
        *,
        max_retries: int = 2,
    ) -> None:
        self._links = links
        self._issuer = issuer
        # Parsed once: a malformed service URL fails the gateway's start, not a request.
        self._addresses = {name: service_address(url) for name, url in service_urls.items() if url}
        self._max_retries = max_retries

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: list[tuple[str, str | int | float | bool | None]] | None = None,
        forward_headers: Mapping[str, str] | None = None,
        subject: str | None = None,
        session_id: str | None = None,
        email_verified: bool = False,
        idempotent: bool | None = None,
    ) -> DownstreamResponse:
        """``idempotent`` overrides the method's HTTP semantics for retries after a transport error: a PUT
        that checks and changes a password must not run twice (the second run sees the new password)."""
        address = self._addresses.get(service)
        if address is None:
            raise ServiceUnavailable(f"The {service} service is not available yet")
        method = method.upper()
        # This is the hop's client span (no process-wide HTTP client instrumentation), and the headers are
        # built inside it so the service's span is its child.
        with tracer.start_as_current_span(
            method,
            kind=trace.SpanKind.CLIENT,
            attributes={"http.request.method": method, "peer.service": service},
        ) as span:
            headers = self._headers(service, forward_headers, subject, session_id, email_verified)
            body = content
            if body is None and json_body is not None:
                body = _json_bytes(json_body)
                if not any(name.lower() == "content-type" for name in headers):
                    headers["Content-Type"] = "application/json"
            target = request_target(address.path_prefix, path, params)
            repeatable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
            answer = await self._send_with_retries(
                service, repeatable, method, address, target, headers, body or None
            )
            span.set_attribute("http.response.status_code", answer.status_code)
            return self._accept(service, answer)

    def _headers(
        self,
        service: str,
        forward_headers: Mapping[str, str] | None,
        subject: str | None,
        session_id: str | None,
        email_verified: bool,
    ) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, value in (forward_headers or {}).items():
            # Header values are ASCII on the wire; anything else (a client's latin-1 or UTF-8 bytes, control
            # characters) is refused as the client's error rather than failing to encode (a 500).
            if not _is_visible_ascii(value):
                raise ValidationFailed(
                    f"The {name} header is not valid",
                    details=[{"field": name, "message": "must be visible ASCII"}],
                )
            headers[name] = value
        # email_verified is the session's (docs/contracts.md, internal token); services that need a verified
        # address check it (servicekit.security.VerifiedUserIdDep).
        claims = {"email_verified": email_verified} if subject is not None else None
        headers["Authorization"] = "Bearer " + self._issuer.issue(
            service, subject=subject, session_id=session_id, extra=claims
        )
        correlation_id = get_correlation_id()
        if correlation_id:
            headers["X-Correlation-ID"] = correlation_id
        inject_trace_headers(headers)
        return headers

    async def _send_with_retries(
        self,
        service: str,
        repeatable: bool,
        method: str,
        address: ServiceAddress,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> DownstreamResponse:
        attempt = 0
        while True:
            try:
                return await self._send(method, address, target, headers, body)
            except ServiceUnreachableError as error:
                # Nothing reached the service (refused, unresolvable, no connection within the connect
                # timeout), so repeating is safe for every method.
                if attempt >= self._max_retries:
                    logger.warning("downstream unreachable", extra={"service": service, "error": repr(error)})
                    raise ServiceUnavailable(f"The {service} service is unavailable") from error
            except TimeoutError as error:  # ServiceReadTimeoutError, the read timeout
                logger.warning("downstream timed out", extra={"service": service, "error": repr(error)})
                raise GatewayTimeout(f"The {service} service did not answer in time") from error
            except ServiceConnectionBrokenError as error:
                # Disconnects, malformed answers, broken bodies: the request may have been processed, so
                # only idempotent methods are repeated.
                if not repeatable or attempt >= self._max_retries:
                    logger.warning(
                        "downstream transport error", extra={"service": service, "error": repr(error)}
                    )
                    raise BadGateway(f"The {service} service failed to answer") from error
            attempt += 1
            await asyncio.sleep(_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))

    async def _send(
        self, method: str, address: ServiceAddress, target: str, headers: dict[str, str], body: bytes | None
    ) -> DownstreamResponse:
        answer = await self._links.exchange(address, method, target, headers.items(), body)
        return DownstreamResponse(
            status_code=answer.status, content=answer.body, headers=_kept_headers(answer.headers)
        )

    @staticmethod
    def _accept(service: str, response: DownstreamResponse) -> DownstreamResponse:
        if response.status_code >= 500:
            logger.warning(
                "downstream server error", extra={"service": service, "status_code": response.status_code}
            )
            if response.status_code == 503:
                raise ServiceUnavailable(f"The {service} service is unavailable")
            if response.status_code == 504:
                raise GatewayTimeout(f"The {service} service did not answer in time")
            raise BadGateway(f"The {service} service failed to answer")
        return response


# What may stay unescaped in a path: RFC 3986 pchar plus "/" and "%" (the client's own escapes are kept,
# so the service decodes exactly what the client sent); anything else (spaces, quotes, non-ASCII) is
# percent-encoded, as httpx did.
_PATH_SAFE = "/%!$&'()*+,;=:@-._~"


# Targets without a query, by (base path, path): the same few paths (`/me`, a gig's page) come again and
# again, and quoting the path was per-request work. Bounded; emptied when full.
_URLS_KEPT = 4096
_urls: dict[tuple[str, str], str] = {}


def request_target(
    base_path: str, path: str, params: list[tuple[str, str | int | float | bool | None]] | None
) -> str:
    """The request line's target (path and query), percent-encoded once; sent as it is."""
    if not params:
        target = _urls.get((base_path, path))
        if target is None:
            if len(_urls) >= _URLS_KEPT:
                _urls.clear()
            target = _urls[(base_path, path)] = base_path + quote(path, safe=_PATH_SAFE)
        return target
    query = urlencode([(key, _query_value(value)) for key, value in params], quote_via=quote)
    return base_path + quote(path, safe=_PATH_SAFE) + "?" + query


def _kept_headers(received: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The forwardable response headers, repeated ones joined with ", " (as aiohttp's `getall` was)."""
    found: dict[bytes, list[bytes]] = {}
    for name, value in received:
        if name in _FORWARDED_RESPONSE_NAMES:
            found.setdefault(name, []).append(value)
    return {
        name: ", ".join(value.decode("latin-1") for value in found[raw])
        for name, raw in _FORWARDED_RESPONSE_PAIRS
        if raw in found
    }


def _query_value(value: str | int | float | bool | None) -> str:
    # httpx's spelling of non-string values, which the services' query parsing already accepts.
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
