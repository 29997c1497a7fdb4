"""Argo CD as the platform installs it: the pinned argo-cd chart, rendered with the program's own values.

helm.v4.Chart applies what `helm template` prints minus Helm hooks, so every Secret, ConfigMap and
ServiceAccount the Argo CD workloads reference must be in that rendering or created by the program itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chart_render import identity, key, missing_references, render_chart
from gigstack_platform.kube import charts
from gigstack_platform.kube.argocd_bootstrap import REDIS_SECRET, REDIS_SECRET_KEY, argocd_chart_values

KUBE_OBJECTS = {
    "kubernetes:core/v1:Secret": "Secret",
    "kubernetes:core/v1:ConfigMap": "ConfigMap",
    "kubernetes:core/v1:ServiceAccount": "ServiceAccount",
}


def _argocd_chart(run: Any) -> Any:
    found = [c for c in run.of_type("kubernetes:helm.sh/v4:Chart") if c.inputs["chart"] == "argo-cd"]
    assert len(found) == 1
    return found[0].inputs


def _program_objects(run: Any) -> list[dict[str, Any]]:
    """Secrets, ConfigMaps and ServiceAccounts the program creates outside charts, as manifests."""
    return [
        {"kind": kind, "metadata": r.inputs["metadata"], "stringData": r.inputs.get("stringData", {})}
        for type_, kind in KUBE_OBJECTS.items()
        for r in run.of_type(type_)
    ]


def test_vendored_chart_is_the_pinned_one() -> None:
    from chart_render import load_vendored_yaml

    assert load_vendored_yaml("charts/argo-cd/Chart.yaml")["version"] == charts.ARGO_CD.version


@pytest.mark.parametrize("stack", ["minikube", "eks"])
def test_every_object_argocd_workloads_reference_is_applied(
    build_stack: Any, stack: str, tmp_path: Path
) -> None:
    run = build_stack(stack)
    chart = _argocd_chart(run)
    assert chart["version"] == charts.ARGO_CD.version
    rendering = render_chart("argo-cd", chart["name"], chart["namespace"], chart["values"], tmp_path)
    applied = rendering.applied + _program_objects(run)
    assert missing_references(applied) == {}
    # Nothing the workloads need may come from a hook: helm.v4.Chart never runs them.
    assert rendering.hooks == []
    redis = next(o for o in applied if identity(o) == key("Secret", "argocd", REDIS_SECRET))
    assert set(redis["stringData"]) == {REDIS_SECRET_KEY}


def test_redis_secret_key_is_what_the_chart_reads(tmp_path: Path) -> None:
    """Redis requires `auth`; the API server and controllers read it as optional, so a missing key would
    leave them without the password Redis demands rather than failing to start."""
    rendering = render_chart("argo-cd", "argocd", "argocd", argocd_chart_values(), tmp_path)
    refs = [
        env["valueFrom"]["secretKeyRef"]
        for doc in rendering.applied
        if doc["kind"] in {"Deployment", "StatefulSet"}
        for container in doc["spec"]["template"]["spec"]["containers"]
        for env in container.get("env", [])
        if (env.get("valueFrom") or {}).get("secretKeyRef", {}).get("name") == REDIS_SECRET
    ]
    assert {ref["key"] for ref in refs if not ref.get("optional", False)} == {REDIS_SECRET_KEY}
    assert sum(ref["key"] == REDIS_SECRET_KEY for ref in refs) > 1, "server/controllers read it too"


def test_chart_defaults_without_the_program_secret_leave_redis_unstartable(tmp_path: Path) -> None:
    """The planted defect: the chart's defaults alone (redis Secret only from a pre-install hook)."""
    values = {k: v for k, v in argocd_chart_values().items() if k != "redisSecretInit"}
    rendering = render_chart("argo-cd", "argocd", "argocd", values, tmp_path)
    missing = missing_references(rendering.applied)
    assert key("Secret", "argocd", REDIS_SECRET) in missing[key("Deployment", "argocd", "argocd-redis")]
    assert any(hook["kind"] == "Job" for hook in rendering.hooks)
