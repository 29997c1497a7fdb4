"""scripts/new_service.py adds a service that every registry-driven place already lists, and that lints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from registry_places import registry_problems

from scripts.new_service import add_service

RUFF = Path(sys.executable).parent / "ruff"


def test_a_new_mongodb_service_is_complete_everywhere(repo_copy: Path) -> None:
    # Every planned MongoDB service exists by now (chat was the last): a new entry is added instead.
    add_service(repo_copy, "ledger", 8010, [])
    # The contracts row is one of the by-hand steps (docs/adding-a-service.md); everything else is generated.
    assert registry_problems(repo_copy) == ["ledger: docs/contracts.md has no row '| ledger | 8010 |'"]
    package = repo_copy / "services/ledger/src/ledger_service"
    for layer in (
        "domain/errors.py",
        "entrypoints/bootstrap.py",
        "adapters/unit_of_work.py",
        "service_layer",
    ):
        assert (package / layer).exists(), layer
    assert "ROUTING_KEYS: tuple[str, ...] = ()" in (package / "entrypoints/consumer.py").read_text()


def test_the_rendered_service_passes_ruff(repo_copy: Path) -> None:
    add_service(repo_copy, "ledger", 8010, [])
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [str(RUFF), *command, "services/ledger"],
            cwd=repo_copy,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_rendered_manifests_build_with_the_component(repo_copy: Path) -> None:
    # gig was generated (services/registry.toml has it with a search store): its manifests are the rendering.
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(repo_copy / "gitops/base/services/gig")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "SERVICE" not in rendered
    objects = {(doc["kind"], doc["metadata"]["name"]) for doc in yaml.safe_load_all(rendered)}
    assert {("Deployment", "gig"), ("ExternalSecret", "gig-secrets"), ("ConfigMap", "gig-config")} <= objects
    deployment = next(doc for doc in yaml.safe_load_all(rendered) if doc["kind"] == "Deployment")
    assert deployment["spec"]["template"]["metadata"]["labels"]["gigstack.io/uses-search"] == "true"


def test_a_new_service_leaves_only_the_gateway_setting_and_its_contract_row(repo_copy: Path) -> None:
    """What the generator cannot write: gateway code (its *_service_url setting) and prose."""
    add_service(repo_copy, "ledger", 8010, ["ledgers"])
    assert registry_problems(repo_copy) == [
        "ledger: serves public groups, but the gateway has no ledger_service_url setting",
        "ledger: docs/contracts.md has no row '| ledger | 8010 |'",
    ]
