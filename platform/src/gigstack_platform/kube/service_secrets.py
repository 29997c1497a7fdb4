"""ServiceSecrets: `<service>-secrets` written straight into the cluster (minikube).

On eks the same values go to AWS Secrets Manager and External Secrets Operator syncs them.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from gigstack_platform.catalog import SERVICES_NAMESPACE, secret_name


class ServiceSecrets(pulumi.ComponentResource):
    secrets: list[k8s.core.v1.Secret]

    def __init__(
        self,
        name: str,
        values: dict[str, dict[str, pulumi.Output[str]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("gigstack:kube:ServiceSecrets", name, None, opts)
        self.secrets = [
            k8s.core.v1.Secret(
                f"{name}-{service}",
                metadata={
                    "name": secret_name(service),
                    "namespace": SERVICES_NAMESPACE,
                    "labels": {"app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "gigstack"},
                },
                type="Opaque",
                string_data=entries,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for service, entries in values.items()
        ]
        self.register_outputs({})
