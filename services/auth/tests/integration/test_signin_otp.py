"""Sign-in over HTTP on known and new devices, and the OTP step with its attempt limit and expiry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

pytestmark = pytest.mark.integration

if TYPE_CHECKING:
    from services.auth.tests.integration.conftest import AuthApi

SIGNIN = "/api/v1/auth/signin"
VERIFY_OTP = "/api/v1/auth/verify-otp"
PASSWORD = "correct horse"


async def _sign_in(
    api: AuthApi, device: str, identifier: str = "alice", password: str = PASSWORD
) -> httpx.Response:
    body = {"email_or_username": identifier, "password": password}
    return await api.client.post(SIGNIN, json=body, headers={"X-Device-Id": device})


async def _verify(api: AuthApi, device: str, otp: str) -> httpx.Response:
    body = {"email_or_username": "alice@example.com", "otp": otp}
    return await api.client.post(VERIFY_OTP, json=body, headers={"X-Device-Id": device})


async def _latest_otp(api: AuthApi) -> str:
    events = await api.outbox("auth.email.otp_requested.v1")
    assert events, "no OTP event was staged"
    otp = events[-1].payload["otp"]
    assert isinstance(otp, str)
    return otp


@pytest.fixture
async def alice(auth_api: AuthApi) -> AuthApi:
    """Alice signed up and opened her verification link on laptop-1, which that makes a known device."""
    assert (await auth_api.sign_up()).status_code == 202
    await auth_api.verify_email_on("laptop-1")
    return auth_api


@pytest.mark.parametrize("identifier", ["alice", "Alice@Example.com"])
async def test_known_device_signs_in_directly(alice: AuthApi, identifier: str) -> None:
    response = await _sign_in(alice, "laptop-1", identifier)

    assert response.status_code == 200
    user = response.json()["user"]
    assert set(user) == {"id", "username", "email", "country", "email_verified", "created_at"}
    assert (user["username"], user["email"], user["email_verified"]) == ("alice", "alice@example.com", True)


async def test_unknown_user_and_wrong_password_get_the_same_401(alice: AuthApi) -> None:
    wrong_password = await _sign_in(alice, "laptop-1", password="not the password")
    unknown_user = await _sign_in(alice, "laptop-1", identifier="nobody")

    for response in (wrong_password, unknown_user):
        assert response.status_code == 401
    wrong_error, unknown_error = wrong_password.json()["error"], unknown_user.json()["error"]
    assert wrong_error["code"] == unknown_error["code"] == "invalid_credentials"
    assert wrong_error["message"] == unknown_error["message"]


async def test_new_device_needs_the_emailed_otp(alice: AuthApi) -> None:
    response = await _sign_in(alice, "phone-1")

    assert response.status_code == 202
    assert response.json()["otp_required"] is True
    [event] = await alice.outbox("auth.email.otp_requested.v1")
    assert event.payload["to"] == "alice@example.com"
    assert event.payload["template"] == "otp"
    assert event.payload["expires_in_minutes"] == 10
    otp = event.payload["otp"]
    assert len(otp) == 6
    assert otp.isdigit()
    assert otp not in await alice.scalar("SELECT code_hash FROM otp_challenges")

    verified = await _verify(alice, "phone-1", otp)

    assert verified.status_code == 200
    assert verified.json()["user"]["username"] == "alice"
    assert (await _sign_in(alice, "phone-1")).status_code == 200
    assert await alice.scalar("SELECT COUNT(*) FROM otp_challenges") == 0


async def test_otp_is_single_use_and_bound_to_its_device(alice: AuthApi) -> None:
    await _sign_in(alice, "phone-1")
    otp = await _latest_otp(alice)

    assert (await _verify(alice, "tablet-1", otp)).status_code == 401
    assert (await _verify(alice, "phone-1", otp)).status_code == 200
    assert (await _verify(alice, "phone-1", otp)).status_code == 401


async def test_wrong_otps_exhaust_the_challenge(alice: AuthApi) -> None:
    await _sign_in(alice, "phone-1")
    otp = await _latest_otp(alice)
    wrong = "000000" if otp != "000000" else "111111"

    statuses = [(await _verify(alice, "phone-1", wrong)).status_code for _ in range(5)]
    after_limit = await _verify(alice, "phone-1", otp)

    assert statuses == [401, 401, 401, 401, 429]
    assert after_limit.status_code == 429
    assert after_limit.json()["error"]["code"] == "otp_attempts_exhausted"
    assert await alice.scalar("SELECT attempts FROM otp_challenges") == 5
    # Signing in again issues a fresh challenge with a fresh attempt budget.
    await _sign_in(alice, "phone-1")
    assert (await _verify(alice, "phone-1", await _latest_otp(alice))).status_code == 200


async def test_expired_otp_is_refused(alice: AuthApi) -> None:
    await _sign_in(alice, "phone-1")
    otp = await _latest_otp(alice)
    await alice.execute("UPDATE otp_challenges SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND")

    response = await _verify(alice, "phone-1", otp)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_otp"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"email_or_username": "alice"}, 422),
        ({"email_or_username": "", "password": PASSWORD}, 422),
        ({"email_or_username": "alice", "password": PASSWORD, "extra": 1}, 422),
    ],
)
async def test_bad_signin_input_is_a_4xx(alice: AuthApi, body: dict[str, object], expected: int) -> None:
    response = await alice.client.post(SIGNIN, json=body, headers={"X-Device-Id": "laptop-1"})
    assert response.status_code == expected
    assert response.json()["error"]["message"]
