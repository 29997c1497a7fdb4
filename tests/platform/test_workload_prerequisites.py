"""What the GitOps manifests expect the platform to have created before Argo CD syncs the workloads.

Each test pairs a platform resource with the manifest (or contract) that relies on it, so a rename on either
side fails here: the RDS CA bundle ConfigMap, the mail catcher, the namespace's Pod Security level, the VPC
CNI's network-policy agent and the SES SMTP credentials.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from gigstack_platform.config import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_BUNDLE = Path(__file__).resolve().parent / "data" / "test-rds-ca-bundle.pem"
RESTRICTED = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}


@pytest.fixture
def eks(build_stack: Any) -> Any:
    return build_stack(
        "eks", {"gigstack:smtpUsername": "AKIAIOSFODNN7EXAMPLE", "gigstack:smtpPassword": "BExampleSesPw1"}
    )


@pytest.fixture
def minikube(build_stack: Any) -> Any:
    return build_stack("minikube")


def _in(run: Any, type_: str, namespace: str, name: str) -> list[Any]:
    return [
        r
        for r in run.of_type(type_)
        if r.inputs["metadata"].get("namespace") == namespace and r.inputs["metadata"]["name"] == name
    ]


def _secret_settings(run: Any, service: str) -> dict[str, str]:
    version = run.one("aws:secretsmanager/secretVersion:SecretVersion", f"data-stores-{service}")
    assert "secretString" in version.secret_inputs
    settings: dict[str, str] = json.loads(version.inputs["secretString"])
    return settings


def _rds_ca_mount() -> tuple[str, str, str]:
    """(ConfigMap name, key, mount path) as gitops/components/stores-aws-managed mounts the bundle."""
    patch = yaml.safe_load(
        (REPO_ROOT / "gitops/components/stores-aws-managed/rds-ca-bundle-mount.yaml").read_text()
    )
    volume = next(op["value"] for op in patch if op["path"].endswith("/volumes/-"))
    mount = next(op["value"] for op in patch if op["path"].endswith("/volumeMounts/-"))
    assert mount["subPath"] == volume["configMap"]["items"][0]["path"]
    return volume["configMap"]["name"], volume["configMap"]["items"][0]["key"], mount["mountPath"]


def test_eks_publishes_the_rds_ca_bundle_that_the_overlay_mounts(eks: Any) -> None:
    name, key, mount_path = _rds_ca_mount()
    configmaps = _in(eks, "kubernetes:core/v1:ConfigMap", "gigstack", name)
    assert len(configmaps) == 1
    assert configmaps[0].inputs["data"] == {key: TEST_BUNDLE.read_text()}
    # The ConfigMap exists before Argo CD starts syncing pods that mount it.
    root_app = eks.one("kubernetes:argoproj.io/v1alpha1:Application", "argocd-root")
    assert eks.depends_on(root_app, configmaps[0])
    # The URLs that verify TLS point at the mounted file.
    mysql = urlsplit(_secret_settings(eks, "auth")["DATABASE_URL"])
    assert parse_qs(mysql.query)["ssl_ca"] == [mount_path]
    for service in ("users", "gig", "chat"):
        mongo = urlsplit(_secret_settings(eks, service)["MONGODB_URL"])
        assert parse_qs(mongo.query)["tlsCAFile"] == [mount_path]


def test_minikube_has_no_rds_ca_bundle(minikube: Any) -> None:
    name, _, _ = _rds_ca_mount()
    assert _in(minikube, "kubernetes:core/v1:ConfigMap", "gigstack", name) == []


@pytest.mark.parametrize(
    ("path", "content", "message"),
    [
        ("does-not-exist.pem", None, "does not exist"),
        ("empty.pem", "not a certificate\n", "holds no PEM certificate"),
    ],
)
def test_eks_refuses_a_missing_or_empty_ca_bundle_when_the_program_runs(
    build_stack: Any, tmp_path: Path, path: str, content: str | None, message: str
) -> None:
    bundle = tmp_path / path
    if content is not None:
        bundle.write_text(content)
    with pytest.raises(ConfigError, match=rf"rdsCaBundleFile.*{message}.*runbook-eks\.md"):
        build_stack("eks", {"gigstack:rdsCaBundleFile": str(bundle)})


def test_eks_requires_the_ca_bundle_setting(build_stack: Any) -> None:
    with pytest.raises(ConfigError, match="rdsCaBundleFile is required"):
        build_stack("eks", {"gigstack:rdsCaBundleFile": ""})


def test_minikube_runs_the_mail_catcher_the_overlay_sends_to(minikube: Any) -> None:
    services = _in(minikube, "kubernetes:core/v1:Service", "gigstack-data", "mailpit")
    assert len(services) == 1
    ports = {p["name"]: p["port"] for p in services[0].inputs["spec"]["ports"]}
    assert ports == {"smtp": 1025, "http": 8025}
    smtp = yaml.safe_load((REPO_ROOT / "environments/minikube/notification-smtp.yaml").read_text())["data"]
    assert smtp["SMTP_HOST"].split(".")[:2] == ["mailpit", "gigstack-data"]
    assert int(smtp["SMTP_PORT"]) == ports["smtp"]
    (deployment,) = _in(minikube, "kubernetes:apps/v1:Deployment", "gigstack-data", "mailpit")
    template = deployment.inputs["spec"]["template"]
    assert services[0].inputs["spec"]["selector"].items() <= template["metadata"]["labels"].items()
    pod = template["spec"]
    (container,) = pod["containers"]
    assert re.fullmatch(r"axllent/mailpit:v\d+\.\d+\.\d+", container["image"])
    assert {p["containerPort"] for p in container["ports"]} == {1025, 8025}
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["runAsUser"] != 0
    assert container["resources"]["limits"]["memory"]
    assert container["readinessProbe"]["httpGet"]["port"] == "http"


def test_eks_sends_through_ses_and_runs_no_mail_catcher(eks: Any) -> None:
    assert not [r for r in eks.resources if r.inputs.get("metadata", {}).get("name") == "mailpit"]


@pytest.mark.parametrize("stack", ["minikube", "eks"])
def test_services_namespace_enforces_the_restricted_pod_security_standard(
    build_stack: Any, stack: str
) -> None:
    run = build_stack(stack)
    namespaces = {n.inputs["metadata"]["name"]: n.inputs for n in run.of_type("kubernetes:core/v1:Namespace")}
    assert RESTRICTED.items() <= namespaces["gigstack"]["metadata"]["labels"].items()
    # Operators and charts in the other namespaces are not ours to hold to "restricted".
    assert "pod-security.kubernetes.io/enforce" not in namespaces["gigstack-data"]["metadata"]["labels"]


def test_vpc_cni_enforces_network_policies(eks: Any) -> None:
    vpc_cni = eks.one("aws:eks/addon:Addon", "eks-vpc-cni").inputs
    assert json.loads(vpc_cni["configurationValues"]) == {"enableNetworkPolicy": "true"}
    # Pods start on nodes only after the CNI (with its policy agent) is configured.
    for group in eks.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert eks.depends_on(group, eks.one("aws:eks/addon:Addon", "eks-vpc-cni"))


def test_notification_secret_carries_the_ses_smtp_credentials(eks: Any) -> None:
    settings = _secret_settings(eks, "notification")
    assert settings["SMTP_USERNAME"] == "AKIAIOSFODNN7EXAMPLE"
    assert settings["SMTP_PASSWORD"] == "BExampleSesPw1"
    contract = (REPO_ROOT / "docs/contracts.md").read_text()
    assert re.search(r"`gigstack/<stack>/notification`[^\n]*`SMTP_USERNAME`", contract)


def test_minikube_notification_secret_has_empty_smtp_credentials(minikube: Any) -> None:
    (secret,) = _in(minikube, "kubernetes:core/v1:Secret", "gigstack", "notification-secrets")
    entries = secret.inputs["stringData"]
    # Mailpit needs no login; an empty user name makes the service skip SMTP AUTH.
    assert entries["SMTP_USERNAME"] == entries["SMTP_PASSWORD"] == ""


def test_minikube_runbook_starts_a_cni_that_enforces_network_policies() -> None:
    """The minikube overlay's default-deny and store egress policies mean nothing on a non-enforcing CNI."""
    runbook = (REPO_ROOT / "docs/platform/runbook-minikube.md").read_text()
    starts = re.findall(r"`(minikube start [^`]*)`", runbook)
    assert starts
    assert all(re.search(r"--cni[= ](calico|cilium)\b", start) for start in starts), starts
