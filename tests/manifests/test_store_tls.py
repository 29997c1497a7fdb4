"""eks pods that talk to RDS MySQL or DocumentDB mount Amazon's CA bundle where their URLs point.

The platform writes ConfigMap `rds-ca-bundle` (key `rds-global-bundle.pem`) into `gigstack` on eks only;
the MySQL and DocumentDB URLs name `/etc/ssl/certs/rds-global-bundle.pem` (docs/contracts.md). A pod that
uses either store without the mount fails its TLS handshake; a minikube pod with the mount never starts,
because the ConfigMap does not exist there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from manifest_toolkit import ENVIRONMENTS, Manifest, render_environment

Plant = Callable[[str, Callable[[str], str]], Path]

CA_BUNDLE_CONFIGMAP = "rds-ca-bundle"
CA_BUNDLE_KEY = "rds-global-bundle.pem"
CA_BUNDLE_PATH = f"/etc/ssl/certs/{CA_BUNDLE_KEY}"
TLS_VERIFIED_STORES = ("mysql", "mongodb")
STORE_LABEL = "gigstack.io/uses-{store}"


def _workloads(docs: list[Manifest]) -> list[Manifest]:
    return [doc for doc in docs if doc["kind"] in {"Deployment", "Job"}]


def _uses_tls_verified_store(labels: dict[str, str]) -> bool:
    return any(labels.get(STORE_LABEL.format(store=store)) == "true" for store in TLS_VERIFIED_STORES)


def _bundle_volumes(pod: dict[str, Any]) -> list[str]:
    return [
        volume["name"]
        for volume in pod.get("volumes", [])
        if volume.get("configMap", {}).get("name") == CA_BUNDLE_CONFIGMAP
    ]


def ca_bundle_problems(docs: list[Manifest], environment: str) -> list[str]:
    problems = []
    for doc in _workloads(docs):
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        pod: dict[str, Any] = doc["spec"]["template"]["spec"]
        needs = environment == "eks" and _uses_tls_verified_store(
            doc["spec"]["template"]["metadata"]["labels"]
        )
        volumes = _bundle_volumes(pod)
        mounts = [mount for mount in pod["containers"][0].get("volumeMounts", []) if mount["name"] in volumes]
        if not needs:
            if volumes:
                problems.append(f"{name}: mounts {CA_BUNDLE_CONFIGMAP} but does not need it in {environment}")
            continue
        if len(volumes) != 1:
            problems.append(f"{name}: needs exactly one {CA_BUNDLE_CONFIGMAP} volume, has {len(volumes)}")
            continue
        expected = {"mountPath": CA_BUNDLE_PATH, "subPath": CA_BUNDLE_KEY, "readOnly": True}
        if [{key: mount.get(key) for key in expected} for mount in mounts] != [expected]:
            problems.append(f"{name}: the bundle must be mounted read-only at {CA_BUNDLE_PATH}, got {mounts}")
        items = next(v for v in pod["volumes"] if v["name"] == volumes[0])["configMap"].get("items")
        if items is not None and {item["key"] for item in items} != {CA_BUNDLE_KEY}:
            problems.append(f"{name}: the volume must project key {CA_BUNDLE_KEY}, got {items}")
    return problems


def selector_label_problems(docs: list[Manifest]) -> list[str]:
    """Kustomize patches see workload labels, not pod labels: the store labels must be on both."""
    problems = []
    for doc in _workloads(docs):
        pod_labels = doc["spec"]["template"]["metadata"]["labels"]
        own_labels = doc["metadata"].get("labels", {})
        for key, value in pod_labels.items():
            if key.startswith("gigstack.io/uses-") and own_labels.get(key) != value:
                problems.append(
                    f"{doc['kind']}/{doc['metadata']['name']}: pod label {key} not on the workload"
                )
    return problems


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_ca_bundle_is_mounted_exactly_where_needed(
    environment: str, rendered: dict[str, list[Manifest]]
) -> None:
    assert ca_bundle_problems(rendered[environment], environment) == []


def test_mysql_users_exist_so_the_check_is_not_vacuous(rendered: dict[str, list[Manifest]]) -> None:
    users = {
        f"{doc['kind']}/{doc['metadata']['name']}"
        for doc in _workloads(rendered["eks"])
        if _uses_tls_verified_store(doc["spec"]["template"]["metadata"]["labels"])
    }
    assert {"Deployment/auth", "Job/auth-migrate"} <= users


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_store_labels_are_repeated_on_the_workloads(
    environment: str, rendered: dict[str, list[Manifest]]
) -> None:
    assert selector_label_problems(rendered[environment]) == []


def test_planted_missing_workload_label_leaves_the_migration_without_the_bundle(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/base/services/auth/migration-job.yaml",
        lambda text: text.replace('    gigstack.io/uses-mysql: "true"\n', "", 1),
    )
    docs = render_environment(root, "eks")
    assert ca_bundle_problems(docs, "eks") == [
        "Job/auth-migrate: needs exactly one rds-ca-bundle volume, has 0"
    ]
    assert selector_label_problems(docs) == [
        "Job/auth-migrate: pod label gigstack.io/uses-mysql not on the workload"
    ]


def test_planted_mongodb_user_gets_the_bundle_once(broken_copy: Plant) -> None:
    """A DocumentDB user is selected too, and a pod using both stores still gets one volume."""
    root = broken_copy(
        "gitops/base/services/auth/deployment.yaml",
        lambda text: text.replace('gigstack.io/uses-amqp: "true"', 'gigstack.io/uses-mongodb: "true"'),
    )
    gateway = root / "gitops/base/services/gateway/deployment.yaml"
    gateway.write_text(gateway.read_text().replace("uses-redis", "uses-mongodb"))
    docs = render_environment(root, "eks")
    assert ca_bundle_problems(docs, "eks") == []
    gateway_pod = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "gateway")
    assert _bundle_volumes(gateway_pod["spec"]["template"]["spec"]) == [CA_BUNDLE_CONFIGMAP]


def test_planted_mount_on_minikube_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "environments/minikube/kustomization.yaml",
        lambda text: text.replace("components/stores-in-cluster\n", "components/stores-aws-managed\n"),
    )
    problems = ca_bundle_problems(render_environment(root, "minikube"), "minikube")
    assert "Deployment/auth: mounts rds-ca-bundle but does not need it in minikube" in problems
