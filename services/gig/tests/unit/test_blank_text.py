"""Blank text is one set of characters for the published schema, read by any regex engine, and the domain."""

from __future__ import annotations

import re

from gig_service.domain.model import is_blank
from gig_service.entrypoints.schemas import NOT_BLANK, Label
from pydantic import BaseModel, ValidationError

# ECMA-262 WhiteSpace and LineTerminator: what `\s` means to JSON Schema's regexes (and to its clients).
ECMA_WHITE_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
CHARACTERS = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000]


class _Labelled(BaseModel):
    label: Label


def _as_ecma(pattern: str) -> re.Pattern[str]:
    """The pattern as an ECMA-262 engine reads it, for Python's `re` (whose `\\s` differs)."""
    inside_class = pattern.replace(r"\s", ECMA_WHITE_SPACE)
    return re.compile(inside_class.replace(r"\S", f"[^{ECMA_WHITE_SPACE}]"))


def _accepted_by_pydantic(text: str) -> bool:
    try:
        _Labelled(label=text)
    except ValidationError:
        return False
    return True


def test_ecma_python_and_the_services_regex_refuse_exactly_the_domains_blank_text() -> None:
    """A bare `\\S` let "\\x85" through the published schema (ECMA-262) while the service refused it (a
    randomized fuzz run, FUZZ_SEED=4: "schema-valid request rejected"); Python's `\\S` differs again."""
    engines = {"ecma-262": _as_ecma(NOT_BLANK), "python": re.compile(NOT_BLANK)}
    disagreements = {
        name: [hex(ord(c)) for c in CHARACTERS if (engine.search(c) is None) != is_blank(c)]
        for name, engine in engines.items()
    }
    disagreements["pydantic (rust)"] = [
        hex(ord(c)) for c in CHARACTERS if _accepted_by_pydantic(c) == is_blank(c)
    ]
    assert disagreements == {"ecma-262": [], "python": [], "pydantic (rust)": []}
