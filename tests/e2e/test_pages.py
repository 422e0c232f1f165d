"""The pages in Debian's Chromium against the real server, as a person sees them.

No model runs (see :mod:`tests.e2e.pages`).  Each check is on what lies inside a
tablet's viewport (1024×768), not only on the DOM.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser

from ..deadlines import scaled
from ..server.test_access import ARCHIVE_TOKEN, SESSION
from .pages import comes_on_screen, in_viewport, new_page, open_room, shown_texts

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAPTIONS_TOKEN = "captions-for-the-gallery"
HISTORY = 3
"""Messages the server keeps: a reader away for more than this sees a gap."""


async def test_a_reader_away_too_long_sees_the_gap_and_the_newest_line(
    chromium: Browser, tmp_path: Path
) -> None:
    async with open_room(tmp_path, history_limit=HISTORY) as room:
        for _ in range(HISTORY + 2):
            room.final()
        page = await new_page(chromium, f"{room.url}/?lang=source")
        await page.wait_for_function(
            f"document.querySelectorAll('#captions .line.final').length === {HISTORY}"
        )
        # A newcomer sees the recent lines; it missed nothing, so it is told of no gap.
        assert await shown_texts(page) == [f"Line number {i} of the sitting." for i in (3, 4, 5)]
        assert await page.locator("#captions .line.gap").count() == 0
        # A long sitting: the page follows the live text inside its caption area.
        for _ in range(20):
            room.final()
        await page.wait_for_function(
            f"document.querySelectorAll('#captions .line.final').length === {room.count - 2}"
        )
        newest = f"#captions .line.final[data-segment='seg-{room.count}']"
        await comes_on_screen(page, newest)
        assert await in_viewport(page, "header h1"), "the header scrolled off the screen"

        # The tablet drops off the network; more is said than the server keeps.
        room.drop_readers()
        missed = [room.final() for _ in range(HISTORY + 3)]
        await page.wait_for_selector("#captions .line.gap")
        gap = page.locator("#captions .line.gap").last
        assert re.match(r"Captions missed (at|from) \d", await gap.inner_text())
        await page.wait_for_selector(f"#captions .line.final[data-segment='{missed[-1].segment}']")
        assert await in_viewport(page, "#captions .line.gap")
        await comes_on_screen(page, f"#captions .line.final[data-segment='{missed[-1].segment}']")
        texts = await shown_texts(page)
        # What the server still kept follows the gap; what it lost is not shown twice.
        assert texts[-HISTORY:] == [m.text for m in missed[-HISTORY:]]
        assert not set(m.text for m in missed[:-HISTORY]) & set(texts)
        assert len(texts) == len(set(texts))


async def test_closed_captions_open_with_the_link_and_say_when_it_is_missing(
    chromium: Browser, tmp_path: Path
) -> None:
    async with open_room(tmp_path, open_captions=False, captions_token=CAPTIONS_TOKEN) as room:
        first = room.final("The gallery is closed to the public.")
        page = await new_page(chromium, f"{room.url}/?lang=source&token={CAPTIONS_TOKEN}")
        await page.wait_for_selector("#captions .line.final")
        assert await shown_texts(page) == [first.text]
        assert CAPTIONS_TOKEN not in page.url, "the token stays in the address bar"
        # A reload (the link is gone) keeps working for this tab.
        await page.reload()
        await page.wait_for_selector("#captions .line.final")
        assert "live" in await page.inner_text("#state")

        refused_before = room.server.refused
        stranger = await new_page(chromium, f"{room.url}/?lang=source")
        await stranger.wait_for_function(
            "document.getElementById('state').textContent.includes('captions are closed')"
        )
        assert await in_viewport(stranger, "#state")
        assert await shown_texts(stranger) == []
        # One refusal, and no retry loop hammering the server.
        await stranger.wait_for_timeout(scaled(1.5) * 1000)
        assert room.server.refused == refused_before + 1


async def test_the_archive_asks_for_its_token_and_exports_with_it(
    chromium: Browser, tmp_path: Path
) -> None:
    async with open_room(tmp_path) as room:
        page = await new_page(chromium, f"{room.url}/archive")
        await page.wait_for_selector("#sign-in", state="visible")
        assert await in_viewport(page, "#archive-token")
        assert not await page.is_visible("#sessions")

        await page.fill("#archive-token", "not-the-token")
        await page.click("#sign-in button")
        await page.wait_for_function(
            "document.getElementById('sign-in-why').textContent.includes('refused')"
        )

        await page.fill("#archive-token", ARCHIVE_TOKEN)
        await page.click("#sign-in button")
        link = page.locator(f"#session-table a[href*='{SESSION}']")
        await link.wait_for()
        assert (await link.inner_text()).startswith("Session of ")  # untitled: named by date
        assert await page.is_hidden("#sign-in")
        await link.click()
        await page.wait_for_selector("#transcript .segment")
        assert "The chair opens the sitting." in await page.inner_text("#transcript")
        # The exports are plain links: the cookie the page set is what opens them.
        href = await page.get_attribute("#exports a", "href")
        assert href is not None and href.endswith("transcript.srt")
        txt = href.replace("transcript.srt", "transcript.txt")
        status, body = await page.evaluate(
            "async (url) => { const r = await fetch(url); return [r.status, await r.text()]; }", txt
        )
        assert status == 200 and "The chair opens the sitting." in body
        cookies = await page.context.cookies()
        (cookie,) = [c for c in cookies if c["name"] == "interp_archive"]
        assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.1", False), ("127.0.0.2", True)])
async def test_the_operator_page_warns_when_the_token_would_cross_the_network_in_clear(
    chromium: Browser, tmp_path: Path, host: str, warned: bool
) -> None:
    # 127.0.0.2 stands for the venue address: not loopback by name, and plain http.
    async with open_room(tmp_path, host=host) as room:
        page = await new_page(chromium, f"{room.url}/operator")
        await page.wait_for_selector("#s-session:not(:text-is('–'))")
        assert await page.is_visible("#cleartext") == warned
        if warned:
            assert await in_viewport(page, "#cleartext")
            assert "clear text" in await page.inner_text("#cleartext")
