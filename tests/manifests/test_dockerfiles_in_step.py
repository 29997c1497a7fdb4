"""The per-service Dockerfiles are one template: identical once the service name is taken out.

A hardening or base-image change made to one image and forgotten in another is the drift this catches
(docs/adding-a-service.md: a new service copies the gateway's Dockerfile and renames).
"""

from __future__ import annotations

import re
from pathlib import Path

from manifest_toolkit import service_names

TEMPLATE_SERVICE = "gateway"


def _as_template(dockerfile: str, service: str) -> str:
    # Whole words only: "gig" is also the start of "gigstack".
    return re.sub(
        rf"\b{re.escape(service)}\b", "<name>", dockerfile.replace(f"{service}_service", "<name>_service")
    )


def dockerfile_drift(repo_root: Path) -> list[str]:
    """Services whose Dockerfile differs from the gateway's beyond the service name."""
    services_dir = repo_root / "services"
    reference = _as_template((services_dir / TEMPLATE_SERVICE / "Dockerfile").read_text(), TEMPLATE_SERVICE)
    return [
        service
        for service in service_names(repo_root)
        if _as_template((services_dir / service / "Dockerfile").read_text(), service) != reference
    ]


def test_service_dockerfiles_differ_only_by_the_service_name(repo_root: Path) -> None:
    assert dockerfile_drift(repo_root) == []


def test_planted_drift_in_one_dockerfile_is_reported(tmp_path: Path, repo_root: Path) -> None:
    for service in service_names(repo_root):
        target = tmp_path / "services" / service
        target.mkdir(parents=True)
        source = repo_root / "services" / service
        (target / "pyproject.toml").write_text((source / "pyproject.toml").read_text())
        text = (source / "Dockerfile").read_text()
        if service == "notification":
            text = text.replace("USER 10001:10001", "USER 0:0")
        (target / "Dockerfile").write_text(text)
    assert dockerfile_drift(tmp_path) == ["notification"]
