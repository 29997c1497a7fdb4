"""Account pages through the gateway's auth operations: sessions start, rotate and end here."""

from __future__ import annotations

import json

import httpx
from storefront_fakes import FakeGateway, csrf_token_of, error_body, session_json, sign_in, user_json


async def test_signup_422_re_renders_the_form_with_the_input_kept_and_the_field_message(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    details = [{"field": "body.username", "message": "String should match pattern '^x$'", "type": "x"}]
    gateway.on(
        "auth.signup",
        lambda _: httpx.Response(422, json=error_body(422, "The request did not pass validation", details)),
    )
    token = await csrf_token_of(client, "/signup")

    page = await client.post(
        "/signup",
        data={
            "csrf_token": token,
            "username": "no spaces",
            "email": "a@example.com",
            "password": "secret-pw",
        },
    )

    assert page.status_code == 422
    assert "The request did not pass validation" in page.text
    assert 'value="no spaces"' in page.text
    assert 'value="a@example.com"' in page.text
    assert "secret-pw" not in page.text  # passwords are never echoed back
    assert 'aria-invalid="true"' in page.text
    assert "Not in the expected format." in page.text


async def test_signup_409_shows_the_gateway_message(client: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.on("auth.signup", lambda _: httpx.Response(409, json=error_body(409, "That name is taken")))
    token = await csrf_token_of(client, "/signup")

    page = await client.post(
        "/signup",
        data={"csrf_token": token, "username": "sam", "email": "s@example.com", "password": "pw-123456"},
    )

    assert page.status_code == 409
    assert "That name is taken" in page.text
    assert 'value="sam"' in page.text


async def test_signup_then_the_email_link_verifies(client: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.on("auth.signup", lambda _: httpx.Response(202, json={"message": "ok"}))
    gateway.on("auth.verifyEmail", {"message": "verified"})
    token = await csrf_token_of(client, "/signup")

    sent = await client.post(
        "/signup",
        data={"csrf_token": token, "username": "sam", "email": "s@example.com", "password": "pw-123456"},
    )
    confirmed = await client.get("/confirm_email?v_token=the-token")

    assert sent.status_code == 202
    assert "Check your email" in sent.text
    assert json.loads(gateway.called("auth.signup")[0].content)["username"] == "sam"
    assert confirmed.status_code == 200
    assert "Your email is confirmed" in confirmed.text
    assert json.loads(gateway.called("auth.verifyEmail")[0].content) == {"token": "the-token"}


async def test_signin_wrong_password_keeps_the_name_and_shows_the_message(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on("auth.signin", lambda _: httpx.Response(401, json=error_body(401, "Wrong email or password")))
    token = await csrf_token_of(client)

    page = await client.post(
        "/signin", data={"csrf_token": token, "email_or_username": "alice", "password": "x"}
    )

    assert page.status_code == 401
    assert "Wrong email or password" in page.text
    assert 'value="alice"' in page.text


async def test_signin_rotates_the_session_and_keeps_the_tokens_server_side(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    await csrf_token_of(client)
    before = client.cookies["sf_session"]

    await sign_in(client, gateway)
    home_token = await csrf_token_of(client, "/account")

    assert client.cookies["sf_session"] != before  # session fixation: a new id after sign-in
    account = await client.get("/account")
    assert "alice@example.com" in account.text
    assert "access-1" not in account.text
    assert all("access-1" not in value for value in client.cookies.values())
    assert home_token  # a new CSRF token came with the new session


async def test_new_device_signin_asks_for_the_emailed_otp(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on("auth.signin", lambda _: httpx.Response(202, json={"otp_required": True, "message": "sent"}))
    gateway.on("auth.verifyOtp", session_json("alice"))
    token = await csrf_token_of(client)

    asked = await client.post(
        "/signin", data={"csrf_token": token, "email_or_username": "alice", "password": "pw-123456"}
    )
    otp_page = await client.get(asked.headers["location"])
    done = await client.post("/signin/otp", data={"csrf_token": token, "otp": "123456"})

    assert asked.status_code == 303
    assert asked.headers["location"] == "/signin/otp"
    assert "alice" in otp_page.text
    assert done.status_code == 303
    assert json.loads(gateway.called("auth.verifyOtp")[0].content) == {
        "email_or_username": "alice",
        "otp": "123456",
    }
    # The same browser-held device id on both steps: auth remembers this device after the OTP.
    devices = {
        r.headers["X-Device-Id"] for r in gateway.called("auth.signin") + gateway.called("auth.verifyOtp")
    }
    assert len(devices) == 1
    assert "alice@example.com" in (await client.get("/account")).text


async def test_signout_ends_the_gateway_session_and_this_one(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    await sign_in(client, gateway)
    gateway.on("auth.signout", lambda _: httpx.Response(204))
    token = await csrf_token_of(client, "/account")
    signed_in_id = client.cookies["sf_session"]

    out = await client.post("/signout", data={"csrf_token": token})
    account = await client.get("/account")

    assert out.status_code == 303
    assert gateway.called("auth.signout")[0].headers["Authorization"] == "Bearer access-1"
    assert client.cookies["sf_session"] != signed_in_id
    assert account.status_code == 303
    assert account.headers["location"].startswith("/signin?next=/account")


async def test_pages_that_need_a_user_send_anonymous_visitors_to_signin(client: httpx.AsyncClient) -> None:
    page = await client.get("/account/password")

    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=/account/password"


async def test_an_expired_access_token_is_refreshed_once_and_the_call_repeated(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    await sign_in(client, gateway)
    seen: list[str] = []

    def resend(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer access-1":
            return httpx.Response(401, json=error_body(401, "expired"))
        return httpx.Response(202, json={"message": "sent"})

    gateway.on("auth.resendVerification", resend)
    gateway.on("auth.refresh", {"access_token": "access-2", "refresh_token": "refresh-2", "expires_in": 900})
    token = await csrf_token_of(client, "/account")

    answer = await client.post("/account/resend-verification", data={"csrf_token": token})

    assert answer.status_code == 303
    assert seen == ["Bearer access-1", "Bearer access-2"]
    assert json.loads(gateway.called("auth.refresh")[0].content) == {"refresh_token": "refresh-1"}
    assert "sent the verification email again" in (await client.get("/account")).text


async def test_a_refused_refresh_signs_the_browser_out(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    await sign_in(client, gateway)
    gateway.on("auth.resendVerification", lambda _: httpx.Response(401, json=error_body(401, "expired")))
    gateway.on("auth.refresh", lambda _: httpx.Response(401, json=error_body(401, "revoked")))
    token = await csrf_token_of(client, "/account")

    answer = await client.post("/account/resend-verification", data={"csrf_token": token})

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin")
    assert (await client.get("/account")).status_code == 303  # no longer signed in


async def test_change_password_ends_every_session_so_the_user_signs_in_again(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    await sign_in(client, gateway)
    gateway.on("auth.changePassword", {"message": "changed"})
    token = await csrf_token_of(client, "/account/password")

    done = await client.post(
        "/account/password",
        data={"csrf_token": token, "current_password": "pw-123456", "new_password": "new-pw-123456"},
    )

    assert done.headers["location"] == "/signin"
    assert gateway.called("auth.changePassword")[0].method == "PUT"
    assert (await client.get("/account")).status_code == 303


async def test_change_password_wrong_current_password_is_shown(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    await sign_in(client, gateway)
    gateway.on(
        "auth.changePassword", lambda _: httpx.Response(400, json=error_body(400, "Wrong current password"))
    )
    token = await csrf_token_of(client, "/account/password")

    page = await client.post(
        "/account/password",
        data={"csrf_token": token, "current_password": "x", "new_password": "new-pw-123456"},
    )

    assert page.status_code == 400
    assert "Wrong current password" in page.text
    assert (await client.get("/account")).status_code == 200  # still signed in


async def test_forgot_and_reset_from_the_email_link(client: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.on("auth.forgotPassword", lambda _: httpx.Response(202, json={"message": "sent"}))
    gateway.on("auth.resetPassword", {"message": "reset"})
    token = await csrf_token_of(client, "/forgot_password")

    asked = await client.post("/forgot_password", data={"csrf_token": token, "email": "alice@example.com"})
    form = await client.get("/reset_password?token=reset-token")
    done = await client.post(
        "/reset_password",
        data={
            "csrf_token": token,
            "token": "reset-token",
            "password": "n-123456",
            "confirm_password": "n-123456",
        },
    )

    assert asked.status_code == 202
    assert 'value="reset-token"' in form.text
    assert done.headers["location"] == "/signin"
    assert json.loads(gateway.called("auth.resetPassword")[0].content)["token"] == "reset-token"


async def test_a_form_post_with_the_gateway_down_is_the_503_page(
    client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    token = await csrf_token_of(client)
    gateway.down = True

    page = await client.post("/signin", data={"csrf_token": token, "email_or_username": "a", "password": "p"})

    assert page.status_code == 503
    assert "unavailable for a moment" in page.text
    assert page.headers["retry-after"] == "5"


async def test_signin_next_only_accepts_local_paths(client: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.on("auth.signin", session_json())
    token = await csrf_token_of(client)

    answer = await client.post(
        "/signin",
        data={"csrf_token": token, "email_or_username": "a", "password": "p", "next": "//evil.example/x"},
    )

    assert answer.headers["location"] == "/"


def test_user_json_is_what_the_gateway_returns() -> None:
    assert set(user_json()) == {"id", "username", "email", "country", "email_verified", "created_at"}
