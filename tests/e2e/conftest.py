"""Chromium for the page tests: Debian's, driven by Playwright's async or sync API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright
from playwright.sync_api import Browser as SyncBrowser
from playwright.sync_api import sync_playwright

from .live import CHROMIUM, FLAGS


@pytest.fixture()
async def chromium() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run the README's set-up command")
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        await instance.close()


@pytest.fixture()
def browser() -> Iterator[SyncBrowser]:
    """For the tests that drive a real ``interp serve`` from their own thread."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run the README's set-up command")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()
