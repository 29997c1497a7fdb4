"""Managed store servers: RDS, ElastiCache, Amazon MQ, DocumentDB, OpenSearch.

Every server is encrypted at rest with the platform KMS key (Amazon MQ for RabbitMQ only supports
AWS-owned keys), requires TLS, lives in private subnets behind a security group that admits only the EKS
node security group, and follows the production switch for multi-AZ, deletion protection, backups and final
snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from gigstack_registry.redis_acl import access_string, redis_services

from gigstack_platform.catalog import REGISTRY, StoreKind
from gigstack_platform.config import StoreSizes
from gigstack_platform.credentials import generated_password
from gigstack_platform.endpoints import StoreEndpoint
from gigstack_platform.service_settings import relational_database

ADMIN_USER = "gigstack_admin"
MQ_MULTI_AZ_MINIMUM = "mq.m5.large"


@dataclass
class Placement:
    """Where and how a server is created; shared by every builder below."""

    parent: pulumi.Resource
    name_prefix: str
    production: bool
    sizes: StoreSizes
    subnet_ids: list[pulumi.Output[str]]
    kms_key_arn: pulumi.Output[str]
    tags: dict[str, str]

    @property
    def backup_days(self) -> int:
        # Non-production keeps one day so restores can still be rehearsed.
        return self.sizes.backup_retention_days if self.production else 1

    def opts(self, depends_on: list[pulumi.Resource] | None = None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, depends_on=depends_on or [])


def rds_instance(
    placement: Placement,
    kind: StoreKind,
    service: str,
    subnet_group: aws.rds.SubnetGroup,
    security_group_id: pulumi.Output[str],
) -> StoreEndpoint:
    """One RDS server per owning service (database-per-service without a bootstrap job)."""
    is_postgres = kind is StoreKind.POSTGRES
    name = f"{placement.name_prefix}-{service}"
    parameters = aws.rds.ParameterGroup(
        f"{name}-params",
        family="postgres17" if is_postgres else "mysql8.4",
        parameters=[{"name": "rds.force_ssl" if is_postgres else "require_secure_transport", "value": "1"}],
        tags=placement.tags,
        opts=placement.opts(),
    )
    password = generated_password(f"{name}-db-password", placement.parent)
    instance = aws.rds.Instance(
        f"{name}-db",
        identifier=name,
        engine="postgres" if is_postgres else "mysql",
        engine_version="17" if is_postgres else "8.4",
        instance_class=placement.sizes.postgres_instance_class
        if is_postgres
        else placement.sizes.mysql_instance_class,
        allocated_storage=placement.sizes.relational_storage_gb,
        max_allocated_storage=placement.sizes.relational_storage_gb * 5,
        storage_type="gp3",
        db_name=relational_database(service),
        username=ADMIN_USER,
        password=password,
        parameter_group_name=parameters.name,
        db_subnet_group_name=subnet_group.name,
        vpc_security_group_ids=[security_group_id],
        publicly_accessible=False,
        storage_encrypted=True,
        kms_key_id=placement.kms_key_arn,
        multi_az=placement.production,
        deletion_protection=placement.production,
        backup_retention_period=placement.backup_days,
        skip_final_snapshot=not placement.production,
        final_snapshot_identifier=f"{name}-final" if placement.production else None,
        copy_tags_to_snapshot=True,
        auto_minor_version_upgrade=True,
        performance_insights_enabled=False,
        tags=placement.tags,
        opts=placement.opts(),
    )
    return StoreEndpoint(
        kind, instance.address, 5432 if is_postgres else 3306, ADMIN_USER, password, tls=True
    )


def _redis_user(
    placement: Placement, name: str, user_name: str, access: str
) -> tuple[aws.elasticache.User, pulumi.Output[str]]:
    password = generated_password(f"{name}-{user_name}-password", placement.parent)
    user = aws.elasticache.User(
        f"{name}-{user_name}",
        user_id=f"{name}-{user_name}",
        user_name=user_name,
        engine="redis",
        access_string=access,
        authentication_mode={"type": "password", "passwords": [password]},
        tags=placement.tags,
        opts=placement.opts(),
    )
    return user, password


def redis_users(
    placement: Placement, name: str
) -> tuple[aws.elasticache.UserGroup, dict[str, pulumi.Output[str]]]:
    """ElastiCache RBAC: `default` disabled, `admin` for operators, one user per service with the registry's
    access string (its key prefix, data commands only; gigstack_registry.redis_acl). Returns the user group
    and each service's password (its user name is the service's name)."""
    default, _ = _redis_user(placement, name, "default", "off -@all")
    admin, _ = _redis_user(placement, name, "admin", "on ~* &* +@all")
    users = [default, admin]
    passwords: dict[str, pulumi.Output[str]] = {}
    for service in redis_services(REGISTRY):
        user, password = _redis_user(placement, name, service.name, f"on {access_string(service)}")
        users.append(user)
        passwords[service.name] = password
    group = aws.elasticache.UserGroup(
        f"{name}-users",
        user_group_id=f"{name}-users",
        engine="redis",
        user_ids=[user.user_id for user in users],
        tags=placement.tags,
        opts=placement.opts(),
    )
    return group, passwords


def redis_group(placement: Placement, security_group_id: pulumi.Output[str]) -> dict[str, StoreEndpoint]:
    """The replication group with RBAC users instead of one shared AUTH token; one endpoint per service."""
    name = f"{placement.name_prefix}-redis"
    subnets = aws.elasticache.SubnetGroup(
        f"{name}-subnets", subnet_ids=placement.subnet_ids, tags=placement.tags, opts=placement.opts()
    )
    user_group, passwords = redis_users(placement, name)
    group = aws.elasticache.ReplicationGroup(
        name,
        replication_group_id=name,
        description="gigstack gateway sessions and notification ledger",
        engine="redis",
        engine_version="7.1",
        node_type=placement.sizes.redis_node_type,
        num_cache_clusters=2 if placement.production else 1,
        automatic_failover_enabled=placement.production,
        multi_az_enabled=placement.production,
        subnet_group_name=subnets.name,
        security_group_ids=[security_group_id],
        at_rest_encryption_enabled=True,
        kms_key_id=placement.kms_key_arn,
        transit_encryption_enabled=True,
        user_group_ids=[user_group.user_group_id],
        snapshot_retention_limit=placement.backup_days if placement.production else 0,
        final_snapshot_identifier=f"{name}-final" if placement.production else None,
        port=6379,
        tags=placement.tags,
        opts=placement.opts(),
    )
    return {
        service: StoreEndpoint(
            StoreKind.REDIS, group.primary_endpoint_address, 6379, service, password, tls=True
        )
        for service, password in passwords.items()
    }


def rabbitmq_broker(placement: Placement, security_group_id: pulumi.Output[str]) -> StoreEndpoint:
    name = f"{placement.name_prefix}-rabbitmq"
    password = generated_password(f"{name}-password", placement.parent)
    instance_type = placement.sizes.mq_instance_type
    if placement.production and instance_type.startswith("mq.t3"):
        instance_type = MQ_MULTI_AZ_MINIMUM  # clusters are not offered on mq.t3.micro
    broker = aws.mq.Broker(
        name,
        broker_name=name,
        engine_type="RabbitMQ",
        engine_version="3.13",
        auto_minor_version_upgrade=True,
        host_instance_type=instance_type,
        deployment_mode="CLUSTER_MULTI_AZ" if placement.production else "SINGLE_INSTANCE",
        subnet_ids=placement.subnet_ids if placement.production else placement.subnet_ids[:1],
        security_groups=[security_group_id],
        publicly_accessible=False,
        # Amazon MQ for RabbitMQ encrypts at rest with AWS-owned keys only; AMQPS is always on.
        encryption_options={"use_aws_owned_key": True},
        users=[{"username": ADMIN_USER, "password": password}],
        logs={"general": True},
        tags=placement.tags,
        opts=placement.opts(),
    )
    host = broker.instances.apply(
        lambda instances: (
            instances[0].endpoints[0].split("://", 1)[-1].rsplit(":", 1)[0]
            if instances and instances[0].endpoints
            else ""
        )
    )
    return StoreEndpoint(StoreKind.RABBITMQ, host, 5671, ADMIN_USER, password, tls=True)


def docdb_cluster(placement: Placement, security_group_id: pulumi.Output[str]) -> StoreEndpoint:
    name = f"{placement.name_prefix}-docdb"
    subnets = aws.docdb.SubnetGroup(
        f"{name}-subnets", subnet_ids=placement.subnet_ids, tags=placement.tags, opts=placement.opts()
    )
    parameters = aws.docdb.ClusterParameterGroup(
        f"{name}-params",
        family="docdb5.0",
        parameters=[{"name": "tls", "value": "enabled"}],
        tags=placement.tags,
        opts=placement.opts(),
    )
    password = generated_password(f"{name}-password", placement.parent)
    cluster = aws.docdb.Cluster(
        name,
        cluster_identifier=name,
        engine="docdb",
        engine_version="5.0.0",
        master_username=ADMIN_USER,
        master_password=password,
        db_subnet_group_name=subnets.name,
        db_cluster_parameter_group_name=parameters.name,
        vpc_security_group_ids=[security_group_id],
        storage_encrypted=True,
        kms_key_id=placement.kms_key_arn,
        deletion_protection=placement.production,
        backup_retention_period=placement.backup_days,
        skip_final_snapshot=not placement.production,
        final_snapshot_identifier=f"{name}-final" if placement.production else None,
        tags=placement.tags,
        opts=placement.opts(),
    )
    # A second instance in another zone is DocumentDB's multi-AZ: it becomes primary on failover.
    for index in range(2 if placement.production else 1):
        aws.docdb.ClusterInstance(
            f"{name}-{index}",
            cluster_identifier=cluster.id,
            instance_class=placement.sizes.docdb_instance_class,
            auto_minor_version_upgrade=True,
            tags=placement.tags,
            opts=placement.opts(),
        )
    return StoreEndpoint(StoreKind.MONGODB, cluster.endpoint, 27017, ADMIN_USER, password, tls=True)


def opensearch_domain(placement: Placement, security_group_id: pulumi.Output[str]) -> StoreEndpoint:
    name = f"{placement.name_prefix}-search"[:28]
    password = generated_password(f"{name}-master-password", placement.parent)
    nodes = 3 if placement.production else 1
    domain = aws.opensearch.Domain(
        name,
        domain_name=name,
        engine_version="OpenSearch_2.19",
        cluster_config={
            "instance_type": placement.sizes.opensearch_instance_type,
            "instance_count": nodes,
            "zone_awareness_enabled": placement.production,
            "zone_awareness_config": {"availability_zone_count": 3} if placement.production else None,
        },
        ebs_options={
            "ebs_enabled": True,
            "volume_type": "gp3",
            "volume_size": placement.sizes.opensearch_volume_gb,
        },
        encrypt_at_rest={"enabled": True, "kms_key_id": placement.kms_key_arn},
        node_to_node_encryption={"enabled": True},
        domain_endpoint_options={"enforce_https": True, "tls_security_policy": "Policy-Min-TLS-1-2-2019-07"},
        vpc_options={"subnet_ids": placement.subnet_ids[:nodes], "security_group_ids": [security_group_id]},
        advanced_security_options={
            "enabled": True,
            "internal_user_database_enabled": True,
            "master_user_options": {"master_user_name": ADMIN_USER, "master_user_password": password},
        },
        tags=placement.tags,
        opts=placement.opts(),
    )
    aws.opensearch.DomainPolicy(
        f"{name}-access",
        domain_name=domain.domain_name,
        # Network access is limited by the security group; fine-grained access control checks the user.
        access_policies=domain.arn.apply(
            lambda arn: (
                '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},'
                f'"Action":"es:ESHttp*","Resource":"{arn}/*"}}]}}'
            )
        ),
        opts=placement.opts(),
    )
    return StoreEndpoint(StoreKind.SEARCH, domain.endpoint, 443, ADMIN_USER, password, tls=True)
