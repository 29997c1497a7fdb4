"""The storefront in a real browser, over the whole marketplace (one stack for the module): its security
(CSP, CSRF), the account pages with the emails opened from the mail catcher, and the buyer-seller journey
(storefront_journey.py) in two browser contexts. Every page reached is checked by the harness: same-origin
requests only (uploads to the object store excepted), no CSP violation or page error, no serious/critical
axe-core violation, and a screenshot at phone and desktop widths under build/screenshots/<test>/."""

from __future__ import annotations

import pytest
from browser_harness import OpenTab
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
