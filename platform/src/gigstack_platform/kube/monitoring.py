"""Monitoring: kube-prometheus-stack, Loki + Grafana Alloy, ELK through ECK, and an OpenTelemetry Collector.

Grafana dashboards and datasources come from observability/ as labelled ConfigMaps the Grafana sidecar
loads; the Alloy, Filebeat and Collector pipelines come from the same folder.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from gigstack_platform.catalog import ELASTIC_OPERATOR_NAMESPACE, LOGGING_NAMESPACE, MONITORING_NAMESPACE
from gigstack_platform.credentials import generated_password
from gigstack_platform.kube import charts
from gigstack_platform.kube.apm_token import (
    APM_SERVER_NAME,
    APM_SERVER_URL,
    APM_TOKEN_KEY,
    COLLECTOR_APM_TOKEN_SECRET,
    ApmToken,
)
from gigstack_platform.kube.monitoring_values import (
    filebeat_pod_template,
    loki_values,
    otel_collector_values,
    prometheus_values,
)
from gigstack_platform.kube.observability_files import ObservabilityFiles


@dataclass
class MonitoringArgs:
    environment: str
    storage_class: str
    files: ObservabilityFiles


class Monitoring(pulumi.ComponentResource):
    eck_operator: k8s.helm.v4.Chart
    grafana_admin_password: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gigstack:kube:Monitoring", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        self.grafana_admin_password = generated_password(f"{name}-grafana-admin", self)
        grafana_secret = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={"name": "grafana-admin", "namespace": MONITORING_NAMESPACE},
            string_data={"admin-user": "admin", "admin-password": self.grafana_admin_password},
            opts=child,
        )
        provisioning = self._grafana_provisioning(args.files)
        prometheus = charts.chart(
            f"{name}-kube-prometheus-stack",
            charts.KUBE_PROMETHEUS_STACK,
            MONITORING_NAMESPACE,
            prometheus_values(args.environment, args.storage_class),
            pulumi.ResourceOptions(parent=self, depends_on=[grafana_secret, *provisioning]),
        )
        loki = charts.chart(
            f"{name}-loki", charts.LOKI, MONITORING_NAMESPACE, loki_values(args.storage_class), child
        )
        charts.chart(
            f"{name}-alloy",
            charts.ALLOY,
            MONITORING_NAMESPACE,
            {"alloy": {"configMap": {"create": True, "content": args.files.alloy_config or ""}}},
            pulumi.ResourceOptions(parent=self, depends_on=[loki]),
        )
        self.eck_operator = charts.chart(
            f"{name}-eck-operator", charts.ECK_OPERATOR, ELASTIC_OPERATOR_NAMESPACE, {}, child
        )
        apm_token = ApmToken(f"{name}-apm-token", child)
        self._elastic_stack(args, apm_token.server_secret)
        charts.chart(
            f"{name}-otel-collector",
            charts.OTEL_COLLECTOR,
            MONITORING_NAMESPACE,
            otel_collector_values(
                args.files.otel_collector_config or {},
                APM_SERVER_URL,
                COLLECTOR_APM_TOKEN_SECRET,
                APM_TOKEN_KEY,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[apm_token.collector_secret]),
            release="otel-collector",
        )
        self.register_outputs({"prometheus": prometheus.urn})

    def _grafana_provisioning(self, files: ObservabilityFiles) -> list[pulumi.Resource]:
        created: list[pulumi.Resource] = []
        for file_name, content in files.dashboards.items():
            stem = file_name.removesuffix(".json")
            created.append(
                k8s.core.v1.ConfigMap(
                    f"{self._name}-dashboard-{stem}",
                    metadata={
                        "name": f"dashboard-{stem}",
                        "namespace": MONITORING_NAMESPACE,
                        "labels": {"grafana_dashboard": "1"},
                    },
                    data={file_name: content},
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        if files.datasources:
            created.append(
                k8s.core.v1.ConfigMap(
                    f"{self._name}-datasources",
                    metadata={
                        "name": "gigstack-datasources",
                        "namespace": MONITORING_NAMESPACE,
                        "labels": {"grafana_datasource": "1"},
                    },
                    data=dict(files.datasources),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        return created

    def _elastic_stack(self, args: MonitoringArgs, apm_token: k8s.core.v1.Secret) -> None:
        opts = pulumi.ResourceOptions(parent=self, depends_on=[self.eck_operator])
        es_ref = {"name": "logging"}
        k8s.apiextensions.CustomResource(
            f"{self._name}-logging-elasticsearch",
            api_version="elasticsearch.k8s.elastic.co/v1",
            kind="Elasticsearch",
            metadata={"name": "logging", "namespace": LOGGING_NAMESPACE},
            spec={
                "version": charts.ELASTIC_STACK_VERSION,
                "nodeSets": [
                    {
                        "name": "default",
                        "count": 1,
                        "config": {"node.store.allow_mmap": False},
                        "podTemplate": charts.SMALL_ELASTICSEARCH_POD,
                        "volumeClaimTemplates": [
                            {
                                "metadata": {"name": "elasticsearch-data"},
                                "spec": {
                                    "accessModes": ["ReadWriteOnce"],
                                    "storageClassName": args.storage_class,
                                    "resources": {"requests": {"storage": "10Gi"}},
                                },
                            }
                        ],
                    }
                ],
            },
            opts=opts,
        )
        k8s.apiextensions.CustomResource(
            f"{self._name}-kibana",
            api_version="kibana.k8s.elastic.co/v1",
            kind="Kibana",
            metadata={"name": "kibana", "namespace": LOGGING_NAMESPACE},
            spec={"version": charts.ELASTIC_STACK_VERSION, "count": 1, "elasticsearchRef": es_ref},
            opts=opts,
        )
        k8s.apiextensions.CustomResource(
            f"{self._name}-apm",
            api_version="apm.k8s.elastic.co/v1",
            kind="ApmServer",
            metadata={"name": APM_SERVER_NAME, "namespace": LOGGING_NAMESPACE},
            spec={
                "version": charts.ELASTIC_STACK_VERSION,
                "count": 1,
                "elasticsearchRef": es_ref,
                "http": {"tls": {"selfSignedCertificate": {"disabled": True}}},
            },
            # The token Secret must exist first, or ECK generates a token the collector does not know.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.eck_operator, apm_token]),
        )
        self._filebeat_rbac()
        k8s.apiextensions.CustomResource(
            f"{self._name}-filebeat",
            api_version="beat.k8s.elastic.co/v1beta1",
            kind="Beat",
            metadata={"name": "filebeat", "namespace": LOGGING_NAMESPACE},
            spec={
                "type": "filebeat",
                "version": charts.ELASTIC_STACK_VERSION,
                "elasticsearchRef": es_ref,
                "kibanaRef": {"name": "kibana"},
                "config": args.files.filebeat_config or {},
                "daemonSet": {"podTemplate": filebeat_pod_template()},
            },
            opts=opts,
        )

    def _filebeat_rbac(self) -> None:
        """Filebeat's add_kubernetes_metadata reads pods, namespaces and nodes."""
        child = pulumi.ResourceOptions(parent=self)
        k8s.core.v1.ServiceAccount(
            f"{self._name}-filebeat",
            metadata={"name": "filebeat", "namespace": LOGGING_NAMESPACE},
            opts=child,
        )
        k8s.rbac.v1.ClusterRole(
            f"{self._name}-filebeat",
            metadata={"name": "gigstack-filebeat"},
            rules=[
                {
                    "api_groups": [""],
                    "resources": ["pods", "namespaces", "nodes"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
            opts=child,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{self._name}-filebeat",
            metadata={"name": "gigstack-filebeat"},
            role_ref={
                "api_group": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "gigstack-filebeat",
            },
            subjects=[{"kind": "ServiceAccount", "name": "filebeat", "namespace": LOGGING_NAMESPACE}],
            opts=child,
        )
