"""From an empty account to the first release: the delivery role the deliver workflow assumes exists and can
push, and the workloads stay disabled until the release pointer names pushed images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from gigstack_platform import program
from gigstack_platform.aws.delivery import ECR_PUSH_ACTIONS, GITHUB_OIDC_HOST
from gigstack_platform.release import first_release_published, release_file

REPO_ROOT = Path(__file__).resolve().parents[2]
DELIVER = REPO_ROOT / ".github" / "workflows" / "deliver.yaml"


def _labels(run: Any) -> dict[str, str]:
    (secret,) = [
        s for s in run.of_type("kubernetes:core/v1:Secret") if s.inputs["metadata"]["name"] == "gigstack-eks"
    ]
    labels: dict[str, str] = secret.inputs["metadata"]["labels"]
    return labels


def _release(tmp_path: Path, registry: str, tag: str) -> Path:
    path = tmp_path / "release.yaml"
    path.write_text(yaml.safe_dump({"kind": "ConfigMap", "data": {"registry": registry, "tag": tag}}))
    return path


def test_placeholder_release_is_not_published(tmp_path: Path) -> None:
    assert not first_release_published(release_file("eks"))
    assert not first_release_published(_release(tmp_path, "123456789012.dkr.ecr.x/gigstack", "bootstrap"))
    assert not first_release_published(_release(tmp_path, "000000000000.dkr.ecr.x/gigstack", "abc123"))
    assert first_release_published(_release(tmp_path, "123456789012.dkr.ecr.x/gigstack", "abc123"))
    assert first_release_published(tmp_path / "absent.yaml")  # minikube: no pointer, local images


def test_workloads_wait_for_the_first_release(
    build_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _labels(build_stack("eks"))["enable_gigstack"] == "false"
    published = _release(tmp_path, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/gigstack", "0a1b2c3")
    monkeypatch.setattr(program, "release_file", lambda stack: published)
    assert _labels(build_stack("eks"))["enable_gigstack"] == "true"


def test_minikube_workloads_are_enabled(build_stack: Any) -> None:
    (secret,) = [
        s
        for s in build_stack("minikube").of_type("kubernetes:core/v1:Secret")
        if s.inputs["metadata"]["name"] == "gigstack-minikube"
    ]
    assert secret.inputs["metadata"]["labels"]["enable_gigstack"] == "true"


def test_delivery_role_trusts_only_the_deliver_workflow_branch(build_stack: Any) -> None:
    run = build_stack("eks")
    (provider,) = run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == f"https://{GITHUB_OIDC_HOST}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    (role,) = [r for r in run.of_type("aws:iam/role:Role") if r.name == "delivery-role"]
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    workflow = yaml.safe_load(DELIVER.read_text())
    (branch,) = workflow[True]["push"]["branches"]  # YAML 1.1 reads the `on:` key as True
    assert statement["Condition"]["StringEquals"] == {
        f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
        f"{GITHUB_OIDC_HOST}:sub": f"repo:gigstack/gigstack:ref:refs/heads/{branch}",
    }


def test_delivery_role_may_push_what_the_workflow_pushes(build_stack: Any) -> None:
    run = build_stack("eks")
    (policy,) = [p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == "delivery-push"]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    granted = {(a, s["Resource"]) for s in statements for a in s["Action"]}
    assert ("ecr:GetAuthorizationToken", "*") in granted
    repositories = "arn:aws:ecr:eu-west-1:123456789012:repository/gigstack/*"
    assert {(a, repositories) for a in ECR_PUSH_ACTIONS} <= granted
    text = DELIVER.read_text()
    assert "role-to-assume: ${{ vars.AWS_DELIVERY_ROLE_ARN }}" in text
    assert "delivery_role_arn" in text, "the workflow's header names the stack output to copy"


def test_existing_oidc_provider_is_reused(build_stack: Any) -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    run = build_stack("eks", {"gigstack:delivery": {"oidcProviderArn": arn}})
    assert run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    (role,) = [r for r in run.of_type("aws:iam/role:Role") if r.name == "delivery-role"]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]["Federated"] == arn
