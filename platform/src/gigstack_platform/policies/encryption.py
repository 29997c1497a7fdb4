"""Rules: storage encryption (KMS at rest) and transit encryption (TLS required)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation

from gigstack_platform.policies.dispatch import dispatch, require
from gigstack_platform.policies.props import get

BUCKET_ENCRYPTION_TYPE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)


# --- storage encryption ---------------------------------------------------------------------------------


def _rds_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(props.get("storageEncrypted") is True, "storageEncrypted must be true", report)
    require(bool(props.get("kmsKeyId")), "kmsKeyId must name the platform KMS key", report)


def _elasticache_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(props.get("atRestEncryptionEnabled") is True, "atRestEncryptionEnabled must be true", report)
    require(bool(props.get("kmsKeyId")), "kmsKeyId must name the platform KMS key", report)


def _opensearch_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(get(props, "encryptAtRest", "enabled") is True, "encryptAtRest.enabled must be true", report)


def _mq_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    # RabbitMQ brokers only accept AWS-owned keys; ActiveMQ ones must use a customer key.
    if str(props.get("engineType", "")).lower() == "rabbitmq":
        return
    require(get(props, "encryptionOptions", "kmsKeyId") is not None, "use a customer-managed KMS key", report)


def _bucket_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    algorithm = get(props, "rules", "applyServerSideEncryptionByDefault", "sseAlgorithm")
    require(algorithm in {"aws:kms", "aws:kms:dsse"}, "bucket default encryption must be aws:kms", report)


def _ecr_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(get(props, "encryptionConfigurations", "encryptionType") == "KMS", "ECR must use KMS", report)


def _secret_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(bool(props.get("kmsKeyId")), "secrets must be encrypted with the platform KMS key", report)


def _eks_encrypted(props: Mapping[str, Any], report: ReportViolation) -> None:
    resources = get(props, "encryptionConfig", "resources") or []
    require("secrets" in resources, "EKS must envelope-encrypt Kubernetes Secrets with KMS", report)


validate_storage_encryption = dispatch(
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
    require(props.get("transitEncryptionEnabled") is True, "transitEncryptionEnabled must be true", report)


def _opensearch_transit(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(get(props, "nodeToNodeEncryption", "enabled") is True, "nodeToNodeEncryption must be on", report)
    require(get(props, "domainEndpointOptions", "enforceHttps") is True, "enforceHttps must be true", report)


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
    require(values.get(name) in {"1", "ON", "on"}, f"{name} must be 1 so clients must use TLS", report)


def _docdb_parameters_transit(props: Mapping[str, Any], report: ReportViolation) -> None:
    values = {p.get("name"): str(p.get("value")) for p in props.get("parameters") or []}
    require(values.get("tls", "enabled") != "disabled", "DocumentDB tls must stay enabled", report)


validate_transit_encryption = dispatch(
    {
        "aws:elasticache/replicationGroup:ReplicationGroup": _elasticache_transit,
        "aws:opensearch/domain:Domain": _opensearch_transit,
        "aws:rds/parameterGroup:ParameterGroup": _rds_parameters_transit,
        "aws:docdb/clusterParameterGroup:ClusterParameterGroup": _docdb_parameters_transit,
    }
)
