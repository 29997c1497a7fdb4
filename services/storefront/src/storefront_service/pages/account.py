"""Account pages: signup, email verification, sign in with OTP, password reset and change, sign out.

Every form posts back to its own page; on a gateway refusal the page is rendered again with the gateway's
message and what the user typed (never the passwords). The session id and CSRF token change whenever the
session gains or loses a user (sessions.py).

The email links land here with the shapes the notification service writes (its domain/catalogue.py):
``/confirm_email?v_token=...`` and ``/reset_password?token=...``.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from storefront_service.gateway_client import GatewayError, GatewayUnavailable, SignedOutError
from storefront_service.sessions import Session, SignedInUser
from storefront_service.web import DepsDep, SessionDep, form_error, redirect, render, safe_next

logger = logging.getLogger(__name__)

router = APIRouter()

Text = Annotated[str, Form(max_length=1024)]
OptionalText = Annotated[str, Form(max_length=1024)]
NextQuery = Annotated[str | None, Query(alias="next", max_length=2000)]


def require_user(session: Session) -> SignedInUser:
    """The signed-in user, or SignedOutError (the app answers with a redirect to the sign-in page)."""
    if not session.signed_in or session.user is None:
        raise SignedOutError("page requires sign-in")
    return session.user


# --- signup and email verification ------------------------------------------------------------------------


@router.get("/signup", response_class=HTMLResponse)
async def signup_form(request: Request) -> HTMLResponse:
    return render(request, "account/signup.html", {"form": {}})


@router.post("/signup", response_class=HTMLResponse)
async def signup(
    request: Request,
    deps: DepsDep,
    username: Text,
    email: Text,
    password: Text,
    country: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    form = {"username": username, "email": email, "country": country}
    body: dict[str, Any] = {"username": username.strip(), "email": email.strip(), "password": password}
    if country.strip():
        body["country"] = country.strip()
    try:
        await deps.gateway.call("auth.signup", json=body)
    except GatewayError as error:
        return render(
            request, "account/signup.html", {"form": form, **form_error(error)}, status_code=error.status_code
        )
    return render(request, "account/check_email.html", {"email": email.strip()}, status_code=202)


@router.get("/confirm_email", response_class=HTMLResponse)
async def confirm_email(
    request: Request, deps: DepsDep, session: SessionDep, v_token: Annotated[str, Query(max_length=1024)] = ""
) -> HTMLResponse:
    """The verification email's link. Verifying on GET is deliberate: the link is the whole proof (a
    single-use token that only the inbox received), and asking for one more click would not add any."""
    if not v_token:
        return render(
            request,
            "account/confirmed.html",
            {"ok": False, "message": "This link is incomplete."},
            status_code=400,
        )
    try:
        await deps.gateway.call("auth.verifyEmail", json={"token": v_token})
    except GatewayError as error:
        return render(
            request,
            "account/confirmed.html",
            {"ok": False, "message": error.message},
            status_code=error.status_code,
        )
    if session.user is not None:
        session.user.email_verified = True
        session.dirty = True
    return render(request, "account/confirmed.html", {"ok": True})


# --- sign in, OTP, sign out ---------------------------------------------------------------------------------


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, session: SessionDep, next_url: NextQuery = None) -> Response:
    if session.signed_in:
        return redirect(safe_next(next_url))
    return render(request, "account/signin.html", {"form": {}, "next": safe_next(next_url, "")})


@router.post("/signin", response_class=HTMLResponse)
async def signin(
    request: Request,
    deps: DepsDep,
    session: SessionDep,
    email_or_username: Text,
    password: Text,
    next_url: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    form = {"email_or_username": email_or_username}
    identifier = email_or_username.strip()
    try:
        answer = await deps.gateway.request(
            "auth.signin", json={"email_or_username": identifier, "password": password}
        )
    except GatewayError as error:
        context = {"form": form, "next": safe_next(next_url, ""), **form_error(error)}
        return render(request, "account/signin.html", context, status_code=error.status_code)
    if answer.status_code == 202:
        # A device auth does not know yet: it emailed a one-time code; the next step asks for it.
        session.pending_otp_for = identifier
        session.dirty = True
        target = "/signin/otp" + (f"?next={safe_next(next_url)}" if next_url else "")
        return redirect(target, request)
    await _start_session(deps, session, answer.body)
    return redirect(safe_next(next_url), request)


@router.get("/signin/otp", response_class=HTMLResponse)
async def otp_form(request: Request, session: SessionDep, next_url: NextQuery = None) -> Response:
    if session.pending_otp_for is None:
        return redirect("/signin")
    return render(
        request, "account/otp.html", {"next": safe_next(next_url, ""), "identifier": session.pending_otp_for}
    )


@router.post("/signin/otp", response_class=HTMLResponse)
async def verify_otp(
    request: Request,
    deps: DepsDep,
    session: SessionDep,
    otp: Annotated[str, Form(max_length=32)],
    next_url: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    identifier = session.pending_otp_for
    if identifier is None:
        session.flash("Sign in first; the code is sent after your password is checked.", "error")
        return redirect("/signin", request)
    try:
        answer = await deps.gateway.request(
            "auth.verifyOtp", json={"email_or_username": identifier, "otp": otp.strip()}
        )
    except GatewayError as error:
        context = {"next": safe_next(next_url, ""), "identifier": identifier, **form_error(error)}
        return render(request, "account/otp.html", context, status_code=error.status_code)
    await _start_session(deps, session, answer.body)
    return redirect(safe_next(next_url), request)


async def _start_session(deps: DepsDep, session: Session, body: Any) -> None:
    user = body["user"]
    # A new id and CSRF token for the signed-in session: an id known before sign-in is worth nothing after.
    await deps.sessions.rotate(session)
    session.set_tokens(body["access_token"], body["refresh_token"], int(body["expires_in"]))
    session.user = SignedInUser(
        id=str(user["id"]),
        username=str(user["username"]),
        email=str(user["email"]),
        email_verified=bool(user.get("email_verified")),
    )
    session.pending_otp_for = None
    session.flash(f"Welcome, {session.user.username}.", "success")


@router.post("/signout")
async def signout(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    if session.signed_in:
        try:
            await deps.gateway.call("auth.signout", session=session)
        except (GatewayError, GatewayUnavailable, SignedOutError) as error:
            # The browser is signed out either way; the gateway's tokens expire on their own.
            logger.info("gateway signout failed", extra={"error": str(error)})
    await end_session(deps, session)
    session.flash("You are signed out.", "info")
    return redirect("/", request)


async def end_session(deps: DepsDep, session: Session) -> None:
    session.forget_user()
    await deps.sessions.rotate(session)


# --- forgotten password, reset, change ----------------------------------------------------------------------


@router.get("/forgot_password", response_class=HTMLResponse)
async def forgot_form(request: Request) -> HTMLResponse:
    return render(request, "account/forgot.html", {"form": {}})


@router.post("/forgot_password", response_class=HTMLResponse)
async def forgot(request: Request, deps: DepsDep, email: Text) -> HTMLResponse:
    try:
        await deps.gateway.call("auth.forgotPassword", json={"email": email.strip()})
    except GatewayError as error:
        return render(
            request,
            "account/forgot.html",
            {"form": {"email": email}, **form_error(error)},
            status_code=error.status_code,
        )
    # Same answer whether or not the account exists (the gateway's is too).
    return render(
        request, "account/check_email.html", {"email": email.strip(), "reset": True}, status_code=202
    )


@router.get("/reset_password", response_class=HTMLResponse)
async def reset_form(request: Request, token: Annotated[str, Query(max_length=1024)] = "") -> HTMLResponse:
    return render(request, "account/reset.html", {"token": token}, status_code=200 if token else 400)


@router.post("/reset_password", response_class=HTMLResponse)
async def reset(
    request: Request, deps: DepsDep, session: SessionDep, token: Text, password: Text, confirm_password: Text
) -> Response:
    try:
        await deps.gateway.call(
            "auth.resetPassword",
            json={"token": token, "password": password, "confirm_password": confirm_password},
        )
    except GatewayError as error:
        return render(
            request,
            "account/reset.html",
            {"token": token, **form_error(error)},
            status_code=error.status_code,
        )
    # The gateway ended every session of the account; this browser's too, if it held one.
    if session.signed_in:
        await end_session(deps, session)
    session.flash("Your password has been reset. Sign in with the new one.", "success")
    return redirect("/signin", request)


@router.get("/account", response_class=HTMLResponse)
async def account(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "account/account.html", {"account": require_user(session)})


@router.post("/account/resend-verification", response_class=HTMLResponse)
async def resend_verification(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    require_user(session)
    try:
        await deps.gateway.call("auth.resendVerification", session=session)
    except GatewayError as error:
        session.flash(error.message, "error")
    else:
        session.flash("We sent the verification email again.", "success")
    return redirect("/account", request)


@router.get("/account/password", response_class=HTMLResponse)
async def change_password_form(request: Request, session: SessionDep) -> HTMLResponse:
    require_user(session)
    return render(request, "account/change_password.html", {})


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(
    request: Request, deps: DepsDep, session: SessionDep, current_password: Text, new_password: Text
) -> Response:
    require_user(session)
    try:
        await deps.gateway.call(
            "auth.changePassword",
            json={"current_password": current_password, "new_password": new_password},
            session=session,
        )
    except GatewayError as error:
        return render(
            request, "account/change_password.html", form_error(error), status_code=error.status_code
        )
    # The gateway ended every session of the user, this one included (docs/security.md): sign in again.
    await end_session(deps, session)
    session.flash("Your password has been changed. Sign in with the new one.", "success")
    return redirect("/signin", request)
