"""Pulumi.yaml, both stack config files and the docs' configuration table agree with the config module."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from gigstack_platform.config import ConfigError, StoreSizes

REPO_ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL_KEYS = {
    "environment",
    "production",
    "repoUrl",
    "repoRevision",
    "uploadOrigins",
    "smtpUsername",
    "smtpPassword",
    "stripeSecretKey",
    "stripeWebhookSecret",
    "rdsCaBundleFile",
    "network",
    "cluster",
    "stores",
    "minikube",
    "monitoring",
    "delivery",
    "ingress",
    "alertWebhookUrl",
    "repoUsername",
    "repoPassword",
}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _config_text() -> str:
    return (REPO_ROOT / "platform/src/gigstack_platform/config.py").read_text()


def test_project_file_points_at_the_program() -> None:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "gigstack"
    assert project["runtime"]["name"] == "python"
    assert project["main"] == "platform/"
    assert (REPO_ROOT / "platform/__main__.py").read_text().count("main()") == 1


@pytest.mark.parametrize("stack", ["minikube", "eks"])
def test_stack_file_lives_with_its_environment_and_uses_known_keys(stack: Any) -> None:
    config = yaml.safe_load((REPO_ROOT / f"environments/{stack}/Pulumi.{stack}.yaml").read_text())["config"]
    assert config["gigstack:environment"] == stack
    keys = {key.split(":", 1)[1] for key in config if key.startswith("gigstack:")}
    assert keys <= TOP_LEVEL_KEYS
    assert {key.split(":", 1)[0] for key in config} <= {"gigstack", "aws"}


def stray_stack_files(root: Path) -> list[str]:
    """Stack config files at the root instead of environments/<stack>/ (ADR 0002)."""
    return sorted(path.name for path in root.glob("Pulumi.*.yaml"))


def test_no_stack_config_file_at_the_repository_root() -> None:
    assert stray_stack_files(REPO_ROOT) == []


def test_planted_root_stack_config_is_reported(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: gigstack\n")
    (tmp_path / "Pulumi.minikube.yaml").write_text("encryptionsalt: v1:x\n")
    assert stray_stack_files(tmp_path) == ["Pulumi.minikube.yaml"]


def test_config_module_is_the_only_reader_of_pulumi_config() -> None:
    sources = (REPO_ROOT / "platform/src/gigstack_platform").rglob("*.py")
    readers = sorted(str(p.relative_to(REPO_ROOT)) for p in sources if "pulumi.Config(" in p.read_text())
    assert readers == ["platform/src/gigstack_platform/config.py"]


def test_configuration_doc_lists_every_key() -> None:
    doc = (REPO_ROOT / "docs/platform/configuration.md").read_text()
    documented = set(re.findall(r"`gigstack:([A-Za-z]+)(?:\.[A-Za-z.]+)?`", doc))
    assert documented == TOP_LEVEL_KEYS
    nested = set(re.findall(r'\.get(?:_object|_bool|_secret)?\("([a-z][A-Za-z]+)"', _config_text())) - {
        "region"
    }
    nested |= {_camel(name) for name in StoreSizes.__dataclass_fields__}
    undocumented = sorted(key for key in nested - TOP_LEVEL_KEYS if f"{key}`" not in doc)
    assert undocumented == []


def test_invalid_choices_are_refused(build_stack: Any) -> None:
    with pytest.raises(ConfigError, match="natGateways"):
        build_stack("eks", {"gigstack:network": {"natGateways": "none"}})
    with pytest.raises(ConfigError, match="environment"):
        build_stack("minikube", {"gigstack:environment": "gke"})
