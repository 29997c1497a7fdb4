"""The rendered overlays, Argo CD objects and addon configurations, judged by a real API server.

`kubectl apply --server-side --dry-run=server --validate=strict` runs everything a real apply runs (OpenAPI
and CRD schemas, unknown-field rejection, defaulting, admission) and stores nothing. Workloads are also
submitted as the Pods they would create, because Pod Security admission only warns on a Deployment and
rejects the Pod.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from cluster_toolkit import (
    ENVIRONMENTS,
    Manifest,
    RunningCluster,
    addon_config,
    addon_config_folders,
    applications_from_applicationsets,
    argocd_objects,
    identity,
    pods_from_workloads,
    render_environment,
)

WORKLOAD_NAMESPACE = "gigstack"
ARGOCD_NAMESPACE = "argocd"
# The API server from the cache answers /readyz within seconds; this bound leaves room for a busy CI machine.
START_BUDGET_SECONDS = 60.0


def accepted(cluster: RunningCluster, docs: list[Manifest], namespace: str) -> None:
    assert docs, "nothing to apply"
    result = cluster.kubectl.dry_run_apply(docs, namespace)
    assert result.returncode == 0, f"the API server refused:\n{result.stderr}"
    applied = [line for line in result.stdout.splitlines() if "(server dry run)" in line]
    assert len(applied) == len(docs), f"expected {len(docs)} objects applied, got:\n{result.stdout}"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert not warnings, "\n".join(warnings)


def store_service_accounts(cluster: RunningCluster, docs: list[Manifest]) -> None:
    """Admission looks a Pod's ServiceAccount up in storage: store the overlay's own (dry runs store none)."""
    accounts = [doc for doc in docs if doc.get("kind") == "ServiceAccount"]
    cluster.kubectl.check(
        "apply", "--server-side", "--field-manager=gigstack-tests", f"--namespace={WORKLOAD_NAMESPACE}",
        "-f", "-", stdin=yaml.safe_dump_all(accounts),
    )  # fmt: skip


def refused(cluster: RunningCluster, docs: list[Manifest], namespace: str) -> str:
    result = cluster.kubectl.dry_run_apply(docs, namespace)
    assert result.returncode != 0, f"the API server accepted the planted defect:\n{result.stdout}"
    return str(result.stderr)


def test_the_api_server_starts_from_the_cache_in_seconds(cluster: RunningCluster) -> None:
    assert cluster.start_seconds < START_BUDGET_SECONDS, (
        f"etcd + API server took {cluster.start_seconds:.1f}s"
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_overlay_is_accepted(cluster: RunningCluster, environment: str) -> None:
    accepted(cluster, render_environment(environment), WORKLOAD_NAMESPACE)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_overlay_pods_are_admitted_under_restricted_pod_security(
    cluster: RunningCluster, environment: str
) -> None:
    docs = render_environment(environment)
    store_service_accounts(cluster, docs)
    accepted(cluster, pods_from_workloads(docs), WORKLOAD_NAMESPACE)


def test_argocd_projects_and_applicationsets_are_accepted(cluster: RunningCluster) -> None:
    accepted(cluster, argocd_objects(), ARGOCD_NAMESPACE)


def test_applications_the_applicationsets_generate_are_accepted(cluster: RunningCluster) -> None:
    accepted(cluster, applications_from_applicationsets(argocd_objects()), ARGOCD_NAMESPACE)


@pytest.mark.parametrize("addon", addon_config_folders())
def test_addon_configuration_is_accepted(cluster: RunningCluster, addon: str) -> None:
    accepted(cluster, addon_config(addon), "monitoring")


# --- planted defects ----------------------------------------------------------------------------------------


def _first(docs: list[Manifest], kind: str) -> Manifest:
    return copy.deepcopy(next(doc for doc in docs if doc.get("kind") == kind))


def test_privileged_container_is_refused(cluster: RunningCluster) -> None:
    deployment = _first(render_environment("minikube"), "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    security = container.setdefault("securityContext", {})
    security.pop("allowPrivilegeEscalation", None)  # together with privileged: invalid, not a policy matter
    security["privileged"] = True
    store_service_accounts(cluster, render_environment("minikube"))
    message = refused(cluster, pods_from_workloads([deployment]), WORKLOAD_NAMESPACE)
    assert "violates PodSecurity" in message, message
    assert "privileged" in message, message


def test_misspelled_application_field_is_refused(cluster: RunningCluster) -> None:
    application = applications_from_applicationsets(argocd_objects())[0]
    application["spec"]["destinaton"] = application["spec"].pop("destination")
    message = refused(cluster, [application], ARGOCD_NAMESPACE)
    # Server-side apply names the field the CRD schema does not declare.
    assert ".spec.destinaton: field not declared in schema" in message, message


def test_misspelled_deployment_field_is_refused(cluster: RunningCluster) -> None:
    deployment = _first(render_environment("eks"), "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    message = refused(cluster, [deployment], WORKLOAD_NAMESPACE)
    assert "readinesProbe" in message, f"{identity(deployment)}: {message}"
