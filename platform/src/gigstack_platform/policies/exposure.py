"""Rules: no publicly reachable data store, no 0.0.0.0/0 ingress except on load balancers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation

from gigstack_platform.policies.dispatch import dispatch, require
from gigstack_platform.policies.props import get, tags

OPEN_CIDRS = {"0.0.0.0/0", "::/0"}


# --- no publicly reachable data store -------------------------------------------------------------------


def _not_public(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(
        props.get("publiclyAccessible") is not True, "data stores must not be publicly accessible", report
    )


def _opensearch_in_vpc(props: Mapping[str, Any], report: ReportViolation) -> None:
    require(bool(get(props, "vpcOptions", "subnetIds")), "the search domain must live in the VPC", report)


def _bucket_blocked(props: Mapping[str, Any], report: ReportViolation) -> None:
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        require(props.get(flag) is True, f"{flag} must be true", report)


validate_no_public_data_store = dispatch(
    {
        "aws:rds/instance:Instance": _not_public,
        "aws:mq/broker:Broker": _not_public,
        "aws:opensearch/domain:Domain": _opensearch_in_vpc,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_blocked,
    }
)


# --- no 0.0.0.0/0 ingress except on load balancers ------------------------------------------------------


def _is_load_balancer_group(props: Mapping[str, Any]) -> bool:
    return str(tags(props).get("gigstack.io/load-balancer", "")).lower() == "true"


def _security_group_ingress(props: Mapping[str, Any], report: ReportViolation) -> None:
    if _is_load_balancer_group(props):
        return
    for rule in props.get("ingress") or []:
        open_ranges = OPEN_CIDRS & {*(rule.get("cidrBlocks") or []), *(rule.get("ipv6CidrBlocks") or [])}
        require(not open_ranges, "ingress from 0.0.0.0/0 is only allowed on load balancer groups", report)


def _ingress_rule(props: Mapping[str, Any], report: ReportViolation) -> None:
    if _is_load_balancer_group(props):
        return
    cidrs = {props.get("cidrIpv4"), props.get("cidrIpv6")}
    require(
        not (OPEN_CIDRS & cidrs), "ingress from 0.0.0.0/0 is only allowed on load balancer groups", report
    )


def _legacy_rule(props: Mapping[str, Any], report: ReportViolation) -> None:
    if props.get("type") != "ingress":
        return
    cidrs = {*(props.get("cidrBlocks") or []), *(props.get("ipv6CidrBlocks") or [])}
    require(
        not (OPEN_CIDRS & cidrs), "ingress from 0.0.0.0/0 is only allowed on load balancer groups", report
    )


validate_no_open_ingress = dispatch(
    {
        "aws:ec2/securityGroup:SecurityGroup": _security_group_ingress,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ingress_rule,
        "aws:ec2/securityGroupRule:SecurityGroupRule": _legacy_rule,
    }
)
