"""Servers as Docker containers (official images) through testcontainers, used when a Docker engine answers.

Host ports are chosen by us and bound explicitly, so a stopped or killed broker container comes back on the
same port; RabbitMQ's data lives in the image's volume and its node name follows the container hostname, so
durable queues survive ``kill()`` + ``start()`` as with local processes. Readiness is probed by real clients.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pymongo
from testcontainers.core.container import DockerContainer

from .. import isolation
from ..endpoints import (
    MariaDBEndpoint,
    MongoEndpoint,
    ObjectStoreEndpoint,
    OpenSearchEndpoint,
    PostgresEndpoint,
    RabbitMQEndpoint,
    RedisEndpoint,
)
from ..net import LOOPBACK, free_port, port_is_open, wait_until
from ..servers.redis import DATABASES, redis_ping
from ..servers.s3proxy import S3ProxyServer
from .base import Backend, BrokerControl

IMAGES = {
    "postgres": "postgres:15",
    "mariadb": "mariadb:10.11",
    "redis": "redis:7",
    "rabbitmq": "rabbitmq:3.13-management",
    "mongodb": "mongo:7",
    "opensearch": "opensearchproject/opensearch:2.19.1",
}
# Where no registry is reachable, images built locally with the same entrypoint contract replace the official
# ones: GIGSTACK_TEST_IMAGES="postgres=local/postgres:15,redis=local/redis:7"
# (scripts/cluster/store-images.sh prints the value for the images it builds).
IMAGES_ENV = "GIGSTACK_TEST_IMAGES"
PASSWORD = "gigstack-test-only"  # noqa: S105 - throwaway containers
START_TIMEOUT = 180.0


def image_for(key: str) -> str:
    """The official image for ``key`` unless GIGSTACK_TEST_IMAGES names another one for it."""
    overrides: dict[str, str] = {}
    for entry in os.environ.get(IMAGES_ENV, "").split(","):
        if not entry.strip():
            continue
        name, separator, image = entry.partition("=")
        if not separator or name.strip() not in IMAGES or not image.strip():
            raise ValueError(f"{IMAGES_ENV}: {entry!r} is not <one of {sorted(IMAGES)}>=<image>")
        overrides[name.strip()] = image.strip()
    return overrides.get(key, IMAGES[key])


def _start(container: DockerContainer, ready: Callable[[], bool], what: str) -> None:
    container.start()

    def gone() -> str | None:
        container.get_wrapped_container().reload()
        status = container.get_wrapped_container().status
        return None if status in ("created", "running") else f"container {status}"

    wait_until(ready, timeout=START_TIMEOUT, what=what, interval=0.5, abort=gone)


class RabbitMQContainerControl:
    """BrokerControl over a container: stop/start/kill keep the container (and its volume) around."""

    def __init__(self, container: DockerContainer, endpoint: RabbitMQEndpoint) -> None:
        self.container = container
        self._endpoint = endpoint

    @property
    def endpoint(self) -> RabbitMQEndpoint:
        return self._endpoint

    def _answers(self) -> bool:
        if not port_is_open(self._endpoint.amqp_port):
            return False
        response = httpx.get(
            f"{self._endpoint.management_url}/api/overview",
            auth=(self._endpoint.user, self._endpoint.password),
            timeout=5.0,
        )
        return response.status_code == 200

    def wait_ready(self) -> None:
        wait_until(self._answers, timeout=START_TIMEOUT, what="rabbitmq container", interval=0.5)

    def _running(self) -> bool:
        wrapped = self.container.get_wrapped_container()
        wrapped.reload()
        return bool(wrapped.status == "running")

    def start(self) -> None:
        if not self._running():
            self.container.get_wrapped_container().start()
        self.wait_ready()

    def stop(self) -> None:
        self.container.get_wrapped_container().stop(timeout=20)

    def kill(self) -> None:
        self.container.get_wrapped_container().kill()


class ContainerBackend(Backend):
    name = "containers"

    def __init__(self) -> None:
        super().__init__()
        self._containers: list[DockerContainer] = []
        self._local_root: Path | None = None
        self._local_servers: list[S3ProxyServer] = []

    def _container(self, image_key: str, ports: dict[int, int], env: dict[str, str]) -> DockerContainer:
        container = DockerContainer(image_for(image_key))
        for container_port, host_port in ports.items():
            container.with_bind_ports(container_port, host_port)
        container.with_envs(**env)
        self._containers.append(container)
        return container

    def _start_postgres(self) -> PostgresEndpoint:
        endpoint = PostgresEndpoint(LOOPBACK, free_port(), "postgres", PASSWORD)
        container = self._container("postgres", {5432: endpoint.port}, {"POSTGRES_PASSWORD": PASSWORD})
        container.with_command("postgres -c fsync=off -c max_connections=300")

        def ready() -> bool:
            async def probe() -> None:
                import asyncpg

                conn = await asyncpg.connect(endpoint.plain_url("postgres"), timeout=5)
                await conn.close()

            isolation.run_in_private_loop(probe)
            return True

        _start(container, ready, "postgres container")
        return endpoint

    def _start_mariadb(self) -> MariaDBEndpoint:
        endpoint = MariaDBEndpoint(LOOPBACK, free_port(), "root", PASSWORD)
        container = self._container("mariadb", {3306: endpoint.port}, {"MARIADB_ROOT_PASSWORD": PASSWORD})

        def ready() -> bool:
            isolation.run_in_private_loop(lambda: isolation.mariadb_execute(endpoint, "SELECT 1"))
            return True

        _start(container, ready, "mariadb container")
        return endpoint

    def _start_redis(self) -> RedisEndpoint:
        endpoint = RedisEndpoint(LOOPBACK, free_port(), DATABASES)
        container = self._container("redis", {6379: endpoint.port}, {})
        container.with_command(f"redis-server --save '' --appendonly no --databases {DATABASES}")
        _start(container, lambda: redis_ping(endpoint.port), "redis container")
        return endpoint

    def _start_rabbitmq(self) -> BrokerControl:
        endpoint = RabbitMQEndpoint(LOOPBACK, free_port(), free_port(), "gigstack", PASSWORD)
        container = self._container(
            "rabbitmq",
            {5672: endpoint.amqp_port, 15672: endpoint.management_port},
            {"RABBITMQ_DEFAULT_USER": endpoint.user, "RABBITMQ_DEFAULT_PASS": endpoint.password},
        )
        control = RabbitMQContainerControl(container, endpoint)
        _start(container, control._answers, "rabbitmq container")
        return control

    def _start_mongodb(self) -> MongoEndpoint:
        endpoint = MongoEndpoint(LOOPBACK, free_port())
        container = self._container("mongodb", {27017: endpoint.port}, {})

        def ready() -> bool:
            client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
                endpoint.url("admin"), serverSelectionTimeoutMS=3000
            )
            try:
                client.admin.command("ping")
            finally:
                client.close()
            return True

        _start(container, ready, "mongodb container")
        return endpoint

    def _start_opensearch(self) -> OpenSearchEndpoint:
        endpoint = OpenSearchEndpoint(LOOPBACK, free_port())
        container = self._container(
            "opensearch",
            {9200: endpoint.port},
            {
                "discovery.type": "single-node",
                "DISABLE_SECURITY_PLUGIN": "true",
                "DISABLE_INSTALL_DEMO_CONFIG": "true",
                "OPENSEARCH_JAVA_OPTS": "-Xms512m -Xmx512m",
            },
        )

        def ready() -> bool:
            response = httpx.get(
                f"{endpoint.url}/_cluster/health",
                params={"wait_for_status": "yellow", "timeout": "5s"},
                timeout=10.0,
            )
            return response.status_code == 200

        _start(container, ready, "opensearch container")
        return endpoint

    def _start_object_store(self) -> ObjectStoreEndpoint:
        # s3proxy is one jar (scripts/install/s3proxy.sh): the same process runs under both backends, so the
        # tier does not depend on pulling an image for it.
        self._local_root = Path(tempfile.mkdtemp(prefix="gigstack-s3proxy-"))
        server = S3ProxyServer(self._local_root / "s3proxy", free_port())
        self._local_servers.append(server)
        server.start()
        return server.endpoint

    def close(self) -> None:
        for server in self._local_servers:
            with contextlib.suppress(Exception):
                server.stop()
        if self._local_root is not None:
            shutil.rmtree(self._local_root, ignore_errors=True)
        for container in reversed(self._containers):
            with contextlib.suppress(Exception):
                container.stop()
        self._containers.clear()
