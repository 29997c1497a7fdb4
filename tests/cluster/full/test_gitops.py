"""The GitOps loop: a commit to the repository Argo CD watches (the git daemon on the node address) that
bumps the gateway's image tag is rolled out with no other step, and reverting that commit rolls it back."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from gigstack_registry import load_registry
from local_cluster import (
    GIT_URL,
    NAMESPACE,
    RUN,
    Kube,
    application,
    deployments_available,
    eventually,
    synced_and_healthy,
)

pytestmark = pytest.mark.slow

KUSTOMIZATION = Path("environments/local/kustomization.yaml")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


def _gateway_image(kube: Kube) -> str:
    image: str = kube.get("deployment", "gateway", "-n", NAMESPACE)["spec"]["template"]["spec"]["containers"][
        0
    ]["image"]
    return image


def _rolled_out_with(kube: Kube, image: str) -> bool:
    pods = [
        p
        for p in kube.items("pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/name=gateway")
        if p["metadata"].get("deletionTimestamp") is None
    ]
    return (
        _gateway_image(kube) == image
        and bool(deployments_available(kube))
        and bool(pods)
        and all(p["spec"]["containers"][0]["image"] == image for p in pods)
    )


def _push(repo: Path) -> str:
    _git(repo, "push", "-q", "origin", "HEAD:main")
    return _git(repo, "rev-parse", "HEAD")


def test_argo_cd_synced_the_overlay_from_the_served_repository(synced: Kube) -> None:
    app = application(synced)
    assert app["spec"]["source"]["repoURL"] == GIT_URL
    assert app["spec"]["source"]["path"] == "environments/local"
    served = subprocess.run(
        ["git", "ls-remote", GIT_URL, "refs/heads/main"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()[0]
    assert app["status"]["sync"]["revision"] == served
    managed = {(r["kind"], r["name"]) for r in app["status"]["resources"]}
    services = [s.name for s in load_registry() if s.exists]
    assert {("Deployment", name) for name in services} <= managed
    # Each migrating service's Job too (a sync wave before its Deployment).
    migrations = [f"{s.name}-migrate" for s in load_registry() if s.exists and s.migrates]
    assert {("Job", name) for name in migrations} <= managed


def test_a_pushed_tag_bump_rolls_out_and_its_revert_rolls_back(synced: Kube, tmp_path: Path) -> None:
    kube = synced
    # The new tag is a release the node already holds (no registry): the same image under a new name.
    tag = f"bump-{int(time.time())}"
    ctr = ["ctr", "--address", str(RUN / "containerd" / "containerd.sock"), "-n", "k8s.io", "images", "tag"]
    subprocess.run(
        [*ctr, "docker.io/gigstack/gateway:dev", f"docker.io/gigstack/gateway:{tag}"], check=True, timeout=30
    )
    repo = tmp_path / "gigstack"
    subprocess.run(["git", "clone", "-q", GIT_URL, str(repo)], check=True, timeout=120)
    _git(repo, "config", "user.email", "cluster-tests@gigstack.local")
    _git(repo, "config", "user.name", "cluster tests")
    path = repo / KUSTOMIZATION
    assert "\nimages:" not in path.read_text()
    with path.open("a") as kustomization:
        kustomization.write(f"images:\n  - name: gigstack/gateway\n    newTag: {tag}\n")
    _git(repo, "commit", "-q", "-am", f"gateway {tag}")

    started = time.monotonic()
    bumped = _push(repo)
    eventually("Argo CD synced the bump", lambda: synced_and_healthy(kube, bumped), timeout=240)
    eventually(
        "gateway rolled out with the bumped tag", lambda: _rolled_out_with(kube, f"gigstack/gateway:{tag}")
    )
    rollout_seconds = time.monotonic() - started

    _git(repo, "revert", "--no-edit", "HEAD")
    reverted = _push(repo)
    eventually("Argo CD synced the revert", lambda: synced_and_healthy(kube, reverted), timeout=240)
    eventually("gateway rolled back to dev", lambda: _rolled_out_with(kube, "gigstack/gateway:dev"))
    print(f"push to rolled out: {rollout_seconds:.1f} s")
