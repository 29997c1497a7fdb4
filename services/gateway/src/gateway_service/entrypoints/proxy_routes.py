"""Generic proxy: ``/api/v1/gateway/<group>/{path}`` -> ``<GROUP>_SERVICE_URL/api/v1/<group>/{path}``.

Authentication is optional here (anonymous gig search is public); when a bearer token is sent it must be
valid, and the user id travels in the internal token. Each service enforces its own authorisation.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from servicekit.errors import NotFound

from gateway_service.entrypoints.dependencies import (
    DeviceIdHeader,
    DownstreamDep,
    OptionalSessionDep,
    enforce_ip_budget,
    forwarded_headers,
)
from gateway_service.entrypoints.relay import relay
from gateway_service.settings import PROXIED_GROUPS

router = APIRouter(prefix="/api/v1/gateway", tags=["proxy"], dependencies=[Depends(enforce_ip_budget)])

PROXIED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Request headers worth passing on; everything else (cookies, hop-by-hop headers, the client's own
# Authorization) stays at the edge.
_FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "accept-language", "if-none-match", "if-match")


async def proxy(
    group: str,
    path: str,
    request: Request,
    downstream: DownstreamDep,
    session: OptionalSessionDep,
    device_id: DeviceIdHeader = None,
) -> Response:
    """Forward the request to the group's service with a fresh internal token."""
    if group not in PROXIED_GROUPS or ".." in path.split("/"):
        # ".." would let a client climb out of the group's prefix on the target service.
        raise NotFound(f"No route /api/v1/gateway/{group}/{path}")
    headers = forwarded_headers(device_id)
    for name in _FORWARDED_REQUEST_HEADERS:
        if name in request.headers:
            headers[name] = request.headers[name]
    answer = await downstream.request(
        group,
        request.method,
        f"/api/v1/{group}/{path}",
        content=await request.body(),
        params=[(name, value) for name, value in request.query_params.multi_items()],
        forward_headers=headers,
        subject=session.user_id if session else None,
        session_id=session.session_id if session else None,
    )
    return relay(answer)


# One route per method so every operation has its own OpenAPI operationId.
for _method in PROXIED_METHODS:
    router.add_api_route(
        "/{group}/{path:path}",
        proxy,
        methods=[_method],
        operation_id=f"proxy_{_method.lower()}",
        summary=f"{_method} on an internal service",
        description=f"Groups: {', '.join(PROXIED_GROUPS)}. A group without a deployed service answers 503.",
        responses={
            404: {"description": "Unknown group"},
            503: {"description": "The group's service is not available"},
        },
    )
