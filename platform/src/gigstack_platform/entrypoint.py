"""The Pulumi program's entry point: `main()` reads the stack config and builds the eks or minikube stack."""

from __future__ import annotations

from gigstack_platform.config import load_config
from gigstack_platform.eks_stack import build_eks
from gigstack_platform.minikube_stack import build_minikube


def main() -> None:
    config = load_config()
    if config.environment == "eks":
        build_eks(config)
    else:
        build_minikube(config)
