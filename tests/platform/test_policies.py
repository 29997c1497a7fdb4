"""Each CrossGuard policy against a compliant and a violating resource (validate called directly)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gigstack_platform.policies import ALL_POLICIES
from gigstack_platform.policies.catalog import (
    no_open_ingress,
    no_plaintext_secrets,
    no_public_data_store,
    production_safeguards,
    required_tags,
    storage_encryption,
    transit_encryption,
)
from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy
from pulumi_policy.proxy import unknown_checking_proxy

REPO_ROOT = Path(__file__).resolve().parents[2]
TAGS = {
    "Project": "gigstack",
    "Stack": "eks",
    "Environment": "eks",
    "ManagedBy": "pulumi",
    "Production": "false",
}
PROD_TAGS = {**TAGS, "Production": "true"}


class Violations:
    """A ReportViolation collector."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.messages.append(message)


def violations_of(policy: ResourceValidationPolicy, resource_type: str, props: dict[str, Any]) -> list[str]:
    # Resource options are not read by these policies.
    no_options: Any = None
    args = ResourceValidationArgs(
        resource_type,
        # The engine hands policies proxied props (unknown-checking Mapping/Sequence wrappers), not dicts.
        unknown_checking_proxy(props),
        f"urn:pulumi:test::gigstack::{resource_type}::r",
        "r",
        no_options,
        None,
    )
    collected = Violations()
    policy.validate(args, collected)
    return collected.messages


RDS = "aws:rds/instance:Instance"
RDS_OK = {"storageEncrypted": True, "kmsKeyId": "arn:kms", "publiclyAccessible": False, "tags": TAGS}

CASES: list[tuple[ResourceValidationPolicy, str, dict[str, Any], dict[str, Any]]] = [
    (storage_encryption, RDS, RDS_OK, {**RDS_OK, "storageEncrypted": False}),
    (
        storage_encryption,
        "aws:elasticache/replicationGroup:ReplicationGroup",
        {"atRestEncryptionEnabled": True, "kmsKeyId": "arn:kms"},
        {"atRestEncryptionEnabled": False},
    ),
    (
        storage_encryption,
        "aws:opensearch/domain:Domain",
        {"encryptAtRest": {"enabled": True}},
        {"encryptAtRest": {"enabled": False}},
    ),
    (
        storage_encryption,
        "aws:mq/broker:Broker",
        {"engineType": "RabbitMQ", "encryptionOptions": {"useAwsOwnedKey": True}},
        {"engineType": "ActiveMQ", "encryptionOptions": {"useAwsOwnedKey": True}},
    ),
    (
        storage_encryption,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
        {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
    ),
    (
        storage_encryption,
        "aws:ecr/repository:Repository",
        {"encryptionConfigurations": [{"encryptionType": "KMS"}]},
        {"encryptionConfigurations": []},
    ),
    (storage_encryption, "aws:secretsmanager/secret:Secret", {"kmsKeyId": "arn:kms"}, {}),
    (storage_encryption, "aws:eks/cluster:Cluster", {"encryptionConfig": {"resources": ["secrets"]}}, {}),
    (
        transit_encryption,
        "aws:elasticache/replicationGroup:ReplicationGroup",
        {"transitEncryptionEnabled": True},
        {"transitEncryptionEnabled": False},
    ),
    (
        transit_encryption,
        "aws:opensearch/domain:Domain",
        {"nodeToNodeEncryption": {"enabled": True}, "domainEndpointOptions": {"enforceHttps": True}},
        {"nodeToNodeEncryption": {"enabled": True}, "domainEndpointOptions": {"enforceHttps": False}},
    ),
    (
        transit_encryption,
        "aws:rds/parameterGroup:ParameterGroup",
        {"family": "mysql8.4", "parameters": [{"name": "require_secure_transport", "value": "1"}]},
        {"family": "mysql8.4", "parameters": []},
    ),
    (
        transit_encryption,
        "aws:rds/parameterGroup:ParameterGroup",
        {"family": "postgres17", "parameters": [{"name": "rds.force_ssl", "value": "1"}]},
        {"family": "postgres17", "parameters": [{"name": "rds.force_ssl", "value": "0"}]},
    ),
    (
        transit_encryption,
        "aws:docdb/clusterParameterGroup:ClusterParameterGroup",
        {"parameters": [{"name": "tls", "value": "enabled"}]},
        {"parameters": [{"name": "tls", "value": "disabled"}]},
    ),
    (no_public_data_store, RDS, RDS_OK, {**RDS_OK, "publiclyAccessible": True}),
    (
        no_public_data_store,
        "aws:mq/broker:Broker",
        {"publiclyAccessible": False},
        {"publiclyAccessible": True},
    ),
    (no_public_data_store, "aws:opensearch/domain:Domain", {"vpcOptions": {"subnetIds": ["subnet-1"]}}, {}),
    (
        no_public_data_store,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        {
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        {
            "blockPublicAcls": True,
            "blockPublicPolicy": False,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
    ),
    (
        no_open_ingress,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        {"referencedSecurityGroupId": "sg-nodes", "fromPort": 5432, "tags": TAGS},
        {"cidrIpv4": "0.0.0.0/0", "fromPort": 5432, "tags": TAGS},
    ),
    (
        no_open_ingress,
        "aws:ec2/securityGroup:SecurityGroup",
        {
            "ingress": [{"cidrBlocks": ["0.0.0.0/0"], "fromPort": 443}],
            "tags": {**TAGS, "gigstack.io/load-balancer": "true"},
        },
        {"ingress": [{"cidrBlocks": ["10.0.0.0/8", "0.0.0.0/0"], "fromPort": 22}], "tags": TAGS},
    ),
    (
        no_open_ingress,
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        {"type": "ingress", "cidrBlocks": ["10.20.0.0/16"]},
        {"type": "ingress", "ipv6CidrBlocks": ["::/0"]},
    ),
    (required_tags, "aws:rds/instance:Instance", RDS_OK, {**RDS_OK, "tags": {"Project": "gigstack"}}),
    (required_tags, "aws:s3/bucket:Bucket", {"tags": TAGS}, {}),
    (
        production_safeguards,
        RDS,
        {
            "multiAz": True,
            "deletionProtection": True,
            "backupRetentionPeriod": 7,
            "skipFinalSnapshot": False,
            "tags": PROD_TAGS,
        },
        {
            "multiAz": True,
            "deletionProtection": False,
            "backupRetentionPeriod": 7,
            "skipFinalSnapshot": False,
            "tags": PROD_TAGS,
        },
    ),
    (
        production_safeguards,
        "aws:docdb/cluster:Cluster",
        {
            "deletionProtection": True,
            "backupRetentionPeriod": 14,
            "skipFinalSnapshot": False,
            "tags": PROD_TAGS,
        },
        {
            "deletionProtection": True,
            "backupRetentionPeriod": 1,
            "skipFinalSnapshot": False,
            "tags": PROD_TAGS,
        },
    ),
    (
        production_safeguards,
        "aws:elasticache/replicationGroup:ReplicationGroup",
        {
            "multiAzEnabled": True,
            "snapshotRetentionLimit": 7,
            "finalSnapshotIdentifier": "x",
            "tags": PROD_TAGS,
        },
        {
            "multiAzEnabled": False,
            "snapshotRetentionLimit": 7,
            "finalSnapshotIdentifier": "x",
            "tags": PROD_TAGS,
        },
    ),
    (
        production_safeguards,
        "aws:mq/broker:Broker",
        {"deploymentMode": "CLUSTER_MULTI_AZ", "tags": PROD_TAGS},
        {"deploymentMode": "SINGLE_INSTANCE", "tags": PROD_TAGS},
    ),
    (
        production_safeguards,
        "aws:opensearch/domain:Domain",
        {"clusterConfig": {"zoneAwarenessEnabled": True}, "tags": PROD_TAGS},
        {"clusterConfig": {"zoneAwarenessEnabled": False}, "tags": PROD_TAGS},
    ),
    (
        production_safeguards,
        "aws:eks/cluster:Cluster",
        {"deletionProtection": True, "tags": PROD_TAGS},
        {"deletionProtection": False, "tags": PROD_TAGS},
    ),
    (
        no_plaintext_secrets,
        "kubernetes:argoproj.io/v1alpha1:Application",
        {"spec": {"source": {"repoURL": "https://github.com/gigstack/gigstack.git"}}},
        {"spec": {"source": {"repoURL": "https://deploy:hunter2-token@github.com/gigstack/gigstack.git"}}},
    ),
    (
        no_plaintext_secrets,
        "kubernetes:core/v1:ConfigMap",
        {"data": {"INTERNAL_TOKEN_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----"}},
        {"data": {"SMTP_PASSWORD": "not-in-a-configmap"}},
    ),
    (
        no_plaintext_secrets,
        "kubernetes:core/v1:ConfigMap",
        {"data": {"LOG_LEVEL": "INFO"}},
        {"data": {"KEY": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"}},
    ),
    (
        no_plaintext_secrets,
        "kubernetes:apps/v1:StatefulSet",
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "env": [
                                    {
                                        "name": "REDIS_PASSWORD",
                                        "valueFrom": {"secretKeyRef": {"name": "redis", "key": "password"}},
                                    }
                                ]
                            }
                        ]
                    }
                }
            }
        },
        {
            "spec": {
                "template": {"spec": {"containers": [{"env": [{"name": "REDIS_PASSWORD", "value": "x"}]}]}}
            }
        },
    ),
]


@pytest.mark.parametrize(
    ("policy", "resource_type", "compliant", "violating"),
    CASES,
    ids=[f"{case[0].name}:{case[1].split(':')[-1]}:{index}" for index, case in enumerate(CASES)],
)
def test_policy_accepts_compliant_and_reports_violating(
    policy: Any, resource_type: Any, compliant: Any, violating: Any
) -> None:
    assert violations_of(policy, resource_type, compliant) == []
    assert violations_of(policy, resource_type, violating), (
        f"{policy.name} missed a violating {resource_type}"
    )


def test_production_safeguards_do_not_apply_outside_production() -> None:
    relaxed = {
        "multiAz": False,
        "deletionProtection": False,
        "backupRetentionPeriod": 1,
        "skipFinalSnapshot": True,
        "tags": TAGS,
    }
    assert violations_of(production_safeguards, RDS, relaxed) == []


def test_secret_carriers_may_hold_credentials() -> None:
    props = {"stringData": {"DATABASE_URL": "postgresql+asyncpg://order:pw-123@host:5432/order"}}
    assert violations_of(no_plaintext_secrets, "kubernetes:core/v1:Secret", props) == []


def test_every_policy_has_a_test_case() -> None:
    tested = {case[0].name for case in CASES}
    assert tested == {policy.name for policy in ALL_POLICIES}


def test_policy_module_import_returns_and_only_the_entry_point_builds_the_pack() -> None:
    """Building a PolicyPack starts a server and blocks; importing the policies must return at once."""
    completed = subprocess.run(
        [sys.executable, "-c", "import gigstack_platform.policies as p; print(len(p.ALL_POLICIES))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert completed.stdout.strip() == str(len(ALL_POLICIES))
    entry = (REPO_ROOT / "platform/policy/__main__.py").read_text()
    assert "PolicyPack(" in entry
    sources = (REPO_ROOT / "platform/src/gigstack_platform/policies").glob("*.py")
    assert not [path.name for path in sources if "PolicyPack(" in path.read_text()]


@pytest.mark.parametrize(("stack", "production"), [("eks", False), ("eks", True), ("minikube", False)])
def test_program_resources_pass_every_policy(build_stack: Any, stack: Any, production: Any) -> None:
    program = build_stack(stack, {"gigstack:production": production})
    failures = {
        f"{resource.name} ({policy.name})": found
        for resource in program.resources
        for policy in ALL_POLICIES
        if (found := violations_of(policy, resource.type, resource.inputs))
    }
    assert failures == {}
