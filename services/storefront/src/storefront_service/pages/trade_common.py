"""Helpers shared by the trading pages (selling, inbox, orders): who is signed in, and form parsing.

Form values arrive as strings; the gateway wants integers in minor units, lists and ISO dates. Parsing
errors are collected per field so the page re-renders with the user's input and a message next to each
field, the same way a gateway 422 is shown (``web.form_error``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from redis.exceptions import RedisError

from storefront_service.gateway_client import SignedOutError
from storefront_service.sessions import Session, SignedInUser

MAX_PRICE_MINOR = 100_000_000
# Media keys are random (``deliveries/<owner>/<uuid>.pdf``); the name the file had on the uploader's disk is
# kept beside it in the storefront's Redis so pages can show "work.pdf" rather than the uuid.
MEDIA_NAME_KEY = "sf:media-name:"
MEDIA_NAME_TTL_SECONDS = 180 * 24 * 3600
MAX_FILE_NAME = 120


def signed_in_user(session: Session) -> SignedInUser:
    """The signed-in user, or the sign-in redirect (the app turns SignedOutError into it)."""
    if not session.signed_in or session.user is None:
        raise SignedOutError("page needs a signed-in user")
    return session.user


@dataclass
class FormErrors:
    """Field -> message, filled while parsing a form."""

    fields: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def context(self) -> dict[str, Any]:
        return {"error": "Please correct the fields marked below.", "field_errors": dict(self.fields)}


def parse_money(raw: str, name: str, errors: FormErrors) -> int | None:
    """ "45", "45.5" or "45.50" (major units, at most two decimals) -> 4550 minor units."""
    text = raw.strip().replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        errors.add(name, "Enter an amount such as 45 or 45.50.")
        return None
    minor = amount * 100
    if not amount.is_finite() or minor != minor.to_integral_value():
        errors.add(name, "Enter an amount with at most two decimals.")
        return None
    value = int(minor)
    if not 1 <= value <= MAX_PRICE_MINOR:
        errors.add(name, "Enter an amount between 0.01 and 1,000,000.")
        return None
    return value


def parse_int(raw: str, name: str, errors: FormErrors, *, low: int, high: int) -> int | None:
    try:
        value = int(raw.strip())
    except ValueError:
        errors.add(name, "Enter a whole number.")
        return None
    if not low <= value <= high:
        errors.add(name, f"Enter a number from {low} to {high}.")
        return None
    return value


def parse_list(raw: str, *, separator: str = ",") -> list[str]:
    """Comma- (or line-) separated words, trimmed, blanks and repeats dropped, order kept."""
    items = raw.replace("\r", "").split(separator) if separator != "\n" else raw.splitlines()
    return list(dict.fromkeys(item.strip() for item in items if item.strip()))


def clean_file_name(raw: str) -> str:
    """The last path part of a browser-supplied name, control characters out, length capped."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:MAX_FILE_NAME]


async def remember_file_name(redis: Any, key: str, name: str) -> None:
    if name:
        await redis.set(MEDIA_NAME_KEY + key, name, ex=MEDIA_NAME_TTL_SECONDS)


async def file_names(redis: Any, keys: list[str]) -> dict[str, str]:
    """key -> the uploader's file name, for the keys whose name is known (else the page shows the key's)."""
    unique = list(dict.fromkeys(k for k in keys if k))
    if not unique:
        return {}
    try:
        values = await redis.mget([MEDIA_NAME_KEY + key for key in unique])
    except RedisError:
        return {}  # a display nicety: never fail a page for it
    return {
        key: value.decode() if isinstance(value, bytes) else str(value)
        for key, value in zip(unique, values, strict=True)
        if value is not None
    }


def major_units(minor: int | None) -> str:
    """4550 -> "45.50": how a price is put back into a form field."""
    if minor is None:
        return ""
    whole, cents = divmod(int(minor), 100)
    return f"{whole}.{cents:02d}"
