"""The auth HTTP API under /api/v1/auth (internal: only the gateway calls it, with an internal token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse
from servicekit.errors import NotFound
from servicekit.public_api import error_responses, public_operation

from auth_service.entrypoints.dependencies import CurrentAccountId, DeviceId, HandlerDeps, OptionalDeviceId
from auth_service.entrypoints.schemas import (
    ChangePasswordIn,
    ForgotPasswordIn,
    MessageOut,
    OtpRequiredOut,
    PasswordResetOut,
    ResetPasswordIn,
    SeededOut,
    SignInIn,
    SignUpIn,
    UserEnvelope,
    UserOut,
    VerifyEmailIn,
    VerifyOtpIn,
)
from auth_service.service_layer import commands, handlers
from auth_service.service_layer.handlers.registration import SEED_MAX_COUNT, SEED_PASSWORD

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

# One message whatever happened, so responses never reveal whether an email or username is registered.
SIGNUP_ACCEPTED = "Thanks for signing up. If the details can be used, a verification email is on its way."
RESET_ACCEPTED = "If an account uses this email address, a password reset link is on its way."
OTP_SENT = "This device is new: enter the one-time code sent to your email address."


@router.post(
    "/signup",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    responses=error_responses(400, 422, 503),
    **public_operation("auth.signup", session="none"),
)
async def sign_up(body: SignUpIn, deps: HandlerDeps, device_id: DeviceId) -> MessageOut:
    command = commands.SignUp(body.username, body.email, body.password, body.country, device_id)
    await handlers.sign_up(command, deps)
    return MessageOut(message=SIGNUP_ACCEPTED)


@router.post(
    "/signin",
    response_model=UserEnvelope,
    responses={
        status.HTTP_202_ACCEPTED: {"model": OtpRequiredOut, "description": "new device: OTP sent"},
        **error_responses(400, 401, 422, 503),
    },
    **public_operation("auth.signin", session="none"),
)
async def sign_in(body: SignInIn, deps: HandlerDeps, device_id: DeviceId) -> UserEnvelope | JSONResponse:
    outcome = await handlers.sign_in(commands.SignIn(body.email_or_username, body.password, device_id), deps)
    if outcome.account is None:
        pending = OtpRequiredOut(message=OTP_SENT)
        return JSONResponse(pending.model_dump(), status_code=status.HTTP_202_ACCEPTED)
    return UserEnvelope(user=UserOut.of(outcome.account))


@router.post(
    "/verify-otp",
    response_model=UserEnvelope,
    responses=error_responses(400, 401, 422, 429, 503),
    **public_operation("auth.verifyOtp", session="none"),
)
async def verify_otp(body: VerifyOtpIn, deps: HandlerDeps, device_id: DeviceId) -> UserEnvelope:
    command = commands.VerifyOtp(body.email_or_username, body.otp, device_id)
    return UserEnvelope(user=UserOut.of(await handlers.verify_otp(command, deps)))


@router.post(
    "/verify-email",
    response_model=UserEnvelope,
    responses=error_responses(400, 422, 503),
    **public_operation("auth.verifyEmail", session="none"),
)
async def verify_email(
    body: VerifyEmailIn, deps: HandlerDeps, device_id: OptionalDeviceId = None
) -> UserEnvelope:
    account = await handlers.verify_email(commands.VerifyEmail(body.token, device_id), deps)
    return UserEnvelope(user=UserOut.of(account))


@router.post(
    "/resend-verification",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    responses=error_responses(401, 404, 409, 503),
    **public_operation("auth.resendVerification", session="required"),
)
async def resend_verification(account_id: CurrentAccountId, deps: HandlerDeps) -> MessageOut:
    await handlers.resend_verification(commands.ResendVerification(account_id), deps)
    return MessageOut(message="A new verification email is on its way.")


@router.post(
    "/forgot-password",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    responses=error_responses(400, 422, 503),
    **public_operation("auth.forgotPassword", session="none"),
)
async def forgot_password(body: ForgotPasswordIn, deps: HandlerDeps) -> MessageOut:
    await handlers.forgot_password(commands.ForgotPassword(body.email), deps)
    return MessageOut(message=RESET_ACCEPTED)


@router.post(
    "/reset-password",
    response_model=MessageOut,
    responses=error_responses(400, 422, 503),
    **public_operation("auth.resetPassword", session="none"),
)
async def reset_password(body: ResetPasswordIn, deps: HandlerDeps) -> JSONResponse:
    command = commands.ResetPassword(body.token, body.password, body.confirm_password)
    account_id = await handlers.reset_password(command, deps)
    # ``user_id`` (PasswordResetOut) tells the gateway whose sessions to end; the gateway drops it, so the
    # published answer stays MessageOut and the extra field is returned outside the response model.
    answer = PasswordResetOut(
        message="Your password has been reset. You can sign in with the new password.",
        user_id=str(account_id),
    )
    return JSONResponse(answer.model_dump())


@router.put(
    "/change-password",
    response_model=MessageOut,
    responses=error_responses(400, 401, 404, 422, 503),
    **public_operation("auth.changePassword", session="required"),
)
async def change_password(
    body: ChangePasswordIn, account_id: CurrentAccountId, deps: HandlerDeps
) -> MessageOut:
    command = commands.ChangePassword(account_id, body.current_password, body.new_password)
    await handlers.change_password(command, deps)
    return MessageOut(message="Your password has been changed.")


@router.get(
    "/me",
    response_model=UserEnvelope,
    responses=error_responses(401, 404, 503),
    **public_operation("auth.me", session="required"),
)
async def me(account_id: CurrentAccountId, deps: HandlerDeps) -> UserEnvelope:
    account = await handlers.get_current_user(commands.GetCurrentUser(account_id), deps)
    return UserEnvelope(user=UserOut.of(account))


@router.post(
    "/signout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 404, 503),
    **public_operation("auth.signout", session="required"),
)
async def sign_out(account_id: CurrentAccountId, deps: HandlerDeps) -> Response:
    await handlers.sign_out(commands.SignOut(account_id), deps)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/seed/{count}", status_code=status.HTTP_201_CREATED, response_model=SeededOut)
async def seed(
    count: Annotated[int, Path(ge=1, le=SEED_MAX_COUNT)], request: Request, deps: HandlerDeps
) -> SeededOut:
    # Answer as if the route did not exist anywhere but development.
    if not request.app.state.settings.is_development:
        raise NotFound("Not Found")
    accounts = await handlers.seed_accounts(commands.SeedAccounts(count), deps)
    return SeededOut(created=len(accounts), password=SEED_PASSWORD, users=[UserOut.of(a) for a in accounts])
