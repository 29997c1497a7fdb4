"""Starting the observability engines as processes: the same launcher for ``make up`` and for tests.

Binaries: Prometheus and Alertmanager from Debian (scripts/install-deps.sh), the collector and Jaeger from
scripts/install/{otelcol,jaeger}.sh, which build them once per machine and print where they are.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from gigstack_testinfra.supervision import ManagedProcess

from scripts.devstack.observability.configs import REPO_ROOT, ConfigFiles
from scripts.devstack.observability.ports import EnginePorts

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 60.0
_INSTALLER_TIMEOUT_SECONDS = 1800  # a cold Jaeger build on a busy 2-core machine


def built_binary(name: str) -> str:
    """Path of a binary built by scripts/install/<name>.sh (builds it on first use)."""
    done = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install" / f"{name}.sh"), "--print-path"],
        capture_output=True,
        text=True,
        timeout=_INSTALLER_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/install/{name}.sh failed:\n{done.stderr[-4000:]}")
    return done.stdout.strip()


def debian_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: scripts/install-deps.sh installs it")
    return path


@dataclass
class ObservabilityEngines:
    """The engines of one stack; ``start()`` returns once each answers its readiness endpoint."""

    configs: ConfigFiles
    ports: EnginePorts
    data_dir: Path
    log_dir: Path
    opensearch_url: str
    log_index: str
    detached: bool = False
    resend_delay: str = "1m"
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    def commands(self) -> dict[str, list[str]]:
        p = self.ports
        return {
            "jaeger": [built_binary("jaeger"), "--config", str(self.configs.jaeger)],
            "log-indexer": [
                sys.executable,
                "-m",
                "scripts.devstack.observability.log_indexer",
                f"--port={p.log_indexer}",
                f"--opensearch={self.opensearch_url}",
                f"--index={self.log_index}",
            ],
            "otel-collector": [
                built_binary("otelcol"),
                *(f"--config={path}" for path in self.configs.collector),
            ],
            "alertmanager": [
                debian_binary("prometheus-alertmanager"),
                f"--config.file={self.configs.alertmanager}",
                f"--storage.path={self.data_dir / 'alertmanager'}",
                f"--web.listen-address={HOST}:{p.alertmanager}",
                "--cluster.listen-address=",  # no gossip: a single local instance
            ],
            "prometheus": [
                debian_binary("prometheus"),
                f"--config.file={self.configs.prometheus}",
                f"--storage.tsdb.path={self.data_dir / 'prometheus'}",
                f"--web.listen-address={HOST}:{p.prometheus}",
                f"--rules.alert.resend-delay={self.resend_delay}",
                "--storage.tsdb.retention.time=2d",
            ],
        }

    def readiness(self) -> dict[str, str]:
        p = self.ports
        return {
            "jaeger": f"http://{HOST}:{p.jaeger_query_http}/api/services",
            "log-indexer": "",  # a plain port check: it has no health endpoint
            "otel-collector": f"http://{HOST}:{p.collector_health}/",
            "alertmanager": f"http://{HOST}:{p.alertmanager}/-/ready",
            "prometheus": f"http://{HOST}:{p.prometheus}/-/ready",
        }

    def env(self) -> dict[str, str]:
        # The base collector config exports traces to ${env:TRACES_OTLP_ENDPOINT}: here, Jaeger's receiver.
        return {"TRACES_OTLP_ENDPOINT": f"http://{HOST}:{self.ports.jaeger_otlp_http}"}

    def start(self, on_started: Callable[[str, ManagedProcess], None] | None = None) -> None:
        """Start in dependency order: each engine's downstream is up before it sends anything."""
        ready = self.readiness()
        for name, command in self.commands().items():
            process = ManagedProcess(
                name,
                command,
                log_path=self.log_dir / f"{name}.log",
                env={"PATH": "/usr/bin:/bin", "HOME": str(self.data_dir), **self.env()},
                cwd=REPO_ROOT,
                detached=self.detached,
            )
            process.start()
            self.processes[name] = process
            if on_started is not None:
                on_started(name, process)
            _wait_ready(name, process, ready[name], self.ports.log_indexer)

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop(timeout=10)
        self.processes.clear()


def _wait_ready(name: str, process: ManagedProcess, url: str, indexer_port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not process.is_running():
            raise RuntimeError(f"{name} exited during start:\n{process.log_tail()}")
        try:
            target = url or f"http://{HOST}:{indexer_port}/"
            response = httpx.get(target, timeout=2.0, trust_env=False)
            if not url or response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{name} not ready after {READY_TIMEOUT_SECONDS:.0f}s:\n{process.log_tail()}")
