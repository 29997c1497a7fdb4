"""Integration fixtures: the gateway served by uvicorn on loopback against the real Redis from
``redis_url``, with tiny real upstream apps (also served by uvicorn) standing in for auth and gig.

The upstream apps verify the internal token with servicekit's real verifier, so every test also proves the
gateway minted a valid, correctly addressed token for that very request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from gateway_service.entrypoints.app import create_app
from gateway_service.entrypoints.public_api import PublicApi, PublicOperation, load_public_api
from gateway_service.settings import GatewaySettings
from gigstack_testinfra.net import LOOPBACK, free_port
from gigstack_testinfra.plugin import RedisWithServiceUsers
from servicekit.errors import Unauthorized
from servicekit.security import InternalPrincipal, InternalTokenVerifier

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_url(redis_with_service_users: RedisWithServiceUsers) -> str:
    """As the gateway's own Redis user (the ACL of every environment): other keys and commands fail."""
    return redis_with_service_users.url("gateway")


ACCESS_SECRET = "integration-access-token-key-0123456789abcdef"
ALICE_ID = "0b8f5a7e-3f6c-4f1b-9c55-6f2f1f0d2a11"
BOB_ID = "5d1c7a3e-9b2f-4e6a-8c1d-2f3e4a5b6c7d"
ALICE_PASSWORD = "correct horse battery staple"
KNOWN_DEVICE = "device-known"
GOOD_OTP = "123456"
GOOD_RESET_TOKEN = "reset-token-from-the-email"


def user_json(username: str = "alice") -> dict[str, Any]:
    return {
        "id": BOB_ID if username == "bob" else ALICE_ID,
        "username": username,
        "email": f"{username}@example.com",
        "country": "NO",
        # carol's account is one auth reports as unverified (the gateway must not vouch for it).
        "email_verified": username != "carol",
        "created_at": "2026-01-01T00:00:00Z",
    }


@dataclass
class UpstreamLog:
    """What the upstream apps saw: every verified principal and the headers of interest."""

    calls: list[tuple[str, InternalPrincipal, dict[str, str]]] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.calls]

    def last(self, path: str) -> tuple[InternalPrincipal, dict[str, str]]:
        for seen_path, principal, headers in reversed(self.calls):
            if seen_path == path:
                return principal, headers
        raise AssertionError(f"{path} was never called; calls: {self.paths()}")


def _verifying(
    app: FastAPI, audience: str, public_pem: str, log: UpstreamLog
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    verifier = InternalTokenVerifier(public_pem, audience=audience)

    async def verify(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        authorization = request.headers.get("authorization", "")
        try:
            principal = verifier.verify(authorization.removeprefix("Bearer "))
        except Unauthorized:
            return JSONResponse({"error": {"code": "unauthorized", "message": "bad internal token"}}, 401)
        headers = {
            name: request.headers[name]
            for name in (
                "x-correlation-id",
                "x-device-id",
                "content-type",
                "traceparent",
                "tracestate",
                "baggage",
            )
            if name in request.headers
        }
        log.calls.append((request.url.path, principal, headers))
        request.state.principal = principal
        return await call_next(request)

    return verify


def build_auth_upstream(public_pem: str, log: UpstreamLog) -> FastAPI:
    app = FastAPI()
    app.middleware("http")(_verifying(app, "auth", public_pem, log))

    @app.post("/api/v1/auth/signin")
    async def signin(request: Request) -> Response:
        body = await request.json()
        username = body.get("email_or_username")
        if username not in ("alice", "bob", "carol") or body.get("password") != ALICE_PASSWORD:
            return JSONResponse({"error": {"code": "invalid_credentials", "message": "Invalid"}}, 401)
        if request.headers.get("x-device-id") != KNOWN_DEVICE:
            return JSONResponse({"otp_required": True, "message": "OTP sent"}, 202)
        return JSONResponse({"user": user_json(username)})

    @app.post("/api/v1/auth/verify-otp")
    async def verify_otp(request: Request) -> Response:
        body = await request.json()
        if body.get("otp") != GOOD_OTP:
            return JSONResponse({"error": {"code": "invalid_otp", "message": "Invalid"}}, 401)
        return JSONResponse({"user": user_json()})

    @app.get("/api/v1/auth/me")
    async def me(request: Request) -> Response:
        principal: InternalPrincipal = request.state.principal
        return JSONResponse({"user": {**user_json(), "id": principal.subject}})

    @app.put("/api/v1/auth/change-password")
    async def change_password(request: Request) -> Response:
        body = await request.json()
        if body.get("current_password") != ALICE_PASSWORD:
            return JSONResponse({"error": {"code": "invalid_credentials", "message": "Invalid"}}, 401)
        return JSONResponse({"message": "Password changed"})

    @app.post("/api/v1/auth/reset-password")
    async def reset_password(request: Request) -> Response:
        body = await request.json()
        if body.get("token") != GOOD_RESET_TOKEN:
            return JSONResponse({"error": {"code": "invalid_token", "message": "Invalid"}}, 400)
        return JSONResponse({"message": "Your password has been reset.", "user_id": ALICE_ID})

    @app.post("/api/v1/auth/resend-verification")
    async def resend_verification() -> Response:
        return Response(status_code=202)

    @app.post("/api/v1/auth/signout")
    async def signout() -> Response:
        return Response(status_code=204)

    @app.post("/api/v1/auth/signup")
    async def signup() -> Response:
        return JSONResponse({"message": "Check your email"}, 202)

    return app


def build_gig_upstream(public_pem: str, log: UpstreamLog) -> FastAPI:
    app = FastAPI()
    app.middleware("http")(_verifying(app, "gig", public_pem, log))

    @app.api_route("/api/v1/gig/echo", methods=["GET", "POST", "PUT", "DELETE"])
    async def echo(request: Request) -> Response:
        body = await request.body()
        principal: InternalPrincipal = request.state.principal
        return JSONResponse(
            {
                "method": request.method,
                "query": list(request.query_params.multi_items()),
                "body_bytes": len(body),
                "subject": principal.subject,
            },
            headers={"Retry-After": "7", "X-Internal-Secret": "do-not-leak"},
        )

    @app.get("/api/v1/gig/items/{item_id}")
    async def item(item_id: str, request: Request) -> Response:
        return JSONResponse({"item_id": item_id, "raw_path": request.scope["raw_path"].decode()})

    @app.get("/api/v1/gig/cookie")
    async def cookie(request: Request) -> Response:
        # Sets a cookie for whoever asked and reports any cookie the request carried.
        answer = JSONResponse({"cookie": request.headers.get("cookie")})
        answer.set_cookie("upstream_session", "s3cret-of-the-previous-caller")
        return answer

    @app.get("/api/v1/gig/slow")
    async def slow() -> Response:
        await asyncio.sleep(6.0)  # twice the gateway's read timeout below
        return JSONResponse({})

    @app.get("/api/v1/gig/boom")
    async def boom() -> Response:
        return Response("Traceback (most recent call last): db password=hunter2", status_code=500)

    @app.get("/api/v1/gig/missing")
    async def missing() -> Response:
        return JSONResponse({"error": {"code": "not_found", "message": "Gig 42 does not exist"}}, 404)

    return app


@asynccontextmanager
async def serve(app: Any, port: int, *, lifespan: Literal["on", "off"] = "on") -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a loopback port for the duration of the block."""
    config = uvicorn.Config(
        app, host=LOOPBACK, port=port, log_config=None, lifespan=lifespan, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(15):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before starting")
                await asyncio.sleep(0.02)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)


def _gig_operation(operation_id: str, method: str, name: str, session: str = "optional") -> PublicOperation:
    return PublicOperation(
        operation_id=operation_id,
        service="gig",
        method=method,
        service_path=f"/api/v1/gig/{name}",
        public_path=f"/api/v1/gateway/gig/{name}",
        session=session,  # type: ignore[arg-type]
        openapi={"operationId": operation_id, "responses": {"200": {"description": "OK"}}},
    )


# The generated auth table plus operations of the stand-in gig service (and one of users, never deployed
# here), as a service would publish them through scripts/generate_public_api.py.
TEST_PUBLIC_API = PublicApi(
    operations=(
        *load_public_api().operations,
        _gig_operation("gig.echoGet", "GET", "echo"),
        _gig_operation("gig.echoPost", "POST", "echo"),
        _gig_operation("gig.echoPut", "PUT", "echo"),
        _gig_operation("gig.echoDelete", "DELETE", "echo", session="required"),
        _gig_operation("gig.itemById", "GET", "items/{item_id}"),
        _gig_operation("gig.slow", "GET", "slow"),
        _gig_operation("gig.cookie", "GET", "cookie"),
        _gig_operation("gig.boom", "GET", "boom"),
        _gig_operation("gig.missing", "GET", "missing"),
        PublicOperation(
            operation_id="users.me",
            service="users",
            method="GET",
            service_path="/api/v1/users/me",
            public_path="/api/v1/gateway/users/me",
            session="required",
            openapi={"operationId": "users.me", "responses": {"200": {"description": "OK"}}},
        ),
    ),
    schemas=load_public_api().schemas,
)


@dataclass
class Upstreams:
    auth_url: str
    gig_url: str
    log: UpstreamLog


@pytest.fixture
async def upstreams(internal_keypair: tuple[str, str]) -> AsyncIterator[Upstreams]:
    _, public_pem = internal_keypair
    log = UpstreamLog()
    async with (
        serve(build_auth_upstream(public_pem, log), free_port()) as auth_url,
        serve(build_gig_upstream(public_pem, log), free_port()) as gig_url,
    ):
        yield Upstreams(auth_url=auth_url, gig_url=gig_url, log=log)


GatewayStarter = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def start_gateway(
    redis_url: str, internal_keypair: tuple[str, str], upstreams: Upstreams
) -> AsyncIterator[GatewayStarter]:
    """``await start_gateway(**setting_overrides)`` -> an httpx client for a gateway served on loopback."""
    private_pem, public_pem = internal_keypair
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> httpx.AsyncClient:
            values: dict[str, Any] = {
                "environment": "test",
                "redis_url": redis_url,
                "internal_token_private_key": private_pem,
                "internal_token_public_key": public_pem,
                "access_token_secret": ACCESS_SECRET,
                "auth_service_url": upstreams.auth_url,
                "gig_service_url": upstreams.gig_url,
                "users_service_url": None,
                "cors_origins": ["https://app.example.com"],
                "max_request_bytes": 4096,
                "rate_limit_per_ip_per_minute": 1000,
                "rate_limit_per_account_per_minute": 1000,
                "signin_failures_before_lock": 3,
                # Replays in these tests follow within milliseconds: no two-tab grace unless a test asks.
                "refresh_reuse_grace_seconds": 0,
                # 1 s timed out echo calls of the 30-way concurrency test at load 10 (a 504, not a bug).
                "downstream_read_timeout_seconds": 3.0,
                "log_level": "WARNING",
            }
            values.update(overrides)
            base_url = await stack.enter_async_context(
                serve(create_app(GatewaySettings(**values), TEST_PUBLIC_API), free_port())
            )
            client = httpx.AsyncClient(base_url=base_url, timeout=10.0, trust_env=False)
            return await stack.enter_async_context(client)

        yield start


@pytest.fixture
async def gateway(start_gateway: GatewayStarter) -> httpx.AsyncClient:
    return await start_gateway()


@pytest.fixture
def upstream_log(upstreams: Upstreams) -> UpstreamLog:
    return upstreams.log
