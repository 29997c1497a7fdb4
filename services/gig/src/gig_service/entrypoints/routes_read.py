"""Reads under /api/v1/gigs, anonymous where marketplace rules allow.

By id and by seller come from the write model (always current); search, category, top rated and similar
come from the search read model (`GigSearchIndex`), which keeps answering while the write side is down.
The search routes are registered before `/{gig_id}` so their fixed paths win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from servicekit.public_api import error_responses, public_operation
from servicekit.search import InvalidCursorError, decode_cursor, encode_cursor
from servicekit.security import CurrentUserIdDep, InternalPrincipalDep

from gig_service.adapters.search_port import GigHits
from gig_service.adapters.search_queries import SORTS, GigQuery, SearchSort, build_query, similar_query
from gig_service.domain.errors import NotGigOwner
from gig_service.domain.model import MAX_PRICE_MINOR
from gig_service.entrypoints.dependencies import GigDeps
from gig_service.entrypoints.schemas import GigListOut, GigOut, GigPageOut, PathId
from gig_service.service_layer import handlers

router = APIRouter(prefix="/api/v1/gigs", tags=["gigs"])
PageSize = Annotated[int, Query(ge=1, le=100)]
# A seller's lists answered up to 100 gigs, without a cursor, before they paged: still their default size.
SELLER_PAGE_DEFAULT = 100
Cursor = Annotated[str | None, Query(max_length=1000, description="`next_cursor` of the previous page")]
# No gig costs more than MAX_PRICE_MINOR (1,000,000.00), so a larger bound is a client error (422), never
# a filter handed to the search engine (whose `long` overflows at 2**63: a 500 before this bound).
Price = Annotated[int | None, Query(ge=0, le=MAX_PRICE_MINOR, description="Minor units")]


def _page(found: GigHits) -> GigPageOut:
    return GigPageOut.model_validate(
        {
            "items": [GigOut.from_search(hit) for hit in found.hits],
            "total": found.total,
            "next_cursor": found.next_cursor,
            "facets": found.facets,
        }
    )


@router.get(
    "/search", responses=error_responses(400, 422, 503), **public_operation("gigs.search", session="none")
)
async def search_gigs(
    deps: GigDeps,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=50)] = None,
    min_price: Price = None,
    max_price: Price = None,
    max_delivery_days: Annotated[int | None, Query(ge=1, le=365)] = None,
    sort: SearchSort = "relevance",
    size: PageSize = 20,
    cursor: Cursor = None,
) -> GigPageOut:
    query = GigQuery(q, category, None, min_price, max_price, max_delivery_days)
    found = await deps.search.find(
        build_query(query), sort=SORTS[sort], size=size, cursor=cursor, facets=True
    )
    return _page(found)


@router.get(
    "/top-rated",
    responses=error_responses(400, 422, 503),
    **public_operation("gigs.topRated", session="none"),
)
async def top_rated_gigs(
    deps: GigDeps,
    category: Annotated[str | None, Query(max_length=50)] = None,
    size: PageSize = 10,
    cursor: Cursor = None,
) -> GigPageOut:
    query = build_query(GigQuery(category=category))
    return _page(await deps.search.find(query, sort=SORTS["rating"], size=size, cursor=cursor))


@router.get(
    "/category/{category}",
    responses=error_responses(400, 422, 503),
    **public_operation("gigs.byCategory", session="none"),
)
async def gigs_by_category(
    category: str, deps: GigDeps, size: PageSize = 20, cursor: Cursor = None
) -> GigPageOut:
    query = build_query(GigQuery(category=category))
    return _page(await deps.search.find(query, sort=SORTS["rating"], size=size, cursor=cursor))


@router.get(
    "/seller/{seller_id}",
    responses=error_responses(400, 422, 503),
    **public_operation("gigs.bySeller", session="none"),
)
async def gigs_by_seller(
    seller_id: PathId, deps: GigDeps, size: PageSize = SELLER_PAGE_DEFAULT, cursor: Cursor = None
) -> GigListOut:
    return await _seller_page(seller_id, True, size, cursor, deps)


@router.get(
    "/seller/{seller_id}/paused",
    responses=error_responses(400, 401, 403, 422, 503),
    **public_operation("gigs.pausedBySeller", session="required"),
)
async def paused_gigs_by_seller(
    seller_id: PathId,
    user_id: CurrentUserIdDep,
    deps: GigDeps,
    size: PageSize = SELLER_PAGE_DEFAULT,
    cursor: Cursor = None,
) -> GigListOut:
    if seller_id != user_id:
        raise NotGigOwner("Only the seller sees their paused gigs")
    return await _seller_page(seller_id, False, size, cursor, deps)


async def _seller_page(
    seller_id: str, active: bool, size: int, cursor: str | None, deps: GigDeps
) -> GigListOut:
    """A seller's gigs from the write model, newest first; a cursor holds the last one's (created_at, id)."""
    after = None
    if cursor is not None:
        stamp, gig_id = decode_cursor(cursor, length=2)
        try:
            after = (datetime.fromisoformat(str(stamp)), str(gig_id))
        except ValueError as error:
            raise InvalidCursorError("the page cursor is not valid") from error
    # One gig past the page says whether another page exists: a full last page gets no cursor.
    found = await handlers.gigs_by_seller(
        seller_id, active=active, new_uow=deps.new_uow, limit=size + 1, after=after
    )
    more, found = len(found) > size, found[:size]
    last = found[-1].gig if more else None
    next_cursor = encode_cursor([last.created_at.isoformat(), last.id]) if last is not None else None
    return GigListOut(items=[GigOut.of(item) for item in found], next_cursor=next_cursor)


@router.get(
    "/{gig_id}/similar",
    responses=error_responses(400, 422, 503),
    **public_operation("gigs.similar", session="none"),
)
async def similar_gigs(
    gig_id: PathId, deps: GigDeps, size: PageSize = 10, cursor: Cursor = None
) -> GigPageOut:
    query = similar_query(deps.search.alias, gig_id)
    return _page(await deps.search.find(query, sort=SORTS["relevance"], size=size, cursor=cursor))


@router.get(
    "/{gig_id}", responses=error_responses(404, 503), **public_operation("gigs.byId", session="optional")
)
async def gig_by_id(gig_id: PathId, principal: InternalPrincipalDep, deps: GigDeps) -> GigOut:
    return GigOut.of(await handlers.get_gig(gig_id, principal.subject, deps.new_uow))
