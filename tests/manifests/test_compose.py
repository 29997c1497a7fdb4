"""compose.yaml runs every service with pinned images and healthchecks that exercise the server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from manifest_toolkit import service_names

Plant = Callable[[str, Callable[[str], str]], Path]
TRIVIAL_HEALTHCHECKS = ({"true"}, {"exit 0"}, {"CMD", "true"}, {"CMD-SHELL", "true"}, {"CMD-SHELL", "exit 0"})


def compose_problems(repo_root: Path) -> list[str]:
    compose: dict[str, Any] = yaml.safe_load((repo_root / "compose.yaml").read_text())
    services: dict[str, Any] = compose["services"]
    problems = []
    for name, spec in services.items():
        image = str(spec.get("image", ""))
        if ":" not in image or image.endswith(":latest"):
            problems.append(f"{name}: image {image!r} is not pinned to a tag")
        one_shot = spec.get("restart") == "no"
        check = spec.get("healthcheck", {})
        if not one_shot and (not check.get("test") or check.get("disable")):
            problems.append(f"{name}: long-running service without a healthcheck")
        test = check.get("test")
        if test and set(test if isinstance(test, list) else [test]) in TRIVIAL_HEALTHCHECKS:
            problems.append(f"{name}: healthcheck {test} checks nothing")
        for dependency, condition in (spec.get("depends_on") or {}).items():
            if dependency not in services:
                problems.append(f"{name}: depends on unknown service {dependency}")
            elif condition.get("condition") == "service_healthy" and not services[dependency].get(
                "healthcheck"
            ):
                problems.append(f"{name}: waits for {dependency} to be healthy, which has no healthcheck")
    for service in service_names(repo_root):
        dockerfile = services.get(service, {}).get("build", {}).get("dockerfile")
        if dockerfile != f"services/{service}/Dockerfile":
            problems.append(f"{service}: not built from services/{service}/Dockerfile in compose.yaml")
    layer: dict[str, Any] = yaml.safe_load((repo_root / "compose.observability.yaml").read_text())
    for name, spec in layer["services"].items():
        if "image" not in spec and name not in services:
            problems.append(f"compose.observability.yaml: {name} extends no service of compose.yaml")
    return problems


def test_compose_stack_is_complete_and_checked(repo_root: Path) -> None:
    assert compose_problems(repo_root) == []


def test_planted_missing_healthcheck_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "compose.yaml",
        lambda text: text.replace('      test: ["CMD-SHELL", "redis-cli ping | grep -q PONG"]\n', ""),
    )
    assert "redis: long-running service without a healthcheck" in compose_problems(root)


def test_planted_unpinned_image_is_reported(broken_copy: Plant) -> None:
    root = broken_copy(
        "compose.yaml", lambda text: text.replace("image: mongo:8.0.15", "image: mongo:latest")
    )
    assert "mongodb: image 'mongo:latest' is not pinned to a tag" in compose_problems(root)
