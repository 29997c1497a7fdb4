"""Every place that names services, checked against services/registry.toml.

Each function returns problems as sentences naming the service and the place, so a failing test says what to
add where. The dev stack and the platform catalogue are built from the registry and need no check here.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from gigstack_registry import Registry, Service, load_registry

LAYERS = ("entrypoints", "adapters", "service_layer", "domain")
COMPONENT = "../../../components/service-workload"
MIGRATION = "../../../components/service-migration"
OVERLAYS = ("eks", "minikube")
GATEWAY_SETTINGS = Path("services/gateway/src/gateway_service/settings.py")
# Written by scripts/generate_public_api.py when the gateway serves a generated operation table.
GATEWAY_OPERATIONS = Path("services/gateway/src/gateway_service/entrypoints/public_operations.json")
STORE_SETTINGS = {
    "postgres": "DATABASE_URL",
    "mysql": "DATABASE_URL",
    "redis": "REDIS_URL",
    "mongodb": "MONGODB_URL",
    "search": "SEARCH_URL",
}


def service_folders(repo_root: Path) -> set[str]:
    return {path.parent.name for path in (repo_root / "services").glob("*/pyproject.toml")}


def existence_problems(repo_root: Path, registry: Registry) -> list[str]:
    folders = service_folders(repo_root)
    problems = [
        f"{name}: services/{name}/ exists but is not in services/registry.toml"
        for name in sorted(folders - set(registry.names))
    ]
    for service in registry:
        if service.exists and service.name not in folders:
            problems.append(
                f"{service.name}: registry says exists = true, but services/{service.name}/ "
                "has no pyproject.toml"
            )
        if not service.exists and service.name in folders:
            problems.append(
                f"{service.name}: services/{service.name}/ exists; set exists = true in the registry"
            )
    return problems


def _lines(value: str) -> set[str]:
    return {line.strip() for line in value.splitlines() if line.strip()}


def import_linter_problems(repo_root: Path, registry: Registry) -> list[str]:
    config = configparser.ConfigParser()
    config.read(repo_root / ".importlinter")
    contracts = [
        config[section] for section in config.sections() if section.startswith("importlinter:contract:")
    ]
    independent = set().union(*(_lines(c["modules"]) for c in contracts if c.get("type") == "independence"))
    standalone = set().union(
        *(
            _lines(c["forbidden_modules"])
            for c in contracts
            if "servicekit" in _lines(c.get("source_modules", ""))
        )
    )
    domain_sources = set().union(
        *(
            _lines(c["source_modules"])
            for c in contracts
            if "fastapi" in _lines(c.get("forbidden_modules", ""))
        )
    )
    layered = [tuple(_lines_in_order(c["layers"])) for c in contracts if c.get("type") == "layers"]
    roots = _lines(config["importlinter"]["root_packages"])
    problems = []
    for service in registry.existing:
        package, where = service.package, f"{service.name}: .importlinter"
        if package not in roots:
            problems.append(f"{where} root_packages lacks {package}")
        if package not in independent:
            problems.append(f"{where} independence contract lacks {package}")
        if package not in standalone:
            problems.append(f"{where} servicekit-standalone contract does not forbid {package}")
        if f"{package}.domain" not in domain_sources:
            problems.append(f"{where} domain-pure contract lacks {package}.domain")
        if tuple(f"{package}.{layer}" for layer in LAYERS) not in layered:
            problems.append(f"{where} has no layers contract for {package}")
    known = {service.package for service in registry.existing}
    problems.extend(
        f".importlinter names {package}, which is not an existing service in the registry"
        for package in sorted(roots | independent)
        if package.endswith("_service") and package not in known
    )
    return problems


def _lines_in_order(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def mypy_path_problems(repo_root: Path, registry: Registry) -> list[str]:
    pyproject = tomllib.loads((repo_root / "pyproject.toml").read_text())
    paths = set(pyproject["tool"]["mypy"]["mypy_path"].split(":"))
    return [
        f"{service.name}: pyproject.toml [tool.mypy] mypy_path lacks services/{service.name}/src"
        for service in registry.existing
        if f"services/{service.name}/src" not in paths
    ]


def compose_problems(repo_root: Path, registry: Registry) -> list[str]:
    services: dict[str, Any] = yaml.safe_load((repo_root / "compose.yaml").read_text())["services"]
    problems = []
    gateway_env = services.get("gateway", {}).get("environment", {})
    for service in registry.existing:
        where = f"{service.name}: compose.yaml"
        url = f"{service.name.upper()}_SERVICE_URL"
        if service.internal_api and gateway_env.get(url) != f"http://{service.name}:8000":
            problems.append(f"{where} gateway lacks {url}: http://{service.name}:8000")
        spec = services.get(service.name)
        if spec is None:
            problems.append(f"{where} has no service {service.name}")
            continue
        if spec.get("build", {}).get("dockerfile") != f"services/{service.name}/Dockerfile":
            problems.append(f"{where} does not build it from services/{service.name}/Dockerfile")
        if f"127.0.0.1:{service.port}:8000" not in spec.get("ports", []):
            problems.append(f"{where} does not publish port {service.port} (127.0.0.1:{service.port}:8000)")
        wanted = {STORE_SETTINGS[store] for store in service.stores} | (
            {"AMQP_URL"} if service.uses_bus else set()
        )
        missing = wanted - set(spec.get("environment", {}))
        if missing:
            problems.append(f"{where} does not set {sorted(missing)}")
        if service.migrates and f"{service.name}-migrate" not in services:
            problems.append(f"{where} has no {service.name}-migrate job")
    existing = {service.name for service in registry.existing}
    for name, spec in services.items():
        dockerfile = str(spec.get("build", {}).get("dockerfile", ""))
        built = re.fullmatch(r"services/([a-z]+)/Dockerfile", dockerfile)
        if built and built.group(1) not in existing:
            problems.append(
                f"compose.yaml {name} builds services/{built.group(1)}, "
                "which the registry does not list as existing"
            )
    return problems


def expected_pod_labels(service: Service) -> set[str]:
    labels = {f"gigstack.io/uses-{store}" for store in service.stores}
    if service.uses_bus:
        labels.add("gigstack.io/uses-amqp")
    if service.sends_mail:
        labels.add("gigstack.io/uses-smtp")
    if service.uses_media:
        labels.add("gigstack.io/uses-objects")  # the media object store (docs/adr/0017)
    if service.internal_api:
        labels.add("gigstack.io/internal-api")
    return labels


def gitops_problems(repo_root: Path, registry: Registry) -> list[str]:
    problems = []
    for service in registry.existing:
        folder = repo_root / "gitops/base/services" / service.name
        where = f"{service.name}: gitops/base/services/{service.name}"
        if not (folder / "kustomization.yaml").is_file():
            problems.append(f"{where}/kustomization.yaml is missing")
            continue
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        components = kustomization.get("components", [])
        if COMPONENT not in components:
            problems.append(f"{where} does not use the component gitops/components/service-workload")
        migration = (folder / "migration-job.yaml").is_file() and MIGRATION in components
        if service.migrates != migration:
            problems.append(
                f"{where}: migration-job.yaml and the service-migration component exactly when it migrates"
            )
        deployment = (
            yaml.safe_load((folder / "deployment.yaml").read_text())
            if (folder / "deployment.yaml").is_file()
            else {}
        )
        labels = deployment.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
        found = {label for label in labels if label.startswith("gigstack.io/")}
        if found != expected_pod_labels(service):
            problems.append(
                f"{where}/deployment.yaml pod labels {sorted(found)}, "
                f"the registry implies {sorted(expected_pod_labels(service))}"
            )
    for overlay in OVERLAYS:
        listed = yaml.safe_load((repo_root / "environments" / overlay / "kustomization.yaml").read_text())[
            "resources"
        ]
        named = {line.rsplit("/", 1)[1] for line in listed if line.startswith("../../gitops/base/services/")}
        for service in registry.existing:
            if service.name not in named:
                problems.append(f"{service.name}: environments/{overlay}/kustomization.yaml does not list it")
        problems.extend(
            f"environments/{overlay}/kustomization.yaml lists {name}, "
            "which the registry does not list as existing"
            for name in sorted(named - {service.name for service in registry.existing})
        )
    return problems


def gateway_problems(repo_root: Path, registry: Registry) -> list[str]:
    """The gateway reaches exactly the services serving public groups and routes each group to its owner."""
    routed = set(
        re.findall(r"^\s+(\w+)_service_url:", (repo_root / GATEWAY_SETTINGS).read_text(), re.MULTILINE)
    )
    serving = {service.name for service in registry if service.public_groups}
    problems = [
        f"{name}: serves public groups, but the gateway has no {name}_service_url setting"
        for name in sorted(serving - routed)
    ]
    problems.extend(
        f"{name}: the gateway has a {name}_service_url setting, but the registry gives it no public group"
        for name in sorted(routed - serving)
    )
    configmap = yaml.safe_load((repo_root / "gitops/base/services/gateway/configmap.yaml").read_text())[
        "data"
    ]
    for service in registry.existing:
        if (
            service.internal_api
            and configmap.get(f"{service.name.upper()}_SERVICE_URL") != f"http://{service.name}:8000"
        ):
            problems.append(
                f"{service.name}: gateway configmap lacks {service.name.upper()}_SERVICE_URL: http://{service.name}:8000"
            )
    owners = registry.group_owners()
    table = repo_root / GATEWAY_OPERATIONS
    operations = json.loads(table.read_text())["operations"] if table.is_file() else []
    for operation in operations:
        group = operation["operation_id"].split(".", 1)[0]
        if owners.get(group) != operation["service"]:
            problems.append(
                f"gateway operation {operation['operation_id']} goes to {operation['service']}, "
                f"the registry gives group {group} to {owners.get(group)}"
            )
    return problems


def contracts_doc_problems(repo_root: Path, registry: Registry) -> list[str]:
    text = (repo_root / "docs/contracts.md").read_text()
    return [
        f"{service.name}: docs/contracts.md has no row '| {service.name} | {service.port} |'"
        for service in registry
        if f"| {service.name} | {service.port} |" not in text
    ]


def registry_problems(repo_root: Path) -> list[str]:
    registry = load_registry(repo_root)
    checks = (
        existence_problems,
        import_linter_problems,
        mypy_path_problems,
        compose_problems,
        gitops_problems,
        gateway_problems,
        contracts_doc_problems,
    )
    return [problem for check in checks for problem in check(repo_root, registry)]
