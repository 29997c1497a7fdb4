"""Structured difference between the rendered minikube and eks overlays.

Objects are paired by kind and name; each pair is flattened to leaf paths (list items keyed by their
name where they have one), and every differing path is put into a category. A path that fits no
category is a difference the environments do not justify, and the test reports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from manifest_toolkit import Manifest, identity

# Objects that exist in one environment only, and why.
ONE_SIDED_KINDS = {
    "ExternalSecret": "secrets source (External Secrets on eks, Pulumi-written Secrets on minikube)",
}


def one_sided_category(obj: str) -> str | None:
    """The category of an object only one environment has, or None when nothing justifies it."""
    kind, name = obj.split("/", 1)
    if kind in ONE_SIDED_KINDS:
        return "secrets source"
    # docs/adr/0017: minikube runs s3proxy (environments/minikube/object-store); eks uses Amazon S3, which
    # its media services reach over HTTPS (NetworkPolicy egress-objects).
    if name.startswith("s3proxy") or name in ("egress-s3proxy", "egress-objects"):
        return "object store"
    return None


def _object_store_setting(obj: str, path: str) -> bool:
    """OBJECT_STORE_* settings, and minikube's s3proxy key pair in the envFrom of media services."""
    return (
        (obj.startswith("ConfigMap/") and ".OBJECT_STORE_" in path)
        or (
            # The storefront's CSP origin and media base URL: the same store's public address, and whether it
            # serves covers itself from s3proxy (not on eks, where it has no AWS role; docs/adr/0025).
            obj == "ConfigMap/storefront-config" and (".MEDIA_PUBLIC_" in path or ".MEDIA_PROXY_" in path)
        )
        or (obj.startswith("Deployment/") and ".envFrom[" in path and "secretRef" in path)
        or (obj == "Deployment/storefront" and path.endswith("labels.gigstack.io/uses-objects"))
    )


# (category, predicate on (object identity, flattened path)); first match wins.
Rule = tuple[str, Callable[[str, str], bool]]
RULES: tuple[Rule, ...] = (
    ("images/registry", lambda obj, path: bool(re.search(r"\.containers\[[^]]+\]\.image$", path))),
    ("replicas", lambda obj, path: obj.startswith("HorizontalPodAutoscaler/") and "Replicas" in path),
    (
        "ingress class",
        lambda obj, path: (
            obj.startswith("Ingress/")
            or obj in ("NetworkPolicy/gateway-from-ingress", "NetworkPolicy/storefront-from-ingress")
        ),
    ),
    ("store endpoints", lambda obj, path: obj.startswith("NetworkPolicy/egress-")),
    ("store endpoints", lambda obj, path: obj == "ConfigMap/notification-config" and ".SMTP_" in path),
    # Which search engine the platform runs there (ECK Elasticsearch on minikube; test_platform_consistency).
    ("store endpoints", lambda obj, path: obj == "ConfigMap/gig-config" and path.endswith(".SEARCH_ENGINE")),
    # eks: RDS MySQL / DocumentDB verify TLS against Amazon's CA bundle (the platform's ConfigMap).
    ("store TLS trust", lambda obj, path: "[rds-ca-bundle]" in path),
    ("environment settings", lambda obj, path: obj == "ConfigMap/gigstack-environment"),
    (
        "environment settings",
        lambda obj, path: obj == "ConfigMap/notification-config" and path.endswith("MAIL_FROM"),
    ),
    ("zone spread", lambda obj, path: "topologySpreadConstraints" in path),
    ("object store", _object_store_setting),
    ("storage classes", lambda obj, path: path.endswith("storageClassName")),
)


@dataclass
class OverlayDiff:
    by_category: dict[str, list[str]] = field(default_factory=dict)
    unexplained: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{category}: {len(paths)} differences, e.g. {paths[0]}"
            for category, paths in self.by_category.items()
        ]
        lines.extend(f"UNEXPLAINED: {path}" for path in self.unexplained)
        return "\n".join(sorted(lines))


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}"))
        return flat
    if isinstance(value, list):
        flat = {}
        for index, item in enumerate(value):
            key = item.get("name", index) if isinstance(item, dict) else index
            flat.update(flatten(item, f"{prefix}[{key}]"))
        return flat
    return {prefix: value}


def categorise(obj: str, path: str) -> str | None:
    for category, matches in RULES:
        if matches(obj, path):
            return category
    return None


def diff_overlays(left: list[Manifest], right: list[Manifest]) -> OverlayDiff:
    result = OverlayDiff()
    left_by_id = {identity(doc): doc for doc in left}
    right_by_id = {identity(doc): doc for doc in right}
    for obj in sorted(left_by_id.keys() ^ right_by_id.keys()):
        category = one_sided_category(obj)
        if category is not None:
            result.by_category.setdefault(category, []).append(f"{obj} (one side only)")
        else:
            result.unexplained.append(f"{obj} exists in one environment only")
    for obj in sorted(left_by_id.keys() & right_by_id.keys()):
        flat_left, flat_right = flatten(left_by_id[obj]), flatten(right_by_id[obj])
        for path in sorted(flat_left.keys() | flat_right.keys()):
            if flat_left.get(path) == flat_right.get(path):
                continue
            category = categorise(obj, path)
            where = f"{obj}{path}: {flat_left.get(path)!r} -> {flat_right.get(path)!r}"
            if category is None:
                result.unexplained.append(where)
            else:
                result.by_category.setdefault(category, []).append(where)
    return result
