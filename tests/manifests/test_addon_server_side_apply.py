"""Addon ApplicationSets whose charts install a CRD too large for client-side apply use ServerSideApply.

Client-side apply stores the whole object in the `kubectl.kubernetes.io/last-applied-configuration`
annotation, and annotations are limited to 262,144 bytes in total, so a CRD above that fails with
"metadata.annotations: Too long". The size of each CRD is bounded from below by the JSON schemas of its
versions in ../shared/schemas (datreeio/CRDs-catalog, generated from the projects' CRDs).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from manifest_toolkit import Manifest, render_argocd, schemas_dir

Plant = Callable[[str, Callable[[str], str]], Path]

ANNOTATION_LIMIT_BYTES = 262_144
# ../shared/schemas beside the checkout (CI); GIGSTACK_SCHEMAS_DIR where the checkout sits elsewhere.
SCHEMAS = Path(os.environ.get("GIGSTACK_SCHEMAS_DIR") or schemas_dir())
# CRD API groups each addon chart installs (from the charts' crds/ or templates, at the pinned versions).
ADDON_CRD_GROUPS = {
    "addon-external-secrets": ["external-secrets.io"],
    "addon-kube-prometheus-stack": ["monitoring.coreos.com"],
    "addon-eck-operator": [
        "elasticsearch.k8s.elastic.co",
        "kibana.k8s.elastic.co",
        "apm.k8s.elastic.co",
        "beat.k8s.elastic.co",
        "agent.k8s.elastic.co",
        "logstash.k8s.elastic.co",
    ],
    "addon-aws-load-balancer-controller": ["elbv2.k8s.aws"],
}


def largest_crd_bytes(group: str) -> tuple[str, int]:
    """(kind, bytes) of the group's largest CRD: the sum of its versions' schema sizes."""
    sizes: dict[str, int] = {}
    for schema in (SCHEMAS / group).glob("*.json"):
        kind = schema.stem.rsplit("_", 1)[0]
        sizes[kind] = sizes.get(kind, 0) + schema.stat().st_size
    assert sizes, f"no schemas for {group}"
    kind = max(sizes, key=lambda k: sizes[k])
    return f"{group}/{kind}", sizes[kind]


def server_side_apply_problems(docs: list[Manifest]) -> list[str]:
    problems = []
    for doc in docs:
        name = doc["metadata"]["name"]
        if doc["kind"] != "ApplicationSet" or name not in ADDON_CRD_GROUPS:
            continue
        options = doc["spec"]["template"]["spec"].get("syncPolicy", {}).get("syncOptions", [])
        for group in ADDON_CRD_GROUPS[name]:
            crd, size = largest_crd_bytes(group)
            if size > ANNOTATION_LIMIT_BYTES and "ServerSideApply=true" not in options:
                problems.append(f"ApplicationSet/{name}: CRD {crd} ({size} bytes) needs ServerSideApply=true")
    return problems


def test_every_addon_with_crds_is_known(rendered_argocd: list[Manifest]) -> None:
    addons = {d["metadata"]["name"] for d in rendered_argocd if d["metadata"]["name"].startswith("addon-")}
    assert set(ADDON_CRD_GROUPS) <= addons


def test_addons_with_large_crds_apply_server_side(rendered_argocd: list[Manifest]) -> None:
    assert server_side_apply_problems(rendered_argocd) == []


def test_external_secrets_crd_exceeds_the_annotation_limit() -> None:
    crd, size = largest_crd_bytes("external-secrets.io")
    assert size > ANNOTATION_LIMIT_BYTES, (crd, size)


def test_planted_client_side_apply_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "gitops/argocd/addons/applicationset-external-secrets.yaml",
        lambda text: text.replace("          - ServerSideApply=true\n", ""),
    )
    problems = server_side_apply_problems(render_argocd(root))
    expected = "ApplicationSet/addon-external-secrets: CRD external-secrets.io/"
    assert any(p.startswith(expected) for p in problems)
