"""The realtime proxy's token source: the websocket's session, its access token refreshed first when due (and
the session saved, since no HTTP answer will), nothing for a session that cannot be refreshed."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
from conftest import TradeBrowser
from storefront_fakes import error_body
from storefront_service.realtime import session_access_token
from trade_samples import BUYER


def _socket(trade: TradeBrowser, session: object) -> SimpleNamespace:
    """What session_access_token reads of a Starlette WebSocket: its state and its app."""
    return SimpleNamespace(state=SimpleNamespace(session=session), app=trade.app)


async def test_a_fresh_token_is_used_as_it_is(trade: TradeBrowser) -> None:
    session = await trade.sign_in(BUYER, "bea")

    assert await session_access_token(_socket(trade, session)) == f"access-{BUYER}"  # type: ignore[arg-type]
    assert trade.gateway.calls == []


async def test_an_expired_token_is_refreshed_and_the_session_saved(trade: TradeBrowser) -> None:
    session = await trade.sign_in(BUYER, "bea")
    session.access_expires_at = 0
    trade.gateway.on(
        "auth.refresh", {"access_token": "access-2", "refresh_token": "refresh-2", "expires_in": 900}
    )
    trade.gateway.on("auth.me", {"user": {"id": BUYER}})

    token = await session_access_token(_socket(trade, session))  # type: ignore[arg-type]

    assert token == "access-2"
    stored = await trade.app.state.deps.sessions.load(session.id)
    assert (stored.access_token, stored.refresh_token) == ("access-2", "refresh-2")


async def test_no_token_for_a_session_that_cannot_be_refreshed_or_is_anonymous(trade: TradeBrowser) -> None:
    session = await trade.sign_in(BUYER, "bea")
    session.access_expires_at = 0
    trade.gateway.on("auth.refresh", lambda _: httpx.Response(401, json=error_body(401, "revoked")))
    anonymous = trade.app.state.deps.sessions.new()

    assert await session_access_token(_socket(trade, session)) is None  # type: ignore[arg-type]
    assert await session_access_token(_socket(trade, anonymous)) is None  # type: ignore[arg-type]
    assert await session_access_token(_socket(trade, None)) is None  # type: ignore[arg-type]
