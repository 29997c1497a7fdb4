"""Browser-tier fixtures: one Chromium per session (Debian's, through ``executable_path``), a fresh context
per tab with the recorder of ``browser_harness`` (asserted clean when the test ends), screenshots under
``build/screenshots/<test>/``, and the storefront stack (``storefront_stack.py``) once per module."""

from __future__ import annotations

import os
import re
import shutil
import sys
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

# importlib import mode does not put these folders on sys.path; the helpers sit beside the tests, and the
# marketplace stack is tests/e2e's.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_harness import DESKTOP, Axe, OpenTab, OriginPolicy, Screenshots, Tab
from gigstack_testinfra import isolation
from gigstack_testinfra.backends import Backend
from gigstack_testinfra.mail import MailCatcher
from playwright.async_api import Browser, async_playwright
from storefront_stack import StorefrontStack, storefront_stack

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("GIGSTACK_CHROMIUM", "/usr/bin/chromium")
# Where the suite writes its screenshots (gitignored build/); README.md shows three of them from docs/images/.
SCREENSHOTS_ROOT = Path(os.environ.get("GIGSTACK_SCREENSHOTS_DIR", REPO_ROOT / "build" / "screenshots"))
# A step that waits longer than this for an element is broken, not slow: fail fast with Playwright's message.
ACTION_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install/chromium.sh (make deps)")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        # --no-sandbox: the suites run as root in CI, where Chromium's sandbox refuses to start.
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path, args=["--no-sandbox"], headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
def axe() -> Iterator[Axe]:
    engine = Axe()
    yield engine
    if engine.reported:  # report-only mode (GIGSTACK_BROWSER_AXE=report): what would have failed
        SCREENSHOTS_ROOT.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS_ROOT / "axe-report.txt").write_text("\n\n".join(engine.reported) + "\n")
        warnings.warn(f"axe-core (report only): {len(engine.reported)} pages with violations", stacklevel=1)


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Screenshots:
    """This test's screenshot folder, emptied first (a re-run replaces the previous pictures)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    directory = SCREENSHOTS_ROOT / slug
    shutil.rmtree(directory, ignore_errors=True)
    return Screenshots(directory)


@pytest.fixture
async def open_tab(browser: Browser, axe: Axe, screenshots: Screenshots) -> AsyncIterator[OpenTab]:
    """``await open_tab(policy)``: a page in a new browser context (its own cookies: one per party). When
    the test ends every tab must be clean (no foreign request, CSP violation or page error; every page
    reached was checked)."""
    tabs: list[Tab] = []

    async def open_one(policy: OriginPolicy, **context_options: Any) -> Tab:
        options: dict[str, Any] = {"viewport": DESKTOP, "base_url": policy.own_origin, **context_options}
        context = await browser.new_context(**options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        tab = await Tab.open(context, policy, axe, screenshots)
        tabs.append(tab)
        return tab

    try:
        yield open_one
    finally:
        for tab in tabs:
            await tab.context.close()
    for tab in tabs:
        tab.assert_clean()


@pytest.fixture(scope="module")
async def storefront(
    gigstack_backend: Backend,
    _mail_catcher_session: MailCatcher,
    internal_keypair: tuple[str, str],
    _redis_databases: isolation.RedisDatabaseAllocator,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[StorefrontStack]:
    """The storefront over the whole marketplace, once per module (the journeys share it; ~1 min to start)."""
    async with storefront_stack(
        gigstack_backend,
        _mail_catcher_session,
        internal_keypair,
        _redis_databases,
        Path(tmp_path_factory.mktemp("storefront-logs")),
    ) as stack:
        yield stack
