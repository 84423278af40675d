"""Browser tests: Playwright's sync API driving Debian's Chromium. Skipped, with the reason, where it is missing."""

import os
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason="browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls from a thread
    with a running loop unless told otherwise. The test itself is synchronous, so that is safe here; the
    setting is scoped to this module's tests (os.environ, restored afterwards)."""
    monkeypatch.setitem(os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser_page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            # While Playwright's loop runs, Django keeps this thread's connections apart from the ones it
            # has without the loop (asgiref's Local follows the async context): the test's own connection
            # must be closed now, or its PostgreSQL session outlives the test.
            connections.close_all()
            browser.close()


def log_in(page, live_server, username, password):
    """Log in through the login page, as a customer would."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()
