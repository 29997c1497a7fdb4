"""IAM helpers: trust policies and the pod-identity roles of in-cluster controllers that call AWS."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from gigstack_platform.config import REPO_ROOT


def service_trust_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": ["sts:AssumeRole"]},
            ],
        }
    )


def pod_identity_trust_policy() -> str:
    # EKS Pod Identity needs sts:TagSession next to AssumeRole (session tags carry the pod's identity).
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "pods.eks.amazonaws.com"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                }
            ],
        }
    )


def policy_document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def role_with_policies(
    name: str,
    *,
    trust_policy: str,
    managed_policy_arns: list[str],
    inline_policy: pulumi.Input[str] | None,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(name, assume_role_policy=trust_policy, tags=tags, opts=opts)
    for index, arn in enumerate(managed_policy_arns):
        aws.iam.RolePolicyAttachment(f"{name}-{index}", role=role.name, policy_arn=arn, opts=opts)
    if inline_policy is not None:
        aws.iam.RolePolicy(f"{name}-inline", role=role.id, policy=inline_policy, opts=opts)
    return role


# The AWS Load Balancer Controller's own policy, docs/install/iam_policy.json of the controller version the
# addon ApplicationSet pins, vendored unchanged (platform/vendor/aws-load-balancer-controller/README.md).
# A shortened copy broke ALB creation (security-group and listener calls the controller makes).
LOAD_BALANCER_CONTROLLER_VERSION = "v2.13.4"
LOAD_BALANCER_CONTROLLER_POLICY_FILE = (
    REPO_ROOT / "platform" / "vendor" / "aws-load-balancer-controller" / "iam_policy.json"
)


def load_balancer_controller_policy() -> str:
    """The upstream policy document, as JSON text (parsed and re-serialised, so invalid JSON fails early)."""
    document = json.loads(LOAD_BALANCER_CONTROLLER_POLICY_FILE.read_text(encoding="utf-8"))
    return json.dumps(document)


# The Cluster Autoscaler's recommended policy (platform/vendor/cluster-autoscaler/README.md), write actions
# limited to this cluster's Auto Scaling groups.
CLUSTER_AUTOSCALER_POLICY_FILE = REPO_ROOT / "platform" / "vendor" / "cluster-autoscaler" / "iam_policy.json"


def cluster_autoscaler_policy(cluster_name: str) -> str:
    document = json.loads(CLUSTER_AUTOSCALER_POLICY_FILE.read_text(encoding="utf-8"))
    write = document["Statement"][1]
    write["Condition"] = {
        "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}
    }
    return json.dumps(document)
