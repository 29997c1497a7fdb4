"""Every domain error is reported with the status and body the auth API promises."""

from __future__ import annotations

import json

import pytest
from auth_service.domain import exceptions
from auth_service.domain.exceptions import AuthError
from auth_service.entrypoints.errors import REPORTED_AS, as_service_error


def _all_domain_errors(base: type[AuthError] = AuthError) -> set[type[AuthError]]:
    found: set[type[AuthError]] = set()
    for subclass in base.__subclasses__():
        if subclass.__module__ == exceptions.__name__:
            found |= {subclass} | _all_domain_errors(subclass)
    return found


def test_every_domain_error_has_a_reported_status() -> None:
    assert len(_all_domain_errors()) >= 9
    for error_type in _all_domain_errors():
        assert any(cls in REPORTED_AS for cls in error_type.__mro__), error_type


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (exceptions.InvalidCredentials(), 401, "invalid_credentials"),
        (exceptions.InvalidOtp(), 401, "invalid_otp"),
        (exceptions.OtpAttemptsExhausted(), 429, "otp_attempts_exhausted"),
        (exceptions.InvalidToken(), 400, "invalid_token"),
        (exceptions.CredentialsPolicyViolation("email", "bad"), 422, "validation_failed"),
        (exceptions.PasswordConfirmationMismatch(), 422, "validation_failed"),
        (exceptions.WrongCurrentPassword(), 400, "invalid_current_password"),
        (exceptions.EmailAlreadyVerified(), 409, "email_already_verified"),
        (exceptions.AccountNotFound(), 404, "not_found"),
    ],
)
def test_reported_status_code_and_body(error: AuthError, status: int, code: str) -> None:
    reported = as_service_error(error)
    assert (reported.status_code, reported.code, reported.message) == (status, code, error.message)
    assert reported.details == error.details


def test_policy_violation_details_name_the_field() -> None:
    reported = as_service_error(exceptions.PasswordConfirmationMismatch())
    assert json.loads(json.dumps(reported.details)) == [
        {"field": "confirm_password", "message": "Passwords do not match"}
    ]


def test_an_unmapped_domain_error_becomes_an_opaque_500() -> None:
    class UnmappedError(AuthError):
        code = "secret_internal_detail"

    reported = as_service_error(UnmappedError("internal detail"))
    assert (reported.status_code, reported.code) == (500, "internal_error")
    assert "internal detail" not in reported.message
