"""What every page handler uses: the app's dependencies, the visitor's session, and ``render``.

Pages (pages/*.py) read ``StorefrontDeps`` through ``DepsDep`` and the session through ``SessionDep``;
``render`` fills the base template's context (user, CSRF token, flash messages, ``static_url``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from redis.asyncio import Redis

from storefront_service.adapters.media_reader import MediaReader
from storefront_service.domain.media import is_public_media_key
from storefront_service.gateway_client import GatewayClient, GatewayError
from storefront_service.sessions import Session, SessionStore
from storefront_service.settings import StorefrontSettings
from storefront_service.static_files import StaticManifest

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class StorefrontDeps:
    settings: StorefrontSettings
    redis: Redis
    sessions: SessionStore
    gateway: GatewayClient
    templates: Jinja2Templates
    static: StaticManifest
    http: httpx.AsyncClient  # the gateway's connection pool, closed at shutdown
    media: MediaReader | None = None  # with MEDIA_PROXY_ENABLED: serves /media/<key> (pages/media.py)


def build_templates(static: StaticManifest, settings: StorefrontSettings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.autoescape = True
    env.globals["static_url"] = static.url
    env.globals["media_url"] = (
        _proxied_media_url if settings.media_proxy_enabled else _media_url(settings.media_public_base_url)
    )
    env.filters["money"] = money
    env.filters["stars"] = stars
    return templates


def _media_url(base: str | None) -> Any:
    def media_url(key: str | None) -> str | None:
        if not key or not base:
            return None
        return f"{base.rstrip('/')}/{quote(key)}"

    return media_url


def _proxied_media_url(key: str | None) -> str | None:
    """Same-origin ``/media/<key>`` for public media (covers); None (no link) for private areas."""
    if not key or not is_public_media_key(key):
        return None
    return f"/media/{quote(key)}"


def money(minor_units: int | None, currency: str = "USD") -> str:
    """Prices travel in minor units (docs/contracts.md); shown with two decimals and the currency code."""
    if minor_units is None:
        return ""
    sign = "-" if minor_units < 0 else ""
    whole, cents = divmod(abs(int(minor_units)), 100)
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency.upper())
    amount = f"{whole:,}.{cents:02d}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency.upper()}"


def stars(average: float | None) -> str:
    return f"{float(average or 0):.1f}"


def get_deps(request: Request) -> StorefrontDeps:
    deps: StorefrontDeps = request.app.state.deps
    return deps


def get_session(request: Request) -> Session:
    session: Session = request.state.session
    return session


DepsDep = Annotated[StorefrontDeps, Depends(get_deps)]
SessionDep = Annotated[Session, Depends(get_session)]


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    deps = get_deps(request)
    session: Session | None = getattr(request.state, "session", None)
    full = {
        "request": request,
        "user": session.user if session and session.signed_in else None,
        "csrf_token": session.csrf_token if session else "",
        "flashes": session.take_flashes() if session else [],
        "environment": deps.settings.environment,
        **(context or {}),
    }
    response = deps.templates.TemplateResponse(request, template, full, status_code=status_code)
    # Pages hold personal data (the header names the user): never stored by shared caches.
    response.headers.setdefault("Cache-Control", "no-store")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def redirect(url: str, request: Request | None = None) -> RedirectResponse:
    """303 after a form post (the browser then GETs the next page); htmx follows ``HX-Redirect`` instead."""
    response = RedirectResponse(url, status_code=303)
    if request is not None and is_htmx(request):
        response.headers["HX-Redirect"] = url
    return response


def form_error(error: GatewayError) -> dict[str, Any]:
    """Context for re-rendering a form after the gateway refused it: the message and per-field errors."""
    return {"error": error.message, "field_errors": error.field_errors()}


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths after sign-in: never an absolute or scheme-relative URL (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
