"""What watching for the client's disconnect adds to a proxied call (entrypoints/client_disconnect.py).

In-process, on uvloop as the gateway runs: the same trivial call awaited plainly and through
`unless_client_leaves` (one watch task per call, cancelled when the call ends), alternating so drift on a
shared machine hits both alike. Prints microseconds per call for each and the difference. Usage::

    uv run python bench/gateway_overhead/disconnect_watch.py --calls 50000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import uvloop
from gateway_service.entrypoints.client_disconnect import unless_client_leaves
from starlette.types import Message


async def _answer() -> int:
    await asyncio.sleep(0)  # one suspension, as any downstream call has at least one
    return 1


async def _measure(calls: int, rounds: int) -> dict[str, float]:
    never = asyncio.Event()

    async def receive() -> Message:
        await never.wait()  # the client stays: the watch is always cancelled by the call's end
        return {"type": "http.disconnect"}

    totals = {"plain": 0.0, "watched": 0.0}
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            await _answer()
        totals["plain"] += time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(calls):
            await unless_client_leaves(receive, _answer())
        totals["watched"] += time.perf_counter() - started
    return {name: seconds / (calls * rounds) * 1e6 for name, seconds in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    figures = uvloop.run(_measure(arguments.calls, arguments.rounds))
    load = os.getloadavg()[0]
    print(
        f"plain {figures['plain']:.2f} us/call, watched {figures['watched']:.2f} us/call, "
        f"watch adds {figures['watched'] - figures['plain']:.2f} us/call (load average {load:.2f})"
    )


if __name__ == "__main__":
    main()
