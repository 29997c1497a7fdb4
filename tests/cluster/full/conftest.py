"""The full tier runs against the cluster `make test-cluster` starts (scripts/cluster/cluster.sh up, the
stores, the images, Argo CD syncing environments/local); it fails at once when that cluster is not running."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_cluster import Kube, deployments_available, eventually, running_cluster, synced_and_healthy


@pytest.fixture(scope="session")
def kube() -> Kube:
    kube = running_cluster()
    # Every Deployment rolled out (a cold start may still be converging).
    eventually("every Deployment Available", lambda: deployments_available(kube), timeout=600)
    return kube


@pytest.fixture(scope="session")
def synced(kube: Kube) -> Kube:
    """Argo CD has synced environments/local from the served repository and reports it Healthy."""
    eventually("Application gigstack-local Synced and Healthy", lambda: synced_and_healthy(kube), timeout=600)
    return kube


@pytest.fixture(scope="session")
def gateway_url(kube: Kube) -> str:
    service = kube.get("service", "gateway", "-n", "gigstack")
    return f"http://{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"
