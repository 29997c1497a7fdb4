"""The interface the pytest plugin needs from a backend; each server is started on first use only."""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from ..endpoints import (
    MariaDBEndpoint,
    MongoEndpoint,
    ObjectStoreEndpoint,
    OpenSearchEndpoint,
    PostgresEndpoint,
    RabbitMQEndpoint,
    RedisEndpoint,
)

T = TypeVar("T")


class BrokerControl(Protocol):
    """What tests may do to the shared broker: crash it and bring it back with its data."""

    @property
    def endpoint(self) -> RabbitMQEndpoint: ...

    def stop(self) -> None: ...

    def start(self) -> None: ...

    def kill(self) -> None: ...


class Backend(abc.ABC):
    name: str = "backend"

    def __init__(self) -> None:
        self._started: dict[str, object] = {}
        self._lock = threading.Lock()

    def _once(self, key: str, start: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._started:
                self._started[key] = start()
            return self._started[key]  # type: ignore[return-value]

    def postgres(self) -> PostgresEndpoint:
        return self._once("postgres", self._start_postgres)

    def mariadb(self) -> MariaDBEndpoint:
        return self._once("mariadb", self._start_mariadb)

    def redis(self) -> RedisEndpoint:
        return self._once("redis", self._start_redis)

    def rabbitmq(self) -> BrokerControl:
        return self._once("rabbitmq", self._start_rabbitmq)

    def mongodb(self) -> MongoEndpoint:
        return self._once("mongodb", self._start_mongodb)

    def opensearch(self) -> OpenSearchEndpoint:
        return self._once("opensearch", self._start_opensearch)

    def object_store(self) -> ObjectStoreEndpoint:
        return self._once("s3proxy", self._start_object_store)

    @abc.abstractmethod
    def _start_postgres(self) -> PostgresEndpoint: ...

    @abc.abstractmethod
    def _start_mariadb(self) -> MariaDBEndpoint: ...

    @abc.abstractmethod
    def _start_redis(self) -> RedisEndpoint: ...

    @abc.abstractmethod
    def _start_rabbitmq(self) -> BrokerControl: ...

    @abc.abstractmethod
    def _start_mongodb(self) -> MongoEndpoint: ...

    @abc.abstractmethod
    def _start_opensearch(self) -> OpenSearchEndpoint: ...

    @abc.abstractmethod
    def _start_object_store(self) -> ObjectStoreEndpoint: ...

    @abc.abstractmethod
    def close(self) -> None:
        """Stop everything this backend started."""
