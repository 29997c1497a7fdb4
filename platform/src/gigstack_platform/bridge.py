"""GitOps-bridge cluster Secret labels and annotations, checked against gitops/argocd/bridge-contract.yaml.

The contract file is the single list both sides read: this module refuses to build a Secret whose keys differ
from it, so the program and the ApplicationSets cannot drift apart silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import yaml

from gigstack_platform.config import REPO_ROOT

CONTRACT_PATH = REPO_ROOT / "gitops" / "argocd" / "bridge-contract.yaml"
ADDONS_REPO_PATH = "gitops/argocd/addons"
ROOT_APP_PATH = "gitops/argocd"


class BridgeContractError(ValueError):
    """The cluster Secret would not carry exactly the keys in bridge-contract.yaml."""


@dataclass(frozen=True)
class BridgeContract:
    labels: tuple[str, ...]
    annotations: tuple[str, ...]
    namespace: str
    server: str

    def secret_name(self, stack: str) -> str:
        return f"gigstack-{stack}"


def load_contract(path: Path = CONTRACT_PATH) -> BridgeContract:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return BridgeContract(
        labels=tuple(entry["name"] for entry in raw["labels"]),
        annotations=tuple(entry["name"] for entry in raw["annotations"]),
        namespace=raw["secret"]["namespace"],
        server=raw["secret"]["server"],
    )


def flag(value: bool) -> str:
    return "true" if value else "false"


def check_keys(kind: str, provided: set[str], expected: tuple[str, ...]) -> None:
    missing = sorted(set(expected) - provided)
    extra = sorted(provided - set(expected))
    if missing or extra:
        raise BridgeContractError(f"cluster Secret {kind}: missing {missing}, not in contract {extra}")


@dataclass
class BridgeValues:
    labels: dict[str, str]
    annotations: dict[str, pulumi.Input[str]]

    def checked(self, contract: BridgeContract) -> BridgeValues:
        check_keys("labels", set(self.labels), contract.labels)
        check_keys("annotations", set(self.annotations), contract.annotations)
        return self
