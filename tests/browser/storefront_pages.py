"""Acting on storefront pages the way a person does (labels, button names, links), for the account test and
the journey. Every navigation goes through ``land``: it waits for the page, fails loudly with the page's own
message when the storefront answered an error or went somewhere else, and runs the harness's page check."""

from __future__ import annotations

import asyncio
import re
import struct
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from browser_harness import Tab
from browser_mail import email_link, email_otp
from gigstack_testinfra.mail import MailCatcher
from playwright.async_api import FilePayload, Locator

PASSWORD = "Correct-Horse-Battery-9"
# How long to retry a step that waits on an eventually consistent read model (search, replicas, reviews).
EVENTUAL_SECONDS = 40.0


class StorefrontPageError(AssertionError):
    """The storefront did not show the page a step expected (missing page, error page, wrong place)."""


@dataclass
class Account:
    username: str
    email: str
    password: str = PASSWORD

    @classmethod
    def new(cls, role: str) -> Account:
        suffix = uuid.uuid4().hex[:8]
        return cls(f"{role}{suffix}", f"{role}{suffix}@example.com")


async def page_message(tab: Tab) -> str:
    """The visible text of the page's main landmark (an error page's title and message), shortened."""
    try:
        text = await tab.page.locator("main").first.inner_text(timeout=2_000)
    except Exception as error:  # a page without <main> is a finding of its own; report what there is
        return f"(no main landmark: {error!r})"
    return " ".join(text.split())[:600]


async def land(tab: Tab, action: Callable[[], Awaitable[object]], url: str, name: str) -> None:
    """Run ``action`` (a click, a submit), wait for the navigation it causes and require a page whose URL
    matches the regex ``url`` and whose status is below 400; then check it (axe, screenshots, requests)."""
    async with tab.page.expect_navigation() as navigation:
        await action()
    response = await navigation.value
    await require_page(tab, None if response is None else response.status, url, name)


async def visit(tab: Tab, path: str, url: str, name: str) -> None:
    """Open ``path`` directly (a bookmarked or emailed link) and require the page like ``land``."""
    response = await tab.page.goto(path)
    await require_page(tab, None if response is None else response.status, url, name)


async def require_page(tab: Tab, status: int | None, url: str, name: str) -> None:
    if status is None or status >= 400 or not re.search(url, tab.page.url):
        message = await page_message(tab)
        try:  # the failing page's screenshot is the first thing anyone will want to see
            await tab.screenshots.capture(tab.page, f"{name}-FAILED")
        finally:
            tab.acknowledge()
        raise StorefrontPageError(
            f"{name}: expected a page at /{url}/, the storefront answered {status} at {tab.page.url}: "
            f"{message}"
        )
    await tab.check(name)


async def eventually(
    attempt: Callable[[], Awaitable[bool]], *, what: str, within: float = EVENTUAL_SECONDS
) -> None:
    """Repeat ``attempt`` (which returns True once what it waits for is there) until it holds."""
    deadline = time.monotonic() + within
    while not await attempt():
        if time.monotonic() > deadline:
            raise StorefrontPageError(f"{what}: still not there after {within:.0f} s")
        await asyncio.sleep(1.0)


def main_nav(tab: Tab) -> Locator:
    nav: Locator = tab.page.get_by_role("navigation", name="Main")
    return nav


async def visible(locator: Locator) -> bool:
    return await locator.count() > 0 and await locator.first.is_visible()


def tiny_png() -> bytes:
    """A valid 2x2 PNG (the cover image), made here rather than shipped."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)  # 2x2, 8-bit RGB
    pixels = b"".join(b"\x00" + b"\x2a\x6f\xdb" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def file_payload(name: str, mime_type: str, body: bytes) -> FilePayload:
    return FilePayload(name=name, mimeType=mime_type, buffer=body)


# --- account pages ------------------------------------------------------------------------------------------


async def sign_up(tab: Tab, account: Account) -> None:
    await visit(tab, "/", r"/$", "home")
    await land(tab, main_nav(tab).get_by_role("link", name="Join").click, r"/signup$", "signup")
    form = tab.page.locator("form[action='/signup']")
    await form.get_by_label("Username").fill(account.username)
    await form.get_by_label("Email").fill(account.email)
    await form.get_by_label("Password").fill(account.password)
    await land(tab, form.get_by_role("button", name="Create account").click, r"/signup$", "check your email")
    await tab.page.get_by_role("heading", name="Check your email").wait_for()


async def verify_email(tab: Tab, mail: MailCatcher, origin: str, account: Account) -> None:
    """Open the verification email from the mail catcher and follow its link in this tab."""
    link = await email_link(mail, account.email, origin, "/confirm_email")
    await visit(tab, link, r"/confirm_email\?", "email confirmed")
    await tab.page.get_by_role("heading", name="Your email is confirmed").wait_for()


async def sign_in(tab: Tab, mail: MailCatcher, account: Account, *, otp_emails_seen: int = 0) -> None:
    """Sign in from the header link; a device the gateway does not know yet gets the emailed one-time code."""
    await land(tab, main_nav(tab).get_by_role("link", name="Sign in").click, r"/signin", "sign in")
    form = tab.page.locator("form[action='/signin']")
    await form.get_by_label("Email or username").fill(account.email)
    await form.get_by_label("Password").fill(account.password)
    await land(tab, form.get_by_role("button", name="Sign in").click, r"/(signin/otp)?(\?.*)?$", "signed in")
    if "/signin/otp" in tab.page.url:
        code = await email_otp(mail, account.email, skip=otp_emails_seen)
        otp_form = tab.page.locator("form[action='/signin/otp']")
        await otp_form.get_by_label("One-time code").fill(code)
        await land(tab, otp_form.get_by_role("button", name="Continue").click, r"/(\?.*)?$", "signed in")
    await main_nav(tab).get_by_role("link", name=account.username).wait_for()


async def sign_up_verify_and_sign_in(tab: Tab, mail: MailCatcher, origin: str, account: Account) -> None:
    await sign_up(tab, account)
    await verify_email(tab, mail, origin, account)
    await sign_in(tab, mail, account)
