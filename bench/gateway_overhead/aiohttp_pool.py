"""aiohttp connection pools, one session (a keep-alive pool) per upstream: the floor apps' client.

Moved here from the gateway (formerly ``gateway_service.adapters.http_pool``) once the gateway's own
downstream calls went through ``gateway_service.adapters.http_link`` (ADR 0024, amendments "gwraw" and
"gwlean"): floor_apps.py keeps forwarding through these pools, so its floor ("one FastAPI route + aiohttp",
"bare ASGI + aiohttp") stays the one earlier sessions measured, and the gateway no longer depends on aiohttp.
aiohttp itself stays in the workspace through the dev group's Socket.IO client (and the search and S3
clients). What follows is why the gateway had moved from httpx to aiohttp, and the settings the links keep.

aiohttp rather than httpx (ADR 0024): on the gateway's hot path httpx/httpcore cost ~30 % of the gateway's
CPU per proxied read (pool bookkeeping that scans every pooled connection, anyio socket attributes, h11
in pure Python, a cookie jar), aiohttp's C parser and simple connector far less; `bench/gateway_overhead`
measured the difference (docs/benchmarks.md).

The sessions hold connections and timeouts only, nothing about a caller:

- **No cookie jar** (`DummyCookieJar`): a `Set-Cookie` in one user's answer must never ride along on the
  next user's request. httpx's client kept such cookies.
- **Keep-alive shorter than the services'** (uvicorn closes idle connections after 5 s): a connection the
  server is about to close is not reused, which would fail a non-idempotent request with a disconnect.
- **No Content-Type of its own**: aiohttp would label a body (or a bodiless POST) `application/octet-stream`;
  a request goes on with the Content-Type its client sent, or none, as with httpx.
- **No redirects followed, no proxy from the environment**: service-to-service calls go straight to cluster
  addresses, and a service's redirect is the client's to follow.

Sessions are created on first use, inside the running event loop (aiohttp binds them to it), and closed
by the lifespan (`aclose`).
"""

from __future__ import annotations

from collections.abc import Iterable

import aiohttp

DEFAULT_CONNECTIONS_PER_SERVICE = 64
# Below uvicorn's `timeout_keep_alive` (5 s, servicekit.http.server) so the client lets go first.
KEEPALIVE_SECONDS = 4.0


class ServicePools:
    def __init__(
        self,
        services: Iterable[str],
        *,
        connect_timeout_seconds: float,
        read_timeout_seconds: float,
        connections_per_service: int = DEFAULT_CONNECTIONS_PER_SERVICE,
    ) -> None:
        self._services = frozenset(services)
        self._connections = connections_per_service
        # sock_connect bounds the TCP connect; connect bounds waiting for a free pooled connection plus the
        # connect; sock_read bounds each wait for the answer's bytes. No total: a slow but moving body of a
        # large answer is not cut off, a silent service is.
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout_seconds + read_timeout_seconds,
            sock_connect=connect_timeout_seconds,
            sock_read=read_timeout_seconds,
        )
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    def session(self, service: str) -> aiohttp.ClientSession:
        """The service's session; must be called inside the running event loop."""
        session = self._sessions.get(service)
        if session is None or session.closed:
            if service not in self._services:
                raise KeyError(service)
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._connections, limit_per_host=0, keepalive_timeout=KEEPALIVE_SECONDS
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("Content-Type",),
                timeout=self._timeout,
                trust_env=False,
                raise_for_status=False,
            )
            self._sessions[service] = session
        return session

    async def aclose(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()
