"""Alerts that can fire are alerts someone receives: unscrapable control-plane targets are off on both
install paths, and `severity: page` alerts of observability/prometheus/rules reach the configured webhook."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from gigstack_platform.kube.alerting import CONFIG_KEY, CONFIG_SECRET, alertmanager_config
from gigstack_platform.kube.monitoring_values import UNSCRAPABLE_COMPONENTS

REPO_ROOT = Path(__file__).resolve().parents[2]
KPS_APPSET = REPO_ROOT / "gitops/argocd/addons/applicationset-kube-prometheus-stack.yaml"
GO_TEMPLATE = re.compile(r"\{\{-?[^}]*\}\}")


def scrape_problems(values: dict[str, Any]) -> list[str]:
    problems = [f"{c} is scraped" for c in UNSCRAPABLE_COMPONENTS if values.get(c, {}).get("enabled", True)]
    if values.get("alertmanager", {}).get("alertmanagerSpec", {}).get("configSecret") != CONFIG_SECRET:
        problems.append("Alertmanager does not read the program's config Secret")
    return problems


def argocd_values() -> dict[str, Any]:
    appset = yaml.safe_load(KPS_APPSET.read_text())
    values = appset["spec"]["template"]["spec"]["sources"][0]["helm"]["values"]
    parsed: dict[str, Any] = yaml.safe_load(GO_TEMPLATE.sub("", values))
    return parsed


def paged_alerts() -> list[str]:
    names = []
    for path in (REPO_ROOT / "observability" / "prometheus" / "rules").glob("*.rules.yaml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            names += [r["alert"] for r in group["rules"] if r.get("labels", {}).get("severity") == "page"]
    return names


def receiver_of(config: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """First matching child route's receiver (Alertmanager's default `continue: false`)."""
    name = config["route"]["receiver"]
    for route in config["route"].get("routes", []):
        pairs = [re.fullmatch(r'(\w+)="([^"]*)"', m) for m in route.get("matchers", [])]
        if all(p and labels.get(p[1]) == p[2] for p in pairs):
            name = route["receiver"]
            break
    receiver: dict[str, Any] = next(r for r in config["receivers"] if r["name"] == name)
    return receiver


@pytest.mark.parametrize("stack", ["minikube", "eks"])
def test_pulumi_installed_stack_scrapes_only_what_it_can(build_stack: Any, stack: str) -> None:
    run = build_stack(stack)
    (chart,) = [
        c.inputs
        for c in run.of_type("kubernetes:helm.sh/v4:Chart")
        if c.inputs["chart"] == "kube-prometheus-stack"
    ]
    assert scrape_problems(chart["values"]) == []


def test_argocd_installed_stack_scrapes_only_what_it_can() -> None:
    assert scrape_problems(argocd_values()) == []


def test_planted_scraped_kube_proxy_is_reported() -> None:
    values = {**argocd_values(), "kubeProxy": {"enabled": True}}
    assert scrape_problems(values) == ["kubeProxy is scraped"]


@pytest.mark.parametrize("installed_by", ["pulumi", "argocd"])
def test_config_secret_exists_whoever_installs_monitoring(build_stack: Any, installed_by: str) -> None:
    url = "https://events.example.net/alertmanager"
    run = build_stack(
        "minikube", {"gigstack:monitoring": {"installedBy": installed_by}, "gigstack:alertWebhookUrl": url}
    )
    (secret,) = [
        s.inputs
        for s in run.of_type("kubernetes:core/v1:Secret")
        if s.inputs["metadata"] == {"name": CONFIG_SECRET, "namespace": "monitoring"}
    ]
    config = yaml.safe_load(secret["stringData"][CONFIG_KEY])
    assert paged_alerts(), "the SLO rules page on something"
    for alert in paged_alerts():
        receiver = receiver_of(config, {"alertname": alert, "severity": "page"})
        assert receiver["webhook_configs"][0]["url"] == url, alert


def test_without_a_webhook_nothing_is_sent() -> None:
    config = alertmanager_config("")
    assert receiver_of(config, {"severity": "page"}) == {"name": "null"}
