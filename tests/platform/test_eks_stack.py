"""Invariants of the eks stack's resource graph, checked under Pulumi mocks with the real stack config."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from gigstack_platform.catalog import MEDIA_SERVICES, SERVICES, SERVICES_NAMESPACE, secret_keys

NODE_SG = "sg-eks-cluster"
STORE_TYPES = {
    "aws:rds/instance:Instance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:mq/broker:Broker",
    "aws:docdb/cluster:Cluster",
    "aws:opensearch/domain:Domain",
}


@pytest.fixture
def eks(build_stack: Any) -> Any:
    return build_stack("eks")


@pytest.fixture
def eks_production(build_stack: Any) -> Any:
    return build_stack("eks", {"gigstack:production": True})


def test_program_builds_under_sixty_seconds(eks: Any) -> None:
    assert eks.seconds < 60
    assert len(eks.of_type("aws:eks/cluster:Cluster")) == 1


def test_vpc_spans_three_zones_with_private_subnets(eks: Any) -> None:
    subnets = eks.of_type("aws:ec2/subnet:Subnet")
    private = [s for s in subnets if "-private-" in s.name]
    assert {s.inputs["availabilityZone"] for s in private} == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    assert all(s.inputs.get("mapPublicIpOnLaunch") is not True for s in private)
    # Default config: one NAT gateway; per_az gives one per zone.
    assert len(eks.of_type("aws:ec2/natGateway:NatGateway")) == 1


def test_nat_per_zone_by_config(build_stack: Any) -> None:
    run = build_stack("eks", {"gigstack:network": {"natGateways": "per_az"}})
    assert len(run.of_type("aws:ec2/natGateway:NatGateway")) == 3


def test_cluster_uses_access_entries_standard_support_logging_and_restricted_endpoint(eks: Any) -> None:
    cluster = eks.of_type("aws:eks/cluster:Cluster")[0].inputs
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    assert cluster["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is True
    assert cluster["upgradePolicy"]["supportType"] == "STANDARD"
    assert set(cluster["enabledClusterLogTypes"]) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True
    assert cluster["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    assert all("-private-" in subnet for subnet in cluster["vpcConfig"]["subnetIds"])


def test_open_public_endpoint_is_refused(build_stack: Any) -> None:
    with pytest.raises(ValueError, match="publicAccessCidrs"):
        build_stack(
            "eks", {"gigstack:cluster": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}}
        )


def test_system_and_app_node_groups_spot_optional(build_stack: Any, eks: Any) -> None:
    groups = {g.name: g.inputs for g in eks.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert set(groups) == {"eks-system", "eks-app"}
    assert groups["eks-app"]["capacityType"] == "ON_DEMAND"
    assert groups["eks-system"]["taints"][0]["key"] == "CriticalAddonsOnly"
    spot = build_stack(
        "eks", {"gigstack:cluster": {"publicAccessCidrs": ["198.51.100.0/24"], "appNodes": {"spot": True}}}
    )
    app = spot.one("aws:eks/nodeGroup:NodeGroup", "eks-app").inputs
    assert app["capacityType"] == "SPOT"


def test_controllers_that_call_aws_get_pod_identity_roles(eks: Any) -> None:
    associations = {
        (a.inputs["namespace"], a.inputs["serviceAccount"])
        for a in eks.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if a.inputs["namespace"] != SERVICES_NAMESPACE  # services' own roles: the media test below
    }
    assert associations == {
        ("external-secrets", "external-secrets"),
        ("kube-system", "aws-load-balancer-controller"),
        ("kube-system", "cluster-autoscaler"),
    }
    ebs = eks.one("aws:eks/addon:Addon", "eks-aws-ebs-csi-driver").inputs
    assert ebs["podIdentityAssociations"][0]["serviceAccount"] == "ebs-csi-controller-sa"
    addons = {a.inputs["addonName"] for a in eks.of_type("aws:eks/addon:Addon")}
    assert {"vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver"} <= addons


def test_every_store_is_encrypted_with_the_platform_key(eks: Any) -> None:
    key_arn = eks.one("aws:kms/key:Key", "platform-key").urn  # resource exists
    assert key_arn
    for rds in eks.of_type("aws:rds/instance:Instance"):
        assert rds.inputs["storageEncrypted"] is True
        assert rds.inputs["kmsKeyId"]
    redis = eks.of_type("aws:elasticache/replicationGroup:ReplicationGroup")[0].inputs
    assert redis["atRestEncryptionEnabled"]
    assert redis["transitEncryptionEnabled"]
    assert redis["kmsKeyId"]
    docdb = eks.of_type("aws:docdb/cluster:Cluster")[0].inputs
    assert docdb["storageEncrypted"] is True
    assert docdb["kmsKeyId"]
    search = eks.of_type("aws:opensearch/domain:Domain")[0].inputs
    assert search["encryptAtRest"]["enabled"]
    assert search["nodeToNodeEncryption"]["enabled"]
    assert search["domainEndpointOptions"]["enforceHttps"] is True
    mq = eks.of_type("aws:mq/broker:Broker")[0].inputs
    assert mq["encryptionOptions"]["useAwsOwnedKey"] is True  # RabbitMQ accepts only AWS-owned keys
    sse = eks.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )[0].inputs
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    for repo in eks.of_type("aws:ecr/repository:Repository"):
        assert repo.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"
    for secret in eks.of_type("aws:secretsmanager/secret:Secret"):
        assert secret.inputs["kmsKeyId"]


def test_stores_sit_in_private_subnets_and_are_not_public(eks: Any) -> None:
    for group_type in (
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:docdb/subnetGroup:SubnetGroup",
    ):
        for group in eks.of_type(group_type):
            assert group.inputs["subnetIds"]
            assert all("-private-" in s for s in group.inputs["subnetIds"])
    for rds in eks.of_type("aws:rds/instance:Instance"):
        assert rds.inputs["publiclyAccessible"] is False
    mq = eks.of_type("aws:mq/broker:Broker")[0].inputs
    assert mq["publiclyAccessible"] is False
    assert all("-private-" in s for s in mq["subnetIds"])
    search = eks.of_type("aws:opensearch/domain:Domain")[0].inputs
    assert all("-private-" in s for s in search["vpcOptions"]["subnetIds"])
    block = eks.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0].inputs
    assert all(
        block[f] is True
        for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )


def test_store_security_groups_admit_only_the_node_security_group(eks: Any) -> None:
    store_groups = {f"{g.name}-id" for g in eks.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert len(store_groups) == 6
    for group in eks.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert group.inputs.get("ingress") in (None, [])
        assert group.inputs.get("egress") in (None, [])  # [] removes AWS's default allow-all egress
    rules = eks.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert {r.inputs["securityGroupId"] for r in rules} == store_groups
    for rule in rules:
        assert rule.inputs["referencedSecurityGroupId"] == NODE_SG
        assert "cidrIpv4" not in rule.inputs
        assert "cidrIpv6" not in rule.inputs
    attached = set()
    for rds in eks.of_type("aws:rds/instance:Instance"):
        attached.update(rds.inputs["vpcSecurityGroupIds"])
    attached.update(
        eks.of_type("aws:elasticache/replicationGroup:ReplicationGroup")[0].inputs["securityGroupIds"]
    )
    attached.update(eks.of_type("aws:mq/broker:Broker")[0].inputs["securityGroups"])
    attached.update(eks.of_type("aws:docdb/cluster:Cluster")[0].inputs["vpcSecurityGroupIds"])
    attached.update(eks.of_type("aws:opensearch/domain:Domain")[0].inputs["vpcOptions"]["securityGroupIds"])
    assert attached == store_groups


@pytest.mark.parametrize("production", [False, True])
def test_production_switch_drives_multi_az_protection_backups_and_snapshots(
    build_stack: Any, production: Any
) -> None:
    run = build_stack("eks", {"gigstack:production": production})
    for rds in run.of_type("aws:rds/instance:Instance"):
        assert rds.inputs["multiAz"] is production
        assert rds.inputs["deletionProtection"] is production
        assert rds.inputs["skipFinalSnapshot"] is (not production)
        assert rds.inputs["backupRetentionPeriod"] == (7 if production else 1)
        assert ("finalSnapshotIdentifier" in rds.inputs) is production
    docdb = run.of_type("aws:docdb/cluster:Cluster")[0].inputs
    assert docdb["deletionProtection"] is production
    assert docdb["skipFinalSnapshot"] is (not production)
    assert len(run.of_type("aws:docdb/clusterInstance:ClusterInstance")) == (2 if production else 1)
    redis = run.of_type("aws:elasticache/replicationGroup:ReplicationGroup")[0].inputs
    assert redis["multiAzEnabled"] is production
    assert redis["automaticFailoverEnabled"] is production
    assert redis["numCacheClusters"] == (2 if production else 1)
    mq = run.of_type("aws:mq/broker:Broker")[0].inputs
    assert mq["deploymentMode"] == ("CLUSTER_MULTI_AZ" if production else "SINGLE_INSTANCE")
    search = run.of_type("aws:opensearch/domain:Domain")[0].inputs
    assert search["clusterConfig"]["zoneAwarenessEnabled"] is production
    cluster = run.of_type("aws:eks/cluster:Cluster")[0].inputs
    assert cluster["deletionProtection"] is production
    for resource in run.resources:
        if resource.type.startswith("aws:") and "tags" in resource.inputs:
            assert resource.inputs["tags"]["Production"] == ("true" if production else "false")


def _service_settings(run: Any) -> dict[str, dict[str, str]]:
    versions = {
        v.name.removeprefix("data-stores-"): v
        for v in run.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    }
    return {service: json.loads(version.inputs["secretString"]) for service, version in versions.items()}


def test_every_owning_service_gets_exactly_its_store(eks: Any) -> None:
    names = {s.inputs["name"] for s in eks.of_type("aws:secretsmanager/secret:Secret")}
    assert names == {f"gigstack/eks/{service}" for service in SERVICES}
    settings = _service_settings(eks)
    assert set(settings) == set(SERVICES)
    for service in SERVICES:
        assert sorted(settings[service]) == secret_keys(service)
    host = {
        service: {key: urlsplit(value).hostname for key, value in values.items() if "://" in value}
        for service, values in settings.items()
    }
    assert host["order"]["DATABASE_URL"] == "gigstack-eks-order.rds.mock"
    assert host["review"]["DATABASE_URL"] == "gigstack-eks-review.rds.mock"
    assert host["auth"]["DATABASE_URL"] == "gigstack-eks-auth.rds.mock"
    assert settings["auth"]["DATABASE_URL"].startswith("mysql+asyncmy://")
    assert settings["order"]["DATABASE_URL"].startswith("postgresql+asyncpg://")
    for service in ("users", "gig", "chat"):
        assert host[service]["MONGODB_URL"] == "docdb.mock"
        assert urlsplit(settings[service]["MONGODB_URL"]).path == f"/{service}"
    assert host["gig"]["SEARCH_URL"] == "vpc-search.es.mock"
    assert urlsplit(settings["gateway"]["REDIS_URL"]).path == "/0"
    assert urlsplit(settings["notification"]["REDIS_URL"]).path == "/1"
    assert {host[s]["AMQP_URL"] for s in SERVICES} == {"b-1.mq.mock"}
    # One RDS server per relational owner, nothing for services that own no relational store; not the
    # bare service name (`order` is reserved, tests/platform/test_database_names.py).
    assert {r.inputs["dbName"] for r in eks.of_type("aws:rds/instance:Instance")} == {
        "order_db",
        "review_db",
        "auth_db",
    }


def test_secrets_are_secret_outputs_and_never_plaintext_elsewhere(eks: Any) -> None:
    for version in eks.of_type("aws:secretsmanager/secretVersion:SecretVersion"):
        assert "secretString" in version.secret_inputs
    for rds in eks.of_type("aws:rds/instance:Instance"):
        assert "password" in rds.secret_inputs
    for user in eks.of_type("aws:elasticache/user:User"):
        assert "authenticationMode" in user.secret_inputs
    assert "masterPassword" in eks.of_type("aws:docdb/cluster:Cluster")[0].secret_inputs
    assert "users" in eks.of_type("aws:mq/broker:Broker")[0].secret_inputs
    assert "advancedSecurityOptions" in eks.of_type("aws:opensearch/domain:Domain")[0].secret_inputs
    passwords = [f"Pw-{p.name}-0" for p in eks.of_type("random:index/randomPassword:RandomPassword")]
    for resource in eks.resources:
        for key, value in resource.inputs.items():
            if key in resource.secret_inputs:
                continue
            text = json.dumps(value, default=str)
            assert not any(p in text for p in passwords), f"{resource.name}.{key} carries a password in clear"


def test_required_tags_on_every_tagged_aws_resource(eks: Any) -> None:
    tagged = [r for r in eks.resources if r.type.startswith("aws:") and "tags" in r.inputs]
    assert len(tagged) > 40
    for resource in tagged:
        assert {"Project", "Stack", "Environment", "ManagedBy", "Production"} <= set(resource.inputs["tags"])


def test_search_engine_can_run_in_cluster(build_stack: Any) -> None:
    run = build_stack("eks", {"gigstack:stores": {"searchEngine": "elasticsearch"}})
    assert run.of_type("aws:opensearch/domain:Domain") == []
    search = run.one(
        "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", "in-cluster-search-gig-search"
    )
    assert search.inputs["metadata"]["namespace"] == "gigstack-data"
    settings = _service_settings(run)
    assert urlsplit(settings["gig"]["SEARCH_URL"]).hostname == "gig-search-es-http.gigstack-data.svc"


def test_admin_principals_get_access_entries(build_stack: Any) -> None:
    admin = "arn:aws:iam::123456789012:role/platform-admins"
    run = build_stack(
        "eks", {"gigstack:cluster": {"publicAccessCidrs": ["198.51.100.0/24"], "adminPrincipalArns": [admin]}}
    )
    entry = run.one("aws:eks/accessEntry:AccessEntry", "eks-admin-0").inputs
    assert entry["principalArn"] == admin
    association = run.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "eks-admin-0").inputs
    assert association["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")
    assert association["accessScope"] == {"type": "cluster"}


def test_media_services_get_least_privilege_access_to_the_uploads_bucket(eks: Any) -> None:
    bucket = eks.one("aws:s3/bucket:Bucket", "artifacts-uploads")
    arn = f"arn:aws:s3:::{bucket.inputs['bucketPrefix']}mock"
    associations = {
        a.inputs["serviceAccount"]: a
        for a in eks.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if a.inputs["namespace"] == SERVICES_NAMESPACE
    }
    assert set(associations) == set(MEDIA_SERVICES)
    assert "gig" in MEDIA_SERVICES
    policies = {p.name: json.loads(p.inputs["policy"]) for p in eks.of_type("aws:iam/rolePolicy:RolePolicy")}
    statements = {s["Sid"]: s for s in policies["media-access-gig-inline"]["Statement"]}
    assert statements["MediaObjects"]["Action"] == ["s3:PutObject", "s3:GetObject"]
    assert statements["MediaObjects"]["Resource"] == [
        f"{arn}/{area}/*" for area in ("gigs", "chat", "deliveries")
    ]
    assert statements["MediaListing"]["Resource"] == arn
    assert statements["MediaListing"]["Condition"]["StringLike"]["s3:prefix"] == [
        "gigs/*",
        "chat/*",
        "deliveries/*",
    ]
    every_action = {action for s in statements.values() for action in s["Action"]}
    assert not any(action.endswith("*") or "Delete" in action for action in every_action)
    assert _service_settings(eks)["gig"]["OBJECT_STORE_BUCKET"] == bucket.inputs["bucketPrefix"] + "mock"


def test_the_uploads_bucket_takes_browser_posts_and_cleans_up_abandoned_uploads(eks: Any) -> None:
    cors = eks.one("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", "artifacts-uploads").inputs
    [rule] = cors["corsRules"]
    assert "POST" in rule["allowedMethods"]
    assert "PUT" not in rule["allowedMethods"]
    assert "*" not in rule["allowedOrigins"]
    lifecycle = eks.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "artifacts-uploads"
    ).inputs
    rules = {r["id"]: r for r in lifecycle["rules"]}
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {
        "daysAfterInitiation": 1
    }
    assert rules["expire-replaced-versions"]["noncurrentVersionExpiration"]["noncurrentDays"] == 30
    versioning = eks.one("aws:s3/bucketVersioning:BucketVersioning", "artifacts-uploads").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"


def test_redis_uses_rbac_users_one_per_service_and_no_shared_token(eks: Any) -> None:
    (group,) = eks.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
    assert "authToken" not in group.inputs
    (user_group,) = eks.of_type("aws:elasticache/userGroup:UserGroup")
    assert group.inputs["userGroupIds"] == [user_group.inputs["userGroupId"]]
    users = {u.inputs["userName"]: u.inputs for u in eks.of_type("aws:elasticache/user:User")}
    assert set(users) == {"default", "admin", "gateway", "notification", "storefront"}
    assert sorted(user_group.inputs["userIds"]) == sorted(u["userId"] for u in users.values())
    assert users["default"]["accessString"].startswith("off")
    assert users["gateway"]["accessString"].startswith("on ~gw:* ")
    assert users["notification"]["accessString"].startswith("on ~notification:* ")
    assert users["storefront"]["accessString"].startswith("on ~sf:* ")
    for service in ("gateway", "notification", "storefront"):
        assert "-@dangerous" in users[service]["accessString"]
        assert "~*" not in users[service]["accessString"]
    settings = _service_settings(eks)
    assert urlsplit(settings["gateway"]["REDIS_URL"]).username == "gateway"
    assert urlsplit(settings["notification"]["REDIS_URL"]).username == "notification"
    assert settings["gateway"]["REDIS_URL"].startswith("rediss://")
