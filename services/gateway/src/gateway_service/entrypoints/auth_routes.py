"""Public auth routes (``/api/v1/gateway/auth/...``): sessions start here; auth checks the credentials."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from servicekit.errors import BadGateway, ServiceError, Unauthorized
from servicekit.public_api import ErrorBody

from gateway_service.adapters.downstream import DownstreamClient, DownstreamResponse
from gateway_service.domain.sessions import AccessClaims
from gateway_service.entrypoints.dependencies import (
    ClientIpDep,
    CurrentSessionDep,
    DeviceIdHeader,
    DownstreamDep,
    SessionsDep,
    ThrottleDep,
    enforce_ip_budget,
    forwarded_headers,
)
from gateway_service.entrypoints.fast_routes import FastProxyRoute, fast_path
from gateway_service.entrypoints.relay import relay, user_from
from gateway_service.entrypoints.schemas import (
    ChangePasswordIn,
    ForgotPasswordIn,
    OtpRequiredOut,
    RefreshIn,
    ResetPasswordIn,
    SessionOut,
    SigninIn,
    SignupIn,
    TokenPairOut,
    VerifyEmailIn,
    VerifyOtpIn,
)
from gateway_service.service_layer.sessions import SessionService
from gateway_service.service_layer.throttling import RequestThrottle

logger = logging.getLogger(__name__)

AUTH_PATH = "/api/v1/auth"
# Request schemas and auth's own error statuses are published from auth's OpenAPI (public_api.py); the
# ``responses`` here add what the gateway answers itself.
_ERROR = {"model": ErrorBody}

router = APIRouter(
    prefix="/api/v1/gateway/auth",
    tags=["auth"],
    dependencies=[Depends(enforce_ip_budget)],
    # `me` is a pure proxy of a signed-in read: no per-request dependency solving (entrypoints/fast_routes.py)
    route_class=FastProxyRoute,
)


async def _call_auth(
    downstream: DownstreamClient,
    method: str,
    path: str,
    body: Any = None,
    *,
    device_id: str | None = None,
    session: AccessClaims | None = None,
    idempotent: bool | None = None,
) -> DownstreamResponse:
    # The internal token carries the session's own claims, email_verified included, exactly as the
    # pass-through routes send them (proxy_routes.py): auth must hear the same about a user on every route.
    return await downstream.request(
        "auth",
        method,
        AUTH_PATH + path,
        json_body=body,
        forward_headers=forwarded_headers(device_id),
        subject=session.user_id if session else None,
        session_id=session.session_id if session else None,
        email_verified=session.email_verified if session else False,
        idempotent=idempotent,
    )


async def _new_session(
    answer: DownstreamResponse, sessions: SessionService, device_id: str | None
) -> Response:
    user = user_from(answer)
    # auth gives no session to an unverified account today; the flag still comes from its answer, so a
    # session's claim is never more than what auth said about the account.
    tokens = await sessions.start(
        user_id=user["id"], device_id=device_id, email_verified=user.get("email_verified") is True
    )
    body = {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "bearer",
        "expires_in": tokens.expires_in,
        "user": user,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@dataclass(frozen=True)
class _CredentialCheck:
    downstream: DownstreamClient
    sessions: SessionService
    throttle: RequestThrottle


async def _credential_check(
    downstream: DownstreamDep, sessions: SessionsDep, throttle: ThrottleDep
) -> _CredentialCheck:
    return _CredentialCheck(downstream, sessions, throttle)


_AttemptDeps = Annotated[_CredentialCheck, Depends(_credential_check)]


async def _checked_attempt(
    path: str, body: dict[str, Any], ip: str, device_id: str | None, deps: _CredentialCheck
) -> Response:
    """Send a password or OTP check to auth, counted against the failure budgets before it is sent.

    Only a 401 (wrong credentials) keeps the attempt counted; a session, an OTP prompt or any answer that
    says nothing about the credentials (bad input, auth's own throttling, an outage) gives it back.
    """
    await deps.throttle.admit_signin_attempt(ip)
    try:
        answer = await _call_auth(deps.downstream, "POST", path, body, device_id=device_id)
    except BaseException:
        await deps.throttle.refund_signin_attempt(ip)
        raise
    if answer.status_code != 401:
        await deps.throttle.refund_signin_attempt(ip)
    if answer.status_code == 200:
        return await _new_session(answer, deps.sessions, device_id)
    return relay(answer)


@router.post("/signup", status_code=202, operation_id="auth.signup")
async def signup(body: SignupIn, downstream: DownstreamDep, device_id: DeviceIdHeader = None) -> Response:
    """Create an account; the answer is the same whether or not the email or username exists."""
    payload = body.model_dump(exclude_none=True)
    return relay(await _call_auth(downstream, "POST", "/signup", payload, device_id=device_id))


@router.post(
    "/signin",
    response_model=SessionOut,
    responses={202: {"model": OtpRequiredOut}, 401: _ERROR, 429: _ERROR},
    operation_id="auth.signin",
)
async def signin(
    body: SigninIn, deps: _AttemptDeps, ip: ClientIpDep, device_id: DeviceIdHeader = None
) -> Response:
    """Sign in; a new device gets 202 ``otp_required`` and an OTP by email instead of tokens."""
    return await _checked_attempt("/signin", body.model_dump(), ip, device_id, deps)


@router.post(
    "/verify-otp",
    response_model=SessionOut,
    responses={401: _ERROR, 429: _ERROR},
    operation_id="auth.verifyOtp",
)
async def verify_otp(
    body: VerifyOtpIn, deps: _AttemptDeps, ip: ClientIpDep, device_id: DeviceIdHeader = None
) -> Response:
    """Confirm a new device with the emailed OTP; the device becomes known and a session starts."""
    return await _checked_attempt("/verify-otp", body.model_dump(), ip, device_id, deps)


@router.post("/refresh", response_model=TokenPairOut, responses={401: _ERROR}, operation_id="auth.refresh")
async def refresh(body: RefreshIn, sessions: SessionsDep) -> Response:
    """Rotate the refresh token. Presenting an already-rotated token revokes the whole session."""
    tokens = await sessions.refresh(body.refresh_token)
    pair = TokenPairOut(
        access_token=tokens.access_token, refresh_token=tokens.refresh_token, expires_in=tokens.expires_in
    )
    return JSONResponse(pair.model_dump(), headers={"Cache-Control": "no-store"})


@router.post("/signout", status_code=204, responses={401: _ERROR}, operation_id="auth.signout")
async def signout(session: CurrentSessionDep, sessions: SessionsDep, downstream: DownstreamDep) -> Response:
    """End the session: its access and refresh tokens stop working at once."""
    await sessions.end(session.session_id)
    try:
        await _call_auth(downstream, "POST", "/signout", session=session)
    except ServiceError as error:
        # The session is already revoked, which is what signing out means; auth's bookkeeping can lag.
        logger.warning("auth signout bookkeeping failed", extra={"error_code": error.code})
    return Response(status_code=204)


@router.post("/verify-email", operation_id="auth.verifyEmail")
async def verify_email(
    body: VerifyEmailIn, downstream: DownstreamDep, device_id: DeviceIdHeader = None
) -> Response:
    """Confirm the email address with the token from the verification email (no session needed: the link
    may be opened on any device, and that device becomes known)."""
    return relay(
        await _call_auth(downstream, "POST", "/verify-email", body.model_dump(), device_id=device_id)
    )


@router.post("/resend-verification", status_code=202, operation_id="auth.resendVerification")
async def resend_verification(session: CurrentSessionDep, downstream: DownstreamDep) -> Response:
    """Send the verification email again to the signed-in user."""
    return relay(await _call_auth(downstream, "POST", "/resend-verification", session=session))


@router.post("/forgot-password", status_code=202, operation_id="auth.forgotPassword")
async def forgot_password(body: ForgotPasswordIn, downstream: DownstreamDep) -> Response:
    """Email a reset link if the account exists; the answer is the same either way."""
    return relay(await _call_auth(downstream, "POST", "/forgot-password", body.model_dump()))


@router.post("/reset-password", operation_id="auth.resetPassword")
async def reset_password(body: ResetPasswordIn, downstream: DownstreamDep, sessions: SessionsDep) -> Response:
    """Set a new password with the token from the reset email; every session of the account ends."""
    answer = await _call_auth(downstream, "POST", "/reset-password", body.model_dump())
    if answer.status_code != 200:
        return relay(answer)
    body_out = answer.json()
    user_id = body_out.get("user_id") if isinstance(body_out, dict) else None
    if not isinstance(user_id, str):
        raise BadGateway("The auth service returned an unexpected answer")
    await sessions.end_every_session(user_id)
    # The account id is for the gateway only: a reset link must not tell its holder whose account it was.
    return JSONResponse({"message": body_out.get("message", "Your password has been reset.")})


@router.put("/change-password", operation_id="auth.changePassword")
async def change_password(
    body: ChangePasswordIn, session: CurrentSessionDep, downstream: DownstreamDep, sessions: SessionsDep
) -> Response:
    """Change the password of the signed-in user; every session of the user ends, this one included."""
    answer = await _call_auth(
        downstream,
        "PUT",
        "/change-password",
        body.model_dump(),
        session=session,
        # Not repeated after a transport error: a first run that did land makes the retry fail (and count).
        idempotent=False,
    )
    if answer.status_code == 200:
        # Whoever held a session (possibly with the old password) loses it now, not at its expiry; the
        # caller signs in again with the new password (docs/security.md, session policy).
        await sessions.end_every_session(session.user_id)
    return relay(answer)


async def _relay_me(downstream: DownstreamClient, session: AccessClaims) -> Response:
    return relay(await _call_auth(downstream, "GET", "/me", session=session))


async def _me_fast(
    _: Request, downstream: DownstreamClient, session: AccessClaims | None, __: str | None
) -> Response:
    if session is None:  # the fast path has already refused it (session="required"); for the type checker
        raise Unauthorized("An access token is required", code="missing_token")
    return await _relay_me(downstream, session)


@router.get("/me", operation_id="auth.me")
@fast_path(_me_fast, session="required", takes_device_id=False)
async def me(session: CurrentSessionDep, downstream: DownstreamDep) -> Response:
    """The signed-in user."""
    return await _relay_me(downstream, session)


# Development only and not part of the public contract: served, but left out of the published OpenAPI.
@router.post("/seed/{count}", status_code=201, include_in_schema=False)
async def seed(count: int, downstream: DownstreamDep) -> Response:
    """Create ``count`` demo accounts (development only: auth answers 404 elsewhere)."""
    return relay(await _call_auth(downstream, "POST", f"/seed/{count}"))
