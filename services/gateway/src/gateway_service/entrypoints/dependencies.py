"""Request dependencies: the gateway's deps, the client IP, per-IP budgets and the current session."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from servicekit.errors import Unauthorized
from servicekit.http import app_deps

from gateway_service.adapters.downstream import DownstreamClient
from gateway_service.domain.errors import InvalidAccessTokenError
from gateway_service.domain.sessions import AccessClaims
from gateway_service.entrypoints.bootstrap import GatewayDependencies
from gateway_service.service_layer.sessions import SessionService
from gateway_service.service_layer.throttling import RequestThrottle

# auto_error=False: a missing token must produce our error shape (and anonymous proxying must work).
bearer_credentials = HTTPBearer(
    auto_error=False, description="Access token from signin, verify-otp or refresh"
)


GatewayDeps = Annotated[GatewayDependencies, Depends(app_deps)]


def _deps(request: Request) -> GatewayDependencies:
    deps: GatewayDependencies = request.app.state.deps
    return deps


# Every dependency is `async def` (FastAPI runs plain `def` dependencies in a worker thread: a thread hop per
# dependency per request) and reads the deps straight from the app (what `GatewayDeps` resolves to) rather
# than through a nested dependency chain, since dependency solving is a measurable share of the gateway's
# per-request CPU.
async def _sessions(request: Request) -> SessionService:
    return _deps(request).sessions


async def _throttle(request: Request) -> RequestThrottle:
    return _deps(request).throttle


async def _downstream(request: Request) -> DownstreamClient:
    return _deps(request).downstream


SessionsDep = Annotated[SessionService, Depends(_sessions)]
ThrottleDep = Annotated[RequestThrottle, Depends(_throttle)]
DownstreamDep = Annotated[DownstreamClient, Depends(_downstream)]


def client_ip(request: Request) -> str:
    # uvicorn resolves X-Forwarded-For into request.client only for trusted proxies (--forwarded-allow-ips),
    # so a client cannot pick its own rate-limit key by sending the header.
    return request.client.host if request.client else "unknown"


async def _client_ip(request: Request) -> str:
    return client_ip(request)


ClientIpDep = Annotated[str, Depends(_client_ip)]
# Also checked by the fast path (entrypoints/fast_routes.py), which leaves anything else to FastAPI's 422.
DEVICE_ID_MAX_LENGTH = 128
DEVICE_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
DeviceIdHeader = Annotated[
    str | None,
    Header(
        alias="X-Device-Id",
        description="Stable id of the client device (new devices need an OTP): 1-128 of A-Z a-z 0-9 . _ : -",
        max_length=DEVICE_ID_MAX_LENGTH,
        pattern=DEVICE_ID_PATTERN,
    ),
]


@dataclass(frozen=True)
class _Admission:
    """What the edge learnt about a request's session while counting its budgets (kept on request.state)."""

    token: str
    claims: AccessClaims
    refusal: BaseException | None  # the session verdict first (401), then the account's budget (429)


_ADMISSION = "gateway_admission"


def _bearer_token(request: Request) -> str | None:
    # Parsed as HTTPBearer parses it, so `optional_session` recognises the same token.
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    return token if scheme.lower() == "bearer" and token else None


async def enforce_ip_budget(request: Request) -> None:
    """Count the request against its address's budget (429 when over it), before anything else runs.

    With a valid access token this also counts the account's budget and checks that the session is live,
    all in one Redis round trip (the liveness answer is usually remembered, adapters/session_cache.py), and
    leaves the verdict for `optional_session`, which would otherwise make two more round trips (ADR 0024).
    A request with a token therefore counts against its account even on an operation that takes no session.
    """
    services = _deps(request)
    ip = client_ip(request)
    token = _bearer_token(request)
    claims: AccessClaims | None = None
    if token is not None:
        try:
            claims = services.sessions.verify_access_token(token)
        except InvalidAccessTokenError:
            claims = None  # counted by address only; the session dependency answers 401 for it
    if token is None or claims is None:
        await services.throttle.admit_ip(ip)
        return
    user_id = claims.user_id
    if services.throttle.judges_liveness:
        # Both budgets and the session's liveness in one script call (adapters/rate_limiter.py): one
        # round trip, and the liveness is Redis's answer now, so a revocation through another replica
        # takes effect at once. Same verdicts and order: address 429 raised here, then revoked 401, then
        # account 429 (left for the session dependency).
        account_refusal, live = await services.throttle.admit_with_liveness(ip, user_id, claims.session_id)
        verdict: BaseException | None = account_refusal if live else services.sessions.ended()
        setattr(request.state, _ADMISSION, _Admission(token, claims, verdict))
        return
    if services.sessions.known_live(claims):
        # The usual case (liveness remembered, adapters/session_cache.py): the budgets alone, without a
        # task per check for an answer already at hand. Same verdicts: the address's refusal is raised, the
        # account's is left for the session dependency.
        account_refusal = await services.throttle.admit_ip_and_account(ip, user_id)
        setattr(request.state, _ADMISSION, _Admission(token, claims, account_refusal))
        return

    async def budgets() -> tuple[BaseException | None]:
        # Wrapped in a tuple: the account's refusal is *returned* (the session verdict goes first), which
        # gather(return_exceptions=True) could not tell from the address's refusal being raised.
        return (await services.throttle.admit_ip_and_account(ip, user_id),)

    counted, liveness = await asyncio.gather(
        budgets(), services.sessions.ensure_live(claims), return_exceptions=True
    )
    if isinstance(counted, BaseException):
        raise counted  # the address is over its budget (or Redis failed): before anything about the session
    refusal = liveness if isinstance(liveness, BaseException) else counted[0]
    setattr(request.state, _ADMISSION, _Admission(token, claims, refusal))


async def optional_session(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_credentials)]
) -> AccessClaims | None:
    if credentials is None:
        return None
    admission = getattr(request.state, _ADMISSION, None)
    if isinstance(admission, _Admission) and admission.token == credentials.credentials:
        if admission.refusal is not None:
            raise admission.refusal
        return admission.claims
    services = _deps(request)
    sessions, throttle = services.sessions, services.throttle
    claims = sessions.verify_access_token(credentials.credentials)
    # Two independent Redis round trips: run them together to keep the edge's added latency at one RTT.
    outcomes = await asyncio.gather(
        sessions.ensure_live(claims), throttle.admit_account(claims.user_id), return_exceptions=True
    )
    for outcome in outcomes:  # the session verdict first: a revoked session is 401, not 429
        if isinstance(outcome, BaseException):
            raise outcome
    return claims


async def current_session(
    claims: Annotated[AccessClaims | None, Depends(optional_session)],
) -> AccessClaims:
    if claims is None:
        raise Unauthorized("An access token is required", code="missing_token")
    return claims


CurrentSessionDep = Annotated[AccessClaims, Depends(current_session)]
OptionalSessionDep = Annotated[AccessClaims | None, Depends(optional_session)]


def forwarded_headers(device_id: str | None) -> dict[str, str]:
    return {"X-Device-Id": device_id} if device_id else {}
