"""The credentials policy: what a valid username, email address, password and device id look like."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from servicekit.identifiers import IdentifierNotNormalisable, canonical_identifier

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
# What the published schema checks of an address as typed; normalise_email applies the real policy.
EMAIL_PATTERN = rf"[^@{WHITESPACE_CLASS}]{{1,64}}@[^@{WHITESPACE_CLASS}.]+(?:\.[^@{WHITESPACE_CLASS}.]+)+"
DEVICE_ID_PATTERN = r"[A-Za-z0-9._:-]+"
_DEVICE_ID_PATTERN = re.compile(DEVICE_ID_PATTERN)


_INVALID_EMAIL = "Email address is not valid"


def canonical(raw: str, field: str, message: str | None = None) -> str:
    """The identifier in its one canonical form (servicekit.identifiers), or CredentialsPolicyViolation."""
    try:
        return canonical_identifier(raw)
    except IdentifierNotNormalisable as error:
        raise CredentialsPolicyViolation(field, message or f"{field.capitalize()} is not valid") from error


def normalise_username(raw: str) -> str:
    """Return the canonical username or raise CredentialsPolicyViolation."""
    username = canonical(raw, "username")
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
    """Return the canonical email address (ASCII, the domain as IDNA) or raise CredentialsPolicyViolation.

    Policy: the local part must be ASCII. Mail to a non-ASCII local part needs SMTPUTF8 on every relay on the
    way, which our SMTP path does not promise; the domain may be internationalised and is stored as its
    IDNA (punycode) A-label, which every SMTP server accepts. Deliverability is proven by the verification
    email, not here (no DNS lookups).
    """
    # The length applies to the address as typed (what the published schema describes) and again to its
    # canonical form, which NFKC and case folding can lengthen.
    if len(raw.strip()) > EMAIL_MAX_LENGTH:
        raise CredentialsPolicyViolation("email", _INVALID_EMAIL)
    email = canonical(raw, "email", _INVALID_EMAIL)
    if len(email) > EMAIL_MAX_LENGTH:
        raise CredentialsPolicyViolation("email", _INVALID_EMAIL)
    local_part = email.rpartition("@")[0]
    if not local_part.isascii():
        raise CredentialsPolicyViolation("email", "Email address must use only ASCII characters before the @")
    try:
        checked = validate_email(
            email, check_deliverability=False, allow_smtputf8=False, test_environment=True
        )
    except EmailNotValidError as error:
        raise CredentialsPolicyViolation("email", _INVALID_EMAIL) from error
    ascii_email = (checked.ascii_email or checked.normalized).lower()
    if len(ascii_email) > EMAIL_MAX_LENGTH:
        raise CredentialsPolicyViolation("email", _INVALID_EMAIL)
    return ascii_email


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
