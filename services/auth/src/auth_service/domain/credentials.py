"""The credentials policy: what a valid username, email address, password and device id look like."""

from __future__ import annotations

import re

from auth_service.domain.errors import CredentialsPolicyViolation

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 30
EMAIL_MAX_LENGTH = 254
COUNTRY_MAX_LENGTH = 64
DEVICE_ID_MAX_LENGTH = 128

# Usernames appear in URLs (/seller/<username>) and mail greetings, so they stay to a URL-safe alphabet and
# are case-insensitive (stored lowercase) to stop look-alike accounts such as "Alice" and "alice".
USERNAME_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?"
_USERNAME_PATTERN = re.compile(USERNAME_PATTERN)
# Exactly the characters ``str.isspace`` (and so ``str.strip``) treats as whitespace, spelled out: ``\s``
# means a different set in every regex engine (Python, ECMA-262 for OpenAPI clients, Rust for pydantic's
# default).
WHITESPACE_CLASS = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK_PATTERN = rf"[^{WHITESPACE_CLASS}]"
# Deliberately loose: deliverability is proven by the verification email, not by a regex.
EMAIL_PATTERN = rf"[^@{WHITESPACE_CLASS}]{{1,64}}@[^@{WHITESPACE_CLASS}.]+(?:\.[^@{WHITESPACE_CLASS}.]+)+"
_EMAIL_PATTERN = re.compile(EMAIL_PATTERN)
DEVICE_ID_PATTERN = r"[A-Za-z0-9._:-]+"
_DEVICE_ID_PATTERN = re.compile(DEVICE_ID_PATTERN)


def normalise_username(raw: str) -> str:
    """Return the canonical (lowercase) username or raise CredentialsPolicyViolation."""
    username = raw.strip().lower()
    if not USERNAME_MIN_LENGTH <= len(username) <= USERNAME_MAX_LENGTH:
        raise CredentialsPolicyViolation(
            "username",
            f"Username must be {USERNAME_MIN_LENGTH}-{USERNAME_MAX_LENGTH} characters long",
        )
    if not _USERNAME_PATTERN.fullmatch(username):
        raise CredentialsPolicyViolation(
            "username",
            "Username may contain letters, digits, '.', '_' and '-', and must start and end with a letter "
            "or digit",
        )
    return username


def normalise_email(raw: str) -> str:
    """Return the canonical (trimmed, lowercase) email address or raise CredentialsPolicyViolation."""
    # The rules apply to the address as typed: lowercasing can lengthen it ("İ" becomes two code points), and
    # the published schema can only describe what the client sends.
    email = raw.strip()
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL_PATTERN.fullmatch(email):
        raise CredentialsPolicyViolation("email", "Email address is not valid")
    lowered = email.lower()
    if len(lowered) > EMAIL_MAX_LENGTH:
        raise CredentialsPolicyViolation("email", "Email address is too long")
    return lowered


def check_password(password: str, *, field: str = "password") -> str:
    """Return the password unchanged if the policy accepts it, else raise CredentialsPolicyViolation."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise CredentialsPolicyViolation(
            field, f"Password must be at least {PASSWORD_MIN_LENGTH} characters long"
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise CredentialsPolicyViolation(
            field, f"Password must be at most {PASSWORD_MAX_LENGTH} characters long"
        )
    if not password.strip():
        raise CredentialsPolicyViolation(field, "Password must not be blank")
    return password


def normalise_country(raw: str | None) -> str | None:
    """Return the trimmed country name, None when absent, or raise CredentialsPolicyViolation."""
    if raw is None or not raw.strip():
        return None
    country = raw.strip()
    if len(country) > COUNTRY_MAX_LENGTH:
        raise CredentialsPolicyViolation(
            "country", f"Country must be at most {COUNTRY_MAX_LENGTH} characters long"
        )
    return country


def check_device_id(raw: str | None) -> str:
    """Return the device id forwarded by the gateway or raise CredentialsPolicyViolation."""
    if raw is None or not raw.strip():
        raise CredentialsPolicyViolation("X-Device-Id", "The X-Device-Id header is required")
    device_id = raw.strip()
    if len(device_id) > DEVICE_ID_MAX_LENGTH or not _DEVICE_ID_PATTERN.fullmatch(device_id):
        raise CredentialsPolicyViolation("X-Device-Id", "The X-Device-Id header is not valid")
    return device_id


def looks_like_email(identifier: str) -> bool:
    """Whether a sign-in identifier is an email address rather than a username."""
    return "@" in identifier
