"""The storefront in a real browser, over the whole marketplace (one stack for the module): its security
(CSP, CSRF), the account pages with the emails opened from the mail catcher, and the buyer-seller journey
(storefront_journey.py) in two browser contexts. Every page reached is checked by the harness: same-origin
requests only (uploads to the object store excepted), no CSP violation or page error, no serious/critical
axe-core violation, and a screenshot at phone and desktop widths under build/screenshots/<test>/."""

from __future__ import annotations

import warnings

import pytest
from browser_harness import OpenTab
from playwright.async_api import expect
from storefront_journey import STEPS, Journey, Party, run
from storefront_pages import Account, land, main_nav, sign_up_verify_and_sign_in, visit
from storefront_stack import StorefrontStack

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]


async def test_home_page_is_served_under_a_strict_content_security_policy(
    open_tab: OpenTab, storefront: StorefrontStack
) -> None:
    tab = await open_tab(storefront.policy())
    response = await tab.page.goto("/")
    assert response is not None
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert f"connect-src 'self' {storefront.media_origin}" in csp
    await tab.check("home")
    assert await tab.page.get_by_role("heading", level=1).count() == 1


async def test_a_tampered_form_without_its_csrf_token_is_refused(
    open_tab: OpenTab, storefront: StorefrontStack
) -> None:
    tab = await open_tab(storefront.policy())
    account = Account.new("tamper")
    for tampering, script in (
        ("removed", "form => form.querySelector('input[name=csrf_token]').remove()"),
        ("altered", "form => { form.querySelector('input[name=csrf_token]').value = 'forged'; }"),
    ):
        await visit(tab, "/signup", r"/signup$", "signup")
        form = tab.page.locator("form[action='/signup']")
        await form.evaluate(script)
        await form.get_by_label("Username").fill(account.username)
        await form.get_by_label("Email").fill(account.email)
        await form.get_by_label("Password").fill(account.password)
        async with tab.page.expect_navigation() as navigation:
            await form.get_by_role("button", name="Create account").click()
        response = await navigation.value
        assert response is not None
        assert response.status == 403, f"token {tampering}: {response.status}"
        await expect(tab.page.get_by_role("heading", level=1)).to_have_text("Form expired")
        await tab.check(f"csrf refused (token {tampering})")
    # Nothing reached auth: no account, so no verification email.
    assert not [m for m in storefront.mail.messages() if account.email in m.get("to", [])]


async def test_account_pages_signup_verify_from_the_email_sign_in_and_out(
    open_tab: OpenTab, storefront: StorefrontStack
) -> None:
    tab = await open_tab(storefront.policy())
    account = Account.new("member")
    await sign_up_verify_and_sign_in(tab, storefront.mail, storefront.url, account)
    nav = main_nav(tab)
    await land(tab, nav.get_by_role("link", name=account.username).click, r"/account$", "account")
    await expect(tab.page.locator("main")).to_contain_text(account.email)
    await land(tab, nav.get_by_role("button", name="Sign out").click, r"/$", "signed out")
    await expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    # A signed-out browser is sent to sign in, and comes back after.
    await visit(tab, "/account", r"/signin\?next=", "sign in (from a private page)")


async def test_buyer_seller_journey_in_two_browsers(open_tab: OpenTab, storefront: StorefrontStack) -> None:
    seller = Party(await open_tab(storefront.policy()), Account.new("seller"))
    buyer = Party(await open_tab(storefront.policy()), Account.new("buyer"))
    journey = Journey(storefront, seller, buyer)
    try:
        await run(journey)
    finally:
        report = seller.tab.screenshots.directory / "journey.txt"
        lines = [f"passed: {name}" for name in journey.passed] + [f"note: {note}" for note in journey.notes]
        report.write_text("\n".join(lines) + "\n")
    for note in journey.notes:
        warnings.warn(f"storefront journey: {note}", stacklevel=1)
    assert len(journey.passed) == len(STEPS)
