"""The home page: top-rated row and category rows, through the gateway's operations."""

from __future__ import annotations

import httpx
from storefront_fakes import FakeGateway, empty_page, gig


async def test_home_shows_top_rated_and_category_rows(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on("gigs.topRated", {**empty_page(), "items": [gig("g1", title="Best logo ever")]})
    gateway.on(
        "gigs.search",
        {
            **empty_page(),
            "facets": {"categories": [{"key": "Design", "count": 3}, {"key": "Writing", "count": 1}]},
        },
    )
    gateway.on(
        "gigs.byCategory",
        lambda request: httpx.Response(
            200, json={**empty_page(), "items": [gig("c1", title=f"In {request.url.path.rsplit('/', 1)[1]}")]}
        ),
    )

    page = await client.get("/")

    assert page.status_code == 200
    assert "Best logo ever" in page.text
    assert "In Design" in page.text
    assert "In Writing" in page.text
    assert '<main id="main"' in page.text
    assert [r.url.params.get("size") for r in gateway.called("gigs.topRated")] == ["8"]
    # The browser's address reaches the gateway (its per-IP limits) and a device id (auth's known devices).
    request = gateway.called("gigs.topRated")[0]
    assert request.headers["X-Forwarded-For"] == "203.0.113.7"
    assert len(request.headers["X-Device-Id"]) == 43


async def test_home_with_the_gateway_down_is_the_503_page(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.down = True

    page = await client.get("/")

    assert page.status_code == 503
    assert "unavailable for a moment" in page.text
    assert "Traceback" not in page.text
    assert page.headers["content-type"].startswith("text/html")


async def test_a_failing_category_row_is_left_out_and_the_page_stands(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on("gigs.topRated", {**empty_page(), "items": [gig("g1", title="Still here")]})
    gateway.on("gigs.search", {**empty_page(), "facets": {"categories": [{"key": "Design", "count": 1}]}})
    gateway.on("gigs.byCategory", lambda _: httpx.Response(503, json={"error": {"message": "down"}}))

    page = await client.get("/")

    assert page.status_code == 200
    assert "Still here" in page.text
    assert "More in Design" not in page.text
