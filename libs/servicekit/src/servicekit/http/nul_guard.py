"""Refuse JSON bodies that carry U+0000 with a 422, before any handler or store sees them.

PostgreSQL stores neither `text` nor `jsonb` with a NUL character (SQLSTATE 22P05 / 22021), so such a value
reached the stores as a 500: FerretDB on PostgreSQL for gig, chat and users (ADR 0026), PostgreSQL and
MariaDB-backed columns elsewhere. No field of the public API has a use for it, so every service refuses it
at the door with the one error shape. A NUL can only arrive escaped in JSON (`\\u0000`; a raw 0x00 byte is
invalid JSON and already a 422), so the check is a substring search that parses nothing in the usual case.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.errors import ValidationFailed, error_response

_METHODS_WITH_BODIES = frozenset({"POST", "PUT", "PATCH"})
# `\u0000` preceded by an even number of backslashes (zero included) is an escaped NUL; after an odd number
# it is the text `\u0000` with an escaped backslash in front, which is allowed.
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def carries_nul(body: bytes) -> bool:
    """Whether the JSON text `body` has a U+0000 in any string (key or value)."""
    return b"\\u0000" in body and _ESCAPED_NUL.search(body) is not None


class RejectNulCharactersMiddleware:
    """Reads JSON request bodies whole (as the handler would) and answers 422 when one carries U+0000."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _METHODS_WITH_BODIES or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        first: Message | None = None
        while True:
            message = await receive()
            if message["type"] != "http.request":
                first = message  # the client went away: let the app see it as it would have
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if first is None and carries_nul(body):
            failure = ValidationFailed(
                "Text must not contain the NUL character (U+0000)", code="nul_character"
            )
            await error_response(failure)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                if first is not None:
                    return first
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media_type: bytes = bytes(value).split(b";", 1)[0].strip().lower()
            return media_type == b"application/json" or media_type.endswith(b"+json")
    return False
