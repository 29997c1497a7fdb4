"""``create_app()``: the storefront's FastAPI application (no side effects at import; uvicorn --factory).

Every page router gets the CSRF check as a router dependency; errors become HTML pages (never a stack trace):
a gateway refusal the page did not handle itself shows its message, no answer from the gateway shows the 503
page, a missing CSRF token the 403 page and an expired sign-in sends the browser to the sign-in page.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from servicekit.health import redis_check
from servicekit.http import close_on_shutdown, create_service_app
from starlette.exceptions import HTTPException as StarletteHTTPException

from storefront_service.adapters.media_reader import MediaReader
from storefront_service.entrypoints.bootstrap import bootstrap
from storefront_service.gateway_client import GatewayError, GatewayUnavailable, SignedOutError
from storefront_service.security import CsrfRefusedError, SecurityHeadersMiddleware, require_csrf
from storefront_service.session_middleware import SessionMiddleware
from storefront_service.settings import StorefrontSettings
from storefront_service.static_files import static_router
from storefront_service.web import redirect, render

logger = logging.getLogger(__name__)

VERSION = "0.1.0"
# Page modules in include order; a module that does not exist (yet) is skipped.
PAGE_MODULES = (
    "storefront_service.pages.account",
    "storefront_service.pages.browse",
    "storefront_service.pages.selling",
    "storefront_service.pages.inbox",
    "storefront_service.pages.orders",
    "storefront_service.pages.media",
    "storefront_service.realtime",
)


def page_routers() -> list[APIRouter]:
    routers = []
    for name in PAGE_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        router = getattr(importlib.import_module(name), "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers


def create_app(
    settings: StorefrontSettings | None = None,
    *,
    http: httpx.AsyncClient | None = None,
    media: MediaReader | None = None,
) -> FastAPI:
    """Build the app; settings come from the environment when not given. Tests pass ``http`` (a client whose
    transport plays the gateway) and ``media`` (an object-store reader)."""
    settings = settings or StorefrontSettings()  # filled from the environment
    deps = bootstrap(settings, http=http, media=media)
    app = create_service_app(
        settings,
        title="Gigstack storefront",
        version=VERSION,
        routers=[],
        readiness=[redis_check(deps.redis)],
        lifespan_hooks=[
            close_on_shutdown(
                deps.http.aclose, deps.redis.aclose, *([deps.media.close] if deps.media else [])
            )
        ],
        require_internal_token=False,
        deps=deps,
        # Browsers' trace headers are not trusted: every request starts a trace of the storefront's own.
        public_edge=True,
    )
    app.include_router(static_router(deps.static))
    for router in page_routers():
        app.include_router(router, dependencies=[Depends(require_csrf)])
    _install_error_pages(app)
    # Added last, so they run first: the security headers wrap every answer, the session is loaded before
    # any page (and before the CSRF check, which compares against it).
    app.add_middleware(SessionMiddleware)
    app.add_middleware(
        SecurityHeadersMiddleware,
        media_origin=settings.media_public_origin,
        hsts=settings.secure_cookies,
        stripe=settings.stripe_publishable_key is not None,
        images_same_origin=settings.media_proxy_enabled,
    )
    return app


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "errors/error.html", {"title": title, "message": message}, status_code=status)


def _install_error_pages(app: FastAPI) -> None:
    async def csrf_refused(request: Request, _: Exception) -> Response:
        return _error_page(
            request,
            403,
            "Form expired",
            "This form could not be accepted: it was sent without this session's security token. "
            "Go back, reload the page and try again.",
        )

    async def unavailable(request: Request, error: Exception) -> Response:
        logger.warning("gateway unavailable", extra={"error": str(error)})
        response = _error_page(
            request,
            503,
            "We will be right back",
            "Gigstack is unavailable for a moment. Please try again shortly.",
        )
        response.headers["Retry-After"] = "5"
        return response

    async def signed_out(request: Request, _: Exception) -> Response:
        session = getattr(request.state, "session", None)
        if session is not None:
            session.forget_user()
            session.flash("Please sign in to continue.", "info")
        target = request.url.path if request.method == "GET" else "/"
        return redirect(f"/signin?next={target}", request)

    async def gateway_refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, GatewayError)
        status = error.status_code if error.status_code in (403, 404, 409, 410, 422, 429) else 400
        title = {404: "Not found", 403: "Not allowed", 429: "Slow down"}.get(status, "That did not work")
        return _error_page(request, status, title, error.message)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        titles = {404: "Page not found", 405: "Not allowed"}
        message = "There is no page here." if error.status_code == 404 else str(error.detail)
        return _error_page(request, error.status_code, titles.get(error.status_code, "Error"), message)

    async def invalid_request(request: Request, _: Exception) -> Response:
        return _error_page(request, 400, "That did not work", "The request was not valid.")

    async def unexpected(request: Request, _: Exception) -> Response:
        logger.exception("unexpected error on a page")
        return _error_page(request, 500, "Something went wrong", "Something went wrong on our side.")

    app.add_exception_handler(CsrfRefusedError, csrf_refused)
    app.add_exception_handler(GatewayUnavailable, unavailable)
    app.add_exception_handler(SignedOutError, signed_out)
    app.add_exception_handler(GatewayError, gateway_refused)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, unexpected)
