"""Browse pages: home (top-rated and category rows), search, gig page, seller profile.

Anonymous reads: every call here works without a session; a signed-in visitor's token is sent where the
gateway's operation takes an optional session (``gigs.byId`` shows an owner their own paused gig).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from storefront_service.gateway_client import GatewayError, GatewayUnavailable, QueryValue
from storefront_service.web import DepsDep, SessionDep, is_htmx, render

logger = logging.getLogger(__name__)

router = APIRouter()

GigId = Annotated[str, Path(min_length=1, max_length=100)]
Username = Annotated[str, Path(min_length=1, max_length=64)]

HOME_ROW_SIZE = 8
HOME_CATEGORY_ROWS = 3


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, deps: DepsDep) -> HTMLResponse:
    # Two independent reads at once: the top-rated row and the facet counts that pick the category rows.
    top, overview = await asyncio.gather(
        deps.gateway.call("gigs.topRated", query={"size": HOME_ROW_SIZE}),
        deps.gateway.call("gigs.search", query={"size": 1}),
    )
    categories = [bucket["key"] for bucket in _facet(overview, "categories")][:HOME_CATEGORY_ROWS]
    # A category row that fails to load is left out; the page stands on the top-rated row.
    pages: list[Any] = await asyncio.gather(
        *(
            deps.gateway.call("gigs.byCategory", path={"category": category}, query={"size": HOME_ROW_SIZE})
            for category in categories
        ),
        return_exceptions=True,
    )
    rows = [
        {"category": category, "gigs": items}
        for category, page in zip(categories, pages, strict=True)
        if (items := _items(page))
    ]
    return render(request, "browse/home.html", {"top_rated": top.get("items", []), "category_rows": rows})


def _facet(page: Any, name: str) -> list[dict[str, Any]]:
    facets = page.get("facets", {}) if isinstance(page, dict) else {}
    buckets = facets.get(name, []) if isinstance(facets, dict) else []
    return [bucket for bucket in buckets if isinstance(bucket, dict) and bucket.get("key")]


# --- search -------------------------------------------------------------------------------------------------

SORTS = {
    "relevance": "Best match",
    "rating": "Top rated",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "newest": "Newest",
}
PRICE_RANGES = {
    # The gig service's price facet buckets (minor units), as filters a person can pick.
    "under_25": ("Under $25", None, 2499),
    "25_to_100": ("$25 to $100", 2500, 9999),
    "100_to_500": ("$100 to $500", 10000, 49999),
    "500_and_up": ("$500 and up", 50000, None),
}
SEARCH_PAGE_SIZE = 12
ShortText = Annotated[str, Query(max_length=200)]


@dataclass(frozen=True)
class SearchFilters:
    q: str = ""
    category: str = ""
    price: str = ""  # a PRICE_RANGES key
    max_delivery_days: int | None = None
    sort: str = "relevance"

    def gateway_query(self) -> dict[str, QueryValue]:
        low, high = PRICE_RANGES[self.price][1:] if self.price in PRICE_RANGES else (None, None)
        return {
            "q": self.q or None,
            "category": self.category or None,
            "min_price": low,
            "max_price": high,
            "max_delivery_days": self.max_delivery_days,
            "sort": self.sort if self.sort in SORTS else "relevance",
            "size": SEARCH_PAGE_SIZE,
        }

    def url(self, **changes: Any) -> str:
        """This search with some filters changed (links of the facets and of the next page)."""
        values = {
            "q": self.q,
            "category": self.category,
            "price": self.price,
            "max_delivery_days": self.max_delivery_days or "",
            "sort": "" if self.sort == "relevance" else self.sort,
            **changes,
        }
        return "/search?" + urlencode({k: v for k, v in values.items() if v not in ("", None)})


@router.get("/search", response_class=HTMLResponse)
async def search(
    request: Request,
    deps: DepsDep,
    q: ShortText = "",
    category: Annotated[str, Query(max_length=50)] = "",
    price: Annotated[str, Query(max_length=20)] = "",
    max_delivery_days: Annotated[str, Query(max_length=3)] = "",
    sort: Annotated[str, Query(max_length=20)] = "relevance",
    cursor: Annotated[str, Query(max_length=1000)] = "",
) -> HTMLResponse:
    filters = SearchFilters(
        q=q.strip(),
        category=category.strip(),
        price=price if price in PRICE_RANGES else "",
        max_delivery_days=_positive_int(max_delivery_days, limit=365),
        sort=sort if sort in SORTS else "relevance",
    )
    query = {**filters.gateway_query(), "cursor": cursor or None}
    message: str | None = None
    try:
        page: dict[str, Any] = await deps.gateway.call("gigs.search", query=query)
    except GatewayError as error:
        # A cursor from an older index generation, or a filter the gig service refuses: say so, keep the form.
        page, message = {"items": [], "total": 0, "next_cursor": None, "facets": {}}, error.message
    context = {
        "filters": filters,
        "search_q": filters.q,
        "page": page,
        "items": page.get("items", []),
        "next_url": filters.url(cursor=page["next_cursor"]) if page.get("next_cursor") else None,
        "categories": _facet(page, "categories"),
        "price_counts": {bucket["key"]: bucket.get("count", 0) for bucket in _facet(page, "price_ranges")},
        "price_ranges": PRICE_RANGES,
        "sorts": SORTS,
        "error": message,
    }
    if cursor and is_htmx(request):
        # "More results": only the next cards and the new "more" link, appended in place.
        return render(request, "browse/_results_page.html", context)
    return render(request, "browse/search.html", context)


def _positive_int(raw: str, *, limit: int) -> int | None:
    return int(raw) if raw.isdigit() and 0 < int(raw) <= limit else None


# --- gig page and seller profile ----------------------------------------------------------------------------

SIMILAR_SIZE = 4
REVIEWS_SIZE = 10


@router.get("/gigs/{gig_id}", response_class=HTMLResponse)
async def gig_page(request: Request, deps: DepsDep, session: SessionDep, gig_id: GigId) -> HTMLResponse:
    # The gig itself decides between the page and a 404; similar gigs and reviews are extras that may fail
    # on their own without taking the page down.
    results: tuple[Any, ...] = await asyncio.gather(
        deps.gateway.call("gigs.byId", path={"gig_id": gig_id}, session=session),
        deps.gateway.call("gigs.similar", path={"gig_id": gig_id}, query={"size": SIMILAR_SIZE}),
        deps.gateway.call("reviews.byGig", path={"gig_id": gig_id}, query={"size": REVIEWS_SIZE}),
        return_exceptions=True,
    )
    found, similar, reviews = results
    if isinstance(found, BaseException):
        raise found
    context = {
        "gig": found,
        "similar": [g for g in _items(similar) if g.get("id") != gig_id],
        "reviews": _items(reviews),
        "is_owner": session.user is not None and session.user.id == found.get("seller_id"),
    }
    return render(request, "browse/gig.html", context)


@router.get("/sellers/{username}", response_class=HTMLResponse)
async def seller_profile(
    request: Request, deps: DepsDep, session: SessionDep, username: Username
) -> HTMLResponse:
    seller = await deps.gateway.call("sellers.byUsername", path={"username": username}, session=session)
    secondary: tuple[Any, ...] = await asyncio.gather(
        deps.gateway.call("gigs.bySeller", path={"seller_id": seller["id"]}),
        deps.gateway.call("reviews.bySeller", path={"seller_id": seller["id"]}, query={"size": REVIEWS_SIZE}),
        return_exceptions=True,
    )
    gigs, reviews = secondary
    context = {
        "seller": seller,
        "gigs": _items(gigs),
        "reviews": _items(reviews),
        "is_me": session.user is not None and session.user.id == seller.get("id"),
    }
    return render(request, "browse/seller.html", context)


def _items(result: Any) -> list[dict[str, Any]]:
    """The items of a page, or none when that secondary read failed (logged, not fatal)."""
    if isinstance(result, BaseException):
        if not isinstance(result, GatewayError | GatewayUnavailable):
            raise result
        logger.warning("secondary read failed", extra={"error": str(result)})
        return []
    items = result.get("items", []) if isinstance(result, dict) else []
    return [item for item in items if isinstance(item, dict)]
