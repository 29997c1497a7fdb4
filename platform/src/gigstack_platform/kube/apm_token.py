"""ApmToken: the Elastic APM Server's secret token, in the Secret ECK reads and in a copy for the collector.

ECK keeps the token it finds in `<apm>-apm-token` (key `secret-token`) and generates one only when that Secret
is absent (cloud-on-k8s, pkg/controller/apmserver: reconcileApmServerToken). Writing it here, before the
ApmServer exists, lets the OpenTelemetry Collector in another namespace send it: Secrets cannot be referenced
across namespaces. Created whoever installs the monitoring stack (Pulumi or Argo CD).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from gigstack_platform.catalog import LOGGING_NAMESPACE, MONITORING_NAMESPACE
from gigstack_platform.credentials import generated_password

APM_SERVER_NAME = "gigstack-apm"
APM_SERVER_URL = f"http://{APM_SERVER_NAME}-apm-http.{LOGGING_NAMESPACE}.svc:8200"
APM_TOKEN_SECRET = f"{APM_SERVER_NAME}-apm-token"
APM_TOKEN_KEY = "secret-token"  # noqa: S105 - a key name
COLLECTOR_APM_TOKEN_SECRET = "otel-collector-apm-token"  # noqa: S105 - a Secret name


class ApmToken(pulumi.ComponentResource):
    server_secret: k8s.core.v1.Secret
    collector_secret: k8s.core.v1.Secret

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gigstack:kube:ApmToken", name, None, opts)
        token = generated_password(f"{name}-secret-token", self)
        child = pulumi.ResourceOptions(parent=self)
        self.server_secret, self.collector_secret = (
            k8s.core.v1.Secret(
                f"{name}-{secret_name}",
                metadata={"name": secret_name, "namespace": namespace},
                string_data={APM_TOKEN_KEY: token},
                opts=child,
            )
            for secret_name, namespace in (
                (APM_TOKEN_SECRET, LOGGING_NAMESPACE),
                (COLLECTOR_APM_TOKEN_SECRET, MONITORING_NAMESPACE),
            )
        )
        self.register_outputs({})
