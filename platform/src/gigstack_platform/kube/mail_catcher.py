"""minikube's mail catcher: Mailpit in the data namespace, so notification's emails stay in the cluster.

The Service name and ports are the contract's (docs/contracts.md): `mailpit` in `gigstack-data`, SMTP 1025,
web UI and JSON API 8025. environments/minikube/notification-smtp.yaml points the notification service here
and gitops/components/stores-in-cluster allows egress to port 1025 of this namespace.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from gigstack_platform.catalog import (
    DATA_NAMESPACE,
    MAIL_CATCHER_SERVICE,
    MAIL_CATCHER_SMTP_PORT,
    MAIL_CATCHER_UI_PORT,
)
from gigstack_platform.kube import charts

# The image sets no user; any non-root UID works because Mailpit only writes its database under /tmp.
MAIL_CATCHER_UID = 10001


def mail_catcher(parent: pulumi.Resource, name: str) -> pulumi.Output[str]:
    """Create the Mailpit Deployment and Service; return the in-cluster SMTP host name."""
    labels = {"app.kubernetes.io/name": MAIL_CATCHER_SERVICE, "app.kubernetes.io/part-of": "gigstack"}
    metadata: Any = {"name": MAIL_CATCHER_SERVICE, "namespace": DATA_NAMESPACE, "labels": labels}
    ports = [
        {"name": "smtp", "port": MAIL_CATCHER_SMTP_PORT, "targetPort": "smtp"},
        {"name": "http", "port": MAIL_CATCHER_UI_PORT, "targetPort": "http"},
    ]
    service_spec: Any = {"selector": labels, "ports": ports}
    service = k8s.core.v1.Service(
        f"{name}-mailpit", metadata=metadata, spec=service_spec, opts=pulumi.ResourceOptions(parent=parent)
    )
    container: dict[str, Any] = {
        "name": MAIL_CATCHER_SERVICE,
        "image": charts.MAILPIT_IMAGE,
        "env": [
            # Messages live in a throwaway SQLite file under /tmp (the root filesystem is read-only);
            # the cap keeps a chatty test run from filling the emptyDir.
            {"name": "MP_MAX_MESSAGES", "value": "2000"},
            # notification may send credentials over plain SMTP in development; accept them.
            {"name": "MP_SMTP_AUTH_ACCEPT_ANY", "value": "true"},
            {"name": "MP_SMTP_AUTH_ALLOW_INSECURE", "value": "true"},
        ],
        "ports": [
            {"name": "smtp", "containerPort": MAIL_CATCHER_SMTP_PORT, "protocol": "TCP"},
            {"name": "http", "containerPort": MAIL_CATCHER_UI_PORT, "protocol": "TCP"},
        ],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/livez", "port": "http"}, "periodSeconds": 20},
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": MAIL_CATCHER_UID,
            "runAsGroup": MAIL_CATCHER_UID,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        # An emptyDir private to the pod, not a shared host /tmp.
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108
    }
    deployment_spec: Any = {
        "replicas": 1,
        # One pod holding messages in a local file: replace it rather than run two side by side.
        "strategy": {"type": "Recreate"},
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": MAIL_CATCHER_UID,
                    "runAsGroup": MAIL_CATCHER_UID,
                    "fsGroup": MAIL_CATCHER_UID,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [container],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
            },
        },
    }
    k8s.apps.v1.Deployment(
        f"{name}-mailpit",
        metadata=metadata,
        spec=deployment_spec,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[service]),
    )
    return pulumi.Output.from_input(f"{MAIL_CATCHER_SERVICE}.{DATA_NAMESPACE}.svc")
