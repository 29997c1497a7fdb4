"""minikube's RabbitmqCluster reads its default user from our Secret: every key the operator uses is there.

The keys come from the operator's own source at the pinned release (tests/platform/vendor/
rabbitmq-cluster-operator): a Secret without `default_user.conf` leaves the broker pod unable to start.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gigstack_platform.kube import charts

VENDOR = Path(__file__).resolve().parent / "vendor" / "rabbitmq-cluster-operator"


def operator_keys() -> set[str]:
    statefulset = (VENDOR / "statefulset.go").read_text()
    start = statefulset.index("func appendDefaultUserSecretVolumeProjection(")
    body = statefulset[start : statefulset.index("\nfunc ", start + 1)]
    projected = set(re.findall(r'Key:\s+"([^"]+)"', body))
    status = (VENDOR / "reconcile_status.go").read_text()
    keys_map = status[status.index("Keys: map[string]string{") :]
    reported = set(re.findall(r'"[^"]+":\s*"([^"]+)"', keys_map[: keys_map.index("}")]))
    return projected | reported


def missing_keys(secret: dict[str, Any]) -> set[str]:
    return operator_keys() - set(secret.get("stringData", {}))


def test_operator_source_is_the_pinned_release() -> None:
    assert "/v2.14.0/" in charts.RABBITMQ_CLUSTER_OPERATOR_MANIFEST
    assert "`v2.14.0`" in (VENDOR / "README.md").read_text()
    assert operator_keys() == {"default_user.conf", "username", "password"}


def test_default_user_secret_has_every_key_the_operator_reads(build_stack: Any) -> None:
    run = build_stack("minikube")
    (cluster,) = run.of_type("kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster")
    name = cluster.inputs["spec"]["secretBackend"]["externalSecret"]["name"]
    namespace = cluster.inputs["metadata"]["namespace"]
    (secret,) = [
        s.inputs
        for s in run.of_type("kubernetes:core/v1:Secret")
        if s.inputs["metadata"]["name"] == name and s.inputs["metadata"]["namespace"] == namespace
    ]
    assert missing_keys(secret) == set()
    data = secret["stringData"]
    assert data["default_user.conf"] == (
        f"default_user = {data['username']}\ndefault_pass = {data['password']}\n"
    )


def test_a_basic_auth_secret_is_reported() -> None:
    """The planted defect: the basic-auth Secret the cluster used to get."""
    assert missing_keys({"stringData": {"username": "gigstack", "password": "x"}}) == {"default_user.conf"}
