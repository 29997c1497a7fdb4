"""Profile ⇄ MongoDB document. Keys of documents must be strings, so star buckets are stored as "1".."5"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from users_service.domain.profile import STAR_VALUES, Account, Counters, Profile, Ratings, Seller
from users_service.domain.seller import (
    Certificate,
    Education,
    Experience,
    Language,
    LanguageLevel,
    SellerDetails,
)

Document = dict[str, Any]


def to_document(profile: Profile) -> Document:
    """Every field but `_id` and `version`, which servicekit's `VersionedRepository` owns."""
    account, seller = profile.account, profile.seller
    return {
        "username": account.username if account else None,
        "email": account.email if account else None,
        "country": account.country if account else None,
        "account_created_at": account.created_at if account else None,
        "seller": _seller_document(seller) if seller else None,
        "is_seller": seller is not None,
        "random_key": seller.random_key if seller else None,
        "counters": {
            "purchased_gigs": profile.counters.purchased_gigs,
            "cancelled_gigs": profile.counters.cancelled_gigs,
            "ongoing_jobs": profile.counters.ongoing_jobs,
            "completed_jobs": profile.counters.completed_jobs,
            "cancelled_jobs": profile.counters.cancelled_jobs,
            "gig_count": profile.counters.gig_count,
            "earnings_minor": dict(profile.counters.earnings_minor),
        },
        "ratings": {
            "stars": {str(star): count for star, count in profile.ratings.stars.items()},
            "sum": profile.ratings.rating_sum,
            "count": profile.ratings.rating_count,
        },
        "recent_events": list(profile.recent_events),
    }


def _seller_document(seller: Seller) -> Document:
    details = seller.details
    return {
        "full_name": details.full_name,
        "one_liner": details.one_liner,
        "description": details.description,
        "skills": list(details.skills),
        "languages": [{"language": e.language, "level": e.level.value} for e in details.languages],
        "experience": [vars(e) for e in details.experience],
        "education": [vars(e) for e in details.education],
        "certificates": [vars(e) for e in details.certificates],
        "social_links": list(details.social_links),
        "response_time_hours": details.response_time_hours,
        "became_seller_at": seller.became_seller_at,
        "revision": seller.revision,
    }


def from_document(document: Mapping[str, Any]) -> Profile:
    account = None
    if document.get("username") is not None:
        account = Account(
            username=document["username"],
            email=document["email"],
            country=document.get("country"),
            created_at=_utc(document["account_created_at"]),
        )
    counters = document.get("counters") or {}
    ratings = document.get("ratings") or {}
    stars = ratings.get("stars") or {}
    return Profile(
        user_id=document["_id"],
        account=account,
        seller=_seller(document["seller"], document["random_key"]) if document.get("seller") else None,
        counters=Counters(
            purchased_gigs=counters.get("purchased_gigs", 0),
            cancelled_gigs=counters.get("cancelled_gigs", 0),
            ongoing_jobs=counters.get("ongoing_jobs", 0),
            completed_jobs=counters.get("completed_jobs", 0),
            cancelled_jobs=counters.get("cancelled_jobs", 0),
            gig_count=counters.get("gig_count", 0),
            earnings_minor=dict(counters.get("earnings_minor") or {}),
        ),
        ratings=Ratings(
            stars={star: int(stars.get(str(star), 0)) for star in STAR_VALUES},
            rating_sum=ratings.get("sum", 0),
            rating_count=ratings.get("count", 0),
        ),
        recent_events=tuple(document.get("recent_events") or ()),
    )


def _seller(stored: Document, random_key: float) -> Seller:
    details = SellerDetails(
        full_name=stored["full_name"],
        one_liner=stored["one_liner"],
        description=stored["description"],
        skills=tuple(stored["skills"]),
        languages=tuple(Language(e["language"], LanguageLevel(e["level"])) for e in stored["languages"]),
        experience=tuple(Experience(**e) for e in stored.get("experience") or ()),
        education=tuple(Education(**e) for e in stored.get("education") or ()),
        certificates=tuple(Certificate(**e) for e in stored.get("certificates") or ()),
        social_links=tuple(stored.get("social_links") or ()),
        response_time_hours=stored["response_time_hours"],
    )
    return Seller(
        details=details,
        became_seller_at=_utc(stored["became_seller_at"]),
        random_key=random_key,
        revision=stored["revision"],
    )


def _utc(value: datetime) -> datetime:
    # The client is tz-aware; this also accepts documents read by a naive client (tools, shells).
    return value if value.tzinfo else value.replace(tzinfo=UTC)
