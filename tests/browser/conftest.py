"""The web app in a real Chromium (Debian's, launched by path), against the session's local runtime.

The runtime serves ``web/dist`` as ``crm dev`` does; ``make test`` builds it (and installs Chromium) first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, expect, sync_playwright

from crm_local.pages import WEB_DIST
from tests.support.client import ApiClient

CHROMIUM = Path(os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium"))
# From shared/NOTES.md: what Debian's Chromium needs to start headless as root on these machines.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Fail, never skip: a missing browser or build would otherwise pass the web app's journeys unseen.
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` (apt-get install -y chromium) installs it.")
    if not (WEB_DIST / "index.html").exists():
        pytest.fail(f"{WEB_DIST} is not built: `make web` builds it.")
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


def open_page(browser: Browser, viewport: ViewportSize) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from open_page(browser, DESKTOP)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    yield from open_page(browser, PHONE)


def sign_in(page: Page, base_url: str, client: ApiClient, path: str = "/contacts") -> None:
    """Signs in through the sign-in page with the client's API key, then opens ``path``."""
    assert client.api_key
    page.goto(f"{base_url}{path}")
    expect(page).to_have_url(f"{base_url}/sign-in")
    page.get_by_label("API key").fill(client.api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}{path}")
