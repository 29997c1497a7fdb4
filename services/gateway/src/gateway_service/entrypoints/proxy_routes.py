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
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from gateway_service.domain.sessions import AccessClaims
from gateway_service.entrypoints.dependencies import (
    CurrentSessionDep,
    DeviceIdHeader,
    DownstreamDep,
    OptionalSessionDep,
    enforce_ip_budget,
    forwarded_headers,
)
from gateway_service.entrypoints.public_api import PUBLIC_PREFIX, PublicApi, PublicOperation
from gateway_service.entrypoints.relay import relay

# Request headers worth passing on; everything else (cookies, hop-by-hop headers, the client's own
# Authorization) stays at the edge.
_FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "accept-language", "if-none-match", "if-match")
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
    answer = await downstream.request(
        operation.service,
        request.method,
        _SERVICE_PREFIX + raw_path.removeprefix(PUBLIC_PREFIX),
        content=await request.body(),
        params=list(request.query_params.multi_items()),
        forward_headers=headers,
        subject=session.user_id if session else None,
        session_id=session.session_id if session else None,
    )
    return relay(answer)


Endpoint = Callable[..., Awaitable[Response]]


def _endpoint(operation: PublicOperation) -> Endpoint:
    # One signature per session rule: FastAPI reads the dependencies (and the documented security) from it.
    if operation.session == "required":

        async def with_session(
            request: Request,
            downstream: DownstreamDep,
            session: CurrentSessionDep,
            device_id: DeviceIdHeader = None,
        ) -> Response:
            return await forward(operation, request, downstream, session, device_id)

        return with_session
    if operation.session == "optional":

        async def maybe_session(
            request: Request,
            downstream: DownstreamDep,
            session: OptionalSessionDep,
            device_id: DeviceIdHeader = None,
        ) -> Response:
            return await forward(operation, request, downstream, session, device_id)

        return maybe_session

    async def anonymous(
        request: Request, downstream: DownstreamDep, device_id: DeviceIdHeader = None
    ) -> Response:
        return await forward(operation, request, downstream, None, device_id)

    return anonymous


class _OneMethodRoute(APIRoute):
    """A route that does not claim a request of another method: Starlette answers 405 from the first route
    whose path matches, so with several operations on one path (GET, PATCH, DELETE of `/gigs/{gig_id}`)
    its `Allow` would name one method. The 405 comes from `_method_not_allowed` instead."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        return (Match.NONE, {}) if match is Match.PARTIAL else (match, child_scope)


_ALL_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method_not_allowed(allowed: Collection[str]) -> Callable[[], Awaitable[Response]]:
    allow = ", ".join(sorted(allowed))

    async def refuse() -> Response:
        raise StarletteHTTPException(405, headers={"Allow": allow})

    return refuse


def _literal_first(path: str) -> tuple[int, ...]:
    """Sort key: at each segment a literal before a parameter, so `/gigs/search` is tried before
    `/gigs/{gig_id}` (Starlette takes the first route that matches)."""
    return tuple(int(segment.startswith("{")) for segment in path.split("/"))


def passthrough_router(public_api: PublicApi, handled_elsewhere: Collection[str]) -> APIRouter:
    """Routes for every published operation whose id is not in ``handled_elsewhere``, grouped by path with
    literal paths first, each group closed by one 405 answer naming every method published on the path."""
    router = APIRouter(dependencies=[Depends(enforce_ip_budget)], route_class=_OneMethodRoute)
    by_path: dict[str, list[PublicOperation]] = {}
    for operation in public_api.operations:
        if operation.operation_id not in handled_elsewhere:
            by_path.setdefault(operation.public_path, []).append(operation)
    for path in sorted(by_path, key=_literal_first):
        methods = {operation.method for operation in by_path[path]}
        for operation in by_path[path]:
            extra: dict[str, Any] = {"tags": [operation.operation_id.split(".", 1)[0]]}
            router.add_api_route(
                path,
                _endpoint(operation),
                methods=[operation.method],
                operation_id=operation.operation_id,
                **extra,
            )
        router.add_api_route(
            path,
            _method_not_allowed(methods),
            methods=sorted(_ALL_METHODS - methods - ({"HEAD"} if "GET" in methods else set())),
            include_in_schema=False,
            route_class_override=APIRoute,
        )
    return router
