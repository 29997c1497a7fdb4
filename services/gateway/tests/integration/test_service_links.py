"""The downstream links (adapters/http_link.py) and DownstreamClient's retry policy on them, against a real
HTTP/1.1 server on loopback whose answers each path scripts: keep-alive and its limits, timeouts, broken and
malformed answers, chunked and HEAD answers, the connection limit, and which failures are repeated.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway_service.adapters import http_link
from gateway_service.adapters.downstream import DownstreamClient
from gateway_service.adapters.http_link import (
    ServiceConnectionBrokenError,
    ServiceLinks,
    ServiceReadTimeoutError,
    ServiceUnreachableError,
    service_address,
)
from gigstack_testinfra.net import LOOPBACK, free_port
from servicekit.errors import BadGateway, GatewayTimeout, ServiceUnavailable
from servicekit.security import InternalTokenIssuer

pytestmark = pytest.mark.integration

READ_TIMEOUT = 0.5


@dataclass
class Seen:
    connection: int
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name]


@dataclass
class ScriptedServer:
    """Answers by path; records every request with the number of the connection it came on."""

    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    drop_first: int = 0  # the next N requests of /flaky get no answer, just a closed connection
    server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, LOOPBACK, 0)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                line, *rest = head.decode("latin-1").split("\r\n")
                method, target, _ = line.split(" ")
                headers = [tuple(item.split(": ", 1)) for item in rest if item]
                length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
                body = await reader.readexactly(length) if length else b""
                self.seen.append(Seen(number, method, target, headers, body))  # type: ignore[arg-type]
                if not await self._answer(method, target.split("?")[0], writer):
                    return
        finally:
            self.open_now -= 1
            writer.close()

    async def _answer(self, method: str, path: str, writer: asyncio.StreamWriter) -> bool:
        """Writes the answer; False closes the connection."""
        if path == "/drop" or (path == "/flaky" and self.drop_first > 0):
            self.drop_first -= 1
            return False
        if path == "/garbage":
            writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            await writer.drain()
            return True
        if path == "/silent":
            await asyncio.sleep(READ_TIMEOUT * 3)
        if path.startswith("/slow/"):
            await asyncio.sleep(float(path.removeprefix("/slow/")))
        if path == "/trickle":  # a slow but moving chunked body: 4 chunks, each within the read timeout
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n")
            for part in (b"one ", b"two ", b"three ", b"four"):
                await asyncio.sleep(READ_TIMEOUT * 0.6)
                writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            return True
        if path == "/eof":  # neither a length nor chunks: the body ends with the connection
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it")
            await writer.drain()
            return False
        if path == "/nocontent":
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            return True
        body = json.dumps({"path": path, "method": method}).encode()
        extra = b""
        if path == "/close":
            extra = b"connection: close\r\n"
        if path == "/headers":
            extra = (
                b"cache-control: no-store\r\nset-cookie: sid=secret\r\ncache-control: private\r\n"
                b'x-internal: yes\r\netag: "v1"\r\n'
            )
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s"
            % (len(body), extra, b"" if method == "HEAD" else body)
        )
        await writer.drain()
        return path != "/close"


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    scripted = ScriptedServer()
    await scripted.start()
    try:
        yield scripted
    finally:
        assert scripted.server is not None
        scripted.server.close()


@pytest.fixture
async def links() -> AsyncIterator[ServiceLinks]:
    pool = ServiceLinks(connect_timeout_seconds=1.0, read_timeout_seconds=READ_TIMEOUT)
    try:
        yield pool
    finally:
        await pool.aclose()


def _get(
    links: ServiceLinks, server: ScriptedServer, target: str, method: str = "GET", body: bytes | None = None
) -> Awaitable[http_link.RawAnswer]:
    return links.exchange(service_address(server.url), method, target, [("Accept", "application/json")], body)


async def test_sequential_requests_reuse_one_connection(links: ServiceLinks, server: ScriptedServer) -> None:
    for number in range(5):
        answer = await _get(links, server, f"/ok?n={number}")
        assert answer.status == 200
        assert json.loads(answer.body) == {"path": "/ok", "method": "GET"}
    assert server.connections == 1
    assert [seen.target for seen in server.seen] == [f"/ok?n={number}" for number in range(5)]


async def test_the_request_carries_host_and_length_and_nothing_of_its_own(
    links: ServiceLinks, server: ScriptedServer
) -> None:
    await _get(links, server, "/ok")
    await _get(links, server, "/ok", "POST")
    await _get(links, server, "/ok", "POST", b'{"a":1}')
    get, bodiless_post, post = server.seen
    assert get.headers == [("Host", f"{LOOPBACK}:{server.port}"), ("Accept", "application/json")]
    assert bodiless_post.header("content-length") == ["0"]  # as aiohttp sent it
    assert post.header("content-length") == ["7"]
    assert post.body == b'{"a":1}'
    for seen in server.seen:  # no Content-Type, cookie, user agent or encoding the caller did not ask for
        assert {name.lower() for name, _ in seen.headers} <= {"host", "accept", "content-length"}


async def test_a_line_break_in_a_header_is_refused_before_sending(
    links: ServiceLinks, server: ScriptedServer
) -> None:
    address = service_address(server.url)
    with pytest.raises(ValueError, match="line break"):
        await links.exchange(address, "GET", "/ok", [("X-A", "b\r\nX-Injected: 1")], None)
    with pytest.raises(ValueError, match="line break"):
        await links.exchange(address, "GET", "/ok HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET /ok", [], None)
    assert server.seen == []


async def test_an_idle_connection_is_not_kept_past_the_keepalive(
    links: ServiceLinks, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_link, "KEEPALIVE_SECONDS", 0.2)
    await _get(links, server, "/ok")
    await _get(links, server, "/ok")
    await asyncio.sleep(0.3)
    await _get(links, server, "/ok")
    assert [seen.connection for seen in server.seen] == [1, 1, 2]


async def test_connection_close_and_a_server_side_close_are_not_reused(
    links: ServiceLinks, server: ScriptedServer
) -> None:
    assert (await _get(links, server, "/close")).status == 200
    assert (await _get(links, server, "/ok")).status == 200
    assert [seen.connection for seen in server.seen] == [1, 2]
    assert server.server is not None
    await _get(links, server, "/ok")
    # The server lets go of the idle connection (as uvicorn does after its keep-alive): the next call, even a
    # POST that must not be repeated, goes on a fresh connection instead of failing on the closed one.
    server.server.close()
    server.server = await asyncio.start_server(server._serve, LOOPBACK, server.port)
    for task in asyncio.all_tasks():
        if task.get_coro().__qualname__.startswith("ScriptedServer._serve"):  # type: ignore[union-attr]
            task.cancel()
    await asyncio.sleep(0.05)
    assert (await _get(links, server, "/ok", "POST")).status == 200
    assert server.seen[-1].connection == 3


async def test_a_silent_service_times_out_and_its_late_answer_is_never_taken(
    links: ServiceLinks, server: ScriptedServer
) -> None:
    with pytest.raises(ServiceReadTimeoutError):
        await _get(links, server, "/silent")
    answer = await _get(links, server, "/ok?after=silent")
    assert json.loads(answer.body)["path"] == "/ok"
    assert server.seen[-1].connection != server.seen[0].connection


async def test_a_slow_but_moving_chunked_body_is_not_cut_off(
    links: ServiceLinks, server: ScriptedServer
) -> None:
    answer = await _get(links, server, "/trickle")  # 2.4 read timeouts in all, none silent for one
    assert (answer.status, answer.body) == (200, b"one two three four")


async def test_head_no_content_and_until_closed_answers(links: ServiceLinks, server: ScriptedServer) -> None:
    head = await _get(links, server, "/ok", "HEAD")
    assert (head.status, head.body) == (200, b"")
    assert (b"content-length", b"33") in head.headers  # announced, never sent
    nothing = await _get(links, server, "/nocontent")
    assert (nothing.status, nothing.body) == (204, b"")
    assert (await _get(links, server, "/nocontent")).status == 204
    until_closed = await _get(links, server, "/eof")
    assert (until_closed.status, until_closed.body) == (200, b"all of it")
    assert (await _get(links, server, "/ok")).status == 200
    # HEAD's connection is not reused (its parser waited for a body), a 204's is, the closed one is not.
    assert [seen.connection for seen in server.seen] == [1, 2, 2, 2, 3]


async def test_headers_come_back_lowercased_in_order_with_repeats(
    links: ServiceLinks, server: ScriptedServer
) -> None:
    answer = await _get(links, server, "/headers")
    names = [name for name, _ in answer.headers]
    assert names.count(b"cache-control") == 2
    assert names.index(b"set-cookie") < names.index(b"x-internal")


async def test_broken_and_malformed_answers(links: ServiceLinks, server: ScriptedServer) -> None:
    with pytest.raises(ServiceConnectionBrokenError):
        await _get(links, server, "/drop")
    with pytest.raises(ServiceConnectionBrokenError):
        await _get(links, server, "/garbage")
    assert (await _get(links, server, "/ok")).status == 200


async def test_unreachable_is_told_apart(links: ServiceLinks) -> None:
    address = service_address(f"http://{LOOPBACK}:{free_port()}")
    with pytest.raises(ServiceUnreachableError):
        await links.exchange(address, "GET", "/ok", [], None)


async def test_connections_per_service_are_bounded_and_waiting_is_too(server: ScriptedServer) -> None:
    links = ServiceLinks(
        connect_timeout_seconds=0.05, read_timeout_seconds=READ_TIMEOUT, connections_per_service=2
    )
    try:
        answers = await asyncio.gather(*(_get(links, server, "/slow/0.1") for _ in range(6)))
        assert [answer.status for answer in answers] == [200] * 6
        assert server.most_open == 2
        assert server.connections == 2
        # Two moving answers hold both connections for 1.2 s; a third call may wait connect + read timeout
        # (0.55 s) for one, no more.
        holders = [asyncio.ensure_future(_get(links, server, "/trickle")) for _ in range(2)]
        await asyncio.sleep(0.05)
        started = asyncio.get_running_loop().time()
        with pytest.raises(ServiceUnreachableError):
            await _get(links, server, "/ok")
        assert 0.5 <= asyncio.get_running_loop().time() - started < 1.0
        assert [answer.body for answer in await asyncio.gather(*holders)] == [b"one two three four"] * 2
        # Calls cancelled mid-answer give their places back.
        holders = [asyncio.ensure_future(_get(links, server, "/trickle")) for _ in range(2)]
        await asyncio.sleep(0.05)
        for holder in holders:
            holder.cancel()
        await asyncio.gather(*holders, return_exceptions=True)
        assert (await _get(links, server, "/ok")).status == 200
    finally:
        await links.aclose()


def _issuer() -> InternalTokenIssuer:
    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return InternalTokenIssuer(key.decode())


async def _client(server: ScriptedServer, links: ServiceLinks, url: str | None = None) -> DownstreamClient:
    return DownstreamClient(links, _issuer(), {"auth": url or server.url}, max_retries=2)


async def test_a_broken_connection_is_repeated_for_idempotent_requests_only(
    links: ServiceLinks, server: ScriptedServer
) -> None:
    client = await _client(server, links)
    server.drop_first = 2
    answer = await client.request("auth", "GET", "/flaky")
    assert answer.status_code == 200
    assert len(server.seen) == 3
    server.drop_first = 1
    with pytest.raises(BadGateway):
        await client.request("auth", "POST", "/flaky", json_body={"a": 1})
    assert len(server.seen) == 4  # the POST went once
    server.drop_first = 3
    with pytest.raises(BadGateway):
        await client.request("auth", "GET", "/flaky")
    assert len(server.seen) == 7  # once and two retries


async def test_a_timeout_is_504_and_not_repeated(links: ServiceLinks, server: ScriptedServer) -> None:
    client = await _client(server, links)
    with pytest.raises(GatewayTimeout):
        await client.request("auth", "GET", "/silent")
    assert len(server.seen) == 1


async def test_an_unreachable_service_is_tried_again_then_503(
    links: ServiceLinks, server: ScriptedServer
) -> None:
    client = await _client(server, links, f"http://{LOOPBACK}:{free_port()}")
    with pytest.raises(ServiceUnavailable):
        await client.request("auth", "POST", "/ok")  # nothing reached it: repeated even for a POST


async def test_forwarded_answer_headers_are_the_safe_ones_joined(
    links: ServiceLinks, server: ScriptedServer
) -> None:
    client = await _client(server, links)
    answer = await client.request("auth", "GET", "/headers")
    assert answer.headers == {
        "content-type": "application/json",
        "etag": '"v1"',
        "cache-control": "no-store, private",
    }
    sent = server.seen[-1]
    assert sent.header("authorization")[0].startswith("Bearer ")
