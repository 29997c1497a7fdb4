"""CSRF, the security headers and the session cookie: what protects a page no matter which page it is."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute
from gigstack_testinfra.plugin import RedisWithServiceUsers
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError
from storefront_fakes import BASE_URL, FakeGateway, csrf_token_of, empty_page
from storefront_service.entrypoints.app import create_app, page_routers
from storefront_service.settings import StorefrontSettings


async def test_a_form_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    await csrf_token_of(client)  # the browser has a session

    refused = await client.post("/signin", data={"email_or_username": "alice", "password": "pw"})

    assert refused.status_code == 403
    assert "security token" in refused.text
    assert gateway.called("auth.signin") == []  # refused before the page's handler ran


async def test_a_form_with_a_wrong_csrf_token_is_refused(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    token = await csrf_token_of(client)

    refused = await client.post(
        "/signin", data={"csrf_token": token[:-2] + "xx", "email_or_username": "alice", "password": "pw"}
    )
    header_refused = await client.post("/signout", headers={"X-CSRF-Token": "not-the-token"})

    assert refused.status_code == 403
    assert header_refused.status_code == 403
    assert gateway.called("auth.signin") == []


async def test_a_token_from_another_session_is_refused(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    token = await csrf_token_of(client)
    client.cookies.clear()  # a forged cross-site post arrives with the victim's cookie, not the attacker's

    refused = await client.post(
        "/signin", data={"csrf_token": token, "email_or_username": "a", "password": "p"}
    )

    assert refused.status_code == 403


async def test_the_right_token_passes_in_the_form_or_the_htmx_header(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on("auth.signin", 401)
    token = await csrf_token_of(client)

    by_form = await client.post(
        "/signin", data={"csrf_token": token, "email_or_username": "a", "password": "p"}
    )
    by_header = await client.post(
        "/signin", data={"email_or_username": "a", "password": "p"}, headers={"X-CSRF-Token": token}
    )

    assert by_form.status_code == 401  # the gateway's answer, shown on the page
    assert by_header.status_code == 401
    assert len(gateway.called("auth.signin")) == 2


async def test_every_unsafe_route_of_every_page_router_refuses_a_missing_token(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    """Behavioural, over whatever routers exist (sf-trade's included): each unsafe route, called with a
    session but without the token, is refused before its handler could call the gateway."""
    await csrf_token_of(client)
    unsafe = [
        (method, re.sub(r"\{[^}]+\}", "x", route.path))
        for router in page_routers()
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in sorted((route.methods or set()) - {"GET", "HEAD", "OPTIONS"})
    ]
    assert ("POST", "/signin") in unsafe

    for method, path in unsafe:
        answer = await client.request(method, path, data={"anything": "1"})
        assert answer.status_code == 403, (method, path, answer.status_code)
    assert gateway.calls == []


@pytest.mark.parametrize("path", ["/", "/signin", "/no-such-page"])
async def test_every_page_has_the_csp_without_unsafe_inline(
    client: httpx.AsyncClient, gateway: FakeGateway, path: str
) -> None:
    gateway.on("gigs.topRated", empty_page())
    gateway.on("gigs.search", empty_page())

    page = await client.get(path)

    csp = page.headers["content-security-policy"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "script-src 'self';" in csp
    assert "style-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp
    # The one other origin: the object store, for direct uploads and media.
    assert "connect-src 'self' http://media.test:9000;" in csp
    assert "form-action 'self' http://media.test:9000;" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    # Nothing inline that the policy would block: no <script> bodies, no style attributes, no on* handlers.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
    assert not re.search(r"\sstyle=", page.text)
    assert not re.search(r"\son[a-z]+=", page.text)


async def test_session_cookie_is_httponly_and_samesite_without_secure_in_test(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/signin")

    cookies = page.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("sf_session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie
    assert "HttpOnly" in next(c for c in cookies if c.startswith("sf_device="))


async def test_session_cookie_is_secure_outside_development(
    redis_with_service_users: RedisWithServiceUsers,
) -> None:
    settings = StorefrontSettings(
        environment="production",
        redis_url=redis_with_service_users.url("storefront"),
        gateway_url="http://gw",
    )
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as browser:
        page = await browser.get("/signin")
    await app.state.deps.redis.aclose()

    cookies = page.headers.get_list("set-cookie")
    assert all("Secure" in cookie and "HttpOnly" in cookie for cookie in cookies)
    assert page.headers["strict-transport-security"].startswith("max-age=")


async def test_the_session_lives_in_redis_under_sf_and_its_user_reaches_nothing_else(
    client: httpx.AsyncClient, storefront_settings: StorefrontSettings
) -> None:
    """The storefront's Redis user (the registry's ACL, as in every environment) holds the sessions under sf:
    and cannot read or forge the gateway's (a compromised storefront pod is not a gateway)."""
    page = await client.get("/signin")
    session_id = client.cookies["sf_session"]
    own = Redis.from_url(storefront_settings.redis_url.get_secret_value())
    try:
        assert await own.exists(f"sf:session:{session_id}") == 1
        assert session_id not in page.text
        with pytest.raises(NoPermissionError):
            await own.get("gw:session:any")
        with pytest.raises(NoPermissionError):
            await own.set("gw:session:forged", "x")
    finally:
        await own.aclose()
