"""stripe-mock takes no fixed port: two at once on one machine both serve, even with stripe-mock's default
HTTPS port (12112, which it used to open beside the HTTP port it was given) taken by someone else."""

from __future__ import annotations

import contextlib
import socket
from contextlib import ExitStack

import httpx
import pytest
from gigstack_testinfra.stripe_mock import running_stripe_mock

pytestmark = pytest.mark.integration

STRIPE_MOCK_DEFAULT_HTTPS_PORT = 12112


def test_two_stripe_mocks_serve_side_by_side_with_the_default_port_taken() -> None:
    with ExitStack() as stack:
        squatter = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        with contextlib.suppress(OSError):  # already taken by someone else: the same situation
            squatter.bind(("", STRIPE_MOCK_DEFAULT_HTTPS_PORT))
            squatter.listen()
        urls = [stack.enter_context(running_stripe_mock()) for _ in range(2)]
        assert urls[0] != urls[1]
        for url in urls:
            assert url.startswith("http://127.0.0.1:")
            response = httpx.get(
                f"{url}/v1/balance", headers={"Authorization": "Bearer sk_test_123"}, timeout=10
            )
            assert response.status_code == 200, response.text
            assert response.json()["object"] == "balance"
