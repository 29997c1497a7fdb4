"""ClusterBasics: namespaces (with Pod Security labels), the default StorageClass (eks), the internal-token
public key ConfigMap and, on eks, the RDS CA bundle ConfigMap the workloads mount."""

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
    RDS_CA_BUNDLE_CONFIGMAP,
    RDS_CA_BUNDLE_KEY,
    SERVICES_NAMESPACE,
)

BASE_NAMESPACES = (
    SERVICES_NAMESPACE,
    MONITORING_NAMESPACE,
    LOGGING_NAMESPACE,
    ARGOCD_NAMESPACE,
    ELASTIC_OPERATOR_NAMESPACE,
)

# The services' namespace admits only pods meeting the "restricted" Pod Security Standard; the manifests
# already comply (tests/manifests/test_hardening.py), so admission catches drift instead of a review.
# Other namespaces hold operators and charts whose pods we do not control, so they keep the cluster default.
RESTRICTED_POD_SECURITY = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")
}


@dataclass
class ClusterBasicsArgs:
    environment: str
    internal_token_public_key: pulumi.Output[str]
    kms_key_arn: pulumi.Input[str] | None
    minikube_storage_class: str = "standard"
    # eks: Amazon's RDS/DocumentDB CA bundle (PEM), published as ConfigMap rds-ca-bundle in gigstack.
    rds_ca_bundle_pem: str | None = None


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
                metadata={"name": namespace, "labels": _namespace_labels(namespace, args.environment)},
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
        in_services_namespace = pulumi.ResourceOptions(
            parent=self, depends_on=[self.namespaces[SERVICES_NAMESPACE]]
        )
        k8s.core.v1.ConfigMap(
            f"{name}-internal-token-public-key",
            metadata={"name": INTERNAL_TOKEN_CONFIGMAP, "namespace": SERVICES_NAMESPACE},
            data={"INTERNAL_TOKEN_PUBLIC_KEY": args.internal_token_public_key},
            opts=in_services_namespace,
        )
        if args.rds_ca_bundle_pem is not None:
            # A public CA bundle, not a secret; gitops/components/stores-aws-managed mounts this key with
            # subPath at /etc/ssl/certs/rds-global-bundle.pem, where the MySQL/DocumentDB URLs point.
            k8s.core.v1.ConfigMap(
                f"{name}-rds-ca-bundle",
                metadata={
                    "name": RDS_CA_BUNDLE_CONFIGMAP,
                    "namespace": SERVICES_NAMESPACE,
                    "labels": {"app.kubernetes.io/part-of": "gigstack"},
                },
                data={RDS_CA_BUNDLE_KEY: args.rds_ca_bundle_pem},
                opts=in_services_namespace,
            )
        self.register_outputs({"storage_class": self.storage_class})


# The AWS Load Balancer Controller's webhook adds a target-health readiness gate to pods in namespaces with
# this label, so a rollout waits until the ALB sees the new pods healthy (docs/deploy/pod_readiness_gate.md).
POD_READINESS_GATE = {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}


def _namespace_labels(namespace: str, environment: str) -> dict[str, str]:
    labels = {"app.kubernetes.io/part-of": "gigstack"}
    if namespace == SERVICES_NAMESPACE:
        labels.update(RESTRICTED_POD_SECURITY)
        if environment == "eks":
            labels.update(POD_READINESS_GATE)
    return labels
