"""Validation functions, one per rule. Each receives camelCase props and reports violations."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from gigstack_platform.policies.props import REQUIRED_TAGS, get, is_production, strings, tags

Check = Callable[[Mapping[str, Any], ReportViolation], None]
OPEN_CIDRS = {"0.0.0.0/0", "::/0"}
MIN_PRODUCTION_BACKUP_DAYS = 7
BUCKET_ENCRYPTION_TYPE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
# Resources that are allowed to carry credentials because they are secret stores themselves.
SECRET_CARRIERS = {
    "kubernetes:core/v1:Secret",
    "aws:secretsmanager/secretVersion:SecretVersion",
    "random:index/randomPassword:RandomPassword",
    "tls:index/privateKey:PrivateKey",
}
CREDENTIAL_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^@\s]+@", re.IGNORECASE)
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|API_KEY)$", re.IGNORECASE)


def _dispatch(checks: dict[str, Check]) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        check = checks.get(args.resource_type)
        if check is not None:
            check(args.props, report_violation)

    return validate


def _require(condition: bool, message: str, report: ReportViolation) -> None:
    if not condition:
        report(message, None)


# --- storage encryption ---------------------------------------------------------------------------------


def _rds_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(props.get("storageEncrypted") is True, "storageEncrypted must be true", report)
    _require(bool(props.get("kmsKeyId")), "kmsKeyId must name the platform KMS key", report)


def _elasticache_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(props.get("atRestEncryptionEnabled") is True, "atRestEncryptionEnabled must be true", report)
    _require(bool(props.get("kmsKeyId")), "kmsKeyId must name the platform KMS key", report)


def _opensearch_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(get(props, "encryptAtRest", "enabled") is True, "encryptAtRest.enabled must be true", report)


def _mq_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    # RabbitMQ brokers only accept AWS-owned keys; ActiveMQ ones must use a customer key.
    if str(props.get("engineType", "")).lower() == "rabbitmq":
        return
    _require(
        get(props, "encryptionOptions", "kmsKeyId") is not None, "use a customer-managed KMS key", report
    )


def _bucket_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    algorithm = get(props, "rules", "applyServerSideEncryptionByDefault", "sseAlgorithm")
    _require(algorithm in {"aws:kms", "aws:kms:dsse"}, "bucket default encryption must be aws:kms", report)


def _ecr_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(get(props, "encryptionConfigurations", "encryptionType") == "KMS", "ECR must use KMS", report)


def _secret_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(bool(props.get("kmsKeyId")), "secrets must be encrypted with the platform KMS key", report)


def _eks_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    resources = get(props, "encryptionConfig", "resources") or []
    _require("secrets" in resources, "EKS must envelope-encrypt Kubernetes Secrets with KMS", report)


validate_storage_encryption = _dispatch(
    {
        "aws:rds/instance:Instance": _rds_encrypted,
        "aws:rds/cluster:Cluster": _rds_encrypted,
        "aws:docdb/cluster:Cluster": _rds_encrypted,
        "aws:elasticache/replicationGroup:ReplicationGroup": _elasticache_encrypted,
        "aws:opensearch/domain:Domain": _opensearch_encrypted,
        "aws:mq/broker:Broker": _mq_encrypted,
        BUCKET_ENCRYPTION_TYPE: _bucket_encrypted,
        "aws:ecr/repository:Repository": _ecr_encrypted,
        "aws:secretsmanager/secret:Secret": _secret_encrypted,
        "aws:eks/cluster:Cluster": _eks_encrypted,
    }
)

# --- transit encryption ---------------------------------------------------------------------------------


def _elasticache_transit(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(props.get("transitEncryptionEnabled") is True, "transitEncryptionEnabled must be true", report)


def _opensearch_transit(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(get(props, "nodeToNodeEncryption", "enabled") is True, "nodeToNodeEncryption must be on", report)
    _require(get(props, "domainEndpointOptions", "enforceHttps") is True, "enforceHttps must be true", report)


def _rds_parameters_transit(props: Mapping[str, Any], report: ReportViolation) -> None:
    family = str(props.get("family", ""))
    wanted = {
        "postgres": "rds.force_ssl",
        "mysql": "require_secure_transport",
        "mariadb": "require_secure_transport",
    }
    name = next((param for prefix, param in wanted.items() if family.startswith(prefix)), None)
    if name is None:
        return
    values = {p.get("name"): str(p.get("value")) for p in props.get("parameters") or []}
    _require(values.get(name) in {"1", "ON", "on"}, f"{name} must be 1 so clients must use TLS", report)


def _docdb_parameters_transit(props: Mapping[str, Any], report: ReportViolation) -> None:
    values = {p.get("name"): str(p.get("value")) for p in props.get("parameters") or []}
    _require(values.get("tls", "enabled") != "disabled", "DocumentDB tls must stay enabled", report)


validate_transit_encryption = _dispatch(
    {
        "aws:elasticache/replicationGroup:ReplicationGroup": _elasticache_transit,
        "aws:opensearch/domain:Domain": _opensearch_transit,
        "aws:rds/parameterGroup:ParameterGroup": _rds_parameters_transit,
        "aws:docdb/clusterParameterGroup:ClusterParameterGroup": _docdb_parameters_transit,
    }
)

# --- no publicly reachable data store -------------------------------------------------------------------


def _not_public(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(
        props.get("publiclyAccessible") is not True, "data stores must not be publicly accessible", report
    )


def _opensearch_in_vpc(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(bool(get(props, "vpcOptions", "subnetIds")), "the search domain must live in the VPC", report)


def _bucket_blocked(props: Mapping[str, Any], report: ReportViolation) -> None:
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        _require(props.get(flag) is True, f"{flag} must be true", report)


validate_no_public_data_store = _dispatch(
    {
        "aws:rds/instance:Instance": _not_public,
        "aws:mq/broker:Broker": _not_public,
        "aws:opensearch/domain:Domain": _opensearch_in_vpc,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_blocked,
    }
)

# --- no 0.0.0.0/0 ingress except on load balancers ------------------------------------------------------


def _is_load_balancer_group(props: Mapping[str, Any]) -> bool:
    return str(tags(props).get("gigstack.io/load-balancer", "")).lower() == "true"


def _security_group_ingress(props: Mapping[str, Any], report: ReportViolation) -> None:
    if _is_load_balancer_group(props):
        return
    for rule in props.get("ingress") or []:
        open_ranges = OPEN_CIDRS & {*(rule.get("cidrBlocks") or []), *(rule.get("ipv6CidrBlocks") or [])}
        _require(not open_ranges, "ingress from 0.0.0.0/0 is only allowed on load balancer groups", report)


def _ingress_rule(props: Mapping[str, Any], report: ReportViolation) -> None:
    if _is_load_balancer_group(props):
        return
    cidrs = {props.get("cidrIpv4"), props.get("cidrIpv6")}
    _require(
        not (OPEN_CIDRS & cidrs), "ingress from 0.0.0.0/0 is only allowed on load balancer groups", report
    )


def _legacy_rule(props: Mapping[str, Any], report: ReportViolation) -> None:
    if props.get("type") != "ingress":
        return
    cidrs = {*(props.get("cidrBlocks") or []), *(props.get("ipv6CidrBlocks") or [])}
    _require(
        not (OPEN_CIDRS & cidrs), "ingress from 0.0.0.0/0 is only allowed on load balancer groups", report
    )


validate_no_open_ingress = _dispatch(
    {
        "aws:ec2/securityGroup:SecurityGroup": _security_group_ingress,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ingress_rule,
        "aws:ec2/securityGroupRule:SecurityGroupRule": _legacy_rule,
    }
)

# --- required tags --------------------------------------------------------------------------------------

TAGGED_TYPES = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/routeTable:RouteTable",
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "aws:iam/role:Role",
        "aws:kms/key:Key",
        "aws:rds/instance:Instance",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:mq/broker:Broker",
        "aws:docdb/cluster:Cluster",
        "aws:docdb/clusterInstance:ClusterInstance",
        "aws:opensearch/domain:Domain",
        "aws:s3/bucket:Bucket",
        "aws:ecr/repository:Repository",
        "aws:secretsmanager/secret:Secret",
        "aws:cloudwatch/logGroup:LogGroup",
    }
)


def validate_required_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in TAGGED_TYPES:
        return
    missing = [key for key in REQUIRED_TAGS if not tags(args.props).get(key)]
    _require(not missing, f"missing required tags {missing}", report_violation)


# --- production safeguards ------------------------------------------------------------------------------


def _relational_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(props.get("deletionProtection") is True, "production: deletionProtection must be true", report)
    days = int(props.get("backupRetentionPeriod") or 0)
    _require(
        days >= MIN_PRODUCTION_BACKUP_DAYS,
        f"production: keep backups >= {MIN_PRODUCTION_BACKUP_DAYS} days",
        report,
    )
    _require(props.get("skipFinalSnapshot") is not True, "production: take a final snapshot", report)


def _rds_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    _relational_production(props, report)
    _require(props.get("multiAz") is True, "production: multiAz must be true", report)


def _redis_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(props.get("multiAzEnabled") is True, "production: multiAzEnabled must be true", report)
    _require(int(props.get("snapshotRetentionLimit") or 0) >= 1, "production: keep snapshots", report)
    _require(bool(props.get("finalSnapshotIdentifier")), "production: take a final snapshot", report)


def _mq_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(props.get("deploymentMode") == "CLUSTER_MULTI_AZ", "production: use CLUSTER_MULTI_AZ", report)


def _search_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(
        get(props, "clusterConfig", "zoneAwarenessEnabled") is True, "production: zone awareness", report
    )


def _eks_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    _require(props.get("deletionProtection") is True, "production: deletionProtection must be true", report)


_PRODUCTION_CHECKS: dict[str, Check] = {
    "aws:rds/instance:Instance": _rds_production,
    "aws:docdb/cluster:Cluster": _relational_production,
    "aws:elasticache/replicationGroup:ReplicationGroup": _redis_production,
    "aws:mq/broker:Broker": _mq_production,
    "aws:opensearch/domain:Domain": _search_production,
    "aws:eks/cluster:Cluster": _eks_production,
}


def validate_production_safeguards(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    check = _PRODUCTION_CHECKS.get(args.resource_type)
    if check is not None and is_production(args.props):
        check(args.props, report_violation)


# --- no plaintext secrets -------------------------------------------------------------------------------


def validate_no_plaintext_secrets(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Credentials belong in secret carriers; anywhere else they end up readable in state, tags or specs."""
    if args.resource_type in SECRET_CARRIERS:
        return
    for path, value in strings(dict(args.props)):
        if CREDENTIAL_URL.search(value):
            report_violation(f"{path} embeds credentials in a URL; use a Secret", None)
        elif PRIVATE_KEY.search(value):
            report_violation(f"{path} holds a private key; use a Secret", None)
    if args.resource_type == "kubernetes:core/v1:ConfigMap":
        for key in args.props.get("data") or {}:
            if SECRET_NAME.search(str(key)):
                report_violation(f"ConfigMap key {key} looks like a secret; use a Secret", None)
    for env in _env_entries(args.props):
        if SECRET_NAME.search(str(env.get("name", ""))) and "value" in env and env.get("value"):
            report_violation(f"env {env.get('name')} is a literal; use secretKeyRef", None)


def _env_entries(value: Any) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    if isinstance(value, Mapping):
        env = value.get("env")
        if isinstance(env, Sequence) and not isinstance(env, str):
            found.extend(item for item in env if isinstance(item, Mapping))
        for item in value.values():
            found.extend(_env_entries(item))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for item in value:
            found.extend(_env_entries(item))
    return found
