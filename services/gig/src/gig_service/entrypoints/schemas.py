"""Request and response bodies of the gig API (pydantic); the domain validates the rules again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, Field, Strict, StrictBool, StringConstraints
from servicekit.public_api import NO_CONTROL_CHARACTERS, JsonCounter, whole_number

from gig_service.domain.model import (
    DESCRIPTION_MAX_LENGTH,
    MAX_DELIVERY_DAYS,
    MAX_PRICE_MINOR,
    TITLE_MAX_LENGTH,
)
from gig_service.service_layer.handlers import VersionedGig

# The domain refuses blank text, so the schema says so: a character outside the domain's WHITE_SPACE. Not a
# bare `\S`: ECMA-262 (JSON Schema's regexes), Rust (pydantic's) and Python disagree on U+0085, U+FEFF and
# U+001C..U+001F, so "\x85" was valid to the published schema and refused by the service. The class names
# each of those, which leaves one set whichever engine reads it.
NOT_BLANK = r"[^\s\u001c-\u001f\u0085\ufeff]"
Label = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=NOT_BLANK)]
# A gig or seller id in a path: opaque to the client, but never a control character (a NUL made the store
# fail: a 500 for a typo). Long enough for any id this service or auth hands out.
PathId = Annotated[str, Path(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS)]
COVER_KEY_PATTERN = r"^gigs/[^/]+/[A-Za-z0-9._-]{1,200}$"
# JSON integers only (servicekit.public_api.JsonInteger), the bounds first so that an optional field still
# publishes them.
Price = Annotated[int, Field(ge=1, le=MAX_PRICE_MINOR), BeforeValidator(whole_number), Strict()]
DeliveryDays = Annotated[int, Field(ge=1, le=MAX_DELIVERY_DAYS), BeforeValidator(whole_number), Strict()]


class GigFields(BaseModel):
    title: str = Field(min_length=1, max_length=TITLE_MAX_LENGTH, pattern=NOT_BLANK)
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX_LENGTH, pattern=NOT_BLANK)
    category: str = Field(min_length=1, max_length=50, pattern=NOT_BLANK)
    sub_categories: list[Label] = Field(default_factory=list, max_length=5)
    tags: list[Label] = Field(default_factory=list, max_length=10)
    price: Price = Field(description="In minor units (cents)")
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    delivery_days: DeliveryDays
    cover_image_key: str | None = Field(
        default=None, pattern=COVER_KEY_PATTERN, description="An upload of yours: gigs/<your id>/..."
    )


class GigChangesIn(BaseModel):
    """Only the fields sent change. `version` is the version the client read (409 if no longer current)."""

    version: JsonCounter
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX_LENGTH, pattern=NOT_BLANK)
    description: str | None = Field(
        default=None, min_length=1, max_length=DESCRIPTION_MAX_LENGTH, pattern=NOT_BLANK
    )
    category: str | None = Field(default=None, min_length=1, max_length=50, pattern=NOT_BLANK)
    sub_categories: list[Label] | None = Field(default=None, max_length=5)
    tags: list[Label] | None = Field(default=None, max_length=10)
    price: Price | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    delivery_days: DeliveryDays | None = None
    cover_image_key: str | None = Field(default=None, pattern=COVER_KEY_PATTERN)

    def changes(self) -> dict[str, Any]:
        """The fields sent; `null` clears the cover and leaves any other field as it is."""
        sent = self.model_dump(exclude_unset=True, exclude={"version"})
        return {name: value for name, value in sent.items() if value is not None or name == "cover_image_key"}


class ActiveIn(BaseModel):
    # Strict: the schema says boolean, and pydantic's lax mode would take 0, 1, "yes" or "off" for one.
    active: StrictBool
    version: JsonCounter = Field(description="The version the client read (409 if no longer current)")


class GigOut(BaseModel):
    id: str
    seller_id: str
    title: str
    description: str
    category: str
    sub_categories: list[str]
    tags: list[str]
    price: int
    currency: str
    delivery_days: int
    cover_image_key: str | None
    active: bool
    rating_average: float
    rating_count: int
    seller_username: str | None = Field(
        default=None, description="As the users service last announced it; null until it has"
    )
    seller_rating_average: float = 0.0
    seller_rating_count: int = 0
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, found: VersionedGig) -> GigOut:
        return cls.model_validate({**found.gig.state(), "version": found.version})

    @classmethod
    def from_search(cls, document: dict[str, Any]) -> GigOut:
        return cls.model_validate(document)


class GigListOut(BaseModel):
    items: list[GigOut]
    next_cursor: str | None = Field(description="`cursor` for the next page; null on the last")


class FacetBucket(BaseModel):
    key: str
    count: int


class GigPageOut(BaseModel):
    items: list[GigOut]
    total: int
    next_cursor: str | None = Field(description="Opaque; pass back as `cursor` for the next page")
    facets: dict[str, list[FacetBucket]] = Field(default_factory=dict)
