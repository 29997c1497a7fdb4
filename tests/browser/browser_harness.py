"""The browser tier's checks, applied to every page a test visits (no pytest imports: reusable from scripts).

A ``Tab`` wraps one Playwright page in its own browser context and records, from the moment it opens:

- every request and websocket, refusing any that goes to a host other than the page's own origin, except POSTs
  to the media origin (the presigned upload straight to the object store: ADR 0025);
- Content-Security-Policy violations Chromium reports on the console, and uncaught page errors;
- every main-frame navigation, so that a page reached but never checked fails the test.

``await tab.check("name")`` is what "every page" means: it fails at once on anything recorded so far, runs
axe-core (serious or critical violations fail) and writes a full-page screenshot at phone (390 x 844) and
desktop (1280 x 800) widths.

axe-core is injected with ``page.evaluate`` of the cached file's source (scripts/install/axe-core.sh), not
``page.add_script_tag``: the latter inserts an inline ``<script>``, which the storefront's CSP
(``script-src 'self'``) refuses, so it would need ``bypass_csp=True`` on the context and the test would no
longer see the CSP the user gets. Code evaluated through the DevTools protocol is not subject to the page's
CSP, and axe itself neither evals nor loads anything. tests/browser/test_harness.py proves both halves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, ConsoleMessage, Frame, Page, Request, ViewportSize, WebSocket

AXE_CORE_VERSION = "4.14.1"  # keep in sync with scripts/install/axe-core.sh
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=800)
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
# Schemes that never leave the browser: nothing to check.
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome-error"})
_WS_TO_HTTP = {"ws": "http", "wss": "https"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def axe_script_path() -> Path:
    cache = Path(os.environ.get("GIGSTACK_CACHE", Path.home() / ".cache" / "gigstack"))
    path = cache / f"axe-core-{AXE_CORE_VERSION}" / "axe.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run scripts/install/axe-core.sh (make deps)")
    return path


def origin_of(url: str) -> str:
    """scheme://host:port with the port always spelled out and ws/wss read as http/https."""
    parts = urlsplit(url)
    scheme = _WS_TO_HTTP.get(parts.scheme, parts.scheme)
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return f"{scheme}://{parts.hostname}:{port}"


@dataclass(frozen=True)
class OriginPolicy:
    """Where a page may send requests: its own origin, and POSTs (uploads) to the media origin."""

    own_origin: str
    media_origin: str | None = None

    def refusal(self, method: str, url: str) -> str | None:
        """Why this request breaks the policy, or None when it is allowed."""
        if urlsplit(url).scheme in LOCAL_SCHEMES:
            return None
        origin = origin_of(url)
        if origin == origin_of(self.own_origin):
            return None
        if self.media_origin is not None and origin == origin_of(self.media_origin):
            if method == "POST":
                return None
            return f"{method} {url} (only POST uploads may go to the media origin)"
        return f"{method} {url} (not the page's origin {self.own_origin})"


class PageCheckError(AssertionError):
    """A page broke one of the tier's rules (foreign request, CSP violation, page error, axe, unchecked)."""


@dataclass
class Findings:
    foreign_requests: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        return [
            *(f"request to a foreign host: {item}" for item in self.foreign_requests),
            *(f"CSP violation: {item}" for item in self.csp_violations),
            *(f"uncaught page error: {item}" for item in self.page_errors),
        ]

    def clear(self) -> None:
        self.foreign_requests.clear()
        self.csp_violations.clear()
        self.page_errors.clear()


def _blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [violation for violation in violations if violation.get("impact") in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node.get("target", []))) for node in violation.get("nodes", [])[:5]]
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']} at {targets}")
    return "\n".join(lines)


class Axe:
    """axe-core evaluated into the page (see the module docstring for why not ``add_script_tag``).

    ``report_only`` (``GIGSTACK_BROWSER_AXE=report``) records blocking violations in ``reported`` instead of
    failing, to see how far a journey gets past a known one; the suite itself always runs strict."""

    def __init__(self, script: str | None = None, *, report_only: bool | None = None) -> None:
        self.script = script if script is not None else axe_script_path().read_text(encoding="utf-8")
        if report_only is None:
            report_only = os.environ.get("GIGSTACK_BROWSER_AXE") == "report"
        self.report_only = report_only
        self.reported: list[str] = []

    async def violations(self, page: Page) -> list[dict[str, Any]]:
        if not await page.evaluate("() => typeof window.axe === 'object'"):
            await page.evaluate(self.script)
        results: dict[str, Any] = await page.evaluate(
            "async () => await window.axe.run(document, {resultTypes: ['violations']})"
        )
        violations: list[dict[str, Any]] = results["violations"]
        return violations

    async def assert_no_blocking_violations(self, page: Page, name: str) -> None:
        blocking = _blocking(await self.violations(page))
        if blocking:
            listed = describe_violations(blocking)
            found = f"axe-core: serious/critical violations on {name} ({page.url}):\n{listed}"
            if self.report_only:
                self.reported.append(found)
                return
            raise PageCheckError(found)


class Screenshots:
    """Full-page PNGs at phone and desktop widths, numbered in visiting order under one directory per test."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.taken: list[Path] = []
        directory.mkdir(parents=True, exist_ok=True)

    async def capture(self, page: Page, name: str) -> list[Path]:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "page"
        index = len(self.taken) // 2 + 1
        original = page.viewport_size or DESKTOP
        paths = []
        try:
            for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
                await page.set_viewport_size(size)
                path = self.directory / f"{index:02d}-{slug}-{label}.png"
                await page.screenshot(path=str(path), full_page=True, animations="disabled")
                paths.append(path)
        finally:
            await page.set_viewport_size(original)
        self.taken.extend(paths)
        return paths


def _url_without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


class Tab:
    """One page in its own context, recording what the tier forbids from the moment it opens."""

    def __init__(
        self, context: BrowserContext, page: Page, policy: OriginPolicy, axe: Axe, screenshots: Screenshots
    ) -> None:
        self.context = context
        self.page = page
        self.policy = policy
        self.axe = axe
        self.screenshots = screenshots
        self.findings = Findings()
        self.requests: list[tuple[str, str]] = []
        self.navigations: list[str] = []
        self.checked: set[str] = set()
        page.on("request", self._on_request)
        page.on("websocket", self._on_websocket)
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        page.on("framenavigated", self._on_navigated)

    @classmethod
    async def open(
        cls, context: BrowserContext, policy: OriginPolicy, axe: Axe, screenshots: Screenshots
    ) -> Tab:
        return cls(context, await context.new_page(), policy, axe, screenshots)

    # --- recording ---
    def _on_request(self, request: Request) -> None:
        self.requests.append((request.method, request.url))
        refusal = self.policy.refusal(request.method, request.url)
        if refusal is not None:
            self.findings.foreign_requests.append(refusal)

    def _on_websocket(self, websocket: WebSocket) -> None:
        self.requests.append(("WEBSOCKET", websocket.url))
        refusal = self.policy.refusal("GET", websocket.url)
        if refusal is not None:
            self.findings.foreign_requests.append(f"websocket {refusal}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.findings.csp_violations.append(message.text)

    def _on_page_error(self, error: Exception) -> None:
        self.findings.page_errors.append(str(error))

    def _on_navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame and urlsplit(frame.url).scheme not in LOCAL_SCHEMES:
            self.navigations.append(_url_without_fragment(frame.url))

    # --- checks ---
    def raise_findings(self) -> None:
        problems = self.findings.summary()
        if problems:
            raise PageCheckError(f"{self.page.url}:\n  " + "\n  ".join(problems))

    async def check(self, name: str) -> None:
        """Everything recorded so far is clean, axe finds nothing serious, screenshots at both widths."""
        await self.page.wait_for_load_state("load")
        # Counted as checked even when a check below fails: the failure is the test's, not "never checked".
        self.checked.add(_url_without_fragment(self.page.url))
        self.raise_findings()
        await self.axe.assert_no_blocking_violations(self.page, name)
        await self.screenshots.capture(self.page, name)
        self.raise_findings()  # anything the screenshots' re-layout triggered

    def acknowledge(self) -> None:
        """A test that provoked a finding on purpose has asserted it: forget it, count every page as seen."""
        self.findings.clear()
        self.checked.update(self.navigations)

    def unchecked_pages(self) -> list[str]:
        return sorted({url for url in self.navigations if url not in self.checked})

    def assert_clean(self) -> None:
        """At the end of a test: nothing forbidden recorded, and every page the tab reached was checked."""
        self.raise_findings()
        unchecked = self.unchecked_pages()
        if unchecked:
            raise PageCheckError(f"pages reached but never checked (axe + screenshots): {unchecked}")

    # --- navigation ---
    async def goto(self, url: str, name: str, *, status: int | None = None) -> None:
        """Open a URL (absolute, or relative to the context's base URL) and check the page. Without ``status``
        any answer below 400 is expected; with it, exactly that one (an error page is a page too)."""
        response = await self.page.goto(url)
        answered = None if response is None else response.status
        if answered is None or (answered >= 400 if status is None else answered != status):
            raise PageCheckError(f"{name}: GET {url} answered {answered}, expected {status or '< 400'}")
        await self.check(name)


# ``await open_tab(policy, **context_options)``: the conftest fixture's type.
OpenTab = Callable[..., Awaitable[Tab]]
