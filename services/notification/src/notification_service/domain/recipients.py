"""Recipient address checks: an email goes only to the single, well-formed address named in the event."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from notification_service.domain.errors import UndeliverableEmailError

MAX_ADDRESS_LENGTH = 254


def normalised_recipient(value: object) -> str:
    """Return the address to send to, or raise ``UndeliverableEmailError`` saying why it cannot be used."""
    if value is None or value == "":
        raise UndeliverableEmailError("missing recipient: payload has no 'to' address")
    if not isinstance(value, str):
        raise UndeliverableEmailError("invalid recipient: 'to' is not a string")
    # A newline in an address is a header-injection attempt, never a typo worth correcting.
    if any(ch in value for ch in "\r\n,;") or len(value) > MAX_ADDRESS_LENGTH:
        raise UndeliverableEmailError("invalid recipient: 'to' must be exactly one address")
    try:
        # No DNS lookups here: deliverability is the SMTP server's call (a 5xx comes back as permanent).
        # test_environment admits the reserved ``.test`` TLD that development and test accounts use;
        # the other special-use names (.local, .localhost, .invalid, .onion) stay refused.
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise UndeliverableEmailError(f"invalid recipient: {exc}") from exc
    return str(checked.normalized)
