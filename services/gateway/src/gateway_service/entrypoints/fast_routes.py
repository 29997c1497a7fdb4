"""Proxied operations without FastAPI's per-request dependency solving (ADR 0024, third pass).

Every proxied operation runs the same few steps: the edge's admission (address and account budgets, session
liveness: `enforce_ip_budget`), the session rule (`optional_session`, `current_session`), then the call to
the service. FastAPI re-derives that from the endpoint's signature on every request (dependency graph, cache
keys, parameter validation): ~12 % of the gateway's py-spy samples per proxied read (docs/benchmarks.md).

`FastProxyRoute` is an ordinary `APIRoute`: the same path, method, operation id, parameters and security in
the OpenAPI document, the same routing (fixed paths before templates, the 405s) and body limit, and errors
still raised into the same exception handlers. Only its request handler differs, for endpoints marked with
`fast_path(...)`: it calls those same dependency functions, in FastAPI's order, directly. Anything FastAPI
would answer itself takes FastAPI's own handler instead, so the answer is the same either way:
- an `X-Device-Id` that FastAPI's parameter validation would refuse (its 422), or sent more than once;
- dependency overrides on the app (tests replace dependencies; the direct calls would not see them).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from fastapi import Request, Response
from fastapi.routing import APIRoute

from gateway_service.adapters.downstream import DownstreamClient
from gateway_service.domain.sessions import AccessClaims
from gateway_service.entrypoints.bootstrap import GatewayDependencies
from gateway_service.entrypoints.dependencies import (
    DEVICE_ID_MAX_LENGTH,
    DEVICE_ID_PATTERN,
    bearer_credentials,
    current_session,
    enforce_ip_budget,
    optional_session,
)

SessionUse = Literal["required", "optional", "none"]
ProxyCall = Callable[[Request, DownstreamClient, AccessClaims | None, str | None], Awaitable[Response]]
"""(request, downstream, session or None, X-Device-Id or None) -> the relayed answer."""

_FAST_PATH_ATTRIBUTE = "__gateway_fast_path__"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN.removeprefix("^").removesuffix("$"))


@dataclass(frozen=True)
class FastPath:
    """What an endpoint's signature says, stated once: its session rule, whether it reads X-Device-Id, and the
    call it makes once admitted."""

    session: SessionUse
    takes_device_id: bool
    call: ProxyCall


EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])


def fast_path(
    call: ProxyCall, *, session: SessionUse, takes_device_id: bool
) -> Callable[[EndpointT], EndpointT]:
    """Mark a FastAPI endpoint as a pure proxy whose `FastProxyRoute` handler may run `call` directly.

    `session` and `takes_device_id` must match the endpoint's own parameters (`CurrentSessionDep`,
    `OptionalSessionDep`, `DeviceIdHeader`); tests/unit/test_fast_routes.py checks every marked route.
    """

    def mark(endpoint: EndpointT) -> EndpointT:
        setattr(endpoint, _FAST_PATH_ATTRIBUTE, FastPath(session, takes_device_id, call))
        return endpoint

    return mark


def fast_path_of(endpoint: object) -> FastPath | None:
    spec = getattr(endpoint, _FAST_PATH_ATTRIBUTE, None)
    return spec if isinstance(spec, FastPath) else None


def _device_id(request: Request) -> tuple[bool, str | None]:
    """(usable by the fast path, the header's value): FastAPI validates what is refused or ambiguous."""
    return device_id_verdict(request.headers.getlist("x-device-id"))


def device_id_verdict(values: list[str]) -> tuple[bool, str | None]:
    """The same verdict from the header's values (also read straight from the ASGI scope by the front
    dispatch, entrypoints/front_dispatch.py)."""
    if not values:
        return True, None
    if len(values) > 1:
        return False, None
    value = values[0]
    return len(value) <= DEVICE_ID_MAX_LENGTH and _DEVICE_ID.fullmatch(value) is not None, value


async def run_fast_path(spec: FastPath, request: Request, device_id: str | None) -> Response:
    """Admission, the session rule and the call, as FastAPI would solve them for the marked endpoint."""
    deps: GatewayDependencies = request.app.state.deps
    # FastAPI's order: the router's dependency first, then the endpoint's session.
    await enforce_ip_budget(request)
    session: AccessClaims | None = None
    if spec.session != "none":
        session = await optional_session(request, await bearer_credentials(request))
        if spec.session == "required":
            session = await current_session(session)
    return await spec.call(request, deps.downstream, session, device_id)


class FastProxyRoute(APIRoute):
    """An `APIRoute` whose marked endpoints skip dependency solving (module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # Built in FastAPI's context for this route (an included router's dependencies are part of it).
        standard = super().get_route_handler()
        spec = fast_path_of(self.endpoint)
        if spec is None:
            return standard

        async def handler(request: Request) -> Response:
            if request.app.dependency_overrides:
                return await standard(request)
            device_id: str | None = None
            if spec.takes_device_id:
                usable, device_id = _device_id(request)
                if not usable:
                    return await standard(request)
            return await run_fast_path(spec, request, device_id)

        return handler
