"""Connection pools for downstream calls: one set of small httpx pools per internal service.

httpcore re-examines every pooled connection twice per request (expiry, which asks the socket through
anyio, and an idle count that is itself a scan of the pool, so O(n^2) in the idle case). With one pool of
~32 keep-alive connections that bookkeeping was the largest single cost in the gateway's profile. Several
small pools per service, picked round robin, keep each scan short while allowing the same concurrency,
and pools per service keep one busy service's connections out of another's scans.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterable, Iterator

import httpx

DEFAULT_SHARDS_PER_SERVICE = 4
DEFAULT_CONNECTIONS_PER_SHARD = 16


class UntracedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport without OpenTelemetry's process-wide httpx instrumentation.

    servicekit instruments every httpx client of the process; on the gateway's hot path that wrapper (header
    normalisation, span attributes read from the socket) cost about a tenth of the gateway's CPU. The
    downstream client opens one lean client span of its own instead (adapters/downstream.py), so traces
    keep the hop and the trace context still travels in the headers it injects.
    """

    # The undecorated method, whether the instrumentation was installed before this import or after it.
    handle_async_request = inspect.unwrap(httpx.AsyncHTTPTransport.handle_async_request)


class ServicePools:
    def __init__(
        self,
        services: Iterable[str],
        *,
        timeout: httpx.Timeout,
        shards_per_service: int = DEFAULT_SHARDS_PER_SERVICE,
        connections_per_shard: int = DEFAULT_CONNECTIONS_PER_SHARD,
    ) -> None:
        limits = httpx.Limits(
            max_connections=connections_per_shard, max_keepalive_connections=connections_per_shard
        )
        # One TLS context for every pool: each transport would otherwise build its own and load the CA bundle
        # again, ~30 ms of CPU each and most of the gateway's app construction at startup (bench/startup).
        tls = httpx.create_ssl_context()
        self._clients: dict[str, list[httpx.AsyncClient]] = {
            service: [
                httpx.AsyncClient(
                    timeout=timeout,
                    transport=UntracedTransport(limits=limits, verify=tls),
                    follow_redirects=False,
                    # Service-to-service calls go straight to cluster addresses, never through a proxy.
                    trust_env=False,
                )
                for _ in range(shards_per_service)
            ]
            for service in services
        }
        self._next: dict[str, Iterator[httpx.AsyncClient]] = {
            service: itertools.cycle(clients) for service, clients in self._clients.items()
        }

    def client(self, service: str) -> httpx.AsyncClient:
        return next(self._next[service])

    async def aclose(self) -> None:
        for clients in self._clients.values():
            for client in clients:
                await client.aclose()
