"""EksCluster: the control plane, access entries, managed node groups and AWS-managed addons."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from gigstack_platform.aws.iam import role_with_policies, service_trust_policy
from gigstack_platform.config import ClusterConfig, NodeGroupConfig

CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
NODE_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
]
# Without the network-policy agent the VPC CNI ignores NetworkPolicies, and the GitOps manifests'
# default-deny and per-store egress rules (gitops/components/stores-aws-managed) would be decoration.
VPC_CNI_CONFIGURATION = json.dumps({"enableNetworkPolicy": "true"})


@dataclass
class EksClusterArgs:
    cluster_name: str
    config: ClusterConfig
    region: str
    private_subnet_ids: list[pulumi.Output[str]]
    kms_key_arn: pulumi.Input[str]
    production: bool
    tags: dict[str, str]


class EksCluster(pulumi.ComponentResource):
    """EKS with API-mode access entries, STANDARD support, full control-plane logging and two node groups."""

    cluster: aws.eks.Cluster
    node_groups: list[aws.eks.NodeGroup]
    addons: list[aws.eks.Addon]

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gigstack:aws:EksCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        config = args.config
        cluster_role = role_with_policies(
            f"{name}-control-plane",
            trust_policy=service_trust_policy("eks.amazonaws.com"),
            managed_policy_arns=["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"],
            inline_policy=None,
            tags=args.tags,
            parent=self,
        )
        # Created before the cluster so retention is ours, not "never expire".
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=30,
            kms_key_id=args.kms_key_arn,
            tags=args.tags,
            opts=child,
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=config.version,
            role_arn=cluster_role.arn,
            access_config={
                "authentication_mode": "API",
                # The identity running `pulumi up` needs the API right away (the kubernetes provider uses it);
                # the entry is an ordinary, visible access entry, unlike the old aws-auth ConfigMap.
                "bootstrap_cluster_creator_admin_permissions": True,
            },
            # Extended support costs $0.60/h per cluster; STANDARD forces upgrades instead.
            upgrade_policy={"support_type": "STANDARD"},
            enabled_cluster_log_types=CONTROL_PLANE_LOG_TYPES,
            encryption_config={"provider": {"key_arn": args.kms_key_arn}, "resources": ["secrets"]},
            vpc_config={
                "subnet_ids": args.private_subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": config.endpoint_public_access,
                "public_access_cidrs": config.public_access_cidrs if config.endpoint_public_access else None,
            },
            bootstrap_self_managed_addons=False,
            deletion_protection=args.production,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )
        self.node_security_group_id: pulumi.Output[str] = self.cluster.vpc_config.apply(
            lambda vpc: vpc.cluster_security_group_id or ""
        )
        for index, principal in enumerate(config.admin_principal_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{index}",
                cluster_name=self.cluster.name,
                principal_arn=principal,
                type="STANDARD",
                tags=args.tags,
                opts=child,
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{index}",
                cluster_name=self.cluster.name,
                principal_arn=principal,
                policy_arn=CLUSTER_ADMIN_POLICY,
                access_scope={"type": "cluster"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
            )
        node_role = role_with_policies(
            f"{name}-nodes",
            trust_policy=service_trust_policy("ec2.amazonaws.com"),
            managed_policy_arns=NODE_POLICIES,
            inline_policy=None,
            tags=args.tags,
            parent=self,
        )
        # Managed node groups create their own EC2_LINUX access entry for the node role.
        self.addons = [
            self._addon(name, "vpc-cni", args.tags, configuration_values=VPC_CNI_CONFIGURATION),
            self._addon(name, "kube-proxy", args.tags),
        ]
        self.addons.append(self._addon(name, "eks-pod-identity-agent", args.tags))
        self.node_groups = [
            self._node_group(name, "system", config.system_nodes, node_role, args, taint_critical=True),
            self._node_group(name, "app", config.app_nodes, node_role, args, taint_critical=False),
        ]
        # CoreDNS needs schedulable nodes, otherwise the addon stays DEGRADED and the update times out.
        self.addons.append(self._addon(name, "coredns", args.tags, depends_on=list(self.node_groups)))
        self.cluster_name = self.cluster.name
        self.kubeconfig = _kubeconfig(self.cluster, args.region)
        self.register_outputs({"cluster_name": self.cluster.name, "endpoint": self.cluster.endpoint})

    def _addon(
        self,
        name: str,
        addon: str,
        tags: dict[str, str],
        depends_on: list[pulumi.Resource] | None = None,
        pod_identity_role_arn: pulumi.Input[str] | None = None,
        service_account: str | None = None,
        configuration_values: str | None = None,
    ) -> aws.eks.Addon:
        associations: list[aws.eks.AddonPodIdentityAssociationArgsDict] | None = (
            [{"role_arn": pod_identity_role_arn, "service_account": service_account}]
            if pod_identity_role_arn is not None and service_account is not None
            else None
        )
        return aws.eks.Addon(
            f"{name}-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            pod_identity_associations=associations,
            configuration_values=configuration_values,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on or []),
        )

    def add_ebs_csi_driver(self, name: str, role_arn: pulumi.Input[str], tags: dict[str, str]) -> None:
        """EBS CSI with its pod-identity role (the role lives in ControllerRoles)."""
        self.addons.append(
            self._addon(
                name,
                "aws-ebs-csi-driver",
                tags,
                depends_on=[*self.node_groups, *self.addons],
                pod_identity_role_arn=role_arn,
                service_account="ebs-csi-controller-sa",
            )
        )

    def _node_group(
        self,
        name: str,
        role: str,
        sizes: NodeGroupConfig,
        node_role: aws.iam.Role,
        args: EksClusterArgs,
        *,
        taint_critical: bool,
    ) -> aws.eks.NodeGroup:
        return aws.eks.NodeGroup(
            f"{name}-{role}",
            cluster_name=self.cluster.name,
            node_role_arn=node_role.arn,
            subnet_ids=args.private_subnet_ids,
            instance_types=sizes.instance_types,
            capacity_type="SPOT" if sizes.spot else "ON_DEMAND",
            ami_type="AL2023_x86_64_STANDARD",
            scaling_config={
                "min_size": sizes.min_size,
                "desired_size": sizes.desired_size,
                "max_size": sizes.max_size,
            },
            update_config={"max_unavailable": 1},
            labels={"gigstack.io/node-role": role},
            taints=[{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
            if taint_critical
            else None,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.addons)),
        )


def _kubeconfig(cluster: aws.eks.Cluster, region: str) -> pulumi.Output[str]:
    """A kubeconfig that authenticates with `aws eks get-token` (short-lived tokens, nothing stored)."""

    def render(args: list[str]) -> str:
        cluster_name, endpoint, certificate = args
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": cluster_name,
                        "cluster": {"server": endpoint, "certificate-authority-data": certificate},
                    }
                ],
                "contexts": [
                    {"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}
                ],
                "current-context": cluster_name,
                "users": [
                    {
                        "name": cluster_name,
                        "user": {
                            "exec": {
                                "apiVersion": "client.authentication.k8s.io/v1beta1",
                                "command": "aws",
                                "args": [
                                    "eks",
                                    "get-token",
                                    "--cluster-name",
                                    cluster_name,
                                    "--region",
                                    region,
                                    "--output",
                                    "json",
                                ],
                            }
                        },
                    }
                ],
            }
        )

    return pulumi.Output.all(
        cluster.name, cluster.endpoint, cluster.certificate_authority.apply(lambda ca: ca.data or "")
    ).apply(render)
