"""The stack the live observability tests run against (built by conftest.py): services plus engines."""

from __future__ import annotations

from dataclasses import dataclass

from stack import GigstackStack

from scripts.devstack.observability.engines import ObservabilityEngines


@dataclass
class LiveStack:
    stack: GigstackStack
    engines: ObservabilityEngines
    prometheus_started_at: float
    log_index: str

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.engines.ports.prometheus}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://127.0.0.1:{self.engines.ports.alertmanager}"

    @property
    def jaeger_url(self) -> str:
        return f"http://127.0.0.1:{self.engines.ports.jaeger_query_http}"

    @property
    def opensearch_url(self) -> str:
        return self.engines.opensearch_url
