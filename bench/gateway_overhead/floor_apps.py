"""The thinnest reverse proxies on the gateway's stack: the CPU floor of a proxied read (``run.py --floor``).

Each kind is served by uvicorn exactly as the gateway is (servicekit.http.server: uvloop + httptools, no
access log, no server header, keep-alive 5 s, one process), so the per-request CPU of its process is what a
Python proxy costs on this machine before any of the gateway's work (access-token check, admission script in
Redis, internal-token minting, tracing, metrics, error mapping):

- ``asgi``: a bare ASGI callable that forwards ``GET /api/v1/gateway/auth/me`` with the client's headers to
  auth's ``/api/v1/auth/me`` through the gateway's own aiohttp pool settings
  (``gateway_service.adapters.http_pool.ServicePools``) and relays status, content type and body;
- ``fastapi``: the same forwarding as one FastAPI ``APIRoute``, no middleware (FastAPI's routing and
  request/response objects on top of the bare app);
- ``constant``: a bare ASGI callable answering a constant 200 without any upstream (uvicorn's own cost).

No token is checked or minted: the load generator sends an internal token, as to auth directly. Usage
(run.py starts these as processes)::

    PORT=8001 UPSTREAM_URL=http://127.0.0.1:8000 python bench/gateway_overhead/floor_apps.py asgi
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from gateway_service.adapters.http_pool import ServicePools
from starlette.routing import Route
from yarl import URL

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KINDS = ("asgi", "fastapi", "constant")
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
    else:
        app = constant()
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
