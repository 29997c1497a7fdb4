"""The AWS Load Balancer Controller's role carries the upstream policy of the version Argo CD installs.

platform/vendor/aws-load-balancer-controller/iam_policy.json must be the upstream file byte for byte (git
blob hash of docs/install/iam_policy.json at the tag), and the role must grant every (action, condition)
pair that document grants: a shortened policy blocks ALB creation only on AWS, so it is caught here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from gigstack_platform.aws.iam import (
    LOAD_BALANCER_CONTROLLER_POLICY_FILE,
    LOAD_BALANCER_CONTROLLER_VERSION,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
# `git rev-parse v2.13.4:docs/install/iam_policy.json` in kubernetes-sigs/aws-load-balancer-controller.
UPSTREAM_BLOB = "761d0e733c41089c91ea009dd29faf71918085e5"
APPLICATIONSET = REPO_ROOT / "gitops/argocd/addons/applicationset-aws-load-balancer-controller.yaml"


def git_blob_hash(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def grants(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(action, resource, condition) triples with Allow, one per action, conditions in canonical JSON."""
    found = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        resources = statement.get("Resource", "*")
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [resources] if isinstance(resources, str) else resources:
                condition = json.dumps(statement.get("Condition", {}), sort_keys=True)
                found.add((action, resource, condition))
    return found


def upstream() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(LOAD_BALANCER_CONTROLLER_POLICY_FILE.read_text())
    return document


def test_vendored_policy_is_the_upstream_file() -> None:
    assert git_blob_hash(LOAD_BALANCER_CONTROLLER_POLICY_FILE.read_bytes()) == UPSTREAM_BLOB


def test_policy_version_is_the_one_the_chart_installs() -> None:
    appset = yaml.safe_load(APPLICATIONSET.read_text())
    (source,) = appset["spec"]["template"]["spec"]["sources"]
    # Chart 1.X.Y ships controller v2.X.Y (the chart's appVersion).
    assert source["targetRevision"].split(".")[1:] == LOAD_BALANCER_CONTROLLER_VERSION.split(".")[1:]
    readme = (LOAD_BALANCER_CONTROLLER_POLICY_FILE.parent / "README.md").read_text()
    assert f"`{LOAD_BALANCER_CONTROLLER_VERSION}`" in readme
    assert UPSTREAM_BLOB in readme


def test_role_grants_everything_upstream_grants(build_stack: Any) -> None:
    eks = build_stack("eks")
    (policy,) = [
        r
        for r in eks.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name.endswith("aws-load-balancer-controller-inline")
    ]
    ours = json.loads(policy.inputs["policy"])
    assert grants(upstream()) - grants(ours) == set()
    assert ours == upstream()


def test_a_shortened_policy_is_reported() -> None:
    """The planted defect: CreateSecurityGroup only with a CreateAction condition, no SetRulePriorities."""
    document = upstream()
    shortened = {
        "Statement": [
            s
            for s in document["Statement"]
            if s["Action"] != ["ec2:CreateSecurityGroup"]
            and "elasticloadbalancing:SetRulePriorities" not in s["Action"]
        ]
    }
    missing = {action for action, _, _ in grants(document) - grants(shortened)}
    assert {"ec2:CreateSecurityGroup", "elasticloadbalancing:SetRulePriorities"} <= missing
