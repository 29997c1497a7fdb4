"""What a seller tells buyers about themselves, and the rules that make it consistent.

Field-level limits (lengths, counts, URL shape) are also in the API schemas so OpenAPI shows them; the
rules here hold whatever the entry point (HTTP, backfill, tests): cross-field checks and uniqueness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from users_service.domain.errors import InvalidSellerDetails

MIN_RESPONSE_TIME_HOURS = 1
MAX_RESPONSE_TIME_HOURS = 24 * 7


class LanguageLevel(StrEnum):
    BASIC = "basic"
    CONVERSATIONAL = "conversational"
    FLUENT = "fluent"
    NATIVE = "native"


@dataclass(frozen=True)
class Language:
    language: str
    level: LanguageLevel


@dataclass(frozen=True)
class Experience:
    company: str
    title: str
    start_year: int
    end_year: int | None  # None: current position
    description: str = ""


@dataclass(frozen=True)
class Education:
    country: str
    university: str
    title: str
    major: str
    year: int


@dataclass(frozen=True)
class Certificate:
    name: str
    issuer: str
    year: int


@dataclass(frozen=True)
class SellerDetails:
    full_name: str
    one_liner: str
    description: str
    skills: tuple[str, ...]
    languages: tuple[Language, ...]
    response_time_hours: int
    experience: tuple[Experience, ...] = ()
    education: tuple[Education, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    social_links: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise InvalidSellerDetails(
                "The seller profile is not consistent",
                details=[{"field": f, "message": m} for f, m in problems],
            )

    def _problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for name in ("full_name", "one_liner", "description"):
            if not getattr(self, name).strip():
                problems.append((name, "must not be blank"))
        if not self.skills:
            problems.append(("skills", "at least one skill is required"))
        if len({skill.casefold() for skill in self.skills}) != len(self.skills):
            problems.append(("skills", "skills must be unique"))
        if not self.languages:
            problems.append(("languages", "at least one language is required"))
        if len({entry.language.casefold() for entry in self.languages}) != len(self.languages):
            problems.append(("languages", "each language may appear once"))
        if not MIN_RESPONSE_TIME_HOURS <= self.response_time_hours <= MAX_RESPONSE_TIME_HOURS:
            problems.append(("response_time_hours", "must be between 1 hour and 7 days"))
        for index, job in enumerate(self.experience):
            if job.end_year is not None and job.end_year < job.start_year:
                problems.append((f"experience.{index}.end_year", "must not be before start_year"))
        if len(set(self.social_links)) != len(self.social_links):
            problems.append(("social_links", "links must be unique"))
        return problems
