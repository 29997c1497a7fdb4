"""One async handler per auth command, grouped by concern."""

from auth_service.service_layer.handlers.passwords import change_password, forgot_password, reset_password
from auth_service.service_layer.handlers.registration import (
    resend_verification,
    seed_accounts,
    sign_up,
    verify_email,
)
from auth_service.service_layer.handlers.sessions import (
    SignInOutcome,
    get_current_user,
    sign_in,
    sign_out,
    verify_otp,
)

__all__ = [
    "SignInOutcome",
    "change_password",
    "forgot_password",
    "get_current_user",
    "resend_verification",
    "reset_password",
    "seed_accounts",
    "sign_in",
    "sign_out",
    "sign_up",
    "verify_email",
    "verify_otp",
]
