"""Offline checks of the rendered GitOps manifests, shared by the tests in this folder.

Every check takes a repository root, so the tests can run it on the real checkout and on a temporary
copy with a planted defect. Checks return a list of problems (empty means clean) rather than asserting,
so one test can show every problem at once and the defect tests can assert that something was found.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("minikube", "eks")
FALLBACK_KUBERNETES_VERSION = "1.33"
KUSTOMIZE_TIMEOUT_SECONDS = 60

Manifest = dict[str, Any]


def schemas_dir(repo_root: Path = REPO_ROOT) -> Path:
    """CRD schemas live in shared/, a sibling of the repository root (../shared in CI)."""
    return repo_root.parent / "shared" / "schemas"


def eks_stack_config(repo_root: Path = REPO_ROOT) -> dict[str, Any]:
    """The eks Pulumi stack's config (environments/eks/Pulumi.eks.yaml), empty when absent."""
    path = repo_root / "environments" / "eks" / "Pulumi.eks.yaml"
    if not path.is_file():
        return {}
    config: dict[str, Any] = (yaml.safe_load(path.read_text()) or {}).get("config", {})
    return config


def kubernetes_version(repo_root: Path = REPO_ROOT) -> str:
    """The EKS version the platform pins: the eks stack config, else the program's default, else 1.33."""
    pinned = eks_stack_config(repo_root).get("gigstack:cluster", {}).get("version")
    if pinned:
        return str(pinned)
    config = repo_root / "platform" / "src" / "gigstack_platform" / "config.py"
    if config.is_file():
        match = re.search(r'^\s+version:\s*str\s*=\s*"(\d+\.\d+)"', config.read_text(), re.MULTILINE)
        if match:
            return match.group(1)
    return FALLBACK_KUBERNETES_VERSION


def copy_repo(dest: Path, repo_root: Path = REPO_ROOT) -> Path:
    """Copy what the checks read (manifests, overlays, service folders' metadata) into dest."""
    for folder in ("gitops", "environments"):
        shutil.copytree(repo_root / folder, dest / folder)
    for service in service_names(repo_root):
        target = dest / "services" / service
        target.mkdir(parents=True)
        for name in ("pyproject.toml", "Dockerfile"):
            if (repo_root / "services" / service / name).is_file():
                shutil.copy2(repo_root / "services" / service / name, target / name)
    if (repo_root / ".github" / "workflows").is_dir():
        shutil.copytree(repo_root / ".github" / "workflows", dest / ".github" / "workflows")
    for name in (".checkov.yaml", ".yamllint", "compose.yaml", "compose.observability.yaml"):
        if (repo_root / name).is_file():
            shutil.copy2(repo_root / name, dest / name)
    return dest


def service_names(repo_root: Path = REPO_ROOT) -> list[str]:
    """Services are the folders under services/ that are workspace members (have a pyproject.toml)."""
    return sorted(p.parent.name for p in (repo_root / "services").glob("*/pyproject.toml"))


# --- kustomize ----------------------------------------------------------------------------------


class RenderError(Exception):
    """kustomize refused to build a kustomization."""


def render(path: Path) -> list[Manifest]:
    """Build a kustomization with kubectl's built-in kustomize; raise RenderError with its message."""
    result = subprocess.run(
        ["kubectl", "kustomize", str(path)],
        capture_output=True,
        text=True,
        timeout=KUSTOMIZE_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise RenderError(f"{path}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_environment(repo_root: Path, environment: str) -> list[Manifest]:
    return render(repo_root / "environments" / environment)


ROOT_APP_EXCLUDES = {"bridge-contract.yaml"}


def load_root_app_directory(repo_root: Path) -> list[Manifest]:
    """gitops/argocd as the platform's root Application reads it: a plain directory, not recursive,
    without bridge-contract.yaml (platform/src/gigstack_platform/kube/argocd_bootstrap.py)."""
    docs: list[Manifest] = []
    for path in sorted((repo_root / "gitops" / "argocd").glob("*.yaml")):
        if path.name not in ROOT_APP_EXCLUDES:
            docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def render_argocd(repo_root: Path) -> list[Manifest]:
    """The bootstrap objects (root Application's directory) and the addon ApplicationSets."""
    return load_root_app_directory(repo_root) + render(repo_root / "gitops" / "argocd" / "addons")


def identity(doc: Manifest) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


# --- schema validation --------------------------------------------------------------------------


def _group_and_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def is_native(doc: Manifest) -> bool:
    """Core and *.k8s.io API groups are validated by kubernetes-validate; the rest are CRDs."""
    group, _ = _group_and_version(str(doc.get("apiVersion", "")))
    return group == "" or "." not in group or group.endswith(".k8s.io")


def native_problems(docs: Iterable[Manifest], version: str) -> list[str]:
    problems = []
    for doc in docs:
        if not is_native(doc):
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = "/".join(str(part) for part in error.path)
            problems.append(f"{identity(doc)}: {where}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{identity(doc)}: no Kubernetes {version} schema for {doc.get('apiVersion')}")
    return problems


def custom_schema_path(doc: Manifest, repo_root: Path = REPO_ROOT) -> Path:
    group, version = _group_and_version(str(doc.get("apiVersion", "")))
    return schemas_dir(repo_root) / group / f"{str(doc.get('kind', '')).lower()}_{version}.json"


def custom_problems(docs: Iterable[Manifest], repo_root: Path = REPO_ROOT) -> list[str]:
    problems = []
    for doc in docs:
        if is_native(doc):
            continue
        path = custom_schema_path(doc, repo_root)
        if not path.is_file():
            problems.append(f"{identity(doc)}: no schema at {path}")
            continue
        schema = json.loads(path.read_text())
        validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        validator = validator_class(schema)
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
            where = "/".join(str(part) for part in error.path)
            problems.append(f"{identity(doc)}: {where}: {error.message}")
    return problems


# --- exposure -----------------------------------------------------------------------------------

PUBLIC_SERVICE = "gateway"
# Published next to the gateway: minikube's object store, which browsers POST presigned uploads to
# (docs/adr/0017; on eks that is Amazon S3 itself). It runs no code of ours and checks every signature.
OBJECT_STORE_SERVICE = "s3proxy"
# The web client: the same Ingress routes everything outside /api to it (docs/adr/0025). It is a client of
# the gateway's public API, so publishing it exposes nothing the gateway does not.
STOREFRONT_SERVICE = "storefront"
PUBLIC_SERVICES = frozenset({PUBLIC_SERVICE, OBJECT_STORE_SERVICE, STOREFRONT_SERVICE})
MONITORING_NAMESPACE = "monitoring"


def _selects_only_gateway(selector: Manifest) -> bool:
    return bool(selector.get("matchLabels", {}).get("app.kubernetes.io/name") in PUBLIC_SERVICES)


def _peer_is_internal(peer: Manifest) -> bool:
    """A peer inside the namespace (podSelector only) or Prometheus' namespace."""
    if "ipBlock" in peer:
        return False
    namespace_selector = peer.get("namespaceSelector")
    if namespace_selector is None:
        return True
    names = namespace_selector.get("matchLabels", {}).get("kubernetes.io/metadata.name")
    return bool(names == MONITORING_NAMESPACE)


def exposure_problems(docs: Iterable[Manifest]) -> list[str]:
    """Only the gateway, the storefront (and minikube's object store) may be reachable from outside the
    namespace (Prometheus scraping aside)."""
    problems = []
    for doc in docs:
        kind, spec = doc.get("kind"), doc.get("spec", {})
        if kind == "Service" and spec.get("type", "ClusterIP") != "ClusterIP":
            problems.append(f"{identity(doc)}: type {spec.get('type')} publishes it outside the cluster")
        if kind == "Ingress":
            for backend in _ingress_backends(spec):
                if backend not in PUBLIC_SERVICES:
                    problems.append(f"{identity(doc)}: routes to service {backend!r}")
        if kind == "NetworkPolicy" and not _selects_only_gateway(spec.get("podSelector", {})):
            for rule in spec.get("ingress", []):
                if not rule.get("from"):
                    problems.append(f"{identity(doc)}: an ingress rule without 'from' admits everyone")
                problems.extend(
                    f"{identity(doc)}: admits {peer} to non-gateway pods"
                    for peer in rule.get("from", [])
                    if not _peer_is_internal(peer)
                )
        pod_spec = _pod_spec(doc)
        if pod_spec is not None:
            if pod_spec.get("hostNetwork"):
                problems.append(f"{identity(doc)}: hostNetwork")
            for container in pod_spec.get("containers", []):
                if any("hostPort" in port for port in container.get("ports", [])):
                    problems.append(f"{identity(doc)}: hostPort on {container.get('name')}")
    return problems


def _ingress_backends(spec: Manifest) -> Iterator[str]:
    default = spec.get("defaultBackend", {}).get("service", {}).get("name")
    if default:
        yield default
    for rule in spec.get("rules", []):
        for path in rule.get("http", {}).get("paths", []):
            yield path.get("backend", {}).get("service", {}).get("name", "<none>")


def _pod_spec(doc: Manifest) -> Manifest | None:
    template = doc.get("spec", {}).get("template")
    if doc.get("kind") in {"Deployment", "StatefulSet", "DaemonSet", "Job"} and isinstance(template, dict):
        spec = template.get("spec")
        return spec if isinstance(spec, dict) else None
    return None


# --- coverage -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """What makes a service deployed: its folder, an overlay line in each env, an ApplicationSet."""

    service: str
    has_base_folder: bool
    overlays_listing_it: tuple[str, ...]
    rendered_in: tuple[str, ...]
    has_dockerfile: bool


def base_service_dir(repo_root: Path, service: str) -> Path:
    return repo_root / "gitops" / "base" / "services" / service


def overlay_resources(repo_root: Path, environment: str) -> list[str]:
    kustomization = yaml.safe_load(
        (repo_root / "environments" / environment / "kustomization.yaml").read_text()
    )
    return [str(entry) for entry in kustomization.get("resources", [])]


def coverage_problems(repo_root: Path) -> list[str]:
    problems = []
    rendered = {env: {identity(doc) for doc in render_environment(repo_root, env)} for env in ENVIRONMENTS}
    for service in service_names(repo_root):
        folder = base_service_dir(repo_root, service)
        if not (folder / "kustomization.yaml").is_file():
            problems.append(f"{service}: no gitops/base/services/{service}/kustomization.yaml")
        if not (repo_root / "services" / service / "Dockerfile").is_file():
            problems.append(f"{service}: no services/{service}/Dockerfile")
        for env in ENVIRONMENTS:
            line = f"../../gitops/base/services/{service}"
            if line not in overlay_resources(repo_root, env):
                problems.append(f"{service}: environments/{env}/kustomization.yaml does not list {line}")
            if f"Deployment/{service}" not in rendered[env]:
                problems.append(f"{service}: no Deployment/{service} in the rendered {env} overlay")
    problems.extend(applicationset_coverage_problems(repo_root))
    return problems


def applicationset_coverage_problems(repo_root: Path) -> list[str]:
    """The marketplace ApplicationSet must pick up both overlays through workloads_repo_path."""
    appsets = [
        doc
        for doc in load_root_app_directory(repo_root)
        if doc.get("kind") == "ApplicationSet" and doc["metadata"]["name"] == "marketplace"
    ]
    if len(appsets) != 1:
        return [f"expected one ApplicationSet 'marketplace', found {len(appsets)}"]
    spec = appsets[0]["spec"]
    problems = []
    path = spec["template"]["spec"].get("source", {}).get("path", "")
    if "workloads_repo_path" not in path:
        problems.append(f"marketplace ApplicationSet path {path!r} does not come from workloads_repo_path")
    selected: set[str] = set()
    for generator in spec.get("generators", []):
        selector = generator.get("clusters", {}).get("selector", {})
        if "environment" in selector.get("matchLabels", {}):
            selected.add(selector["matchLabels"]["environment"])
        for expression in selector.get("matchExpressions", []):
            if expression.get("key") == "environment" and expression.get("operator") == "In":
                selected.update(expression.get("values", []))
    missing = set(ENVIRONMENTS) - selected
    if missing:
        problems.append(f"marketplace ApplicationSet does not select environments {sorted(missing)}")
    return problems


# --- bridge contract ----------------------------------------------------------------------------

_TEMPLATE_KEY = re.compile(r"\.metadata\.(labels|annotations)\.([A-Za-z0-9_]+)")


def bridge_contract_keys(repo_root: Path) -> dict[str, set[str]]:
    contract = yaml.safe_load((repo_root / "gitops" / "argocd" / "bridge-contract.yaml").read_text())
    return {
        "labels": {entry["name"] for entry in contract.get("labels", [])},
        "annotations": {entry["name"] for entry in contract.get("annotations", [])},
    }


def bridge_key_problems(repo_root: Path) -> list[str]:
    """ApplicationSets may read only the cluster Secret keys the bridge contract lists."""
    allowed = bridge_contract_keys(repo_root)
    problems = []
    for doc in render_argocd(repo_root):
        if doc.get("kind") != "ApplicationSet":
            continue
        text = yaml.safe_dump(doc)
        for where, key in _TEMPLATE_KEY.findall(text):
            if key not in allowed[where]:
                problems.append(f"{identity(doc)} reads {where} {key!r}, not in bridge-contract.yaml")
        for generator in doc["spec"].get("generators", []):
            labels = generator.get("clusters", {}).get("selector", {}).get("matchLabels", {})
            problems.extend(
                f"{identity(doc)} selects on label {key!r}, not in bridge-contract.yaml"
                for key in labels
                if key != "argocd.argoproj.io/secret-type" and key not in allowed["labels"]
            )
    return problems
