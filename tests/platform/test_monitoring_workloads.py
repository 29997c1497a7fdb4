"""The monitoring stack's pods can start and authenticate: the OpenTelemetry Collector (rendered from the
vendored chart with the program's values) sends the APM Server's secret token, and Filebeat runs as root.

ECK's APM Server answers 401 to requests without `Authorization: Bearer <secret token>`; ECK keeps the token
it finds in `<apm>-apm-token`, so the program writes that Secret and a copy beside the collector.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from chart_render import Rendering, missing_references, render_chart
from gigstack_platform.kube.apm_token import (
    APM_SERVER_NAME,
    APM_TOKEN_KEY,
    APM_TOKEN_SECRET,
    COLLECTOR_APM_TOKEN_SECRET,
)

ENV_REFERENCE = re.compile(r"\$\{env:([A-Z_][A-Z0-9_]*)\}")


def _collector_chart(run: Any) -> Any:
    (chart,) = [
        c.inputs
        for c in run.of_type("kubernetes:helm.sh/v4:Chart")
        if c.inputs["chart"] == "opentelemetry-collector"
    ]
    return chart


def _program_secrets(run: Any) -> list[dict[str, Any]]:
    return [
        {"kind": "Secret", "metadata": s.inputs["metadata"], "stringData": s.inputs.get("stringData", {})}
        for s in run.of_type("kubernetes:core/v1:Secret")
    ]


def collector_problems(rendering: Rendering) -> list[str]:
    """Exporters to the APM Server without the token header, and ${env:X} the Deployment does not set."""
    (config_map,) = [d for d in rendering.applied if d["kind"] == "ConfigMap"]
    config = yaml.safe_load(next(iter(config_map["data"].values())))
    (deployment,) = [d for d in rendering.applied if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    defined = {env["name"] for env in container.get("env", [])}
    referenced = ENV_REFERENCE.findall(yaml.safe_dump(config))
    problems = [f"${{env:{name}}} is not set" for name in referenced if name not in defined]
    for name, exporter in config.get("exporters", {}).items():
        # otlphttp/elastic is the APM Server's OTLP intake (observability/otel/collector.yaml).
        if name == "otlphttp/elastic" and "Authorization" not in (exporter.get("headers") or {}):
            problems.append(f"exporter {name} sends no Authorization header")
    return problems


def test_collector_sends_the_apm_token_it_can_read(build_stack: Any, tmp_path: Path) -> None:
    run = build_stack("minikube")
    chart = _collector_chart(run)
    rendering = render_chart(
        "opentelemetry-collector", chart["name"], chart["namespace"], chart["values"], tmp_path
    )
    assert collector_problems(rendering) == []
    assert missing_references(rendering.applied + _program_secrets(run)) == {}


def test_apm_server_and_collector_share_one_token(build_stack: Any) -> None:
    run = build_stack("minikube")
    secrets = {
        (s.inputs["metadata"]["namespace"], s.inputs["metadata"]["name"]): s
        for s in run.of_type("kubernetes:core/v1:Secret")
    }
    server = secrets[("logging", APM_TOKEN_SECRET)]
    collector = secrets[("monitoring", COLLECTOR_APM_TOKEN_SECRET)]
    assert server.inputs["stringData"][APM_TOKEN_KEY] == collector.inputs["stringData"][APM_TOKEN_KEY]
    assert f"{APM_SERVER_NAME}-apm-token" == APM_TOKEN_SECRET
    (apm,) = run.of_type("kubernetes:apm.k8s.elastic.co/v1:ApmServer")
    assert run.depends_on(apm, server), "ECK would generate its own token if the Secret came later"


def test_planted_collector_without_token_is_reported(tmp_path: Path) -> None:
    config = {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": "0.0.0.0:4318"}}}},
        "exporters": {"otlphttp/elastic": {"endpoint": "${env:TRACES_OTLP_ENDPOINT}"}},
        "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["otlphttp/elastic"]}}},
    }
    values = {
        "mode": "deployment",
        "image": {"repository": "otel/opentelemetry-collector-contrib"},
        "config": config,
        "extraEnvs": [{"name": "TRACES_OTLP_ENDPOINT", "value": "http://apm:8200"}],
    }
    rendering = render_chart("opentelemetry-collector", "otel-collector", "monitoring", values, tmp_path)
    assert collector_problems(rendering) == ["exporter otlphttp/elastic sends no Authorization header"]


def test_filebeat_runs_as_root_to_read_node_logs(build_stack: Any) -> None:
    run = build_stack("minikube")
    (beat,) = run.of_type("kubernetes:beat.k8s.elastic.co/v1beta1:Beat")
    pod = beat.inputs["spec"]["daemonSet"]["podTemplate"]["spec"]
    mounts = {m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts", [])}
    assert "/var/log/pods" in mounts
    assert pod["securityContext"]["runAsUser"] == 0
