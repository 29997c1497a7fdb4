"""Starting and talking to a `consumer_worker` process from the benchmark's event loop."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass

import sqlalchemy as sa

START_TIMEOUT = 60.0


def business_table(metadata: sa.MetaData) -> sa.Table:
    """The business row of the joined and direct paths: what a service's request writes besides the event."""
    return sa.Table(
        "bench_orders",
        metadata,
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )


@dataclass(frozen=True)
class WorkerDone:
    finished_at: float  # time.perf_counter() in this process when DONE arrived
    handler_calls: int
    cpu_seconds: float  # consumed between READY and DONE


class ConsumerWorker:
    def __init__(self, *arguments: str) -> None:
        self._arguments = arguments
        self._process: asyncio.subprocess.Process | None = None
        self._cpu_at_ready = 0.0

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.event_bus.consumer_worker",
            *self._arguments,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        line = await asyncio.wait_for(self._readline(), timeout=START_TIMEOUT)
        word, _, cpu = line.partition(" ")
        if word != "READY":
            raise RuntimeError(f"consumer worker did not start: {line!r}")
        self._cpu_at_ready = float(cpu)

    async def wait_done(self, timeout: float) -> WorkerDone:  # noqa: ASYNC109 - one bounded wait
        line = await asyncio.wait_for(self._readline(), timeout=timeout)
        finished_at = time.perf_counter()
        word, calls, cpu = line.split()
        if word != "DONE":
            raise RuntimeError(f"unexpected worker output: {line!r}")
        return WorkerDone(finished_at, int(calls), float(cpu) - self._cpu_at_ready)

    async def stop(self) -> None:
        process = self._process
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def _readline(self) -> str:
        assert self._process is not None
        assert self._process.stdout is not None
        raw = await self._process.stdout.readline()
        if not raw:
            raise RuntimeError(f"consumer worker exited with {await self._process.wait()}")
        return raw.decode().strip()
