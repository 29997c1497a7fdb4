"""`<service>-secrets` written straight into the cluster (minikube; eks uses Secrets Manager + ESO)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from gigstack_platform.catalog import SERVICES_NAMESPACE, secret_name


def service_secrets(
    parent: pulumi.Resource,
    name: str,
    values: dict[str, dict[str, pulumi.Output[str]]],
    depends_on: list[pulumi.Resource],
) -> list[k8s.core.v1.Secret]:
    return [
        k8s.core.v1.Secret(
            f"{name}-{service}",
            metadata={
                "name": secret_name(service),
                "namespace": SERVICES_NAMESPACE,
                "labels": {"app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "gigstack"},
            },
            type="Opaque",
            string_data=entries,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
        )
        for service, entries in values.items()
    ]
