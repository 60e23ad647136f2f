"""Browser fixtures: the app on a real HTTP server in a thread, and Debian's headless Chromium via Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.support import serve_app

CHROMIUM = os.environ.get("MODERATION_TEST_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (Debian's package; never downloaded by Playwright).

    Module scope on purpose: Playwright's sync API keeps an asyncio loop running in this thread while
    it is open, which would break later tests that call ``asyncio.run``.
    """
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The test's app served over real HTTP on a free loopback port."""
    with serve_app(app) as url:
        yield url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page per test (no cookies shared between tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
