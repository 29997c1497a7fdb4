"""Every dependency of every auth route is ``async def``: FastAPI would run a plain ``def`` in its
threadpool, one thread hop per request (profiling found it on the auth hot path)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from auth_service.entrypoints.routes import router
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from servicekit.security.dependencies import verify_internal_token


def _dependency_calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _dependency_calls(dependency)


def test_no_route_dependency_runs_in_the_threadpool() -> None:
    auth_routes = [route for route in router.routes if isinstance(route, APIRoute)]
    # servicekit attaches the internal-token check to the whole router when the app includes it.
    calls = {verify_internal_token} | {
        call for route in auth_routes for call in _dependency_calls(route.dependant)
    }

    assert len(auth_routes) == 11
    assert len(calls) >= 4  # token check, handler dependencies, current user id, account id
    blocking = sorted(_name(call) for call in calls if not _is_async(call))
    assert blocking == []


def test_route_endpoints_are_async() -> None:
    routes = [route for route in router.routes if isinstance(route, APIRoute)]
    blocking = [route.path for route in routes if not _is_async(route.endpoint)]

    assert blocking == []


def _is_async(call: Any) -> bool:
    # Dependencies may be functions or callable instances (fastapi.security.HTTPBearer is one).
    return inspect.iscoroutinefunction(call) or (
        not inspect.isfunction(call) and inspect.iscoroutinefunction(type(call).__call__)
    )


def _name(call: Any) -> str:
    return f"{call.__module__}.{getattr(call, '__qualname__', type(call).__qualname__)}"
