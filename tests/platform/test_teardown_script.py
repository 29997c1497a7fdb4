"""platform/scripts/teardown-eks.sh, run against stand-ins for aws, kubectl and the Pulumi wrapper.

The stand-ins log every call; the checks are the destroy order (root Application stopped before the
workloads are deleted, load balancers gone before `pulumi destroy`) and that a timeout or a failing AWS call
stops the script with an error instead of destroying the VPC under live load balancers.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "platform" / "scripts" / "teardown-eks.sh"

STUB = """#!/usr/bin/env bash
echo "{name} $*" >> "$CALL_LOG"
{body}
"""
PULUMI = """case "$*" in
  *"output cluster_name"*) echo gigstack-eks ;;
  *"output vpc_id"*) echo vpc-123 ;;
esac"""


def run_teardown(
    tmp_path: Path, aws_body: str, kubectl_body: str = "true"
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for name, body in {"aws": aws_body, "kubectl": kubectl_body, "pulumi-stack": PULUMI}.items():
        stub = bin_dir / name
        stub.write_text(STUB.format(name=name, body=body))
        stub.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALL_LOG": str(log),
        "PULUMI_STACK": str(bin_dir / "pulumi-stack"),
        "WAIT_SECONDS": "1",
        "POLL_SECONDS": "0",
    }
    result = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    return result, log.read_text().splitlines()


def index(calls: list[str], fragment: str) -> int:
    return next(i for i, call in enumerate(calls) if fragment in call)


def test_destroys_only_after_the_load_balancers_are_gone_in_gitops_bridge_order(tmp_path: Path) -> None:
    result, calls = run_teardown(tmp_path, 'case "$*" in *describe-*) echo None ;; esac')
    assert result.returncode == 0, result.stderr
    stop_root = index(calls, "patch application gigstack-root")
    assert "/spec/syncPolicy/automated" in calls[stop_root]
    delete_workloads = index(calls, "delete applicationset marketplace")
    wait = index(calls, "describe-load-balancers")
    target_groups = index(calls, "describe-target-groups")
    destroy = index(calls, "pulumi-stack eks destroy")
    delete_claims = index(calls, "delete pvc --all -A")
    wait_volumes = index(calls, "get pv -o name")
    assert stop_root < delete_workloads < wait < delete_claims < wait_volumes < destroy
    assert target_groups < destroy


def test_broker_log_groups_are_deleted_after_destroy(tmp_path: Path) -> None:
    body = """case "$*" in
  *list-brokers*) echo b-123 ;;
  *describe-log-groups*) echo /aws/amazonmq/broker/b-123/general ;;
  *describe-*) echo None ;;
esac"""
    result, calls = run_teardown(tmp_path, body)
    assert result.returncode == 0, result.stderr
    deleted = index(calls, "logs delete-log-group --log-group-name /aws/amazonmq/broker/b-123/general")
    assert index(calls, "pulumi-stack eks destroy") < deleted


def test_volumes_left_behind_fail_loudly_and_never_destroy(tmp_path: Path) -> None:
    kubectl = 'case "$*" in *"get pv -o name"*) echo persistentvolume/pvc-1 ;; esac'
    result, calls = run_teardown(tmp_path, 'case "$*" in *describe-*) echo None ;; esac', kubectl)
    assert result.returncode != 0
    assert "persistentvolume/pvc-1" in result.stderr
    assert not any("destroy" in call for call in calls)


def test_timeout_fails_loudly_and_never_destroys(tmp_path: Path) -> None:
    body = 'case "$*" in *describe-load-balancers*) echo arn:aws:elasticloadbalancing:lb/app/k8s-x ;; esac'
    result, calls = run_teardown(tmp_path, body)
    assert result.returncode != 0
    assert "arn:aws:elasticloadbalancing:lb/app/k8s-x" in result.stderr
    assert not any("destroy" in call for call in calls)


def test_failing_aws_call_is_not_read_as_nothing_left(tmp_path: Path) -> None:
    result, calls = run_teardown(tmp_path, 'case "$*" in *describe-*) exit 255 ;; esac')
    assert result.returncode != 0
    assert not any("destroy" in call for call in calls)
