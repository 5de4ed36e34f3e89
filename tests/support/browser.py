"""Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by Playwright.

`playwright install` cannot download browsers here, so tests use the system Chromium. Without it
a browser test skips, except under CI=true, where a missing browser is a failure.

    from support.browser import chromium_page  # tests/ is on sys.path (conftest.py)

    async with chromium_page() as page:
        await page.goto(url)
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("TICKET_DASH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 5_000  # the default bound for every Playwright wait


def require_chromium() -> Path:
    """The browser's path; skips the test without one (fails instead when CI=true)."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = f"browser tests need Chromium at {CHROMIUM}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: not skipping)")
    pytest.skip(message)


@asynccontextmanager
async def chromium(**launch: Any) -> AsyncIterator[Any]:
    """A launched Playwright Browser on the system Chromium, closed on exit."""
    path = require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(path), args=CHROMIUM_ARGS, headless=True, **launch
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def chromium_page(
    viewport: dict[str, int] | None = None, color_scheme: str = "dark"
) -> AsyncIterator[Any]:
    """A fresh page (its own context: empty localStorage) with bounded default waits."""
    async with chromium() as browser:
        context = await browser.new_context(
            viewport=viewport or {"width": 1920, "height": 1080}, color_scheme=color_scheme
        )
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        try:
            yield page
        finally:
            await context.close()
