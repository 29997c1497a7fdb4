"""The websocket proxy at /realtime/socket.io/ (helper sf-trade fills this module; docs/adr/0025).

The app factory includes ``router``; the browser never sees a token: the proxy authenticates the browser by
its session cookie and opens the upstream Socket.IO websocket to the gateway with the session's token.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
