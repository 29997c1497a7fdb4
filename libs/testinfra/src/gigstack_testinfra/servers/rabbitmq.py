"""RabbitMQ from the Debian packages as an isolated node: own name, ports, epmd, mnesia and log dirs.

``kill()`` is a SIGKILL of the whole node; ``start()`` brings it back on the same ports with the same node
name and mnesia directory, so durable (quorum) queues and their persistent messages survive a real crash.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import httpx

from ..endpoints import RabbitMQEndpoint
from ..net import LOOPBACK, port_is_open, wait_until
from ..supervision import ManagedProcess
from .base import LocalServer

RABBIT_SCRIPTS = Path("/usr/lib/rabbitmq/bin")
USER = "guest"  # allowed from loopback only, which is all we listen on
PASSWORD = "guest"  # noqa: S105 - RabbitMQ's default, loopback only


class RabbitMQServer(LocalServer):
    name = "rabbitmq"
    start_timeout = 120.0

    def __init__(
        self,
        base_dir: Path,
        amqp_port: int,
        management_port: int,
        dist_port: int,
        epmd_port: int,
        *,
        detached: bool = False,
        node_name: str | None = None,
    ) -> None:
        super().__init__(base_dir, detached=detached)
        self.amqp_port = amqp_port
        self.management_port = management_port
        self.dist_port = dist_port
        self.epmd_port = epmd_port
        # The node name keys the mnesia directory, so it must stay the same across restarts.
        self.node_name = node_name or f"gigstack-{uuid.uuid4().hex[:10]}@localhost"
        self._epmd: ManagedProcess | None = None

    @property
    def endpoint(self) -> RabbitMQEndpoint:
        return RabbitMQEndpoint(LOOPBACK, self.amqp_port, self.management_port, USER, PASSWORD)

    def environment(self) -> dict[str, str]:
        """Variables rabbitmq-server and rabbitmqctl need to find this node."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update(
            HOME=str(self.base_dir),  # the Erlang cookie lives here
            RABBITMQ_NODENAME=self.node_name,
            RABBITMQ_NODE_IP_ADDRESS=LOOPBACK,
            RABBITMQ_NODE_PORT=str(self.amqp_port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            ERL_EPMD_PORT=str(self.epmd_port),
            ERL_EPMD_ADDRESS=LOOPBACK,
            RABBITMQ_MNESIA_BASE=str(self.base_dir / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.base_dir / "log"),
            RABBITMQ_LOGS="-",
            RABBITMQ_PID_FILE=str(self.base_dir / "rabbitmq.pid"),
            RABBITMQ_CONFIG_FILE=str(self.base_dir / "rabbitmq.conf"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(self.base_dir / "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=str(self.base_dir / "rabbitmq-env.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base_dir / "enabled_plugins"),
        )
        return env

    def prepare(self) -> None:
        for sub in ("mnesia", "log"):
            (self.base_dir / sub).mkdir(parents=True, exist_ok=True)
        (self.base_dir / "rabbitmq-env.conf").write_text("")
        (self.base_dir / "advanced.config").write_text("[].\n")
        (self.base_dir / "enabled_plugins").write_text("[rabbitmq_management].\n")
        (self.base_dir / "rabbitmq.conf").write_text(
            "\n".join(
                [
                    f"management.tcp.port = {self.management_port}",
                    f"management.tcp.ip = {LOOPBACK}",
                    "disk_free_limit.absolute = 50MB",
                    "vm_memory_high_watermark.relative = 0.2",
                    "collect_statistics_interval = 1000",
                    "log.console = true",
                    "log.console.level = warning",
                    "log.file = false",
                ]
            )
            + "\n"
        )
        self._ensure_epmd()

    def _ensure_epmd(self) -> None:
        # Our own foreground epmd: erl would otherwise daemonize one that outlives the session.
        if self._epmd is not None and self._epmd.is_running():
            return
        epmd = shutil.which("epmd") or "/usr/bin/epmd"
        self._epmd = ManagedProcess(
            "epmd",
            [epmd, "-port", str(self.epmd_port), "-address", LOOPBACK],
            log_path=self.base_dir / "epmd.log",
            detached=self.detached,
        )
        self._epmd.start()
        wait_until(lambda: port_is_open(self.epmd_port), timeout=15, what="epmd")

    def build_process(self) -> ManagedProcess:
        return ManagedProcess(
            self.name,
            [str(RABBIT_SCRIPTS / "rabbitmq-server")],
            log_path=self.log_path,
            env=self.environment(),
            cwd=self.base_dir,
            detached=self.detached,
        )

    def _answers(self) -> bool:
        if not port_is_open(self.amqp_port):
            return False
        response = httpx.get(
            f"{self.endpoint.management_url}/api/overview", auth=(USER, PASSWORD), timeout=5.0
        )
        return response.status_code == 200

    def wait_ready(self) -> None:
        wait_until(
            self._answers, timeout=self.start_timeout, what="rabbitmq", interval=0.5, abort=self.exit_reason
        )

    def shutdown(self) -> None:
        """Stop the node and its epmd (end of session); ``stop()`` alone keeps epmd for a restart."""
        super().stop()
        if self._epmd is not None:
            self._epmd.stop(timeout=5)

    def pids(self) -> list[int]:
        return [p for p in (self.pid, self._epmd.pid if self._epmd else None) if p is not None]
