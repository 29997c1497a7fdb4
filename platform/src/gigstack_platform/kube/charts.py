"""Pinned Helm charts and manifests. One place to bump versions; docs/platform/configuration.md lists them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class ChartRef:
    chart: str
    version: str
    repo: str


ARGO_CD = ChartRef("argo-cd", "8.1.2", "https://argoproj.github.io/argo-helm")
KUBE_PROMETHEUS_STACK = ChartRef(
    "kube-prometheus-stack", "75.6.1", "https://prometheus-community.github.io/helm-charts"
)
LOKI = ChartRef("loki", "6.30.1", "https://grafana.github.io/helm-charts")
ALLOY = ChartRef("alloy", "1.1.1", "https://grafana.github.io/helm-charts")
ECK_OPERATOR = ChartRef("eck-operator", "3.0.0", "https://helm.elastic.co")
OTEL_COLLECTOR = ChartRef(
    "opentelemetry-collector", "0.127.2", "https://open-telemetry.github.io/opentelemetry-helm-charts"
)
CLOUDNATIVE_PG = ChartRef("cloudnative-pg", "0.24.0", "https://cloudnative-pg.github.io/charts")
MARIADB_OPERATOR_CRDS = ChartRef(
    "mariadb-operator-crds", "0.38.1", "https://helm.mariadb.com/mariadb-operator"
)
MARIADB_OPERATOR = ChartRef("mariadb-operator", "0.38.1", "https://helm.mariadb.com/mariadb-operator")
# The RabbitMQ Cluster Operator publishes a manifest, not a Helm chart (Bitnami's chart is the legacy path).
RABBITMQ_CLUSTER_OPERATOR_MANIFEST = (
    "https://github.com/rabbitmq/cluster-operator/releases/download/v2.14.0/cluster-operator.yml"
)
ELASTIC_STACK_VERSION = "8.18.2"
# One small Elasticsearch node (ECK sizes the JVM heap from the memory limit); fits minikube and t3.large.
SMALL_ELASTICSEARCH_POD: dict[str, Any] = {
    "spec": {
        "containers": [
            {
                "name": "elasticsearch",
                "resources": {
                    "requests": {"cpu": "250m", "memory": "1536Mi"},
                    "limits": {"memory": "1536Mi"},
                },
            }
        ]
    }
}
REDIS_IMAGE = "redis:7.4.4"
MONGODB_IMAGE = "mongo:8.0.10"
POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:17.5"
MARIADB_IMAGE = "mariadb:11.4.7"
RABBITMQ_IMAGE = "rabbitmq:4.1.1-management"
# minikube's mail catcher (kube/mail_catcher.py); the official image, exact tag.
MAILPIT_IMAGE = "axllent/mailpit:v1.28.0"


def chart(
    name: str,
    ref: ChartRef,
    namespace: str,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
    release: str | None = None,
) -> k8s.helm.v4.Chart:
    """helm.v4.Chart renders client-side like `helm template`, so its objects are visible to policies and
    work with renderYamlToDirectory; charts that need hooks are installed by Argo CD instead."""
    installed: k8s.helm.v4.Chart = k8s.helm.v4.Chart(
        name,
        # The release name fixes Service names others rely on (e.g. loki-gateway, otel-collector).
        name=release or ref.chart,
        chart=ref.chart,
        version=ref.version,
        repository_opts={"repo": ref.repo},
        namespace=namespace,
        values=values,
        opts=opts,
    )
    return installed
