"""Auth domain errors, each deriving from the servicekit error it is reported as."""

from __future__ import annotations

from servicekit.errors import BadRequest, Conflict, NotFound, TooManyRequests, Unauthorized, ValidationFailed


class InvalidCredentials(Unauthorized):
    """Unknown account or wrong password; deliberately the same error for both (no enumeration)."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Invalid credentials")


class InvalidOtp(Unauthorized):
    """The one-time password is wrong, expired, or no challenge is pending for this device."""

    code = "invalid_otp"

    def __init__(self) -> None:
        super().__init__("Invalid or expired one-time password")


class OtpAttemptsExhausted(TooManyRequests):
    """Too many wrong codes for the pending challenge; the user must sign in again for a new one."""

    code = "otp_attempts_exhausted"

    def __init__(self) -> None:
        super().__init__("Too many attempts; sign in again to receive a new code")


class InvalidToken(BadRequest):
    """A verification or reset token that is unknown, expired or already used."""

    code = "invalid_token"

    def __init__(self) -> None:
        super().__init__("The link is invalid or has expired")


class CredentialsPolicyViolation(ValidationFailed):
    """Input that breaks the credentials policy (username, email or password rules)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, details=[{"field": field, "message": message}])
        self.field = field


class PasswordConfirmationMismatch(ValidationFailed):
    """The two copies of a new password differ."""

    def __init__(self) -> None:
        message = "Passwords do not match"
        super().__init__(message, details=[{"field": "confirm_password", "message": message}])


class WrongCurrentPassword(BadRequest):
    """Change-password called with a wrong current password.

    Not 401: the caller's session is valid, and the gateway treats a downstream 401 as a broken session.
    """

    code = "invalid_current_password"

    def __init__(self) -> None:
        super().__init__("Current password is incorrect")


class EmailAlreadyVerified(Conflict):
    """Resend-verification for an account whose email is already verified."""

    code = "email_already_verified"

    def __init__(self) -> None:
        super().__init__("Email address is already verified")


class AccountNotFound(NotFound):
    """An authenticated caller whose account no longer exists."""

    def __init__(self) -> None:
        super().__init__("Account does not exist")


class DuplicateAccountError(Exception):
    """Raised by the store when a username or email is taken by a concurrent signup.

    Not a ServiceError: it never reaches a client (signup answers the same either way).
    """
