"""The app's routes registered flat, not through FastAPI's per-include matching (ADR 0024, fourth pass).

FastAPI 0.165 keeps each `include_router` as one `_IncludedRouter` entry of the app's router. Matching a
request walks it twice (once to find the entry that matches, once more to select the route inside it), and
each walk first sums the included router's route versions (a loop over all its routes) to see whether its
cached per-include contexts are stale. py-spy put routing at ~5.5 % of the gateway's samples per proxied
read, almost as much as the dependency solving the fast path removed (docs/benchmarks.md, "Gateway
overhead, fourth pass").

`flatten_included_routers` replaces each included router by the routes FastAPI derived for that
inclusion: the same class (`FastProxyRoute` stays), path, methods, operation id, tags, dependencies (the
inclusion's first, as FastAPI orders them), responses, response class, body limit and dependency-overrides
provider (the app, so tests' overrides still apply), in the same order. The app's router then tries them
as it tried the included routers' contents: the first full match in that order wins, else the first
partial match (405), else 404; an included router answered full or partial by the first such route inside
it, so the concatenation selects the same route. It runs once, after every route is registered; a router
it does not know how to copy (a nested include, a mount, a websocket route, anything but `APIRoute`) is
left included as it was.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute, _EffectiveRouteContext, _IncludedRouter
from starlette.routing import BaseRoute


def flatten_included_routers(app: FastAPI) -> None:
    """Replace every flat-copyable `_IncludedRouter` of `app` by its effective routes, in place."""
    flattened: list[BaseRoute] = []
    for route in app.router.routes:
        copies = _flat_copies(route) if isinstance(route, _IncludedRouter) else None
        if copies is None:
            flattened.append(route)
        else:
            flattened.extend(copies)
    app.router.routes[:] = flattened
    # FastAPI caches derived state per routes version (OpenAPI schema, included contexts).
    app.router._mark_routes_changed()
    app.openapi_schema = None


def _flat_copies(included: _IncludedRouter) -> list[BaseRoute] | None:
    contexts = list(included.effective_candidates())
    copyable = [
        context
        for context in contexts
        if isinstance(context, _EffectiveRouteContext) and isinstance(context.original_route, APIRoute)
    ]
    if len(copyable) != len(contexts) or list(included.effective_low_priority_routes()):
        return None
    return [_copy(context) for context in copyable]


def _copy(context: _EffectiveRouteContext) -> APIRoute:
    """A route of the original's class built from what FastAPI computed for this inclusion."""
    original = context.original_route
    assert isinstance(original, APIRoute)
    return type(original)(
        context.path,
        original.endpoint,
        response_model=original.response_model,
        status_code=original.status_code,
        tags=list(context.tags),
        dependencies=list(context.dependencies),
        summary=original.summary,
        description=original.description,
        response_description=original.response_description,
        responses=dict(context.responses),
        deprecated=context.deprecated,
        name=original.name,
        methods=set(original.methods or ()),
        operation_id=original.operation_id,
        response_model_include=original.response_model_include,
        response_model_exclude=original.response_model_exclude,
        response_model_by_alias=original.response_model_by_alias,
        response_model_exclude_unset=original.response_model_exclude_unset,
        response_model_exclude_defaults=original.response_model_exclude_defaults,
        response_model_exclude_none=original.response_model_exclude_none,
        include_in_schema=context.include_in_schema,
        response_class=context.response_class,
        dependency_overrides_provider=context.dependency_overrides_provider,
        callbacks=list(context.callbacks or []),
        openapi_extra=original.openapi_extra,
        generate_unique_id_function=context.generate_unique_id_function,
        strict_content_type=context.strict_content_type,
        max_body_size=context.max_body_size,
        form_limits=original.form_limits,
    )
