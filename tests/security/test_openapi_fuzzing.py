"""Property-based fuzzing (schemathesis) of every service's OWN OpenAPI, called directly with valid internal
tokens: whatever a schema-shaped (or schema-breaking) request holds, the answer is never a 5xx.

A new service adds one line to ``SERVICES`` (its name, the stack attribute of its process, a device id or
other headers its routes need).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.core.result import Ok
from stack import GigstackStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# service name (the token audience) -> how to find its process in the running stack
SERVICES: dict[str, Callable[[GigstackStack], str]] = {
    "auth": lambda stack: stack.auth.base_url,
    "notification": lambda stack: stack.notification.base_url,
    "review": lambda stack: stack.service_url("review"),
    "order": lambda stack: stack.service_url("order"),
}
EXAMPLES_PER_OPERATION = 25

# Prometheus text, not JSON: nothing to fuzz.
_SKIPPED_PATHS = frozenset({"/metrics"})


def _fuzz_service(stack: GigstackStack, service: str, base_url: str) -> list[str]:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"{service}: an operation of its OpenAPI cannot be used: {result.err()}")
            continue
        operation = result.ok()
        if operation.path in _SKIPPED_PATHS:
            continue

        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @hypothesis.given(case=operation.as_strategy())
        def call(case: Any) -> None:
            # A fresh internal token per call (they live 30 s), with a user so signed-in routes are reached.
            token = stack.internal_token(service, subject=str(uuid.uuid4()))
            headers = {"Authorization": f"Bearer {token}", "X-Device-Id": "fuzz-device"}
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{service} {case.method} {case.formatted_path}: {response.status_code}")

        call()
    return failures


async def test_no_service_answers_a_fuzzed_request_with_a_server_error(stack: GigstackStack) -> None:
    failures: list[str] = []
    for service, locate in SERVICES.items():
        failures += await asyncio.to_thread(_fuzz_service, stack, service, locate(stack))
    assert failures == []
