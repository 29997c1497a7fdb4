"""A small closed-loop HTTP load generator: N concurrent workers, each sending the next request as soon as
the previous one answered, for a fixed duration; latencies in seconds, non-200 answers counted as errors.

Two ways to hold the N keep-alive connections (``pool``):

- ``shared``: one httpx client whose pool holds all N. httpcore 1.0's pool re-scans its connections every
  time a request is added or finished, and for every idle connection it finds it scans all of them again
  (``_assign_requests_to_connections``), so its CPU per request grows with how many of the N are idle when
  it runs, which depends on how the target's answers interleave, not on what they contain
  (docs/benchmarks.md, "The load generator's asymmetry").
- ``per-worker``: each worker its own client with a pool of one connection (one SSL context built once and
  shared, as the shared client builds one): the same N connections, requests and library, without the
  cross-worker scan, so the client's CPU per request no longer depends on the target's timing.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

REQUEST_TIMEOUT_SECONDS = 10.0
POOLS = ("shared", "per-worker")


@dataclass
class LoadResult:
    label: str
    duration_seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    # What the errors were: an HTTP status ("503") or the client's exception ("ReadTimeout").
    error_kinds: dict[str, int] = field(default_factory=dict)

    def merge(self, other: LoadResult) -> None:
        self.duration_seconds += other.duration_seconds
        self.latencies.extend(other.latencies)
        self.errors += other.errors
        for kind, count in other.error_kinds.items():
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + count

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.requests / self.duration_seconds if self.duration_seconds else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
        return ordered[index]


async def run_load(
    label: str,
    base_url: str,
    path: str,
    headers_for_worker: Callable[[], dict[str, str]],
    *,
    concurrency: int,
    duration_seconds: float,
    pool: str = "per-worker",
) -> LoadResult:
    """``headers_for_worker`` is called before every request (cheap: it returns cached headers)."""
    result = LoadResult(label=label, duration_seconds=0.0)
    shared = pool == "shared"
    per_client = concurrency if shared else 1
    limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
    # What httpx builds for `verify=True`, once for all the clients (loading the CA bundle is most of a
    # client's construction).
    verify = httpx.create_ssl_context(trust_env=False) if not shared else True
    clients = [
        httpx.AsyncClient(
            base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False, verify=verify
        )
        for _ in range(1 if shared else concurrency)
    ]
    try:
        started = time.perf_counter()
        deadline = started + duration_seconds

        async def worker(client: httpx.AsyncClient) -> None:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                kind = None
                try:
                    response = await client.get(path, headers=headers_for_worker())
                    if response.status_code != 200:
                        kind = str(response.status_code)
                except httpx.HTTPError as error:
                    kind = type(error).__name__
                if kind is None:
                    result.latencies.append(time.perf_counter() - sent)
                else:
                    result.errors += 1
                    result.error_kinds[kind] = result.error_kinds.get(kind, 0) + 1

        await asyncio.gather(*(worker(clients[index % len(clients)]) for index in range(concurrency)))
        result.duration_seconds = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    return result
