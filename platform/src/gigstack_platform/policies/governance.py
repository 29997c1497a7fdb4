"""Rules: required tags, production safeguards, no plaintext secrets."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from gigstack_platform.policies.dispatch import Check, require
from gigstack_platform.policies.props import REQUIRED_TAGS, get, is_production, strings, tags

MIN_PRODUCTION_BACKUP_DAYS = 7
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
    require(not missing, f"missing required tags {missing}", report_violation)


# --- production safeguards ------------------------------------------------------------------------------


def _relational_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(props.get("deletionProtection") is True, "production: deletionProtection must be true", report)
    days = int(props.get("backupRetentionPeriod") or 0)
    require(
        days >= MIN_PRODUCTION_BACKUP_DAYS,
        f"production: keep backups >= {MIN_PRODUCTION_BACKUP_DAYS} days",
        report,
    )
    require(props.get("skipFinalSnapshot") is not True, "production: take a final snapshot", report)


def _rds_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    _relational_production(props, report)
    require(props.get("multiAz") is True, "production: multiAz must be true", report)


def _redis_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(props.get("multiAzEnabled") is True, "production: multiAzEnabled must be true", report)
    require(int(props.get("snapshotRetentionLimit") or 0) >= 1, "production: keep snapshots", report)
    require(bool(props.get("finalSnapshotIdentifier")), "production: take a final snapshot", report)


def _mq_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(props.get("deploymentMode") == "CLUSTER_MULTI_AZ", "production: use CLUSTER_MULTI_AZ", report)


def _search_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(get(props, "clusterConfig", "zoneAwarenessEnabled") is True, "production: zone awareness", report)


def _eks_production(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(props.get("deletionProtection") is True, "production: deletionProtection must be true", report)


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
