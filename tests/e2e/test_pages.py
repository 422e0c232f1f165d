"""The pages in Debian's Chromium against the real server, as a person sees them.

No model runs: the test publishes into the server's hub, as the pipeline does, so
what the page must show is known exactly.  Each check is on what lies inside the
viewport (a tablet, 1024×768), not only on the DOM.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from interp import config
from interp.server.app import CaptionServer
from interp.server.hub import Hub
from interp.wire import Message, Stamper

from ..deadlines import scaled
from ..server.test_access import ARCHIVE_TOKEN, SESSION, write_archive
from ..server.test_server import TOKEN, session_without_source
from .live import CHROMIUM, FLAGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABLET = {"width": 1024, "height": 768}
CAPTIONS_TOKEN = "captions-for-the-gallery"
HISTORY = 3
"""Messages the server keeps: a reader away for more than this sees a gap."""


@pytest.fixture()
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run the README's set-up command")
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        await instance.close()


class Room:
    """A real server on an ephemeral port, fed by the test."""

    def __init__(self, server: CaptionServer, listening: Any, host: str) -> None:
        self.server, self.listening = server, listening
        self.url = f"http://{host}:{listening.sockets[0].getsockname()[1]}"
        self.stamper = Stamper("20261203-100000-plenary")
        self.count = 0

    def final(self, text: str | None = None) -> Message:
        self.count += 1
        index = self.count
        message = Message(
            type="final", session=self.stamper.session, seq=self.stamper._next(),
            segment=f"seg-{index}", lang="en", text=text or f"Line number {index} of the sitting.",
            start=2.0 * index, end=2.0 * index + 1.5, emitted_at=2.0 * index + 2.0,
        )  # fmt: skip
        self.server.hub.publish(message)
        return message

    def drop_readers(self) -> None:
        """Every caption socket breaks at once, as when a tablet's Wi-Fi drops."""
        for connection in list(self.listening.connections):
            if connection.transport is not None:
                connection.transport.abort()


async def open_room(
    tmp_path: Path, host: str = "127.0.0.1", **server: Any
) -> tuple[CaptionServer, Any]:
    settings = config.load(
        environ={},
        overrides={"server.token": TOKEN, **{f"server.{k}": v for k, v in server.items()}},
    )
    hub = Hub(settings.server.outbox_limit, settings.server.history_limit)
    archive = tmp_path / "archive.sqlite"
    write_archive(archive)
    caption_server = CaptionServer(
        settings.server, hub, session_without_source(settings, hub, []), TOKEN, ["es"],
        archive_path=archive, archive_token=ARCHIVE_TOKEN,
    )  # fmt: skip
    return caption_server, await caption_server.serve(host, 0)


async def new_page(browser: Browser, url: str) -> Page:
    page = await browser.new_page(viewport=TABLET)
    page.set_default_timeout(scaled(15) * 1000)
    await page.goto(url)
    return page


async def in_viewport(page: Page, selector: str) -> bool:
    """Whether the last element matching ``selector`` lies wholly on screen."""
    box = await page.locator(selector).last.bounding_box()
    assert box is not None, selector
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= TABLET["width"]
        and box["y"] + box["height"] <= TABLET["height"]
    )


async def shown_texts(page: Page) -> list[str]:
    return await page.eval_on_selector_all(
        "#captions .line.final .text", "lines => lines.map(l => l.textContent)"
    )


async def test_a_reader_away_too_long_sees_the_gap_and_the_newest_line(
    browser: Browser, tmp_path: Path
) -> None:
    server, listening = await open_room(tmp_path, history_limit=HISTORY)
    async with listening:
        room = Room(server, listening, "127.0.0.1")
        for _ in range(HISTORY + 2):
            room.final()
        page = await new_page(browser, f"{room.url}/?lang=source")
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
        await until_true(page, newest)
        assert await in_viewport(page, "header h1"), "the header scrolled off the screen"

        # The tablet drops off the network; more is said than the server keeps.
        room.drop_readers()
        missed = [room.final() for _ in range(HISTORY + 3)]
        await page.wait_for_selector("#captions .line.gap")
        gap = page.locator("#captions .line.gap").last
        assert re.match(r"Captions missed (at|from) \d", await gap.inner_text())
        await page.wait_for_selector(f"#captions .line.final[data-segment='{missed[-1].segment}']")
        assert await in_viewport(page, "#captions .line.gap")
        await until_true(page, f"#captions .line.final[data-segment='{missed[-1].segment}']")
        texts = await shown_texts(page)
        # What the server still kept follows the gap; what it lost is not shown twice.
        assert texts[-HISTORY:] == [m.text for m in missed[-HISTORY:]]
        assert not set(m.text for m in missed[:-HISTORY]) & set(texts)
        assert len(texts) == len(set(texts))


async def until_true(page: Page, selector: str) -> None:
    """Wait (on a scaled deadline) until the last match of ``selector`` is on screen."""
    deadline_ms = scaled(10) * 1000
    await page.wait_for_function(
        """selector => {
          const box = [...document.querySelectorAll(selector)].pop()?.getBoundingClientRect();
          return box && box.top >= 0 && box.bottom <= innerHeight;
        }""",
        arg=selector,
        timeout=deadline_ms,
    )


async def test_closed_captions_open_with_the_link_and_say_when_it_is_missing(
    browser: Browser, tmp_path: Path
) -> None:
    server, listening = await open_room(
        tmp_path, open_captions=False, captions_token=CAPTIONS_TOKEN
    )
    async with listening:
        room = Room(server, listening, "127.0.0.1")
        first = room.final("The gallery is closed to the public.")
        page = await new_page(browser, f"{room.url}/?lang=source&token={CAPTIONS_TOKEN}")
        await page.wait_for_selector("#captions .line.final")
        assert await shown_texts(page) == [first.text]
        assert CAPTIONS_TOKEN not in page.url, "the token stays in the address bar"
        # A reload (the link is gone) keeps working for this tab.
        await page.reload()
        await page.wait_for_selector("#captions .line.final")
        assert "live" in await page.inner_text("#state")

        refused_before = server.refused
        stranger = await new_page(browser, f"{room.url}/?lang=source")
        await stranger.wait_for_function(
            "document.getElementById('state').textContent.includes('captions are closed')"
        )
        assert await in_viewport(stranger, "#state")
        assert await shown_texts(stranger) == []
        # One refusal, and no retry loop hammering the server.
        await stranger.wait_for_timeout(scaled(1.5) * 1000)
        assert server.refused == refused_before + 1


async def test_the_archive_asks_for_its_token_and_exports_with_it(
    browser: Browser, tmp_path: Path
) -> None:
    server, listening = await open_room(tmp_path)
    async with listening:
        room = Room(server, listening, "127.0.0.1")
        page = await new_page(browser, f"{room.url}/archive")
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
        link = page.locator("#session-table a", has_text=SESSION)
        await link.wait_for()
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
    browser: Browser, tmp_path: Path, host: str, warned: bool
) -> None:
    # 127.0.0.2 stands for the venue address: not loopback by name, and plain http.
    server, listening = await open_room(tmp_path, host=host)
    async with listening:
        room = Room(server, listening, host)
        page = await new_page(browser, f"{room.url}/operator")
        await page.wait_for_selector("#s-session:not(:text-is('–'))")
        assert await page.is_visible("#cleartext") == warned
        if warned:
            assert await in_viewport(page, "#cleartext")
            assert "clear text" in await page.inner_text("#cleartext")
