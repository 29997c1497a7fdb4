"""The thinnest reverse proxies on the gateway's stack: the CPU floor of a proxied read (``run.py --floor``).

Each kind is served by uvicorn exactly as the gateway is (servicekit.http.server: uvloop + httptools, no
access log, no server header, keep-alive 5 s, one process), so the per-request CPU of its process is what a
Python proxy costs on this machine before any of the gateway's work (access-token check, admission script in
Redis, internal-token minting, tracing, metrics, error mapping):

- ``asgi``: a bare ASGI callable that forwards ``GET /api/v1/gateway/auth/me`` with the client's headers to
  auth's ``/api/v1/auth/me`` through the aiohttp pool settings the gateway had before its links
  (``aiohttp_pool.ServicePools``, beside this file) and relays status, content type and body;
- ``fastapi``: the same forwarding as one FastAPI ``APIRoute``, no middleware (FastAPI's routing and
  request/response objects on top of the bare app);
- ``constant``: a bare ASGI callable answering a constant 200 without any upstream (uvicorn's own cost).

No token is checked or minted: the load generator sends an internal token, as to auth directly.

The cost ladder (``run.py --ladder``) climbs from the ``fastapi`` floor to the gateway a step at a time, each
rung the real gateway app (``gateway_service.entrypoints.app.create_app`` with the gateway's own settings,
Redis and keys) whose ``GET me`` route is swapped in place (same position in the route table) for the floor's
forwarding plus the gateway's own pieces up to that step, called as the fast path calls them:

- ``gw_routes``: the gateway's route table on a FastAPI app without its middleware (routing only);
- ``gw_stack``: + the gateway's whole middleware stack as ``create_app`` installs it (Socket.IO mount, CORS,
  body limit, servicekit's tracing span, metrics, request context, NUL guard, error mapping);
- ``gw_verify``: + the access token's verification (``SessionService.verify_access_token``);
- ``gw_admit``: + the admission (``enforce_ip_budget``: the verification and one EVALSHA for both budgets and
  the session's liveness) and the session rule (``optional_session``, ``current_session``), instead of the
  verification alone;
- ``gw_mint``: + one internal token minted per request (the gateway's ``InternalTokenIssuer``, same claims).

Up to ``gw_admit`` the rungs forward a cached internal token (re-minted every 10 s, as the benchmark does for
direct calls); the client sends them the access token, as to the gateway. What ``gw_mint`` lacks against the
gateway is its ``DownstreamClient`` (header filtering and checks, correlation id, trace headers, retries) and
``relay``. Usage (run.py starts these as processes)::

    PORT=8001 UPSTREAM_URL=http://127.0.0.1:8000 python bench/gateway_overhead/floor_apps.py asgi
    PORT=8002 <the gateway's environment> python bench/gateway_overhead/floor_apps.py gw_admit
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from aiohttp_pool import ServicePools
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from servicekit.security import InternalTokenIssuer
from starlette.routing import Route
from yarl import URL

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LADDER = ("gw_routes", "gw_stack", "gw_verify", "gw_admit", "gw_mint")
# Beside the ladder: `gw_routes` with the objects of the imports and the app moved out of the garbage
# collector's generations (`gc.freeze()` once built), to see how much of that rung is the bigger heap's GC.
GC_FROZEN = "gw_routes_gcfreeze"
KINDS = ("asgi", "fastapi", "constant", *LADDER, GC_FROZEN)
# The cached internal token of the lower rungs (internal tokens live 30 s).
TOKEN_REFRESH_SECONDS = 10.0
PROXIED_PATH = "/api/v1/gateway/auth/me"
UPSTREAM_PATH = "/api/v1/auth/me"
READY_PATH = "/health/ready"
# The gateway's downstream timeouts (gateway_service.settings defaults).
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 10.0
# Request headers not relayed: aiohttp writes its own Host, framing and connection headers.
_NOT_FORWARDED = frozenset({b"host", b"connection", b"keep-alive", b"content-length", b"transfer-encoding"})
_CONSTANT_BODY = b'{"status":"ok"}'
_JSON = b"application/json"


def _forwarded(raw_headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in raw_headers
        if name not in _NOT_FORWARDED
    }


async def _answer(send: Send, status: int, body: bytes, content_type: bytes = _JSON) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send, pools: ServicePools | None) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if pools is not None:
                await pools.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return


def bare_proxy(upstream_url: str) -> AsgiApp:
    pools = ServicePools(
        ["auth"], connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS, read_timeout_seconds=READ_TIMEOUT_SECONDS
    )
    target = URL(upstream_url.rstrip("/") + UPSTREAM_PATH, encoded=True)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, pools)
            return
        path = scope["path"]
        if path == PROXIED_PATH and scope["method"] == "GET":
            headers = _forwarded(scope["headers"])
            async with pools.session("auth").get(target, headers=headers, allow_redirects=False) as answer:
                body = await answer.read()
                content_type = answer.headers.get("content-type", "application/json").encode("latin-1")
                await _answer(send, answer.status, body, content_type)
        elif path == READY_PATH:
            await _answer(send, 200, _CONSTANT_BODY)
        else:
            await _answer(send, 404, b'{"detail":"not found"}')

    return app


def fastapi_proxy(upstream_url: str) -> FastAPI:
    pools = ServicePools(
        ["auth"], connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS, read_timeout_seconds=READ_TIMEOUT_SECONDS
    )
    target = URL(upstream_url.rstrip("/") + UPSTREAM_PATH, encoded=True)

    async def me(request: Request) -> Response:
        headers = _forwarded(request.scope["headers"])
        async with pools.session("auth").get(target, headers=headers, allow_redirects=False) as answer:
            body = await answer.read()
            return Response(body, status_code=answer.status, media_type=answer.headers.get("content-type"))

    async def ready(_: Request) -> Response:
        return Response(_CONSTANT_BODY, media_type="application/json")

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    # The proxied route first (the only APIRoute); readiness is a plain Starlette route after it.
    app.router.routes.append(APIRoute(PROXIED_PATH, me, methods=["GET"]))
    app.router.routes.append(Route(READY_PATH, ready, methods=["GET"]))
    app.router.add_event_handler("shutdown", pools.aclose)
    return app


def constant() -> AsgiApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, None)
            return
        await _answer(send, 200, _CONSTANT_BODY)

    return app


class _CachedToken:
    """An internal token for auth minted every few seconds: the rungs below ``gw_mint`` do not pay for it."""

    def __init__(self, issuer: InternalTokenIssuer) -> None:
        self._issuer = issuer
        self._minted_at = -TOKEN_REFRESH_SECONDS
        self._token = ""

    def bearer(self, subject: str, session_id: str, email_verified: bool) -> str:
        # One user per benchmark run: the token of the last subject is the token of every request.
        now = time.monotonic()
        if now - self._minted_at > TOKEN_REFRESH_SECONDS:
            extra = {"email_verified": email_verified}
            token = self._issuer.issue("auth", subject=subject, session_id=session_id, extra=extra)
            self._token = "Bearer " + token
            self._minted_at = now
        return self._token


def gateway_rung(kind: str) -> FastAPI:
    """The real gateway app with its ``GET me`` route swapped, in place, for the ladder step ``kind``."""
    # Imported here: the floor kinds must not pay for (or depend on) the gateway app's imports.
    from gateway_service.domain.sessions import AccessClaims
    from gateway_service.entrypoints import auth_routes
    from gateway_service.entrypoints.app import create_app
    from gateway_service.entrypoints.dependencies import (
        bearer_credentials,
        current_session,
        enforce_ip_budget,
        optional_session,
    )
    from gateway_service.settings import GatewaySettings
    from servicekit.logging import configure_logging

    settings = GatewaySettings()
    configure_logging(settings.service_name, settings.log_level)  # as run_service does for the gateway
    issuer = InternalTokenIssuer(settings.internal_token_private_key.get_secret_value())
    cached = _CachedToken(issuer)
    target = URL(os.environ["UPSTREAM_URL"].rstrip("/") + UPSTREAM_PATH, encoded=True)  # auth's URL
    step = LADDER.index(kind)

    # Below `gw_verify` the user still has to be known (auth's `me` needs the subject): the access token's
    # claims are verified once and looked up by the header's value after that.
    verified_once: dict[str, AccessClaims] = {}

    async def me(request: Request) -> Response:
        deps = request.app.state.deps
        authorization = request.headers.get("authorization") or ""
        claims: AccessClaims | None
        if step >= LADDER.index("gw_admit"):
            # The fast path's admission, in its order (entrypoints/fast_routes.py).
            await enforce_ip_budget(request)
            credentials = await bearer_credentials(request)
            claims = await current_session(await optional_session(request, credentials))
        elif step >= LADDER.index("gw_verify"):
            claims = deps.sessions.verify_access_token(authorization.removeprefix("Bearer "))
        else:
            claims = verified_once.get(authorization)
            if claims is None:
                claims = deps.sessions.verify_access_token(authorization.removeprefix("Bearer "))
                verified_once[authorization] = claims
        headers = _forwarded(request.scope["headers"])
        headers.pop("authorization", None)
        if step >= LADDER.index("gw_mint"):
            extra = {"email_verified": claims.email_verified}
            token = issuer.issue("auth", subject=claims.user_id, session_id=claims.session_id, extra=extra)
            headers["Authorization"] = "Bearer " + token
        else:
            headers["Authorization"] = cached.bearer(claims.user_id, claims.session_id, claims.email_verified)
        async with deps.pools.session("auth").get(target, headers=headers, allow_redirects=False) as answer:
            body = await answer.read()
            return Response(body, status_code=answer.status, media_type=answer.headers.get("content-type"))

    # Swapped in the gateway's own router (module state) before the app includes it (FastAPI includes routers
    # lazily): same position, same operation id, none of the router's dependencies (the admission is `me`'s).
    routes = auth_routes.router.routes
    index = next(
        number
        for number, route in enumerate(routes)
        if isinstance(route, APIRoute) and route.path == PROXIED_PATH and "GET" in (route.methods or ())
    )
    routes[index] = APIRoute(PROXIED_PATH, me, methods=["GET"], operation_id="auth.me")
    gateway = create_app(settings)
    deps = gateway.state.deps
    if kind != "gw_routes":
        return gateway
    # The same route table and lifespan (pools, Redis) on an app without the gateway's middleware.
    bare = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    bare.router = gateway.router
    bare.state.deps = deps
    return bare


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    if kind not in KINDS:
        raise SystemExit(
            f"usage: floor_apps.py {{{','.join(KINDS)}}} (PORT, UPSTREAM_URL from the environment)"
        )
    upstream = os.environ.get("UPSTREAM_URL", "")
    app: AsgiApp | FastAPI
    if kind == "asgi":
        app = bare_proxy(upstream)
    elif kind == "fastapi":
        app = fastapi_proxy(upstream)
    elif kind == "constant":
        app = constant()
    elif kind == GC_FROZEN:
        app = gateway_rung("gw_routes")
        gc.collect()
        gc.freeze()
    else:
        app = gateway_rung(kind)
    # servicekit.http.server's settings for the gateway (uvloop and httptools are chosen by "auto").
    uvicorn.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ["PORT"]),
        lifespan="on",
        log_config=None,
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_keep_alive=5,
    )


if __name__ == "__main__":
    main()
