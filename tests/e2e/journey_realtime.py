"""A browser's realtime side for the journeys: one Socket.IO client per party on the gateway, recording every
event it is pushed. A client that cannot connect is recorded as an error rather than raised, so the journey
itself still runs and the realtime test reports what is missing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import socketio

CONNECT_TIMEOUT_SECONDS = 5
SOCKETIO_PATH = "/api/v1/gateway/socket.io"


class HasToken(Protocol):
    @property
    def access_token(self) -> str: ...


Events = dict[str, list[tuple[str, Any]]]


class RealtimeListener:
    def __init__(self) -> None:
        self.clients: dict[str, socketio.AsyncClient] = {}
        self.events: Events = {}
        self.errors: dict[str, str] = {}

    @classmethod
    async def connect(cls, gateway_url: str, parties: Mapping[str, HasToken]) -> RealtimeListener:
        listener = cls()
        for name, party in parties.items():
            await listener._connect_one(gateway_url, name, party.access_token)
        return listener

    async def _connect_one(self, gateway_url: str, name: str, token: str) -> None:
        client = socketio.AsyncClient(reconnection=False)
        self.events[name] = []

        async def record(event: str, data: Any = None) -> None:
            self.events[name].append((event, data))

        client.on("*", record)
        try:
            await client.connect(
                gateway_url,
                auth={"token": token},
                socketio_path=SOCKETIO_PATH,
                transports=["websocket"],
                wait_timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except Exception as error:  # recorded: the realtime test reports it
            self.errors[name] = repr(error)
            return
        self.clients[name] = client

    async def wait_for(self, condition: Callable[[Events], bool], within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while not condition(self.events):
            if time.monotonic() > deadline:
                raise AssertionError(f"realtime events did not arrive: {self.events}")
            await asyncio.sleep(0.25)

    async def close(self) -> None:
        for client in self.clients.values():
            await client.disconnect()
