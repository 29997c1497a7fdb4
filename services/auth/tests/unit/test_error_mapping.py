"""Every domain error is reported with the status and body the auth API promises."""

from __future__ import annotations

import json

import pytest
from auth_service.domain import errors
from auth_service.domain.errors import AuthError
from auth_service.entrypoints.errors import AUTH_ERRORS


def _all_domain_errors(base: type[AuthError] = AuthError) -> set[type[AuthError]]:
    found: set[type[AuthError]] = set()
    for subclass in base.__subclasses__():
        if subclass.__module__ == errors.__name__:
            found |= {subclass} | _all_domain_errors(subclass)
    return found


def test_every_domain_error_has_a_reported_status() -> None:
    assert len(_all_domain_errors()) >= 9
    for error_type in _all_domain_errors():
        assert AUTH_ERRORS.lookup(error_type) is not None, error_type


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (errors.InvalidCredentials(), 401, "invalid_credentials"),
        (errors.InvalidOtp(), 401, "invalid_otp"),
        (errors.OtpAttemptsExhausted(), 429, "otp_attempts_exhausted"),
        (errors.InvalidToken(), 400, "invalid_token"),
        (errors.CredentialsPolicyViolation("email", "bad"), 422, "validation_failed"),
        (errors.PasswordConfirmationMismatch(), 422, "validation_failed"),
        (errors.WrongCurrentPassword(), 400, "invalid_current_password"),
        (errors.EmailAlreadyVerified(), 409, "email_already_verified"),
        (errors.AccountNotFound(), 404, "not_found"),
    ],
)
def test_reported_status_code_and_body(error: AuthError, status: int, code: str) -> None:
    reported = AUTH_ERRORS.as_service_error(error)
    assert (reported.status_code, reported.code, reported.message) == (status, code, error.message)
    assert reported.details == error.details


def test_policy_violation_details_name_the_field() -> None:
    reported = AUTH_ERRORS.as_service_error(errors.PasswordConfirmationMismatch())
    assert json.loads(json.dumps(reported.details)) == [
        {"field": "confirm_password", "message": "Passwords do not match"}
    ]


def test_an_unmapped_domain_error_becomes_an_opaque_500() -> None:
    class UnmappedError(AuthError):
        code = "secret_internal_detail"

    reported = AUTH_ERRORS.as_service_error(UnmappedError("internal detail"))
    assert (reported.status_code, reported.code) == (500, "internal_error")
    assert "internal detail" not in reported.message
