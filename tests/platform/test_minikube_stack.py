"""Invariants of the minikube stack: in-cluster stores, generated secrets, monitoring from observability/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from gigstack_platform.catalog import (
    MEDIA_SERVICES,
    OBJECT_STORE_CREDENTIALS_SECRET,
    SERVICES,
    secret_keys,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def minikube(build_stack: Any) -> Any:
    return build_stack("minikube")


def test_program_builds_under_sixty_seconds_without_aws(minikube: Any) -> None:
    assert minikube.seconds < 60
    assert not [r for r in minikube.resources if r.type.startswith("aws:")]
    provider = minikube.of_type("pulumi:providers:kubernetes")[0].inputs
    assert provider["context"] == "minikube"


def test_render_to_directory_reaches_the_provider(build_stack: Any, tmp_path: Any) -> None:
    run = build_stack("minikube", {"gigstack:minikube": {"renderYamlToDirectory": str(tmp_path)}})
    assert run.of_type("pulumi:providers:kubernetes")[0].inputs["renderYamlToDirectory"] == str(tmp_path)


def _service_secrets(run: Any) -> Any:
    secrets = {}
    for secret in run.of_type("kubernetes:core/v1:Secret"):
        meta = secret.inputs["metadata"]
        if meta["namespace"] == "gigstack" and meta["name"].endswith("-secrets"):
            secrets[meta["name"].removesuffix("-secrets")] = secret
    return secrets


def test_every_service_secret_holds_exactly_its_settings_as_secret_values(minikube: Any) -> None:
    secrets = _service_secrets(minikube)
    assert set(secrets) == set(SERVICES)
    for service, secret in secrets.items():
        assert sorted(secret.inputs["stringData"]) == secret_keys(service)
        assert "stringData" in secret.secret_inputs
    hosts = {
        s: {k: urlsplit(v).hostname for k, v in secret.inputs["stringData"].items() if "://" in v}
        for s, secret in secrets.items()
    }
    assert hosts["order"]["DATABASE_URL"] == "order-postgres-rw.gigstack-data.svc"
    assert hosts["review"]["DATABASE_URL"] == "review-postgres-rw.gigstack-data.svc"
    assert hosts["auth"]["DATABASE_URL"] == "auth-mariadb.gigstack-data.svc"
    assert {hosts[s]["MONGODB_URL"] for s in ("users", "gig", "chat")} == {"mongodb.gigstack-data.svc"}
    assert hosts["gig"]["SEARCH_URL"] == "gig-search-es-http.gigstack-data.svc"
    assert {hosts[s]["REDIS_URL"] for s in ("gateway", "notification")} == {"redis.gigstack-data.svc"}
    assert {hosts[s]["AMQP_URL"] for s in SERVICES} == {"rabbitmq.gigstack-data.svc"}


def test_stores_come_from_operators_and_official_images(minikube: Any) -> None:
    clusters = {
        c.inputs["metadata"]["name"] for c in minikube.of_type("kubernetes:postgresql.cnpg.io/v1:Cluster")
    }
    assert clusters == {"order-postgres", "review-postgres"}
    assert len(minikube.of_type("kubernetes:k8s.mariadb.com/v1alpha1:MariaDB")) == 1
    assert len(minikube.of_type("kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster")) == 1
    images = {
        s.inputs["spec"]["template"]["spec"]["containers"][0]["image"].split(":")[0]
        for s in minikube.of_type("kubernetes:apps/v1:StatefulSet")
    }
    assert images == {"redis", "mongo"}
    everything = json.dumps([r.inputs for r in minikube.resources], default=str)
    assert "bitnami" not in everything.lower()


def test_store_credentials_are_generated_and_secret(minikube: Any) -> None:
    credential_secrets = [
        s
        for s in minikube.of_type("kubernetes:core/v1:Secret")
        if s.inputs["metadata"]["namespace"] == "gigstack-data"
    ]
    assert len(credential_secrets) >= 6
    for secret in credential_secrets:
        assert "stringData" in secret.secret_inputs
    passwords = [f"Pw-{p.name}-0" for p in minikube.of_type("random:index/randomPassword:RandomPassword")]
    for resource in minikube.resources:
        for key, value in resource.inputs.items():
            if key not in resource.secret_inputs:
                assert not any(p in json.dumps(value, default=str) for p in passwords), (
                    f"{resource.name}.{key}"
                )


def test_monitoring_is_provisioned_from_observability_files(minikube: Any) -> None:
    charts = {c.inputs["chart"]: c.inputs for c in minikube.of_type("kubernetes:helm.sh/v4:Chart")}
    for chart in (
        "kube-prometheus-stack",
        "loki",
        "alloy",
        "eck-operator",
        "opentelemetry-collector",
        "argo-cd",
    ):
        assert charts[chart]["version"], f"{chart} is not pinned"
    dashboards = sorted(p.name for p in (REPO_ROOT / "observability/grafana/dashboards").glob("*.json"))
    provisioned = sorted(
        key
        for cm in minikube.of_type("kubernetes:core/v1:ConfigMap")
        if cm.inputs["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
        for key in cm.inputs["data"]
    )
    assert provisioned == dashboards
    alloy = REPO_ROOT / "observability/loki/alloy-config.alloy"
    if alloy.exists():
        assert charts["alloy"]["values"]["alloy"]["configMap"]["content"] == alloy.read_text()
    kinds = {r.type.split(":")[-1] for r in minikube.resources}
    assert {"Elasticsearch", "Kibana", "Beat", "ApmServer"} <= kinds
    assert "prometheus-community" in charts["kube-prometheus-stack"]["repositoryOpts"]["repo"]


def test_monitoring_can_be_left_to_argocd(build_stack: Any) -> None:
    run = build_stack("minikube", {"gigstack:monitoring": {"installedBy": "argocd"}})
    assert not run.of_type("gigstack:kube:Monitoring")
    secret = next(
        s
        for s in run.of_type("kubernetes:core/v1:Secret")
        if s.inputs["metadata"]["name"] == "gigstack-minikube"
    )
    labels = secret.inputs["metadata"]["labels"]
    assert labels["enable_kube_prometheus_stack"] == labels["enable_loki"] == "true"
    assert labels["enable_otel_collector"] == labels["enable_alloy"] == "true"


def test_the_object_store_key_pair_is_generated_secret_and_shared_with_s3proxy(minikube: Any) -> None:
    [secret] = [
        s
        for s in minikube.of_type("kubernetes:core/v1:Secret")
        if s.inputs["metadata"]["name"] == OBJECT_STORE_CREDENTIALS_SECRET
    ]
    assert secret.inputs["metadata"]["namespace"] == "gigstack"
    assert sorted(secret.inputs["stringData"]) == [
        "OBJECT_STORE_ACCESS_KEY_ID",
        "OBJECT_STORE_SECRET_ACCESS_KEY",
    ]
    assert "stringData" in secret.secret_inputs
    # s3proxy (environments/minikube/object-store) reads the same Secret and keys.
    deployment = (REPO_ROOT / "environments/minikube/object-store/deployment.yaml").read_text()
    assert deployment.count(f"name: {OBJECT_STORE_CREDENTIALS_SECRET}") == 2
    for service in MEDIA_SERVICES:
        assert (
            _service_secrets(minikube)[service].inputs["stringData"]["OBJECT_STORE_BUCKET"]
            == "gigstack-media"
        )


def test_redis_runs_per_service_acl_users_from_a_secret(minikube: Any) -> None:
    (acl,) = [
        s
        for s in minikube.of_type("kubernetes:core/v1:Secret")
        if s.inputs["metadata"]["name"] == "redis-acl"
    ]
    assert "stringData" in acl.secret_inputs
    lines = acl.inputs["stringData"]["users.acl"].splitlines()
    assert lines[0].startswith("user default off")
    users = {line.split()[1]: line for line in lines}
    assert "~gw:*" in users["gateway"]
    assert "~*" not in users["gateway"].replace("~gw:*", "")
    assert "~notification:*" in users["notification"]
    assert all("-@dangerous" in users[name] for name in ("gateway", "notification"))

    (redis,) = [
        s
        for s in minikube.of_type("kubernetes:apps/v1:StatefulSet")
        if s.inputs["metadata"]["name"] == "redis"
    ]
    pod = redis.inputs["spec"]["template"]["spec"]
    assert pod["containers"][0]["command"][-2:] == ["--aclfile", "/etc/redis/users.acl"]
    assert pod["volumes"][0]["secret"]["secretName"] == "redis-acl"

    # Each service logs in as itself, never as the default or admin user.
    secrets = _service_secrets(minikube)
    for service in ("gateway", "notification"):
        url = urlsplit(secrets[service].inputs["stringData"]["REDIS_URL"])
        assert url.username == service
        assert url.password
        assert url.password in users[service]
