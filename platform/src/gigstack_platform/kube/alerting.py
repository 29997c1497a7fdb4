"""AlertmanagerConfig: Alertmanager's whole configuration as a Secret the Prometheus operator loads.

kube-prometheus-stack points Alertmanager at it (`alertmanager.alertmanagerSpec.configSecret`) on both install
paths (kube/monitoring_values.py, gitops/argocd/addons/applicationset-kube-prometheus-stack.yaml), so the
receiver URL, a credential, stays out of Git and out of chart values. Alerts labelled `severity: page`
(observability/prometheus/rules) go to the webhook in `gigstack:alertWebhookUrl`; without one they go nowhere
and the program warns.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from gigstack_platform.catalog import MONITORING_NAMESPACE

CONFIG_SECRET = "alertmanager-gigstack"  # noqa: S105 - a Secret name
CONFIG_KEY = "alertmanager.yaml"
PAGED_SEVERITIES = ("page",)


def alertmanager_config(webhook_url: str) -> dict[str, Any]:
    receivers: list[dict[str, Any]] = [{"name": "null"}]
    routes: list[dict[str, Any]] = []
    if webhook_url:
        receivers.append({"name": "pager", "webhook_configs": [{"url": webhook_url, "send_resolved": True}]})
        routes = [
            {"receiver": "pager", "matchers": [f'severity="{severity}"'], "repeat_interval": "1h"}
            for severity in PAGED_SEVERITIES
        ]
    return {
        "route": {
            "receiver": "null",
            "group_by": ["alertname", "service"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "12h",
            "routes": routes,
        },
        "receivers": receivers,
    }


class AlertmanagerConfig(pulumi.ComponentResource):
    def __init__(
        self, name: str, webhook_url: pulumi.Output[str], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gigstack:kube:AlertmanagerConfig", name, None, opts)

        def render(url: str) -> str:
            if not url:
                pulumi.log.warn("gigstack:alertWebhookUrl is not set: alerts with severity=page reach nobody")
            rendered: str = yaml.safe_dump(alertmanager_config(url), sort_keys=False)
            return rendered

        k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={"name": CONFIG_SECRET, "namespace": MONITORING_NAMESPACE},
            string_data={CONFIG_KEY: pulumi.Output.secret(webhook_url.apply(render))},  # type: ignore[arg-type]
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
