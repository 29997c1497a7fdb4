"""The release pointer of an environment (environments/<stack>/release.yaml) as the platform reads it.

Until the delivery workflow has pushed the first images and rewritten the pointer, the eks overlay names a
placeholder registry and tag: Argo CD would sync Deployments and the migration hook with images that do not
exist, and stop retrying that commit. The platform therefore enables the workloads (cluster Secret label
`enable_gigstack`) only once the pointer names a real release.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from gigstack_platform.config import REPO_ROOT

PLACEHOLDER_TAG = "bootstrap"
PLACEHOLDER_ACCOUNT = "000000000000"


def release_file(stack: str) -> Path:
    return REPO_ROOT / "environments" / stack / "release.yaml"


def first_release_published(path: Path) -> bool:
    """True when `path` names a pushed release, or when the environment has no pointer (minikube builds
    its images locally)."""
    if not path.is_file():
        return True
    data = yaml.safe_load(path.read_text(encoding="utf-8"))["data"]
    return str(data["tag"]) != PLACEHOLDER_TAG and not str(data["registry"]).startswith(PLACEHOLDER_ACCOUNT)
