"""The rendered overlays differ only where the environments really differ; the test prints the shape."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from manifest_toolkit import Manifest, render_environment
from overlay_diff import diff_overlays

# What must differ between minikube and eks, at least. (No storage classes: the services are stateless
# in the cluster; the stores' volumes belong to the platform program.)
REQUIRED_CATEGORIES = {
    "images/registry", "replicas", "ingress class", "store endpoints", "store TLS trust", "secrets source",
}  # fmt: skip
ALLOWED_CATEGORIES = REQUIRED_CATEGORIES | {
    "environment settings", "zone spread", "storage classes", "object store",
}  # fmt: skip
# No "store behaviour": MongoDB (minikube) and DocumentDB (eks) both apply conditional updates atomically, so
# write claims and the outbox full scan are set alike (gitops/components/mongodb-atomic-store).


def test_overlays_differ_only_where_environments_differ(rendered: dict[str, list[Manifest]]) -> None:
    diff = diff_overlays(rendered["minikube"], rendered["eks"])
    print("\nminikube -> eks\n" + diff.summary())
    assert diff.unexplained == []
    assert REQUIRED_CATEGORIES <= diff.by_category.keys() <= ALLOWED_CATEGORIES


def test_planted_unjustified_difference_is_reported(
    broken_copy: Callable[[str, Callable[[str], str]], Path], rendered: dict[str, list[Manifest]]
) -> None:
    patch = (
        "patches:\n"
        "  - target:\n      kind: Deployment\n      name: auth\n"
        "    patch: |-\n      - op: replace\n"
        "        path: /spec/template/spec/containers/0/livenessProbe/periodSeconds\n        value: 60\n"
    )
    root = broken_copy(
        "environments/eks/kustomization.yaml", lambda text: text.replace("patches:\n", patch, 1)
    )
    diff = diff_overlays(rendered["minikube"], render_environment(root, "eks"))
    assert diff.unexplained == [
        "Deployment/auth.spec.template.spec.containers[auth].livenessProbe.periodSeconds: 10 -> 60"
    ]
