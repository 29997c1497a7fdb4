"""Static files: content-hashed URLs, cacheable for a year; an old hash still answers, briefly cached."""

from __future__ import annotations

import re

import httpx
from storefront_fakes import FakeGateway, empty_page


async def test_pages_link_versioned_static_files_that_are_cached_immutable(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on("gigs.topRated", empty_page())
    gateway.on("gigs.search", empty_page())
    page = await client.get("/")

    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert any(url.endswith("/app.css") for url in urls)
    assert any("/vendor/htmx-" in url for url in urls)
    for url in urls:
        assert re.fullmatch(r"/static/[0-9a-f]{16}/[\w./-]+", url), url
        answer = await client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "content-security-policy" in answer.headers
    css = next(url for url in urls if url.endswith("/app.css"))
    assert (await client.get(css)).headers["content-type"] == "text/css; charset=utf-8"


async def test_an_old_version_is_served_briefly_cached_and_unknown_files_are_404(
    client: httpx.AsyncClient,
) -> None:
    old = await client.get("/static/0000000000000000/app.css")
    missing = await client.get("/static/0000000000000000/%2e%2e/settings.py")
    unknown = await client.get("/static/0000000000000000/nothing.js")

    assert old.status_code == 200
    assert old.headers["cache-control"] == "public, max-age=60"
    assert missing.status_code == 404
    assert unknown.status_code == 404
