"""Browse pages: home (top-rated and category rows), search, gig page, seller profile.

Anonymous reads: every call here works without a session; a signed-in visitor's token is sent where the
gateway's operation takes an optional session (``gigs.byId`` shows an owner their own paused gig).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from storefront_service.web import DepsDep, SessionDep, render

router = APIRouter()

HOME_ROW_SIZE = 8
HOME_CATEGORY_ROWS = 3


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, deps: DepsDep, session: SessionDep) -> HTMLResponse:
    # Two independent reads at once: the top-rated row and the facet counts that pick the category rows.
    top, overview = await asyncio.gather(
        deps.gateway.call("gigs.topRated", query={"size": HOME_ROW_SIZE}),
        deps.gateway.call("gigs.search", query={"size": 1}),
    )
    categories = [bucket["key"] for bucket in _facet(overview, "categories")][:HOME_CATEGORY_ROWS]
    pages = await asyncio.gather(
        *(
            deps.gateway.call("gigs.byCategory", path={"category": category}, query={"size": HOME_ROW_SIZE})
            for category in categories
        )
    )
    rows = [
        {"category": category, "gigs": page.get("items", [])}
        for category, page in zip(categories, pages, strict=True)
        if page.get("items")
    ]
    return render(request, "browse/home.html", {"top_rated": top.get("items", []), "category_rows": rows})


def _facet(page: Any, name: str) -> list[dict[str, Any]]:
    facets = page.get("facets", {}) if isinstance(page, dict) else {}
    buckets = facets.get(name, []) if isinstance(facets, dict) else []
    return [bucket for bucket in buckets if isinstance(bucket, dict) and bucket.get("key")]
