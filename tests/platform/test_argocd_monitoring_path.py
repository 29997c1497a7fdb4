"""`monitoring.installedBy: argocd`: the addons Argo CD installs fit together as the platform program's do.

Loki and Alloy land where the pipelines look for them, Loki runs without the chart's ~9.8 GiB of caches, the
Elastic logging stack (Elasticsearch, Kibana, APM Server, Filebeat) is installed with the collector, and the
collector, rendered from the vendored chart with the ApplicationSet's values, sends the APM token the program
writes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from chart_render import missing_references, render_chart
from gigstack_platform.catalog import LOGGING_NAMESPACE, MONITORING_NAMESPACE
from gigstack_platform.kube.apm_token import APM_SERVER_NAME, APM_SERVER_URL

REPO_ROOT = Path(__file__).resolve().parents[2]
ADDONS = REPO_ROOT / "gitops" / "argocd" / "addons"
STACK = ADDONS / "logging-stack" / "logging-stack.yaml"
SCHEMAS = Path(os.environ.get("GIGSTACK_SCHEMAS_DIR") or REPO_ROOT.parent / "shared" / "schemas")
GO_TEMPLATE = re.compile(r"\{\{-?[^}]*\}\}")


def appset(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ADDONS / f"applicationset-{name}.yaml").read_text())
    return doc


def chart_values(doc: dict[str, Any]) -> dict[str, Any]:
    """The first source's Helm values, with Go template expressions replaced by a placeholder."""
    source = doc["spec"]["template"]["spec"]["sources"][0]
    values: dict[str, Any] = yaml.safe_load(GO_TEMPLATE.sub("placeholder", source["helm"]["values"]))
    return values


def destination(doc: dict[str, Any]) -> str:
    namespace: str = doc["spec"]["template"]["spec"]["destination"]["namespace"]
    return namespace


def test_loki_and_alloy_run_where_the_pipelines_send_logs() -> None:
    alloy_config = (REPO_ROOT / "observability" / "loki" / "alloy-config.alloy").read_text()
    (loki_namespace,) = set(re.findall(r"loki-gateway\.([a-z-]+)\.svc", alloy_config))
    datasources = (REPO_ROOT / "observability" / "grafana" / "datasources" / "gigstack.yaml").read_text()
    assert set(re.findall(r"loki-gateway\.([a-z-]+)\.svc", datasources)) == {loki_namespace}
    assert destination(appset("loki")) == loki_namespace == MONITORING_NAMESPACE
    assert destination(appset("alloy")) == MONITORING_NAMESPACE


def test_loki_runs_without_the_chart_default_caches() -> None:
    values = chart_values(appset("loki"))
    assert values["chunksCache"] == {"enabled": False}
    assert values["resultsCache"] == {"enabled": False}


def _stack() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(STACK.read_text()) if doc]


def test_elastic_logging_stack_is_what_the_program_would_create() -> None:
    docs = {doc["kind"]: doc for doc in _stack()}
    assert {"Elasticsearch", "Kibana", "ApmServer", "Beat"} <= set(docs)
    apm = docs["ApmServer"]["metadata"]
    assert APM_SERVER_URL.startswith(f"http://{apm['name']}-apm-http.{apm['namespace']}.svc")
    assert (apm["name"], apm["namespace"]) == (APM_SERVER_NAME, LOGGING_NAMESPACE)
    filebeat = yaml.safe_load((REPO_ROOT / "observability" / "elk" / "filebeat.yaml").read_text())
    assert docs["Beat"]["spec"]["config"] == filebeat
    assert docs["Beat"]["spec"]["daemonSet"]["podTemplate"]["spec"]["securityContext"]["runAsUser"] == 0
    elastic = appset("elastic-logging")
    assert elastic["spec"]["template"]["spec"]["source"]["path"] == "gitops/argocd/addons/logging-stack"
    assert destination(elastic) == LOGGING_NAMESPACE
    selector = elastic["spec"]["generators"][0]["clusters"]["selector"]["matchLabels"]
    assert selector["enable_otel_collector"] == "true", "installed with the collector whose backend it is"


@pytest.mark.parametrize("kind", ["Elasticsearch", "Kibana", "ApmServer", "Beat"])
def test_elastic_logging_stack_matches_the_crd_schemas(kind: str) -> None:
    (doc,) = [d for d in _stack() if d["kind"] == kind]
    group, version = doc["apiVersion"].split("/")
    schema = json.loads((SCHEMAS / group / f"{kind.lower()}_{version}.json").read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(doc))
    assert not errors, [e.message for e in errors[:3]]


def test_collector_addon_sends_the_token_the_program_writes(build_stack: Any, tmp_path: Path) -> None:
    run = build_stack("minikube", {"gigstack:monitoring": {"installedBy": "argocd"}})
    secrets = [
        {"kind": "Secret", "metadata": s.inputs["metadata"], "stringData": s.inputs["stringData"]}
        for s in run.of_type("kubernetes:core/v1:Secret")
    ]
    values = chart_values(appset("otel-collector"))
    rendering = render_chart(
        "opentelemetry-collector", "otel-collector", MONITORING_NAMESPACE, values, tmp_path
    )
    config_map = yaml.safe_load(
        (REPO_ROOT / "gitops" / "addons-config" / "otel-collector" / "otel-collector-config.yaml").read_text()
    )
    config_map["metadata"]["namespace"] = MONITORING_NAMESPACE
    assert missing_references([*rendering.applied, *secrets, config_map]) == {}
    (deployment,) = [d for d in rendering.applied if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "APM_SECRET_TOKEN" in {env["name"] for env in container["env"]}
    header = (
        "--config=yaml:exporters::otlphttp/elastic::headers::Authorization: Bearer ${env:APM_SECRET_TOKEN}"
    )
    assert header in container["args"]
    assert "otlphttp/elastic" in yaml.safe_load(config_map["data"]["relay"])["exporters"]
