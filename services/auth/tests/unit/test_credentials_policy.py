"""The credentials policy: usernames, emails, passwords, device ids."""

from __future__ import annotations

import pytest
from auth_service.domain.credentials import (
    check_device_id,
    check_password,
    normalise_country,
    normalise_email,
    normalise_username,
)
from auth_service.domain.errors import CredentialsPolicyViolation


def test_email_is_trimmed_and_lowercased() -> None:
    assert normalise_email("  Alice.Smith@Example.COM ") == "alice.smith@example.com"


@pytest.mark.parametrize("raw", ["", "alice", "alice@", "@example.com", "a b@example.com", "alice@localhost"])
def test_malformed_emails_are_refused(raw: str) -> None:
    with pytest.raises(CredentialsPolicyViolation) as refused:
        normalise_email(raw)
    assert refused.value.details == [{"field": "email", "message": "Email address is not valid"}]


def test_overlong_email_is_refused() -> None:
    with pytest.raises(CredentialsPolicyViolation):
        normalise_email("a" * 60 + "@" + "b" * 200 + ".com")


def test_username_is_lowercased() -> None:
    assert normalise_username(" Alice_99 ") == "alice_99"


@pytest.mark.parametrize("raw", ["ab", "a" * 31, "alice smith", "_alice", "alice-", "al!ce", "ålice"])
def test_invalid_usernames_are_refused(raw: str) -> None:
    with pytest.raises(CredentialsPolicyViolation) as refused:
        normalise_username(raw)
    assert refused.value.field == "username"
    assert refused.value.code == "validation_failed"


@pytest.mark.parametrize("length", [8, 64, 128])
def test_passwords_within_bounds_are_accepted(length: int) -> None:
    assert check_password("p" * length) == "p" * length


@pytest.mark.parametrize(("password", "fragment"), [("p" * 7, "at least 8"), ("p" * 129, "at most 128")])
def test_passwords_out_of_bounds_are_refused(password: str, fragment: str) -> None:
    with pytest.raises(CredentialsPolicyViolation, match=fragment):
        check_password(password)


def test_blank_password_is_refused() -> None:
    with pytest.raises(CredentialsPolicyViolation, match="blank"):
        check_password(" " * 10)


def test_country_is_optional_and_trimmed() -> None:
    assert normalise_country(None) is None
    assert normalise_country("   ") is None
    assert normalise_country(" Kenya ") == "Kenya"
    with pytest.raises(CredentialsPolicyViolation):
        normalise_country("x" * 65)


@pytest.mark.parametrize("raw", [None, "", "   ", "has space", "x" * 129, "semi;colon"])
def test_invalid_device_ids_are_refused(raw: str | None) -> None:
    with pytest.raises(CredentialsPolicyViolation) as refused:
        check_device_id(raw)
    assert refused.value.field == "X-Device-Id"


def test_uuid_device_id_is_accepted() -> None:
    assert check_device_id("3f1c2a9e-8d3b-4c52-9b7e-0f6a1d2c3b4a") == "3f1c2a9e-8d3b-4c52-9b7e-0f6a1d2c3b4a"
