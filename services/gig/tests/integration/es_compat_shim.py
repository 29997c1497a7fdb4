"""A loopback HTTP shim that lets the Elasticsearch 8 client talk to the local OpenSearch node.

No Elasticsearch server can run here (no registry ships it; its licences are excluded on this machine). The
ES 8 client differs from an OpenSearch client on the wire in two ways only: it sends the compatibility media
type `application/vnd.elasticsearch+json; compatible-with=8` (and `+x-ndjson` for bulk), which OpenSearch
refuses, and it insists on the `X-Elastic-Product: Elasticsearch` response header. The shim rewrites the
former to plain JSON/NDJSON and adds the latter; method, path, query string and body pass through unchanged,
so the adapter's real requests (as elasticsearch-py builds them) are executed by a real engine.
"""

from __future__ import annotations

import re

import aiohttp
from aiohttp import web
from gigstack_testinfra.net import LOOPBACK, free_port

_COMPAT = re.compile(r"application/vnd\.elasticsearch\+(json|x-ndjson)\s*;\s*compatible-with=\d+")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


def _plain(value: str) -> str:
    return _COMPAT.sub(lambda m: f"application/{m[1]}", value)


class ElasticsearchCompatShim:
    def __init__(self, upstream_url: str) -> None:
        self._upstream = upstream_url.rstrip("/")
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.rewritten = 0  # requests whose media type was rewritten (the test checks the shim was used)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, LOOPBACK, self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        headers = {}
        for name, value in request.headers.items():
            if name.lower() in _HOP_BY_HOP:
                continue
            if name.lower() in ("accept", "content-type") and _COMPAT.search(value):
                self.rewritten += 1
                value = _plain(value)
            headers[name] = value
        body = await request.read()
        async with self._session.request(
            request.method, self._upstream + request.rel_url.raw_path_qs, headers=headers, data=body or None
        ) as upstream:
            payload = await upstream.read()
            response = web.Response(
                status=upstream.status, body=payload if request.method != "HEAD" else None
            )
            for name, value in upstream.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    response.headers[name] = value
            response.headers["X-Elastic-Product"] = "Elasticsearch"
            return response
