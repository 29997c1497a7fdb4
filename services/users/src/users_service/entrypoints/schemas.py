"""Request and response bodies of the users API; their constraints are what OpenAPI publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, HttpUrl, StringConstraints
from servicekit.public_api import JsonCounter, JsonInteger, whole_number

from users_service.domain.profile import Profile
from users_service.domain.seller import (
    MAX_RESPONSE_TIME_HOURS,
    MIN_RESPONSE_TIME_HOURS,
    Certificate,
    Education,
    Experience,
    Language,
    LanguageLevel,
    SellerDetails,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# A JSON integer only (servicekit.public_api.JsonInteger), bounds first so `Year | None` still publishes them.
Year = Annotated[int, Field(ge=1950, le=2100), BeforeValidator(whole_number), pydantic.Strict()]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LanguageIn(Strict):
    language: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    level: LanguageLevel


class ExperienceIn(Strict):
    company: Text
    title: Text
    start_year: Year
    end_year: Year | None = Field(default=None, description="empty while it is the current position")
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""


class EducationIn(Strict):
    country: Text
    university: Text
    title: Text
    major: Text
    year: Year


class CertificateIn(Strict):
    name: Text
    issuer: Text
    year: Year


class SellerIn(Strict):
    """Everything a seller shows buyers; `sellers.create` and `sellers.update` take the whole of it."""

    full_name: Text
    one_liner: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20, max_length=3000)]
    skills: Annotated[
        list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]],
        Field(min_length=1, max_length=30, json_schema_extra={"uniqueItems": True}),
    ]
    languages: Annotated[list[LanguageIn], Field(min_length=1, max_length=10)]
    experience: Annotated[list[ExperienceIn], Field(max_length=20)] = []
    education: Annotated[list[EducationIn], Field(max_length=10)] = []
    certificates: Annotated[list[CertificateIn], Field(max_length=20)] = []
    social_links: Annotated[list[HttpUrl], Field(max_length=10, json_schema_extra={"uniqueItems": True})] = []
    response_time_hours: JsonInteger = Field(ge=MIN_RESPONSE_TIME_HOURS, le=MAX_RESPONSE_TIME_HOURS)

    def to_details(self) -> SellerDetails:
        return SellerDetails(
            full_name=self.full_name,
            one_liner=self.one_liner,
            description=self.description,
            skills=tuple(self.skills),
            languages=tuple(Language(e.language, e.level) for e in self.languages),
            experience=tuple(Experience(**e.model_dump()) for e in self.experience),
            education=tuple(Education(**e.model_dump()) for e in self.education),
            certificates=tuple(Certificate(**e.model_dump()) for e in self.certificates),
            social_links=tuple(str(link) for link in self.social_links),
            response_time_hours=self.response_time_hours,
        )


class SellerUpdateIn(SellerIn):
    revision: JsonCounter = Field(description="the revision this edit is based on (from a read)")


class RatingsOut(BaseModel):
    stars: dict[str, int] = Field(description='count of reviews per star value, keys "1" to "5"')
    rating_sum: int
    rating_count: int
    average: float | None


class EarningsOut(BaseModel):
    currency: str
    amount_minor: int = Field(description="integer minor units (cents)")


class SellerStatsOut(BaseModel):
    ongoing_jobs: int
    completed_jobs: int
    cancelled_jobs: int
    gig_count: int
    earnings: list[EarningsOut]


class SellerOut(BaseModel):
    id: str
    username: str
    full_name: str
    one_liner: str
    description: str
    skills: list[str]
    languages: list[LanguageIn]
    experience: list[ExperienceIn]
    education: list[EducationIn]
    certificates: list[CertificateIn]
    social_links: list[str]
    response_time_hours: int
    country: str | None
    member_since: datetime
    seller_since: datetime
    revision: int
    ratings: RatingsOut
    stats: SellerStatsOut

    @classmethod
    def of(cls, profile: Profile) -> SellerOut:
        seller, account = profile.seller, profile.account
        assert seller is not None
        assert account is not None
        details, counters, ratings = seller.details, profile.counters, profile.ratings
        return cls(
            id=profile.user_id,
            username=account.username,
            full_name=details.full_name,
            one_liner=details.one_liner,
            description=details.description,
            skills=list(details.skills),
            languages=[LanguageIn(language=e.language, level=e.level) for e in details.languages],
            experience=[ExperienceIn(**vars(e)) for e in details.experience],
            education=[EducationIn(**vars(e)) for e in details.education],
            certificates=[CertificateIn(**vars(e)) for e in details.certificates],
            social_links=list(details.social_links),
            response_time_hours=details.response_time_hours,
            country=account.country,
            member_since=account.created_at,
            seller_since=seller.became_seller_at,
            revision=seller.revision,
            ratings=RatingsOut(
                stars={str(star): count for star, count in ratings.stars.items()},
                rating_sum=ratings.rating_sum,
                rating_count=ratings.rating_count,
                average=ratings.average,
            ),
            stats=SellerStatsOut(
                ongoing_jobs=counters.ongoing_jobs,
                completed_jobs=counters.completed_jobs,
                cancelled_jobs=counters.cancelled_jobs,
                gig_count=counters.gig_count,
                earnings=[
                    EarningsOut(currency=currency, amount_minor=amount)
                    for currency, amount in sorted(counters.earnings_minor.items())
                ],
            ),
        )


class SellerList(BaseModel):
    sellers: list[SellerOut]


class BuyerOut(BaseModel):
    id: str
    username: str
    email: str | None = Field(description="only in the caller's own profile (buyers.me)")
    country: str | None
    member_since: datetime
    is_seller: bool
    purchased_gigs: int
    cancelled_gigs: int

    @classmethod
    def of(cls, profile: Profile, *, with_email: bool) -> BuyerOut:
        account = profile.account
        assert account is not None
        return cls(
            id=profile.user_id,
            username=account.username,
            email=account.email if with_email else None,
            country=account.country,
            member_since=account.created_at,
            is_seller=profile.seller is not None,
            purchased_gigs=profile.counters.purchased_gigs,
            cancelled_gigs=profile.counters.cancelled_gigs,
        )
