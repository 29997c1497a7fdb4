"""ClusterBasics: namespaces, the default StorageClass (eks) and the internal-token public key ConfigMap."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from gigstack_platform.catalog import (
    ARGOCD_NAMESPACE,
    DATA_NAMESPACE,
    ELASTIC_OPERATOR_NAMESPACE,
    EXTERNAL_SECRETS_NAMESPACE,
    INTERNAL_TOKEN_CONFIGMAP,
    LOGGING_NAMESPACE,
    MONITORING_NAMESPACE,
    SERVICES_NAMESPACE,
)

BASE_NAMESPACES = (
    SERVICES_NAMESPACE,
    MONITORING_NAMESPACE,
    LOGGING_NAMESPACE,
    ARGOCD_NAMESPACE,
    ELASTIC_OPERATOR_NAMESPACE,
)


@dataclass
class ClusterBasicsArgs:
    environment: str
    internal_token_public_key: pulumi.Output[str]
    kms_key_arn: pulumi.Input[str] | None
    minikube_storage_class: str = "standard"


class ClusterBasics(pulumi.ComponentResource):
    namespaces: dict[str, k8s.core.v1.Namespace]
    storage_class: str

    def __init__(
        self, name: str, args: ClusterBasicsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gigstack:kube:ClusterBasics", name, None, opts)
        names = [*BASE_NAMESPACES, DATA_NAMESPACE]
        if args.environment == "eks":
            names.append(EXTERNAL_SECRETS_NAMESPACE)
        self.namespaces = {
            namespace: k8s.core.v1.Namespace(
                f"{name}-{namespace}",
                metadata={"name": namespace, "labels": {"app.kubernetes.io/part-of": "gigstack"}},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for namespace in names
        }
        if args.environment == "eks":
            # The EKS default gp2 class is unencrypted; gp3 with the platform key becomes the default.
            k8s.storage.v1.StorageClass(
                f"{name}-gp3",
                metadata={
                    "name": "gp3",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                provisioner="ebs.csi.aws.com",
                volume_binding_mode="WaitForFirstConsumer",
                allow_volume_expansion=True,
                reclaim_policy="Delete",
                parameters={"type": "gp3", "encrypted": "true", "kmsKeyId": args.kms_key_arn or ""},
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.storage_class = "gp3"
        else:
            self.storage_class = args.minikube_storage_class
        k8s.core.v1.ConfigMap(
            f"{name}-internal-token-public-key",
            metadata={"name": INTERNAL_TOKEN_CONFIGMAP, "namespace": SERVICES_NAMESPACE},
            data={"INTERNAL_TOKEN_PUBLIC_KEY": args.internal_token_public_key},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespaces[SERVICES_NAMESPACE]]),
        )
        self.register_outputs({"storage_class": self.storage_class})
