"""The eks stack: VPC -> EKS -> controller roles -> managed stores -> monitoring -> Argo CD.

Dependencies are explicit so `pulumi destroy` runs the other way round: Argo CD's root app (and with it the
load balancers) before the addons and nodes, the nodes before the cluster, the cluster before the VPC.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from gigstack_platform.aws.artifacts import Artifacts, ArtifactsArgs
from gigstack_platform.aws.controller_roles import ControllerRoles, ControllerRolesArgs
from gigstack_platform.aws.data_stores import DataStores, DataStoresArgs
from gigstack_platform.aws.delivery import Delivery, DeliveryArgs
from gigstack_platform.aws.eks_cluster import EksCluster, EksClusterArgs
from gigstack_platform.aws.gateway_certificate import GatewayCertificate, GatewayCertificateArgs
from gigstack_platform.aws.kms import platform_key
from gigstack_platform.aws.media_access import MediaAccess, MediaAccessArgs
from gigstack_platform.aws.network import Network, NetworkArgs
from gigstack_platform.catalog import MEDIA_SERVICES, StoreKind
from gigstack_platform.config import ConfigError, PlatformConfig
from gigstack_platform.credentials import GatewayAndMailKeys
from gigstack_platform.kube.cluster_basics import ClusterBasics, ClusterBasicsArgs
from gigstack_platform.kube.in_cluster_stores import InClusterStores, InClusterStoresArgs
from gigstack_platform.kube.provider import eks_provider
from gigstack_platform.program import bootstrap_argocd, bridge_values, monitoring, store_annotations


def build_eks(config: PlatformConfig) -> None:
    if config.rds_ca_bundle_pem is None:
        raise ConfigError("the eks stack needs gigstack:rdsCaBundleFile (docs/platform/runbook-eks.md)")
    tags = config.tags
    cluster_name = config.name_prefix
    account_id = aws.get_caller_identity_output().account_id
    key = platform_key("platform-key", account_id, config.aws_region, tags)
    network = Network(
        "network",
        NetworkArgs(
            name_prefix=config.name_prefix,
            cidr=config.network.cidr,
            availability_zones=config.network.availability_zones,
            nat_gateways=config.network.nat_gateways,
            cluster_name=cluster_name,
            tags=tags,
        ),
    )
    eks = EksCluster(
        "eks",
        EksClusterArgs(
            cluster_name=cluster_name,
            config=config.cluster,
            region=config.aws_region,
            private_subnet_ids=network.private_subnet_ids,
            kms_key_arn=key.arn,
            production=config.production,
            tags=tags,
        ),
        # NAT and routes must outlive the nodes (draining pods still talk to AWS APIs).
        pulumi.ResourceOptions(depends_on=[network]),
    )
    roles = ControllerRoles(
        "controller-roles",
        ControllerRolesArgs(
            cluster_name=eks.cluster_name,
            region=config.aws_region,
            account_id=account_id,
            secrets_manager_prefix=config.secrets_manager_prefix,
            kms_key_arn=key.arn,
            tags=tags,
        ),
        pulumi.ResourceOptions(depends_on=[eks.cluster]),
    )
    eks.add_ebs_csi_driver("eks", roles.ebs_csi_role_arn, tags)
    provider = eks_provider("eks-k8s", eks.kubeconfig, depends_on=[eks.cluster])
    keys = GatewayAndMailKeys(
        "service-keys",
        config.smtp_username,
        config.smtp_password,
        stripe_secret_key=config.stripe_secret_key,
        stripe_webhook_secret=config.stripe_webhook_secret,
    )
    basics = ClusterBasics(
        "cluster-basics",
        ClusterBasicsArgs(
            environment="eks",
            internal_token_public_key=keys.keys.internal_token_public_key,
            kms_key_arn=key.arn,
            rds_ca_bundle_pem=config.rds_ca_bundle_pem,
        ),
        pulumi.ResourceOptions(provider=provider, depends_on=[*eks.node_groups, *eks.addons]),
    )
    kube_ready: list[pulumi.Resource] = [basics, *eks.node_groups, *eks.addons]
    observability = monitoring(
        config, basics.storage_class, pulumi.ResourceOptions(provider=provider, depends_on=kube_ready)
    )
    in_cluster_search = None
    if config.stores.search_engine == "elasticsearch":
        in_cluster_search = InClusterStores(
            "in-cluster-search",
            InClusterStoresArgs(
                storage_class=basics.storage_class,
                eck_operator=observability.eck_operator if observability else None,
                kinds=(StoreKind.SEARCH,),
            ),
            pulumi.ResourceOptions(provider=provider, depends_on=kube_ready),
        ).search
    artifacts = Artifacts(
        "artifacts",
        ArtifactsArgs(
            name_prefix=config.name_prefix,
            account_id=account_id,
            region=config.aws_region,
            production=config.production,
            kms_key_arn=key.arn,
            upload_origins=config.upload_origins,
            tags=tags,
        ),
    )
    media = MediaAccess(
        "media-access",
        MediaAccessArgs(
            cluster_name=eks.cluster_name,
            bucket_arn=artifacts.uploads_bucket_arn,
            kms_key_arn=key.arn,
            tags=tags,
        ),
        pulumi.ResourceOptions(depends_on=[eks.cluster]),
    )
    # Media services find the uploads bucket in their secret; their Pod Identity role grants the access.
    secret_values = {**keys.keys.values}
    for service in MEDIA_SERVICES:
        secret_values[service] = {
            **secret_values.get(service, {}),
            "OBJECT_STORE_BUCKET": artifacts.uploads_bucket,
        }
    stores = DataStores(
        "data-stores",
        DataStoresArgs(
            name_prefix=config.name_prefix,
            secrets_manager_prefix=config.secrets_manager_prefix,
            production=config.production,
            sizes=config.stores,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            node_security_group_id=eks.node_security_group_id,
            kms_key_arn=key.arn,
            extra_secret_values=secret_values,
            in_cluster_search=in_cluster_search,
            tags=tags,
        ),
    )
    delivery = Delivery(
        "delivery",
        DeliveryArgs(
            name_prefix=config.name_prefix,
            account_id=account_id,
            region=config.aws_region,
            github_repository=config.delivery.github_repository,
            branch=config.delivery.branch,
            oidc_provider_arn=config.delivery.oidc_provider_arn,
            tags=tags,
        ),
    )
    certificate = GatewayCertificate(
        "gateway",
        GatewayCertificateArgs(
            host=config.ingress.host, hosted_zone_id=config.ingress.hosted_zone_id, tags=tags
        ),
    )
    bridge = bridge_values(
        config,
        pulumi_installed_monitoring=observability is not None,
        pulumi_installed_eck=observability is not None or in_cluster_search is not None,
        cluster_name=eks.cluster_name,
        storage_class=basics.storage_class,
        stores=store_annotations(stores.endpoints, stores.bus),
        aws_values={
            "aws_region": config.aws_region,
            "aws_account_id": account_id,
            "vpc_id": network.vpc_id,
            "external_secrets_role_arn": roles.external_secrets_role_arn,
            "aws_load_balancer_controller_role_arn": roles.load_balancer_controller_role_arn,
            "secrets_manager_prefix": config.secrets_manager_prefix,
            "uploads_bucket": artifacts.uploads_bucket,
            "image_registry": artifacts.image_registry,
        },
    )
    # Argo CD goes last and therefore is destroyed first, while roles, nodes and addons still exist.
    bootstrap_argocd(
        config,
        bridge,
        depends_on=[
            *kube_ready,
            roles,
            *roles.associations,
            *media.associations,
            stores,
            *([observability] if observability else []),
        ],
        provider=provider,
    )
    pulumi.export("cluster_name", eks.cluster_name)
    pulumi.export("kubeconfig", pulumi.Output.secret(eks.kubeconfig))
    pulumi.export("vpc_id", network.vpc_id)
    pulumi.export("uploads_bucket", artifacts.uploads_bucket)
    pulumi.export("image_registry", artifacts.image_registry)
    # Repository variables of .github/workflows/deliver.yaml (docs/platform/runbook-eks.md, first release).
    pulumi.export("delivery_role_arn", delivery.role_arn)
    pulumi.export("gateway_certificate_arn", certificate.arn)
    pulumi.export("gateway_certificate_validation", certificate.validation_record)
    pulumi.export("service_secret_arns", stores.secret_arns)
    if observability:
        pulumi.export("grafana_admin_password", observability.grafana_admin_password)
