"""The observability engines' ports: fixed for ``make up`` (listed in docs/local-development.md), free ones
for tests, so a test run and a running dev stack never collide."""

from __future__ import annotations

from dataclasses import dataclass, fields

from gigstack_testinfra.net import free_port


@dataclass(frozen=True)
class EnginePorts:
    prometheus: int = 9090
    alertmanager: int = 9093
    otlp_grpc: int = 4317  # the collector's OTLP receivers: where services send traces
    otlp_http: int = 4318
    collector_health: int = 13133
    collector_metrics: int = 8888
    # Jaeger is a second collector build: its OTLP receivers and telemetry ports move off the collector's.
    jaeger_otlp_grpc: int = 14317
    jaeger_otlp_http: int = 14318
    jaeger_query_http: int = 16686
    jaeger_query_grpc: int = 16685
    jaeger_health: int = 13134
    jaeger_metrics: int = 8889
    log_indexer: int = 4319

    @classmethod
    def free(cls) -> EnginePorts:
        return cls(**{field.name: free_port() for field in fields(cls)})
