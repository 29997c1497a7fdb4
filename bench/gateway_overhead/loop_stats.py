"""How the load generator's event loop spends its wake-ups: the counters its per-read CPU is explained by.

The load generator is this process (httpx on one event loop). Its CPU per read can differ between two targets
that send back the same bytes: every wake-up of the loop (one ``epoll_wait`` returning, then the ready
callbacks) has a fixed cost, shared by the responses that were ready when it woke. A path whose answers come
back one at a time (more hops, more processes taking turns on the cores) pays that cost per response; a path
whose answers arrive in bursts shares it. Two counters tell which, per slice:

- the process's context switches (``getrusage``: voluntary = it slept in ``epoll_wait`` and was woken,
  involuntary = preempted), for any loop implementation;
- with the standard library's loop, the ``select`` calls (loop iterations that waited for I/O) and the I/O
  events they returned, counted by a thin selector subclass (uvloop's loop is C and has no such hook).
"""

from __future__ import annotations

import asyncio
import resource
import selectors
from collections.abc import Callable
from typing import Any

LOOPS = ("asyncio", "uvloop")


class CountingSelector(selectors.DefaultSelector):
    """The default selector, counting its ``select`` calls and the events they return."""

    def __init__(self) -> None:
        super().__init__()
        self.selects = 0
        self.events = 0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(timeout)
        self.selects += 1
        self.events += len(ready)
        return ready


class LoopCounters:
    """Reads the counters of this process and its loop; ``snapshot`` before and after a slice."""

    def __init__(self, selector: CountingSelector | None) -> None:
        self._selector = selector

    def snapshot(self) -> dict[str, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        counters = {
            # The process's CPU split: the kernel's share holds the loopback TCP work done in its time slice.
            "user_ms": usage.ru_utime * 1000,
            "system_ms": usage.ru_stime * 1000,
            "voluntary_switches": float(usage.ru_nvcsw),
            "involuntary_switches": float(usage.ru_nivcsw),
        }
        if self._selector is not None:
            counters["loop_selects"] = float(self._selector.selects)
            counters["loop_events"] = float(self._selector.events)
        return counters


def loop_factory(kind: str) -> tuple[Callable[[], asyncio.AbstractEventLoop], LoopCounters]:
    """The event loop the benchmark (and so its load generator) runs on, and the counters that go with it."""
    if kind == "uvloop":
        import uvloop  # the servers' loop (uvicorn's); imported only when asked for

        return uvloop.new_event_loop, LoopCounters(None)
    selector = CountingSelector()
    return (lambda: asyncio.SelectorEventLoop(selector)), LoopCounters(selector)


def per_read(counters: dict[str, float], reads: int) -> dict[str, Any]:
    """Counter deltas of a slice per read (and events per loop wake-up where the selects were counted)."""
    reads = max(reads, 1)
    out: dict[str, Any] = {name: round(value / reads, 3) for name, value in counters.items()}
    if counters.get("loop_selects"):
        out["events_per_select"] = round(counters["loop_events"] / counters["loop_selects"], 3)
    return out
