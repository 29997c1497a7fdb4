"""One real API server (etcd + kube-apiserver from the install cache) per session, with the addons' CRDs
applied and the namespaces the manifests use, each enforcing Pod Security `restricted`."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# The helper modules sit beside the tests; pytest's importlib mode does not put this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_toolkit import Kubectl, RunningCluster, addon_crds
from control_plane import ApiServer, Certificates, EtcdServer, write_kubeconfig

# Namespaces the overlays, Argo CD objects and addon configurations name. All enforce `restricted`: a real
# cluster's admission decides, not a linter's reading of the manifests.
NAMESPACES = ("gigstack", "argocd", "monitoring", "external-secrets", "gigstack-data")
RESTRICTED_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}


def _namespace(name: str) -> str:
    labels = "".join(f"\n    {key}: {value}" for key, value in RESTRICTED_LABELS.items())
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:{labels}\n"


def _default_service_account(namespace: str) -> str:
    return f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: {namespace}\n"


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCluster]:
    base = tmp_path_factory.mktemp("kubernetes")
    started = time.monotonic()
    certificates = Certificates.create(base / "pki")
    etcd = EtcdServer(base / "etcd")
    etcd.start()
    apiserver = ApiServer(base / "apiserver", etcd, certificates)
    try:
        apiserver.start()
        start_seconds = time.monotonic() - started
        kubectl = Kubectl(write_kubeconfig(base / "kubeconfig", apiserver.url, certificates))
        crd_files = [str(path) for row in addon_crds() for path in row.files()]
        # Server-side: the biggest CRDs (ApplicationSet) exceed the client-side last-applied annotation limit.
        kubectl.check(
            "apply", "--server-side", "--field-manager=gigstack-tests", *(f"-f={f}" for f in crd_files)
        )
        kubectl.check("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        # A Pod's ServiceAccount must exist for admission; the controller-manager that would create `default`
        # does not run in this tier.
        objects = [_namespace(n) for n in NAMESPACES] + [_default_service_account(n) for n in NAMESPACES]
        kubectl.check("apply", "--server-side", "-f", "-", stdin="---\n".join(objects))
        yield RunningCluster(kubectl, apiserver.url, start_seconds, time.monotonic() - started)
    finally:
        apiserver.stop()
        etcd.stop()
