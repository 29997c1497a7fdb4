"""Shared pieces of the policy rules: dispatch by resource type and the violation helper."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

Check = Callable[[Mapping[str, Any], ReportViolation], None]


def dispatch(checks: dict[str, Check]) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """A validate function that runs the check registered for the resource's type, if any."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        check = checks.get(args.resource_type)
        if check is not None:
            check(args.props, report_violation)

    return validate


def require(condition: bool, message: str, report: ReportViolation) -> None:
    if not condition:
        report(message, None)
