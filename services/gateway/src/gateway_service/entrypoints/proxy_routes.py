"""Pass-through routes: one per public operation of the generated table that has no handler of its own.

``/api/v1/gateway/<group>/...`` -> ``<SERVICE>_SERVICE_URL/api/v1/<group>/...`` with a fresh internal token.
Each route is exactly one operation of ``public_operations.json`` (its path template, method and
``operationId``), so nothing is proxied that is not published; any other path is a 404 in the error shape.
The session rule comes from the operation: ``required`` answers 401 without a valid session, ``optional``
uses one when sent; either way the user id travels in the internal token and the service authorises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from servicekit.errors import error_body
from servicekit.logging import get_correlation_id

from gateway_service.adapters.downstream import DownstreamClient
from gateway_service.domain.sessions import AccessClaims
from gateway_service.entrypoints.client_disconnect import unless_client_leaves
from gateway_service.entrypoints.dependencies import (
    CurrentSessionDep,
    DeviceIdHeader,
    DownstreamDep,
    OptionalSessionDep,
    enforce_ip_budget,
    forwarded_headers,
)
from gateway_service.entrypoints.fast_routes import FastProxyRoute, fast_path
from gateway_service.entrypoints.public_api import PUBLIC_PREFIX, PublicApi, PublicOperation
from gateway_service.entrypoints.relay import relay

# Request headers worth passing on; everything else (cookies, hop-by-hop headers, the client's own
# Authorization) stays at the edge. `stripe-signature` is what `payments.webhook` verifies the raw body with.
_FORWARDED_REQUEST_HEADERS = (
    "content-type",
    "accept",
    "accept-language",
    "if-none-match",
    "if-match",
    "stripe-signature",
)
_SERVICE_PREFIX = "/api/v1/"


async def forward(
    operation: PublicOperation,
    request: Request,
    downstream: DownstreamDep,
    session: AccessClaims | None,
    device_id: str | None,
) -> Response:
    """Forward the request to the operation's service, path and query unchanged below the group prefix."""
    # The raw path keeps the client's percent-encoding: the service decodes exactly what the client sent.
    raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    headers = forwarded_headers(device_id)
    for name in _FORWARDED_REQUEST_HEADERS:
        if name in request.headers:
            headers[name] = request.headers[name]
    body = await request.body()  # whole, before the call: then the next message can only be a disconnect
    call = downstream.request(
        operation.service,
        request.method,
        _SERVICE_PREFIX + raw_path.removeprefix(PUBLIC_PREFIX),
        content=body,
        params=list(request.query_params.multi_items()),
        forward_headers=headers,
        subject=session.user_id if session else None,
        session_id=session.session_id if session else None,
        email_verified=session.email_verified if session else False,
    )
    return relay(await unless_client_leaves(request.receive, call))


Endpoint = Callable[..., Awaitable[Response]]


def _endpoint(operation: PublicOperation) -> Endpoint:
    # One signature per session rule: FastAPI reads the dependencies (and the documented security) from it.
    # The same rule, stated for the fast path, lets `FastProxyRoute` skip solving them per request.
    async def call(
        request: Request,
        downstream: DownstreamClient,
        session: AccessClaims | None,
        device_id: str | None,
    ) -> Response:
        return await forward(operation, request, downstream, session, device_id)

    if operation.session == "required":

        @fast_path(call, session="required", takes_device_id=True)
        async def with_session(
            request: Request,
            downstream: DownstreamDep,
            session: CurrentSessionDep,
            device_id: DeviceIdHeader = None,
        ) -> Response:
            return await forward(operation, request, downstream, session, device_id)

        return with_session
    if operation.session == "optional":

        @fast_path(call, session="optional", takes_device_id=True)
        async def maybe_session(
            request: Request,
            downstream: DownstreamDep,
            session: OptionalSessionDep,
            device_id: DeviceIdHeader = None,
        ) -> Response:
            return await forward(operation, request, downstream, session, device_id)

        return maybe_session

    @fast_path(call, session="none", takes_device_id=True)
    async def anonymous(
        request: Request, downstream: DownstreamDep, device_id: DeviceIdHeader = None
    ) -> Response:
        return await forward(operation, request, downstream, None, device_id)

    return anonymous


def passthrough_router(public_api: PublicApi, handled_elsewhere: Collection[str]) -> APIRouter:
    """Routes for every published operation whose id is not in ``handled_elsewhere``."""
    router = APIRouter(dependencies=[Depends(enforce_ip_budget)], route_class=FastProxyRoute)
    # Fixed paths before templates: `/sellers/random` must not be taken for `/sellers/{seller_id}`.
    for operation in sorted(public_api.operations, key=lambda o: (o.public_path.count("{"), o.public_path)):
        if operation.operation_id in handled_elsewhere:
            continue
        extra: dict[str, Any] = {"tags": [operation.operation_id.split(".", 1)[0]]}
        router.add_api_route(
            operation.public_path,
            _endpoint(operation),
            methods=[operation.method],
            operation_id=operation.operation_id,
            **extra,
        )
    _answer_other_methods(router, public_api, handled_elsewhere)
    return router


_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _answer_other_methods(
    router: APIRouter, public_api: PublicApi, handled_elsewhere: Collection[str]
) -> None:
    """A 405 listing every method of the path, for paths published with more than one method.

    Starlette answers a method a path lacks from the first route of that path alone, so `GET` + `PUT` on one
    path would answer `Allow: GET`. One extra route per such path takes every other method instead; a fixed
    path its template also matches (`/sellers/random` for `/sellers/{seller_id}`) is answered with its own.
    """
    methods: dict[str, set[str]] = {}
    for operation in public_api.operations:
        if operation.operation_id not in handled_elsewhere:
            methods.setdefault(operation.public_path, set()).add(operation.method)
    fixed = {path: documented for path, documented in methods.items() if "{" not in path}
    for path, documented in methods.items():
        if len(documented) < 2:
            continue
        allowed = documented | ({"HEAD"} if "GET" in documented else set())
        router.add_api_route(
            path,
            _method_not_allowed(documented, fixed),
            methods=sorted(_HTTP_METHODS - allowed),
            include_in_schema=False,
        )


def _method_not_allowed(
    documented: set[str], fixed: dict[str, set[str]]
) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def not_allowed(request: Request) -> JSONResponse:
        methods = fixed.get(request.url.path, documented)
        body = error_body("method_not_allowed", "Method Not Allowed", correlation_id=get_correlation_id())
        return JSONResponse(body, status_code=405, headers={"Allow": ", ".join(sorted(methods))})

    return not_allowed
