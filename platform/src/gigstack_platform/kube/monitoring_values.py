"""Helm values and pod templates of the monitoring stack, kept apart from the wiring in monitoring.py."""

from __future__ import annotations

from typing import Any

UNSCRAPABLE_COMPONENTS = ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy")


def prometheus_values(environment: str, storage_class: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "fullnameOverride": "kube-prometheus-stack",
        "grafana": {
            "admin": {
                "existingSecret": "grafana-admin",
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "sidecar": {
                "dashboards": {"enabled": True, "label": "grafana_dashboard", "searchNamespace": "ALL"},
                "datasources": {
                    "enabled": True,
                    "label": "grafana_datasource",
                    "defaultDatasourceEnabled": False,
                },
            },
        },
        # Receivers and routes come from a Secret the program writes (kube/alerting.py).
        "alertmanager": {"alertmanagerSpec": {"configSecret": "alertmanager-gigstack"}},
        # helm.v4.Chart renders without hooks; the webhook's certificate job is a hook, so run without it.
        "prometheusOperator": {"admissionWebhooks": {"enabled": False}, "tls": {"enabled": False}},
        "prometheus": {
            "prometheusSpec": {
                "retention": "15d",
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": storage_class,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "20Gi"}},
                        }
                    }
                },
            }
        },
    }
    # Not scrapable on either environment: EKS does not expose its control plane to in-cluster scrapers, and
    # minikube (kubeadm) binds controller-manager, scheduler, etcd and kube-proxy metrics to 127.0.0.1. Left
    # on, their targets are down and their *Down alerts fire forever. The chart drops their rules with them.
    values.update({component: {"enabled": False} for component in UNSCRAPABLE_COMPONENTS})
    return values


def loki_values(storage_class: str) -> dict[str, Any]:
    return {
        "deploymentMode": "SingleBinary",
        "loki": {
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1},
            "storage": {"type": "filesystem"},
            "schemaConfig": {
                "configs": [
                    {
                        "from": "2025-01-01",
                        "store": "tsdb",
                        "object_store": "filesystem",
                        "schema": "v13",
                        "index": {"prefix": "index_", "period": "24h"},
                    }
                ]
            },
        },
        "singleBinary": {"replicas": 1, "persistence": {"storageClass": storage_class, "size": "10Gi"}},
        "read": {"replicas": 0},
        "write": {"replicas": 0},
        "backend": {"replicas": 0},
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
    }


def otel_collector_values(
    config: dict[str, Any], apm_url: str, token_secret: str, token_key: str
) -> dict[str, Any]:
    """The collector exports traces to the APM Server, which refuses requests without its secret token."""
    exporters = dict(config.get("exporters", {}))
    if "otlphttp/elastic" in exporters:
        exporters["otlphttp/elastic"] = {
            **exporters["otlphttp/elastic"],
            "headers": {"Authorization": "Bearer ${env:APM_SECRET_TOKEN}"},
        }
    return {
        "mode": "deployment",
        "fullnameOverride": "otel-collector",
        "image": {"repository": "otel/opentelemetry-collector-contrib"},
        "config": {**config, "exporters": exporters},
        "extraEnvs": [
            {"name": "TRACES_OTLP_ENDPOINT", "value": apm_url},
            {
                "name": "APM_SECRET_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": token_secret, "key": token_key}},
            },
        ],
    }


def filebeat_pod_template() -> dict[str, Any]:
    return {
        "spec": {
            "serviceAccountName": "filebeat",
            "automountServiceAccountToken": True,
            # /var/log/pods and /var/log/containers on the node are readable by root only (ECK's filebeat
            # recipes run as user 0 for the same reason); the image's default user cannot read them.
            "securityContext": {"runAsUser": 0},
            "containers": [
                {
                    "name": "filebeat",
                    "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                    "volumeMounts": [
                        {"name": "varlogcontainers", "mountPath": "/var/log/containers"},
                        {"name": "varlogpods", "mountPath": "/var/log/pods"},
                    ],
                }
            ],
            "volumes": [
                {"name": "varlogcontainers", "hostPath": {"path": "/var/log/containers"}},
                {"name": "varlogpods", "hostPath": {"path": "/var/log/pods"}},
            ],
        }
    }
