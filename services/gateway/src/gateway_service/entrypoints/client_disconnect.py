"""Stopping a proxied call when its client goes away.

Neither uvicorn nor Starlette cancels a request's handler when the client disconnects: the ASGI server only
answers the next `receive()` with `http.disconnect`. A proxied call would then wait for its service's answer
(up to the downstream read timeout) and relay it into a closed connection, holding a pooled connection and
the service's attention for nobody. `unless_client_leaves` listens for that message while the call runs and
cancels the call when it comes; cancelling closes the downstream connection (`adapters/http_link.py`
never returns an interrupted exchange's connection to its pool), so the service sees its client go too. The
request then ends as one whose client left while its body was read: Starlette's `ClientDisconnect`, which
servicekit's request middleware records as a 499 without answering (servicekit.http.middleware).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.requests import ClientDisconnect
from starlette.types import Receive

ResultT = TypeVar("ResultT")


async def _wait_for_disconnect(receive: Receive) -> None:
    # Called once the request body has been read whole: the server's next message is the disconnect (or,
    # after the answer was sent, a disconnect too; the watch is cancelled before then).
    while (await receive())["type"] != "http.disconnect":
        pass


async def unless_client_leaves(receive: Receive, call: Awaitable[ResultT]) -> ResultT:
    """`call`'s result; `ClientDisconnect` when the client disconnected first (`call` is then cancelled).

    `receive` must have delivered the whole request body already. The call runs in the current task (its
    context, span and correlation id unchanged); only the watch is a task of its own, which cancels this one
    the way `asyncio.timeout` does, and the cancellation is taken back when it was the watch's.
    """
    current = asyncio.current_task()
    assert current is not None, "called outside a task"
    client_left = False

    async def watch() -> None:
        nonlocal client_left
        try:
            await _wait_for_disconnect(receive)
        except Exception:
            return  # nothing to watch then: the call runs to its end, as it did before
        client_left = True
        current.cancel()

    watcher = asyncio.create_task(watch())
    try:
        return await call
    except asyncio.CancelledError:
        # Only the watch's own cancellation is absorbed; a shutdown's (or any other) propagates.
        if client_left and current.uncancel() == 0:
            raise ClientDisconnect() from None
        raise
    finally:
        watcher.cancel()
