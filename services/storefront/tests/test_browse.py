"""Browse pages: search with filters, facets and htmx cursor paging; the gig page; the seller profile."""

from __future__ import annotations

import httpx
from storefront_fakes import FakeGateway, empty_page, error_body, gig, sign_in


def search_answer(request: httpx.Request) -> httpx.Response:
    cursor = request.url.params.get("cursor")
    items = [gig("p2-a"), gig("p2-b")] if cursor == "c2" else [gig("p1-a", title="First page gig")]
    return httpx.Response(
        200,
        json={
            "items": items,
            "total": 3,
            "next_cursor": None if cursor == "c2" else "c2",
            "facets": {
                "categories": [{"key": "Design", "count": 2}, {"key": "Writing", "count": 1}],
                "price_ranges": [{"key": "under_25", "count": 3}],
            },
        },
    )


async def test_search_sends_the_filters_and_shows_facets_and_a_next_link(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on("gigs.search", search_answer)

    page = await client.get(
        "/search?q=logo&category=Design&price=25_to_100&max_delivery_days=3&sort=price_asc"
    )

    assert page.status_code == 200
    sent = gateway.called("gigs.search")[0].url.params
    assert sent["q"] == "logo"
    assert sent["category"] == "Design"
    assert (sent["min_price"], sent["max_price"]) == ("2500", "9999")
    assert sent["max_delivery_days"] == "3"
    assert sent["sort"] == "price_asc"
    assert "First page gig" in page.text
    assert "Writing (1)" in page.text  # a facet with its count
    assert "Under $25 (3)" in page.text
    assert 'hx-get="/search?q=logo&amp;category=Design&amp;price=25_to_100' in page.text
    assert "cursor=c2" in page.text


async def test_the_next_page_through_htmx_is_a_fragment_appended_to_the_results(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on("gigs.search", search_answer)

    fragment = await client.get("/search?q=logo&cursor=c2", headers={"HX-Request": "true"})
    full = await client.get("/search?q=logo&cursor=c2")

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'hx-swap-oob="beforeend:#results"' in fragment.text
    assert "Logo design p2-a" in fragment.text
    assert "More results" not in fragment.text  # the last page
    assert "<html" in full.text  # without JavaScript the link is an ordinary page


async def test_bad_filters_are_ignored_and_a_gateway_422_is_a_message(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on("gigs.search", lambda _: httpx.Response(422, json=error_body(422, "The cursor has expired")))

    page = await client.get("/search?q=x&price=bogus&max_delivery_days=-4&sort=evil&cursor=old")

    sent = gateway.called("gigs.search")[0].url.params
    assert "min_price" not in sent
    assert "max_delivery_days" not in sent
    assert sent["sort"] == "relevance"
    assert page.status_code == 200
    assert "The cursor has expired" in page.text


async def test_gig_page_shows_the_gig_similar_gigs_and_reviews(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on("gigs.byId", gig("g1", title="Logo in a day", description="Line one\nLine two"))
    gateway.on("gigs.similar", {**empty_page(), "items": [gig("g1"), gig("g2", title="Another logo")]})
    gateway.on(
        "reviews.byGig",
        {
            "items": [
                {
                    "id": "r1",
                    "order_id": "o1",
                    "gig_id": "g1",
                    "seller_id": "s1",
                    "buyer_id": "b1",
                    "reviewer_id": "b1",
                    "reviewer_role": "buyer",
                    "rating": 4,
                    "comment": "Fast and friendly",
                    "created_at": "2026-02-01T00:00:00Z",
                }
            ],
            "next_cursor": None,
        },
    )

    page = await client.get("/gigs/g1")

    assert page.status_code == 200
    assert "<h1>Logo in a day</h1>" in page.text
    assert "<p>Line two</p>" in page.text
    assert "$25.00" in page.text
    assert "Another logo" in page.text
    assert page.text.count('href="/gigs/g1"') == 0  # the gig itself is not "similar" to itself
    assert "Fast and friendly" in page.text
    assert 'href="/sellers/sam"' in page.text


async def test_gig_page_survives_failing_extras_and_404s_when_the_gig_is_missing(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on(
        "gigs.byId",
        lambda r: (
            httpx.Response(404, json=error_body(404, "No such gig"))
            if "missing" in r.url.path
            else httpx.Response(200, json=gig("g1"))
        ),
    )
    gateway.on("gigs.similar", lambda _: httpx.Response(503, json=error_body(503)))
    gateway.on("reviews.byGig", lambda _: httpx.Response(503, json=error_body(503)))

    shown = await client.get("/gigs/g1")
    missing = await client.get("/gigs/missing")

    assert shown.status_code == 200
    assert "No reviews yet." in shown.text
    assert missing.status_code == 404
    assert "No such gig" in missing.text


async def test_gig_page_sends_the_session_token_to_the_optional_session_operation_only(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    await sign_in(client, gateway)
    gateway.on("gigs.byId", gig("g1"))
    gateway.on("gigs.similar", empty_page())
    gateway.on("reviews.byGig", {"items": [], "next_cursor": None})

    await client.get("/gigs/g1")

    assert gateway.called("gigs.byId")[0].headers["Authorization"] == "Bearer access-1"
    assert "Authorization" not in gateway.called("gigs.similar")[0].headers


async def test_seller_profile_shows_the_profile_gigs_and_reviews(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on(
        "sellers.byUsername",
        {
            "id": "s1",
            "username": "sam",
            "full_name": "Sam Seller",
            "one_liner": "Logos that last",
            "description": "Ten years of logos.",
            "skills": ["branding"],
            "languages": [{"language": "English", "level": "native"}],
            "country": "NO",
            "ratings": {"stars": {}, "rating_sum": 9, "rating_count": 2, "average": 4.5},
        },
    )
    gateway.on("gigs.bySeller", {"items": [gig("g9", title="Sam's logo")]})
    gateway.on("reviews.bySeller", {"items": [], "next_cursor": None})

    page = await client.get("/sellers/sam")

    assert page.status_code == 200
    assert "<h1>Sam Seller</h1>" in page.text
    assert "Sam&#39;s logo" in page.text
    assert "branding" in page.text
    assert gateway.called("gigs.bySeller")[0].url.path.endswith("/gigs/seller/s1")
