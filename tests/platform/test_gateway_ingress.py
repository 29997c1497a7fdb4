"""The public gateway on eks: one explicit host in the stack config and the overlay, an ACM certificate for
it, and pods the ALB waits for (the controller's readiness-gate webhook, rendered from its vendored chart,
selects the services' namespace)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from chart_render import render_chart

REPO_ROOT = Path(__file__).resolve().parents[2]
APPSET = REPO_ROOT / "gitops/argocd/addons/applicationset-aws-load-balancer-controller.yaml"


def eks_ingress() -> dict[str, Any]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(REPO_ROOT / "environments" / "eks")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    ingresses: list[dict[str, Any]] = [
        d for d in yaml.safe_load_all(result.stdout) if d and d["kind"] == "Ingress"
    ]
    (ingress,) = ingresses
    return ingress


def config_host() -> str:
    raw = yaml.safe_load((REPO_ROOT / "environments/eks/Pulumi.eks.yaml").read_text())["config"]
    host: str = raw["gigstack:ingress"]["host"]
    return host


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        if expression["operator"] == "In" and value not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and value in expression["values"]:
            return False
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def test_overlay_host_is_the_configured_host() -> None:
    ingress = eks_ingress()
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == [config_host()]
    assert ingress["spec"]["tls"][0]["hosts"] == [config_host()]
    assert ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/target-type"] == "ip"


def test_certificate_for_the_host_is_requested(build_stack: Any) -> None:
    run = build_stack("eks")
    (certificate,) = run.of_type("aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == config_host()
    assert certificate.inputs["validationMethod"] == "DNS"
    assert run.of_type("aws:acm/certificateValidation:CertificateValidation") == []


def test_hosted_zone_makes_the_program_validate_it(build_stack: Any) -> None:
    run = build_stack(
        "eks", {"gigstack:ingress": {"host": config_host(), "hostedZoneId": "Z0123456789ABCDEFGHIJ"}}
    )
    (record,) = run.of_type("aws:route53/record:Record")
    assert record.inputs["zoneId"] == "Z0123456789ABCDEFGHIJ"
    assert record.inputs["type"] == "CNAME"
    (validation,) = run.of_type("aws:acm/certificateValidation:CertificateValidation")
    assert validation.inputs["validationRecordFqdns"] == [record.inputs["name"].rstrip(".")]


def _pod_webhook_selector(tmp_path: Path) -> dict[str, Any]:
    appset = yaml.safe_load(APPSET.read_text())
    values = yaml.safe_load(
        appset["spec"]["template"]["spec"]["sources"][0]["helm"]["values"].replace("{{", "").replace("}}", "")
    )
    rendering = render_chart(
        "aws-load-balancer-controller", "aws-load-balancer-controller", "kube-system", values, tmp_path
    )
    (webhooks,) = [d for d in rendering.applied if d["kind"] == "MutatingWebhookConfiguration"]
    (pod_webhook,) = [w for w in webhooks["webhooks"] if w["name"] == "mpod.elbv2.k8s.aws"]
    selector: dict[str, Any] = pod_webhook["namespaceSelector"]
    return selector


def _services_namespace_labels(run: Any) -> dict[str, str]:
    (namespace,) = [
        n for n in run.of_type("kubernetes:core/v1:Namespace") if n.inputs["metadata"]["name"] == "gigstack"
    ]
    labels: dict[str, str] = namespace.inputs["metadata"]["labels"]
    return labels


def test_readiness_gate_webhook_selects_the_services_namespace(build_stack: Any, tmp_path: Path) -> None:
    selector = _pod_webhook_selector(tmp_path)
    assert selects(selector, _services_namespace_labels(build_stack("eks")))
    # The planted defect: the namespace as it was (minikube still has no controller, so no label).
    assert not selects(selector, _services_namespace_labels(build_stack("minikube")))
