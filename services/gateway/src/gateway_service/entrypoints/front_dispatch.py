"""A pure-ASGI front dispatch for the proxied operations (ADR 0024, amendment "gwasgi").

`FastProxyRoute` (fast_routes.py) took FastAPI's dependency solving off the proxied reads; what was left of
FastAPI per read is its routing and the layers around it: `FastAPI.__call__` with its native-telemetry
check (which walks the middleware stack on every request), Starlette's router scanning the route table
(FastAPI 0.165 walks every included router's routes twice per lookup), OpenTelemetry's span-name lookup
(a third scan of the same table), the body-limit and exception-telemetry wrappers of FastAPI 0.165, the
Socket.IO mount's path check, and the two exit stacks and exception wrapper of the route's request handler.
On the benchmark machine the route table alone cost +0.4…+0.5 ms per read over a one-route app
(docs/benchmarks.md, "Gateway cost ladder").

`GatewayApp` answers the operations marked with `fast_path(...)` before all of that:

- **Which requests.** An exact `(method, path)` dict of the marked routes' fixed paths, then their path
  templates matched with the routes' own compiled regex and convertors, in route order. Built once, at the
  first request, from the app's own routes (`fastapi.routing.iter_route_contexts`, FastAPI's public API)
  and checked against FastAPI's own matching: a path is taken only if the route FastAPI would pick for it
  (the first full match in route order) is that marked route. Everything else is FastAPI's, unchanged: any
  other path or method (OPTIONS and so CORS preflights included), Socket.IO, a malformed or repeated
  `X-Device-Id` (FastAPI's 422), dependency overrides (tests), a `root_path`, a non-HTTP scope.
- **What runs.** The same middleware the app runs, as copies of the built stack's own instances (same
  settings, same metric objects, same tracer), in the same order, minus the layers that do nothing for
  these requests (Socket.IO mount: not its path; FastAPI's body-limit wrapper: no limit configured;
  FastAPI's exception telemetry: off while OpenTelemetry's middleware is installed; the exit-stack
  middleware: no files): trust boundary for trace headers, the edge's sampling decision (servicekit's
  `UnsampledRequestBypass`), OpenTelemetry's server span, CORS, the
  request-size limit, metrics, request context, the NUL guard, the exception handlers. The one change is the
  span's name and `http.route`: taken from the dispatched route instead of OpenTelemetry scanning the route
  table for it (same values). Then the same call `FastProxyRoute` makes (`run_fast_path`).
- **Refusing to guess.** A layer in the built stack that the dispatch does not know (a middleware added
  later), or no OpenTelemetry middleware (FastAPI's native telemetry would then trace on its own), turns the
  dispatch off: every request takes FastAPI's path, and a warning says why.

`FRONT_DISPATCH=false` turns it off (tests compare both paths answer for answer).
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from fastapi.routing import RouteContext, iter_route_contexts
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.util.http import sanitize_method
from servicekit.http.middleware import HttpMetricsMiddleware, RequestContextMiddleware
from servicekit.http.nul_guard import RejectNulCharactersMiddleware
from servicekit.tracing import UnsampledRequestBypass, UntrustedTraceContextMiddleware
from starlette.convertors import Convertor
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway_service.entrypoints.body_limit import RequestSizeLimitMiddleware
from gateway_service.entrypoints.fast_routes import (
    FastPath,
    FastProxyRoute,
    device_id_verdict,
    fast_path_of,
    run_fast_path,
)
from gateway_service.entrypoints.realtime import SOCKETIO_PATH, SocketIOMount

__all__ = ["FrontDispatch", "GatewayApp", "build_front_dispatch"]

logger = logging.getLogger(__name__)

# Where the dispatched request's target travels from the dispatch to the innermost handler.
_TARGET_SCOPE_KEY = "gigstack.front_dispatch"
_X_DEVICE_ID = b"x-device-id"

# Layers of the built stack copied into the fast stack (same instance settings, new inner app).
_KEPT_LAYERS: tuple[type, ...] = (
    UntrustedTraceContextMiddleware,
    ServerErrorMiddleware,
    UnsampledRequestBypass,
    OpenTelemetryMiddleware,
    CORSMiddleware,
    RequestSizeLimitMiddleware,
    HttpMetricsMiddleware,
    RequestContextMiddleware,
    RejectNulCharactersMiddleware,
    ExceptionMiddleware,
)
# Layers that do nothing for a dispatched request (checked where that depends on configuration).
_SKIPPED_LAYERS: tuple[type, ...] = (SocketIOMount, AsyncExitStackMiddleware)
# Known by module and name: FastAPI and OpenTelemetry do not export these classes.
_KEPT_BY_NAME = frozenset({("opentelemetry.instrumentation.fastapi", "ExceptionHandlerMiddleware")})
_SKIPPED_BY_NAME = frozenset(
    {
        ("fastapi.telemetry._asgi", "ExceptionTelemetryMiddleware"),
        ("fastapi._body_limit", "AppBodyLimitMiddleware"),
    }
)


@dataclass(frozen=True)
class _Target:
    """One marked route: what the router would put in the scope, and the fast path's call."""

    route: FastProxyRoute
    spec: FastPath
    path: str  # the route's path template: metrics label, span name and `http.route`


@dataclass(frozen=True)
class _Template:
    target: _Target
    regex: re.Pattern[str]  # the route's own compiled path regex and convertors
    convertors: dict[str, Convertor[Any]]
    methods: frozenset[str]
    # Earlier routes whose paths may overlap this template's: FastAPI would pick any of them that fully
    # matches first, so a request they match is left to FastAPI.
    earlier: tuple[RouteContext, ...]


class FrontDispatch:
    """The dispatch table and the fast stack; `match` picks the target, `serve` answers through the stack."""

    def __init__(
        self,
        app: FastAPI,
        exact: dict[tuple[str, str], _Target],
        templates: Sequence[_Template],
        stack: ASGIApp,
    ) -> None:
        self._app = app
        self._exact = exact
        self._templates = tuple(templates)
        self._stack = stack

    @property
    def stack(self) -> ASGIApp:
        """The fast stack's outermost layer (tests walk it)."""
        return self._stack

    @property
    def routes(self) -> list[str]:
        """`METHOD path` of every dispatched fixed path and `* template` of every dispatched template."""
        fixed = [f"{method} {path}" for method, path in self._exact]
        return fixed + [f"* {template.target.path}" for template in self._templates]

    def match(self, scope: Scope) -> tuple[_Target, dict[str, Any]] | None:
        """The marked route FastAPI would route this request to and its path parameters, or None."""
        if scope.get("root_path") or self._app.dependency_overrides:
            return None
        method: str = scope["method"]
        path: str = scope["path"]
        target = self._exact.get((method, path))
        if target is not None:
            return target, {}
        for template in self._templates:
            found = template.regex.match(path)
            if found is None or method not in template.methods:
                continue
            if any(_fully_matches(earlier, scope) for earlier in template.earlier):
                return None
            convertors = template.convertors
            params = {name: convertors[name].convert(value) for name, value in found.groupdict().items()}
            return template.target, params
        return None

    async def serve(
        self, target: _Target, path_params: dict[str, Any], scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """Answer the request through the fast stack; False (nothing sent) when FastAPI must judge it."""
        device_id: str | None = None
        if target.spec.takes_device_id:
            values = [value.decode("latin-1") for name, value in scope["headers"] if name == _X_DEVICE_ID]
            usable, device_id = device_id_verdict(values)
            if not usable:
                return False
        scope["app"] = self._app  # as Starlette's app does, before any middleware
        scope[_TARGET_SCOPE_KEY] = _Dispatched(target, path_params, device_id, self._app.router)
        await self._stack(scope, receive, send)
        return True


def _fully_matches(context: RouteContext, scope: Scope) -> bool:
    match, _ = context.matches(scope)
    return bool(match == Match.FULL)


@dataclass(frozen=True)
class _Dispatched:
    target: _Target
    path_params: dict[str, Any]
    device_id: str | None
    router: object


async def _endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """The innermost app of the fast stack: the marked endpoint's fast call, then its response."""
    dispatched: _Dispatched = scope[_TARGET_SCOPE_KEY]
    # What Starlette's router puts in the scope for the route, here where the router would: an answer
    # the middleware gives before the route (the NUL guard's 422) stays "unmatched" in metrics and logs.
    scope["router"] = dispatched.router
    scope["endpoint"] = dispatched.target.route.endpoint
    scope["route"] = dispatched.target.route
    scope["path_params"] = dispatched.path_params
    request = Request(scope, receive, send)
    response = await run_fast_path(dispatched.target.spec, request, dispatched.device_id)
    await response(scope, receive, send)


def _span_details(scope: Scope) -> tuple[str, dict[str, str]]:
    """OpenTelemetry FastAPI's span name and attributes, from the dispatched route instead of a route scan."""
    target = scope[_TARGET_SCOPE_KEY].target
    method = sanitize_method(str(scope.get("method", "")).strip())
    if method == "_OTHER":
        method = "HTTP"
    return f"{method} {target.path}", {"http.route": target.path}


def _inner(layer: object) -> object | None:
    # Starlette's layers and servicekit's keep the next app in `app`; the Socket.IO mount in `_app`.
    for name in ("app", "_app"):
        inner: object | None = getattr(layer, name, None)
        if inner is not None and not callable(getattr(inner, "__func__", None)):
            return inner
    return None


def _layers(stack: object, router: object) -> Iterator[object]:
    layer: object | None = stack
    while layer is not None and layer is not router:
        yield layer
        layer = _inner(layer)
    if layer is not router:
        raise _UnsupportedStackError("the middleware stack does not end in the app's router")


class _UnsupportedStackError(Exception):
    """The built stack holds something the dispatch cannot reproduce; FastAPI keeps every request."""


def _fast_stack(app: FastAPI, stack: ASGIApp) -> ASGIApp:
    kept: list[object] = []
    tracing = False
    for layer in _layers(stack, app.router):
        kind = type(layer)
        name = (kind.__module__, kind.__name__)
        if isinstance(layer, _KEPT_LAYERS) or name in _KEPT_BY_NAME:
            tracing = tracing or isinstance(layer, OpenTelemetryMiddleware)
            kept.append(layer)
        elif name == ("fastapi._body_limit", "AppBodyLimitMiddleware"):
            if getattr(app, "max_body_size", None) is not None:
                raise _UnsupportedStackError("FastAPI's own body limit is configured")
        elif not (isinstance(layer, _SKIPPED_LAYERS) or name in _SKIPPED_BY_NAME):
            raise _UnsupportedStackError(f"unknown middleware {kind.__module__}.{kind.__name__}")
    if not tracing:
        # Without OpenTelemetry's middleware, FastAPI 0.165's native telemetry traces on its own.
        raise _UnsupportedStackError("OpenTelemetry's middleware is not installed")
    inner: Any = _endpoint
    for layer in reversed(kept):
        fast = copy.copy(layer)
        fast.app = inner  # type: ignore[attr-defined]
        if isinstance(fast, OpenTelemetryMiddleware):
            fast.default_span_details = _span_details
        inner = fast
    result: ASGIApp = inner
    return result


def _literal_prefix(path: str) -> str:
    return path.split("{", 1)[0]


def _may_overlap(earlier: RouteContext, template: RouteContext) -> bool:
    """Whether `earlier` could fully match a request `template` matches (conservative)."""
    methods = earlier.methods
    if methods is not None and not (set(methods) & set(template.methods or ())):
        return False
    path = earlier.path
    if not isinstance(path, str) or getattr(earlier, "path_regex", None) is None:
        return True
    mine, theirs = _literal_prefix(template.path or ""), _literal_prefix(path)
    return mine.startswith(theirs) or theirs.startswith(mine)


def _first_full_match(contexts: Sequence[RouteContext], method: str, path: str) -> RouteContext | None:
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for context in contexts:
        if _fully_matches(context, scope):
            return context
    return None


def build_front_dispatch(app: FastAPI, stack: ASGIApp) -> FrontDispatch:
    """The dispatch for `app` whose built middleware stack is `stack` (`_UnsupportedStackError`: none)."""
    contexts = list(iter_route_contexts(app.routes))
    exact: dict[tuple[str, str], _Target] = {}
    templates: list[_Template] = []
    for index, context in enumerate(contexts):
        route = context.original_route
        if not isinstance(route, FastProxyRoute) or (spec := fast_path_of(route.endpoint)) is None:
            continue
        path = context.path
        if not isinstance(path, str) or path != route.path or not context.methods:
            continue  # an include with a prefix of its own: leave it to FastAPI
        if path.startswith(SOCKETIO_PATH + "/"):
            continue  # the Socket.IO mount answers these before any route
        target = _Target(route=route, spec=spec, path=path)
        if "{" not in path:
            for method in context.methods:
                if _first_full_match(contexts, method, path) is context:
                    exact[(method, path)] = target
            continue
        earlier = tuple(other for other in contexts[:index] if _may_overlap(other, context))
        templates.append(
            _Template(
                target=target,
                regex=context.path_regex,
                convertors=dict(context.param_convertors),
                methods=frozenset(context.methods),
                earlier=earlier,
            )
        )
    return FrontDispatch(app, exact, templates, _fast_stack(app, stack))


class GatewayApp(FastAPI):
    """FastAPI with the front dispatch of the proxied operations in front of it (module docstring)."""

    front_dispatch_enabled: bool = False
    _front_dispatch: FrontDispatch | None = None
    _front_dispatch_built: bool = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.front_dispatch_enabled:
            front = self._front_dispatch if self._front_dispatch_built else self._build_front_dispatch()
            found = front.match(scope) if front is not None else None
            if front is not None and found is not None and await front.serve(*found, scope, receive, send):
                return
        await super().__call__(scope, receive, send)

    @property
    def front_dispatch(self) -> FrontDispatch | None:
        """The dispatch once built (at the first request), None while off or before."""
        return self._front_dispatch

    def _build_front_dispatch(self) -> FrontDispatch | None:
        self._front_dispatch_built = True
        if self.root_path:
            logger.warning("front dispatch off: the app has a root_path")
            return None
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        try:
            self._front_dispatch = build_front_dispatch(self, self.middleware_stack)
        except _UnsupportedStackError as reason:
            logger.warning("front dispatch off: %s", reason)
            self._front_dispatch = None
        return self._front_dispatch
