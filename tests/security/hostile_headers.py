"""Hostile header sets for fuzzing an HTTP edge: non-ASCII bytes, oversized values, duplicated names.

Each case is raw ``(name, value)`` byte pairs so it survives the client untouched (httpx would refuse to
encode some of them itself). ``assert_no_server_error`` sends every case to one route and fails on any 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx

HEADERS_UNDER_TEST = (
    b"x-device-id",
    b"x-correlation-id",
    b"traceparent",
    b"accept-language",
    b"content-type",
)
_HOSTILE_VALUES: dict[str, bytes] = {
    "latin-1": "caf\u00e9-\u00fc".encode("latin-1"),
    "utf-8": "\u30c7\u30d0\u30a4\u30b9-\U0001f600".encode(),
    "invalid-utf-8": b"\xff\xfe\xfd",
    "control-chars": b"a\x01b\x7fc",
    "oversized": b"A" * 16_384,
    "empty": b"",
}


def hostile_header_cases() -> Iterator[tuple[str, list[tuple[bytes, bytes]]]]:
    for header in HEADERS_UNDER_TEST:
        for label, value in _HOSTILE_VALUES.items():
            yield f"{header.decode()}:{label}", [(header, value)]
        yield f"{header.decode()}:duplicated", [(header, b"first-value"), (header, b"second-value")]


async def assert_no_server_error(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    json: object = None,
    extra: dict[str, str] | None = None,
    documented: frozenset[int] = frozenset(),
) -> dict[str, int]:
    """Send every hostile case; returns case -> status (all < 500 except the route's ``documented`` ones, such
    as 503 from a proxy group with no service deployed, or the assertion names the case)."""
    statuses: dict[str, int] = {}
    for case, raw in hostile_header_cases():
        request = client.build_request(method, path, json=json, headers=extra)
        for name, _ in raw:
            request.headers.pop(name.decode(), None)
        # Raw header list: bypasses httpx's own encoding so the bytes reach the server as written.
        request.headers = httpx.Headers([*request.headers.raw, *raw])
        try:
            response = await client.send(request)
        except httpx.RemoteProtocolError:
            # The HTTP server itself refused the request (e.g. a header beyond its size limit) and closed the
            # connection: the application never saw it, which is a refusal, not a server error.
            statuses[case] = 0
            continue
        statuses[case] = response.status_code
        assert response.status_code < 500 or response.status_code in documented, (
            f"{method} {path} with {case}: {response.status_code} {response.text}"
        )
    return statuses
