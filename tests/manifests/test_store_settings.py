"""Write claims and the outbox full-scan interval follow the environment's Mongo-API store.

FerretDB v1 (environments/local) applies a conditional update non-atomically, so its services keep the
write claims (servicekit.write_claims) and the 30 s full scan they default to. MongoDB (minikube) and
DocumentDB (eks) apply one atomically: gitops/components/mongodb-atomic-store turns the claims off and
scans hourly. Every Deployment labelled `gigstack.io/uses-mongodb` is checked through the ConfigMaps its
container reads, so a new Mongo-API service left out of the component is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from manifest_toolkit import REPO_ROOT, Manifest, render_environment

Plant = Callable[[str, Callable[[str], str]], Path]

ATOMIC_STORE_SETTINGS = {"MONGO_WRITE_CLAIMS": "false", "OUTBOX_FULL_SCAN_INTERVAL_SECONDS": "3600"}
ATOMIC_STORE_ENVIRONMENTS = ("eks", "minikube")
FERRETDB_ENVIRONMENTS = ("local",)


def mongo_service_settings(docs: list[Manifest]) -> dict[str, dict[str, str]]:
    """Each Deployment that uses the Mongo-API store, with the settings of the ConfigMaps it reads."""
    config_maps = {doc["metadata"]["name"]: doc.get("data", {}) for doc in docs if doc["kind"] == "ConfigMap"}
    settings: dict[str, dict[str, str]] = {}
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        pod = doc["spec"]["template"]
        if pod["metadata"].get("labels", {}).get("gigstack.io/uses-mongodb") != "true":
            continue
        read: dict[str, str] = {}
        for source in pod["spec"]["containers"][0].get("envFrom", []):
            read.update(config_maps.get(source.get("configMapRef", {}).get("name"), {}))
        settings[doc["metadata"]["name"]] = read
    return settings


def store_setting_problems(docs: list[Manifest], *, atomic_store: bool) -> list[str]:
    problems = []
    for service, read in sorted(mongo_service_settings(docs).items()):
        for name, atomic_value in ATOMIC_STORE_SETTINGS.items():
            value = read.get(name)
            if atomic_store and value != atomic_value:
                problems.append(f"{service}: {name} is {value!r}, not {atomic_value!r} (atomic store)")
            if not atomic_store and value is not None:
                problems.append(f"{service}: {name} is {value!r} on FerretDB (keep the service default)")
    return problems


@pytest.fixture(scope="module")
def local_rendering() -> list[Manifest]:
    docs: list[Manifest] = render_environment(REPO_ROOT, "local")
    return docs


def test_the_mongo_api_services_are_users_gig_and_chat(rendered: dict[str, list[Manifest]]) -> None:
    # Guards the checks below against a label change that would leave them checking nothing.
    assert sorted(mongo_service_settings(rendered["eks"])) == ["chat", "gig", "users"]


@pytest.mark.parametrize("environment", ATOMIC_STORE_ENVIRONMENTS)
def test_atomic_stores_run_without_write_claims_and_scan_hourly(
    rendered: dict[str, list[Manifest]], environment: str
) -> None:
    assert store_setting_problems(rendered[environment], atomic_store=True) == []


def test_ferretdb_keeps_write_claims_and_the_default_scan(local_rendering: list[Manifest]) -> None:
    assert sorted(mongo_service_settings(local_rendering)) == ["chat", "gig", "users"]
    assert store_setting_problems(local_rendering, atomic_store=False) == []


def test_planted_minikube_without_the_component_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "environments/minikube/kustomization.yaml",
        lambda text: text.replace("  - ../../gitops/components/mongodb-atomic-store\n", ""),
    )
    problems = store_setting_problems(render_environment(root, "minikube"), atomic_store=True)
    assert "users: MONGO_WRITE_CLAIMS is None, not 'false' (atomic store)" in problems
    assert len(problems) == 6


def test_planted_claims_off_on_ferretdb_are_reported(broken_copy: Plant) -> None:
    stores = "  - ../../gitops/components/stores-in-cluster\n"
    root = broken_copy(
        "environments/local/kustomization.yaml",
        lambda text: text.replace(stores, stores + "  - ../../gitops/components/mongodb-atomic-store\n"),
    )
    problems = store_setting_problems(render_environment(root, "local"), atomic_store=False)
    assert "gig: MONGO_WRITE_CLAIMS is 'false' on FerretDB (keep the service default)" in problems
