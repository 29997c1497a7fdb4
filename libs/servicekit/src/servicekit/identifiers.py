"""One canonical form for account identifiers (usernames, email addresses), shared by every service.

Anything that keys on what a user typed (the store's unique index, the gateway's failed-sign-in budget) must
agree on when two strings name the same account, or each variant gets its own budget. The form is:
Unicode NFKC (compatibility forms such as full-width letters and ligatures fold to their plain letters),
case folding (``ß`` -> ``ss``, ``K`` (Kelvin) -> ``k``), and no default-ignorable code points (zero-width
spaces and joiners, soft hyphens, variation selectors), trimmed. The store then compares under a binary
collation, so the database never applies an equivalence of its own that this function does not.

Pure standard library: domain layers may import it.
"""

from __future__ import annotations

import unicodedata

__all__ = ["IdentifierNotNormalisable", "canonical_identifier"]

# Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt): invisible when rendered, so two
# identifiers differing only in them look identical to a person.
_DEFAULT_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


class IdentifierNotNormalisable(ValueError):  # noqa: N818 - reads as the outcome, like ValueError
    """The input has no canonical form (unpaired surrogates, control characters, nothing left)."""


def _is_ignorable(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _DEFAULT_IGNORABLE_RANGES)


def canonical_identifier(raw: str) -> str:
    """Return the canonical form of ``raw`` or raise ``IdentifierNotNormalisable``.

    Applied twice it changes nothing (NFKC of a case-folded string can un-normalise, hence the second pass).
    """
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError as error:  # lone surrogates
        raise IdentifierNotNormalisable("identifier is not valid Unicode") from error
    text = "".join(char for char in unicodedata.normalize("NFKC", raw) if not _is_ignorable(char))
    text = unicodedata.normalize("NFKC", text.casefold()).strip()
    if not text:
        raise IdentifierNotNormalisable("identifier is empty")
    if any(unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn") for char in text):
        raise IdentifierNotNormalisable("identifier contains control or unassigned characters")
    return text
