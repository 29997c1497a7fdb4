"""The harness itself, on a tiny local site with the storefront's CSP: the request recorder, the CSP and page
error recorder, axe-core and the screenshots each catch what they are for (so a green storefront run means
something). No stack: a few seconds."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_harness import PHONE, Axe, OpenTab, OriginPolicy, PageCheckError, Screenshots, axe_script_path
from playwright.async_api import Browser
from playwright.async_api import Error as PlaywrightError
from static_site import Resource, StaticSite

pytestmark = [pytest.mark.browser]


def _csp(media_origin: str) -> dict[str, str]:
    # The storefront's policy (STOREFRONT brief, sf-core's security.py), with this test's media origin.
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {media_origin}; form-action 'self' {media_origin}; "
            "frame-ancestors 'none'; base-uri 'self'"
        )
    }


def _page(title: str, body: str, *, script: str | None = None) -> str:
    script_tag = f'<script src="{script}" defer></script>' if script else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="stylesheet" href="/app.css">{script_tag}</head>'
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )


FORM = '<form method="post" action="/"><label for="q">Search</label><input id="q" name="q"></form>'


@pytest.fixture(scope="module")
def media() -> Iterator[StaticSite]:
    """Stands in for the object store: another origin that takes POSTed uploads."""
    with StaticSite() as site:
        yield site


@pytest.fixture(scope="module")
def site(media: StaticSite) -> Iterator[StaticSite]:
    with StaticSite() as site:
        csp = _csp(media.origin)

        def page(title: str, body: str, script: str | None = None) -> Resource:
            return Resource(_page(title, body, script=script), headers=csp)

        site.routes.update(
            {
                "/": page("Home", f'{FORM}<p><a href="/second">Second page</a></p>'),
                "/second": page("Second", "<p>Reached by a link.</p>"),
                "/app.css": Resource("body { font-family: sans-serif; color: #111; }", "text/css"),
                "/inaccessible": page("Inaccessible", '<img src="/app.css"><input name="unlabelled">'),
                "/fetches-media": page("Fetches media", "<p>Reads the store.</p>", "/fetch-media.js"),
                "/fetch-media.js": Resource(f'fetch("{media.origin}/object");', "text/javascript"),
                "/uploads": page("Uploads", "<p>Posts a file.</p>", "/upload.js"),
                "/upload.js": Resource(
                    f'fetch("{media.origin}/bucket", {{method: "POST", body: new FormData()}})'
                    '.then(() => document.body.dataset.uploaded = "yes");',
                    "text/javascript",
                ),
                "/inline": page("Inline", '<script>document.title = "ran";</script>'),
                "/throws": page("Throws", "<p>Broken script.</p>", "/throws.js"),
                "/throws.js": Resource('throw new Error("boom from the page");', "text/javascript"),
            }
        )
        yield site


def _png_width(path: Path) -> int:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width: int = struct.unpack(">I", header[16:20])[0]
    return width


def test_origin_policy() -> None:
    policy = OriginPolicy("http://127.0.0.1:8008", media_origin="http://127.0.0.1:9000")
    assert policy.refusal("GET", "http://127.0.0.1:8008/gigs?q=x") is None
    assert policy.refusal("GET", "ws://127.0.0.1:8008/realtime/socket.io/?EIO=4") is None
    assert policy.refusal("POST", "http://127.0.0.1:9000/bucket") is None
    assert policy.refusal("GET", "data:image/png;base64,AAAA") is None
    assert policy.refusal("GET", "http://127.0.0.1:9000/bucket/key") is not None
    assert policy.refusal("GET", "http://127.0.0.1:8000/api/v1/gateway/gigs") is not None
    assert policy.refusal("GET", "http://localhost:8008/") is not None
    assert policy.refusal("GET", "https://cdn.example.com/htmx.js") is not None
    assert OriginPolicy("http://127.0.0.1:80").refusal("GET", "http://127.0.0.1/") is None


async def test_a_clean_page_is_checked_and_photographed_at_both_widths(
    open_tab: OpenTab, site: StaticSite, media: StaticSite, screenshots: Screenshots
) -> None:
    tab = await open_tab(OriginPolicy(site.origin, media.origin))
    await tab.goto("/", "home")
    await tab.page.get_by_role("link", name="Second page").click()
    await tab.page.wait_for_url("**/second")
    await tab.check("second")

    names = sorted(path.name for path in screenshots.taken)
    assert names == [
        "01-home-desktop.png",
        "01-home-phone.png",
        "02-second-desktop.png",
        "02-second-phone.png",
    ]
    widths = {path.name: _png_width(path) for path in screenshots.taken}
    assert widths["01-home-phone.png"] == PHONE["width"]
    assert widths["01-home-desktop.png"] == 1280
    assert tab.page.viewport_size == {"width": 1280, "height": 800}  # restored after the phone shot
    # axe really ran (in the page, under its CSP) and is the pinned version.
    assert await tab.page.evaluate("() => window.axe.version") == "4.14.1"


async def test_a_page_reached_but_never_checked_fails_the_test(
    open_tab: OpenTab, site: StaticSite, media: StaticSite
) -> None:
    tab = await open_tab(OriginPolicy(site.origin, media.origin))
    await tab.goto("/", "home")
    await tab.page.get_by_role("link", name="Second page").click()
    await tab.page.wait_for_url("**/second")
    with pytest.raises(PageCheckError, match="never checked"):
        tab.assert_clean()
    tab.acknowledge()


async def test_axe_serious_or_critical_violations_fail(
    open_tab: OpenTab, site: StaticSite, media: StaticSite
) -> None:
    tab = await open_tab(OriginPolicy(site.origin, media.origin))
    with pytest.raises(PageCheckError, match=r"\[critical\] image-alt") as failure:
        await tab.goto("/inaccessible", "inaccessible")
    assert "label" in str(failure.value)
    tab.acknowledge()


async def test_a_request_to_another_host_fails_but_a_post_to_the_media_origin_is_allowed(
    open_tab: OpenTab, site: StaticSite, media: StaticSite
) -> None:
    tab = await open_tab(OriginPolicy(site.origin, media.origin))
    await tab.goto("/uploads", "uploads")
    await tab.page.wait_for_selector("body[data-uploaded=yes]")
    assert "/bucket" in media.posts
    await tab.check("uploads")

    await tab.page.goto("/fetches-media")
    await tab.page.wait_for_load_state("networkidle")
    with pytest.raises(PageCheckError, match=r"GET .*/object \(only POST uploads"):
        await tab.check("fetches media")
    tab.acknowledge()


async def test_csp_violations_and_page_errors_fail(
    open_tab: OpenTab, site: StaticSite, media: StaticSite
) -> None:
    tab = await open_tab(OriginPolicy(site.origin, media.origin))
    with pytest.raises(PageCheckError, match=r"CSP violation: .*inline script"):
        await tab.goto("/inline", "inline")
    assert await tab.page.title() == "Inline"  # the inline script did not run
    tab.acknowledge()
    with pytest.raises(PageCheckError, match=r"uncaught page error: .*boom from the page"):
        await tab.goto("/throws", "throws")
    tab.acknowledge()


async def test_axe_goes_in_by_evaluate_because_the_csp_refuses_add_script_tag(
    browser: Browser, site: StaticSite, axe: Axe
) -> None:
    """Why browser_harness evaluates axe: add_script_tag inserts an inline script, which the CSP refuses
    unless the context bypasses the CSP (and then the test no longer sees the policy the user gets)."""
    strict = await browser.new_context()
    try:
        page = await strict.new_page()
        await page.goto(f"{site.origin}/")
        with pytest.raises(PlaywrightError, match="Content Security Policy"):
            await page.add_script_tag(path=axe_script_path())
        assert await axe.violations(page) == []  # evaluate works under the same CSP
    finally:
        await strict.close()
    bypassing = await browser.new_context(bypass_csp=True)
    try:
        page = await bypassing.new_page()
        await page.goto(f"{site.origin}/")
        await page.add_script_tag(path=axe_script_path())
        assert await page.evaluate("() => typeof window.axe") == "object"
    finally:
        await bypassing.close()
