"""Runs a command again, in a fresh unit of work, when the store aborted it over a lock conflict."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from auth_service.service_layer.dependencies import HandlerDependencies
from auth_service.service_layer.errors import StoreConflictError, StoreUnavailableError

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# Full jitter: conflicting transactions that failed together must not retry in lock-step and collide again.
BACKOFF_BASE_SECONDS = 0.02
BACKOFF_CAP_SECONDS = 0.25

CommandT = TypeVar("CommandT")
ResultT = TypeVar("ResultT")
Handler = Callable[[CommandT, HandlerDependencies], Awaitable[ResultT]]


def backoff_seconds(failed_attempts: int) -> float:
    """A random pause in [0, min(cap, base * 2**failed_attempts)]."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**failed_attempts))


def retry_on_conflict(handler: Handler[CommandT, ResultT]) -> Handler[CommandT, ResultT]:
    """Run ``handler`` up to MAX_ATTEMPTS times while the store reports StoreConflictError.

    Each attempt opens its own unit of work (handlers do), so a retry starts from a fresh transaction and
    repeats the whole command, reads included. Conflicts outlasting the attempts become StoreUnavailableError.
    """

    @functools.wraps(handler)
    async def run(command: CommandT, deps: HandlerDependencies) -> ResultT:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await handler(command, deps)
            except StoreConflictError as conflict:
                if attempt == MAX_ATTEMPTS:
                    raise StoreUnavailableError("The account store is busy; try again shortly") from conflict
                logger.info(
                    "store conflict; retrying the command",
                    extra={"command": type(command).__name__, "attempt": attempt},
                )
                await asyncio.sleep(backoff_seconds(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    return run
