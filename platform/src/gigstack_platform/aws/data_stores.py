"""DataStores: the managed store servers, their network guards, and per-service secrets in Secrets Manager."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from gigstack_platform.aws import managed_stores
from gigstack_platform.catalog import SERVICES, StoreKind, services_owning
from gigstack_platform.config import StoreSizes
from gigstack_platform.endpoints import StoreEndpoint
from gigstack_platform.service_settings import json_secret, service_secret_values

STORE_PORTS: dict[StoreKind, int] = {
    StoreKind.POSTGRES: 5432,
    StoreKind.MYSQL: 3306,
    StoreKind.REDIS: 6379,
    StoreKind.RABBITMQ: 5671,
    StoreKind.MONGODB: 27017,
    StoreKind.SEARCH: 443,
}


@dataclass
class DataStoresArgs:
    name_prefix: str
    secrets_manager_prefix: str
    production: bool
    sizes: StoreSizes
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    node_security_group_id: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    extra_secret_values: dict[str, dict[str, pulumi.Output[str]]]
    # Set when the search engine runs in the cluster (stores.searchEngine=elasticsearch).
    in_cluster_search: StoreEndpoint | None
    tags: dict[str, str]


class DataStores(pulumi.ComponentResource):
    """One server per store kind (relational: per owning service), reachable only from the EKS nodes."""

    endpoints: dict[str, dict[StoreKind, StoreEndpoint]]
    bus: StoreEndpoint
    secret_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: DataStoresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gigstack:aws:DataStores", name, None, opts)
        placement = managed_stores.Placement(
            parent=self,
            name_prefix=args.name_prefix,
            production=args.production,
            sizes=args.sizes,
            subnet_ids=args.private_subnet_ids,
            kms_key_arn=args.kms_key_arn,
            tags=args.tags,
        )
        managed_kinds = [k for k in STORE_PORTS if not (k is StoreKind.SEARCH and args.in_cluster_search)]
        groups = {kind: self._security_group(name, kind, args) for kind in managed_kinds}
        rds_subnets = aws.rds.SubnetGroup(
            f"{name}-rds",
            subnet_ids=args.private_subnet_ids,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        relational: dict[str, dict[StoreKind, StoreEndpoint]] = {service: {} for service in SERVICES}
        for kind in (StoreKind.POSTGRES, StoreKind.MYSQL):
            for service in services_owning(kind):
                relational[service][kind] = managed_stores.rds_instance(
                    placement, kind, service, rds_subnets, groups[kind]
                )
        # Redis: one server, but each service its own RBAC user (gigstack_registry.redis_acl).
        for service, endpoint in managed_stores.redis_group(placement, groups[StoreKind.REDIS]).items():
            relational[service][StoreKind.REDIS] = endpoint
        shared: dict[StoreKind, StoreEndpoint] = {
            StoreKind.MONGODB: managed_stores.docdb_cluster(placement, groups[StoreKind.MONGODB]),
            StoreKind.SEARCH: args.in_cluster_search
            or managed_stores.opensearch_domain(placement, groups[StoreKind.SEARCH]),
        }
        self.bus = managed_stores.rabbitmq_broker(placement, groups[StoreKind.RABBITMQ])
        for kind, endpoint in shared.items():
            for service in services_owning(kind):
                relational[service][kind] = endpoint
        self.endpoints = relational
        values = service_secret_values(self.endpoints, self.bus, args.extra_secret_values)
        self.secret_arns = {}
        for service in SERVICES:
            secret = aws.secretsmanager.Secret(
                f"{name}-{service}",
                name=f"{args.secrets_manager_prefix}{service}",
                description=f"Settings of the {service} service; synced into {service}-secrets by ESO",
                kms_key_id=args.kms_key_arn,
                # Non-production stacks can be recreated at once; production keeps the 30-day safety net.
                recovery_window_in_days=30 if args.production else 0,
                tags={**args.tags, "Service": service},
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.secretsmanager.SecretVersion(
                f"{name}-{service}",
                secret_id=secret.id,
                secret_string=json_secret(values[service]),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.secret_arns[service] = secret.arn
        self.register_outputs({"secret_arns": self.secret_arns})

    def _security_group(self, name: str, kind: StoreKind, args: DataStoresArgs) -> pulumi.Output[str]:
        group = aws.ec2.SecurityGroup(
            f"{name}-{kind.value}",
            vpc_id=args.vpc_id,
            description=f"gigstack {kind.value}: reachable from the EKS nodes only",
            # No egress rules: stores answer, they do not call out.
            egress=[],
            tags={**args.tags, "Name": f"{args.name_prefix}-{kind.value}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-{kind.value}-from-nodes",
            security_group_id=group.id,
            referenced_security_group_id=args.node_security_group_id,
            ip_protocol="tcp",
            from_port=STORE_PORTS[kind],
            to_port=STORE_PORTS[kind],
            description="EKS nodes (cluster security group)",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return group.id
