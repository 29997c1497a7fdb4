"""Turning a downstream answer into the gateway's HTTP response."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from servicekit.errors import BadGateway

from gateway_service.adapters.downstream import DownstreamResponse


def relay(downstream: DownstreamResponse) -> Response:
    """Pass the service's status, body and safe headers through unchanged."""
    headers = {name: value for name, value in downstream.headers.items() if name != "content-type"}
    return Response(
        content=downstream.content,
        status_code=downstream.status_code,
        media_type=downstream.media_type,
        headers=headers,
    )


def user_from(downstream: DownstreamResponse) -> dict[str, Any]:
    """The ``user`` object of an auth answer; a malformed answer is the service's fault (502)."""
    try:
        body = downstream.json()
        user = body["user"]
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            return user
    except (ValueError, KeyError, TypeError):
        pass
    raise BadGateway("The auth service returned an unexpected answer")
