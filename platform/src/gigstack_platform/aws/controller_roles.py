"""ControllerRoles: EKS Pod Identity roles for every in-cluster controller that calls AWS.

External Secrets Operator reads `gigstack/<stack>/*` from Secrets Manager; the AWS Load Balancer Controller
manages ALBs/NLBs; the Cluster Autoscaler resizes the node groups; the EBS CSI driver manages encrypted
volumes. Argo CD installs the first three (associations bind the roles to their service accounts; role ARNs
of the first two also reach it through the cluster Secret); EKS installs the fourth as an addon.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from gigstack_platform.aws.iam import (
    cluster_autoscaler_policy,
    load_balancer_controller_policy,
    pod_identity_trust_policy,
    policy_document,
    role_with_policies,
)
from gigstack_platform.catalog import EXTERNAL_SECRETS_NAMESPACE

EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"


@dataclass
class ControllerRolesArgs:
    cluster_name: pulumi.Input[str]
    region: str
    account_id: pulumi.Input[str]
    secrets_manager_prefix: str
    kms_key_arn: pulumi.Input[str]
    tags: dict[str, str]


class ControllerRoles(pulumi.ComponentResource):
    external_secrets_role_arn: pulumi.Output[str]
    load_balancer_controller_role_arn: pulumi.Output[str]
    ebs_csi_role_arn: pulumi.Output[str]
    associations: list[aws.eks.PodIdentityAssociation]

    def __init__(
        self, name: str, args: ControllerRolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gigstack:aws:ControllerRoles", name, None, opts)
        secrets_policy = pulumi.Output.all(args.account_id, args.kms_key_arn).apply(
            lambda values: policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "secretsmanager:GetSecretValue",
                            "secretsmanager:DescribeSecret",
                            "secretsmanager:ListSecretVersionIds",
                        ],
                        "Resource": f"arn:aws:secretsmanager:{args.region}:{values[0]}:secret:"
                        f"{args.secrets_manager_prefix}*",
                    },
                    {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": values[1]},
                ]
            )
        )
        external_secrets = role_with_policies(
            f"{name}-external-secrets",
            trust_policy=pod_identity_trust_policy(),
            managed_policy_arns=[],
            inline_policy=secrets_policy,
            tags=args.tags,
            parent=self,
        )
        load_balancer = role_with_policies(
            f"{name}-aws-load-balancer-controller",
            trust_policy=pod_identity_trust_policy(),
            managed_policy_arns=[],
            inline_policy=load_balancer_controller_policy(),
            tags=args.tags,
            parent=self,
        )
        ebs_kms = pulumi.Output.from_input(args.kms_key_arn).apply(
            lambda key: policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "kms:CreateGrant",
                            "kms:ListGrants",
                            "kms:RevokeGrant",
                            "kms:Encrypt",
                            "kms:Decrypt",
                            "kms:ReEncrypt*",
                            "kms:GenerateDataKey*",
                            "kms:DescribeKey",
                        ],
                        "Resource": key,
                    }
                ]
            )
        )
        ebs_csi = role_with_policies(
            f"{name}-ebs-csi",
            trust_policy=pod_identity_trust_policy(),
            managed_policy_arns=[EBS_CSI_POLICY],
            inline_policy=ebs_kms,
            tags=args.tags,
            parent=self,
        )
        cluster_autoscaler = role_with_policies(
            f"{name}-cluster-autoscaler",
            trust_policy=pod_identity_trust_policy(),
            managed_policy_arns=[],
            inline_policy=pulumi.Output.from_input(args.cluster_name).apply(cluster_autoscaler_policy),
            tags=args.tags,
            parent=self,
        )
        child = pulumi.ResourceOptions(parent=self)
        self.associations = [
            aws.eks.PodIdentityAssociation(
                f"{name}-external-secrets",
                cluster_name=args.cluster_name,
                namespace=EXTERNAL_SECRETS_NAMESPACE,
                service_account="external-secrets",
                role_arn=external_secrets.arn,
                tags=args.tags,
                opts=child,
            ),
            aws.eks.PodIdentityAssociation(
                f"{name}-aws-load-balancer-controller",
                cluster_name=args.cluster_name,
                namespace="kube-system",
                service_account="aws-load-balancer-controller",
                role_arn=load_balancer.arn,
                tags=args.tags,
                opts=child,
            ),
            # gitops/argocd/addons/applicationset-cluster-autoscaler.yaml names this service account.
            aws.eks.PodIdentityAssociation(
                f"{name}-cluster-autoscaler",
                cluster_name=args.cluster_name,
                namespace="kube-system",
                service_account="cluster-autoscaler",
                role_arn=cluster_autoscaler.arn,
                tags=args.tags,
                opts=child,
            ),
        ]
        self.external_secrets_role_arn = external_secrets.arn
        self.load_balancer_controller_role_arn = load_balancer.arn
        self.ebs_csi_role_arn = ebs_csi.arn
        self.register_outputs(
            {
                "external_secrets_role_arn": external_secrets.arn,
                "load_balancer_controller_role_arn": load_balancer.arn,
            }
        )
