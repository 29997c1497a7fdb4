"""Auth domain errors: a stable machine-readable ``code``, a message fit for users, field ``details``.

They derive from servicekit's framework-free ``DomainError`` (servicekit.errors brings FastAPI, which the
import-layer contract forbids here); ``auth_service.entrypoints.errors`` maps each one to the HTTP status
named next to it below.
"""

# Names state the outcome (InvalidToken, AccountNotFound) as servicekit's NotFound/Conflict do; the
# Error-suffix rule is waived for them.
# ruff: noqa: N818

from __future__ import annotations

from servicekit.domain_errors import DomainError


class AuthError(DomainError):
    code: str = "auth_error"


class InvalidCredentials(AuthError):
    """Unknown account or wrong password; deliberately one error for both (no enumeration). -> 401"""

    code = "invalid_credentials"
    default_message = "Invalid credentials"


class InvalidOtp(AuthError):
    """The one-time password is wrong, expired, or no challenge is pending for this device. -> 401"""

    code = "invalid_otp"
    default_message = "Invalid or expired one-time password"


class OtpAttemptsExhausted(AuthError):
    """Too many wrong codes for the pending challenge; signing in again issues a new one. -> 429"""

    code = "otp_attempts_exhausted"
    default_message = "Too many attempts; sign in again to receive a new code"


class SignInThrottled(AuthError):
    """The account's failed-attempt budget is spent and its growing delay has not passed yet. -> 429

    Raised before any password is checked, so a burst of guesses never reaches the hasher.
    """

    code = "signin_throttled"
    default_message = "Too many failed attempts; wait before trying again, or reset the password"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds


class InvalidToken(AuthError):
    """A verification or reset token that is unknown, expired or already used. -> 400"""

    code = "invalid_token"
    default_message = "The link is invalid or has expired"


class CredentialsPolicyViolation(AuthError):
    """Input that breaks the credentials policy (username, email, password, device id rules). -> 422"""

    code = "validation_failed"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, details=[{"field": field, "message": message}])
        self.field = field


class PasswordConfirmationMismatch(CredentialsPolicyViolation):
    """The two copies of a new password differ. -> 422"""

    def __init__(self) -> None:
        super().__init__("confirm_password", "Passwords do not match")


class WrongCurrentPassword(AuthError):
    """Change-password with a wrong current password. -> 400

    Not 401: the caller's session is valid, and the gateway treats a downstream 401 as a broken session.
    """

    code = "invalid_current_password"
    default_message = "Current password is incorrect"


class EmailAlreadyVerified(AuthError):
    """Resend-verification for an account whose email is already verified. -> 409"""

    code = "email_already_verified"
    default_message = "Email address is already verified"


class AccountNotFound(AuthError):
    """An authenticated caller whose account no longer exists. -> 404"""

    code = "not_found"
    default_message = "Account does not exist"


class DuplicateAccountError(Exception):
    """Raised by the store when a username or email is taken by a concurrent signup.

    Not an AuthError: it never reaches a client (signup answers the same either way).
    """
