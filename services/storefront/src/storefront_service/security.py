"""Browser-facing protections: the security headers on every response and the CSRF check on every unsafe
request (docs/adr/0025).

CSRF uses the synchronizer-token pattern: each session holds a random token; every form carries it in a
hidden ``csrf_token`` input and htmx sends it as ``X-CSRF-Token`` (from ``<meta name="csrf-token">``, via
``hx-headers`` on ``<body>``). A POST/PUT/PATCH/DELETE whose token is missing or differs is refused with 403
before the page's handler runs. SameSite=Lax on the session cookie is the second layer, not the only one.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storefront_service.sessions import Session

CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfRefusedError(Exception):
    """An unsafe request without the session's CSRF token: answered with the 403 page."""


# Stripe.js and its Payment Element (checkout), named only when a publishable key is configured (sf-trade):
# https://docs.stripe.com/security/guide#content-security-policy
STRIPE_SCRIPT = " https://js.stripe.com"
STRIPE_FRAMES = "frame-src https://js.stripe.com https://hooks.stripe.com"
STRIPE_CONNECT = " https://api.stripe.com"


def content_security_policy(
    media_origin: str | None, *, stripe: bool = False, images_same_origin: bool = False
) -> str:
    """The one policy of every page: nothing inline, nothing from elsewhere but the media origin (uploads
    straight to the presigned URL, and the images read from it unless the storefront serves them itself at
    /media/, ``images_same_origin``) and, only when Stripe is configured, Stripe's script, frames and API."""
    media = f" {media_origin}" if media_origin else ""
    directives = (
        "default-src 'self'",
        f"script-src 'self'{STRIPE_SCRIPT if stripe else ''}",
        "style-src 'self'",
        f"img-src 'self' data:{'' if images_same_origin else media}",
        f"connect-src 'self'{media}{STRIPE_CONNECT if stripe else ''}",
        f"form-action 'self'{media}",
        *((STRIPE_FRAMES,) if stripe else ()),
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    )
    return "; ".join(directives)


def security_headers(
    media_origin: str | None, *, hsts: bool, stripe: bool = False, images_same_origin: bool = False
) -> list[tuple[bytes, bytes]]:
    policy = content_security_policy(media_origin, stripe=stripe, images_same_origin=images_same_origin)
    headers = [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(self)"),
    ]
    if hsts:
        # Outside development the storefront is only served over TLS (the ingress terminates it).
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


class SecurityHeadersMiddleware:
    """Adds the headers to every HTTP response, error pages and static files included (pure ASGI, so a
    websocket passes untouched and a streamed body is not buffered)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        media_origin: str | None,
        hsts: bool,
        stripe: bool = False,
        images_same_origin: bool = False,
    ) -> None:
        self._app = app
        self._headers = security_headers(
            media_origin, hsts=hsts, stripe=stripe, images_same_origin=images_same_origin
        )
        self._names = {name for name, _ in self._headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self._names]
                message["headers"] = [*kept, *self._headers]
            await send(message)

        await self._app(scope, receive, send_with_headers)


def tokens_match(expected: str, offered: str | None) -> bool:
    return bool(offered) and hmac.compare_digest(expected.encode(), str(offered).encode())


async def offered_csrf_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        # Starlette caches the parsed form on the request, so the handler's Form(...) parameters read the
        # same object without a second read of the body.
        value = (await request.form()).get(CSRF_FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


async def require_csrf(request: Request) -> None:
    """Router dependency (entrypoints/app.py adds it to every page router): refuse unsafe requests whose
    token does not match the session's."""
    if request.method in SAFE_METHODS:
        return
    session: Session | None = getattr(request.state, "session", None)
    if (
        session is None
        or session.is_new
        or not tokens_match(session.csrf_token, await offered_csrf_token(request))
    ):
        raise CsrfRefusedError
