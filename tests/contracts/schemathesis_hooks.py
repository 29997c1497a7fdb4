"""schemathesis hooks for the contract suite (loaded through ``SCHEMATHESIS_HOOKS``).

The signed-in session comes from a real sign-in on the known device. Fuzzing ``auth.signout`` ends that
session, as it should, so the next operation signs in again instead of testing everything after it with a
dead token.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis

_session: dict[str, str] = {}


def _sign_in() -> str:
    answer = httpx.post(
        os.environ["CONTRACT_GATEWAY_URL"] + "/api/v1/gateway/auth/signin",
        json={"email_or_username": os.environ["CONTRACT_LOGIN"], "password": os.environ["CONTRACT_PASSWORD"]},
        headers={"X-Device-Id": os.environ["CONTRACT_DEVICE_ID"]},
        timeout=30.0,
        trust_env=False,
    )
    answer.raise_for_status()
    token = answer.json()["access_token"]
    assert isinstance(token, str)
    return token


@schemathesis.auth(refresh_interval=None)
class SignedInSession:
    def get(self, case: Any, context: Any) -> str:
        if "token" not in _session:
            _session["token"] = os.environ.get("CONTRACT_ACCESS_TOKEN") or _sign_in()
            os.environ.pop("CONTRACT_ACCESS_TOKEN", None)
        return _session["token"]

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    if case.operation.definition.raw.get("operationId") == "auth.signout" and response.status_code == 204:
        _session.pop("token", None)
