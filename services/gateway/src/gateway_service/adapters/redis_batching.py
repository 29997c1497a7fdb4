"""Joining concurrent requests' Redis commands into shared pipelines (ADR 0024).

Every request the gateway admits counts its budgets in Redis. Under load many requests are at that point at
once; sending each its own pipeline costs a round trip, a pooled connection and a socket write and read per
request, which the profile showed as the largest Redis share of the gateway's CPU. `PipelineBatcher` sends
the commands of every request that asked during the same event-loop turn (and of those that asked while
the previous pipelines were in flight) as one pipeline, and gives each caller its own results.

Nothing about a count changes: each command is still its own atomic script call on the same keys, in the
order the callers asked; a caller waits for exactly its answer; if the pipeline fails (Redis unreachable,
a timeout) every caller of that batch gets the failure, as it would have on its own. A lone request is a
batch of one, sent on the next loop turn, so nothing waits for a batch to fill.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Command = TypeVar("Command")

DEFAULT_MAX_IN_FLIGHT = 2
DEFAULT_MAX_COMMANDS = 256


class PipelineBatcher(Generic[Command]):
    """``await batcher.submit(commands)`` -> those commands' results, sent with others' in one pipeline.

    ``run`` sends a list of commands as one pipeline and returns one result per command, in order. At most
    ``max_in_flight`` pipelines are outstanding; callers that come meanwhile form the next batch (at most
    ``max_commands`` commands each, so one batch cannot grow without bound).
    """

    def __init__(
        self,
        run: Callable[[list[Command]], Awaitable[Sequence[object]]],
        *,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_commands: int = DEFAULT_MAX_COMMANDS,
    ) -> None:
        self._run = run
        self._max_in_flight = max_in_flight
        self._max_commands = max_commands
        self._pending: list[tuple[Sequence[Command], asyncio.Future[list[object]]]] = []
        self._in_flight = 0
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, commands: Sequence[Command]) -> list[object]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[object]] = loop.create_future()
        self._pending.append((commands, future))
        self._schedule(loop)
        return await future

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        # On the next loop turn rather than now, so every caller of this turn joins the same pipeline.
        if self._pending and not self._scheduled and self._in_flight < self._max_in_flight:
            self._scheduled = True
            loop.call_soon(self._start, loop)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = False
        batch: list[tuple[Sequence[Command], asyncio.Future[list[object]]]] = []
        size = 0
        while self._pending and (not batch or size + len(self._pending[0][0]) <= self._max_commands):
            commands, future = self._pending.pop(0)
            if future.done():  # the caller was cancelled before anything was sent: nothing to count
                continue
            batch.append((commands, future))
            size += len(commands)
        if not batch:
            return
        self._in_flight += 1
        task = loop.create_task(self._send(batch, loop))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(
        self,
        batch: list[tuple[Sequence[Command], asyncio.Future[list[object]]]],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        try:
            results = list(await self._run([command for commands, _ in batch for command in commands]))
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as error:  # every caller of the batch fails as it would have alone
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
        else:
            offset = 0
            for commands, future in batch:
                if not future.done():
                    future.set_result(results[offset : offset + len(commands)])
                offset += len(commands)
        finally:
            self._in_flight -= 1
            self._schedule(loop)

    async def aclose(self) -> None:
        """Wait for the pipelines in flight (their callers are answered) at shutdown."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
