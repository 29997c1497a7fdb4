"""Resident memory of a service process tree (psutil), sampled once or continuously for a peak."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import psutil

MIB = 1024 * 1024


@dataclass(frozen=True)
class TreeMemory:
    rss_bytes: int
    uss_bytes: int
    processes: int

    @property
    def rss_mib(self) -> float:
        return self.rss_bytes / MIB

    @property
    def uss_mib(self) -> float:
        return self.uss_bytes / MIB


def tree_memory(pid: int) -> TreeMemory:
    """RSS and USS of ``pid`` plus all its descendants (a uvicorn reloader or worker would be children)."""
    root = psutil.Process(pid)
    members = [root, *root.children(recursive=True)]
    rss = uss = 0
    for process in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            info = process.memory_full_info()
            rss += info.rss
            uss += info.uss
    return TreeMemory(rss_bytes=rss, uss_bytes=uss, processes=len(members))


@dataclass
class PeakSampler:
    """Samples every ``interval`` seconds while running; keeps the highest RSS per service."""

    pids: Mapping[str, int]
    interval: float = 0.25
    peaks: dict[str, int] = field(default_factory=dict)

    async def _run(self) -> None:
        while True:
            for name, pid in self.pids.items():
                with contextlib.suppress(psutil.NoSuchProcess):
                    rss = tree_memory(pid).rss_bytes
                    self.peaks[name] = max(self.peaks.get(name, 0), rss)
            await asyncio.sleep(self.interval)

    @contextlib.asynccontextmanager
    async def sampling(self) -> AsyncIterator[PeakSampler]:
        task = asyncio.create_task(self._run())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
