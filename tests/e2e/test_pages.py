"""The pages in Debian's Chromium against the real server, as a person sees them.

No model runs (see :mod:`tests.e2e.pages`).  Each check is on what lies inside a
tablet's viewport (1024×768), not only on the DOM.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser

from interp.archive.store import Archive
from interp.wire import Message, Stamper

from ..deadlines import scaled
from ..server.test_access import ARCHIVE_TOKEN, SESSION
from .pages import (
    ARABIC_NAME,
    PHONE,
    comes_on_screen,
    in_viewport,
    new_page,
    open_room,
    shown_texts,
)

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


async def test_the_archive_finds_a_speaker_by_one_word_of_the_name_on_a_phone(
    chromium: Browser, tmp_path: Path
) -> None:
    session = "20261203-093000-plenary"
    stamper = Stamper(session)
    started = stamper.session_message("started", 0.0)
    started.extra.update(title="Plenary, morning sitting", wall_time=1796290200.0)
    turns = [("Dr. Maria Lopez", "The delegation supports the Peace Charter."),
             (ARABIC_NAME, "We thank the host country for its welcome.")]  # fmt: skip
    messages = [started]
    for index, (speaker, text) in enumerate(turns):
        stamper.speaker = speaker
        messages.append(Message(
            type="final", session=session, seq=stamper._next(), segment=f"seg-{index}",
            lang="en", text=text, start=10.0 * index, end=10.0 * index + 4, emitted_at=0.0,
            speaker=speaker,
        ))  # fmt: skip
    archive = Archive(tmp_path / "archive.sqlite")
    archive.write(messages)
    archive.close()
    async with open_room(tmp_path) as room:
        page = await new_page(chromium, f"{room.url}/archive", PHONE)
        await page.fill("#archive-token", ARCHIVE_TOKEN)
        await page.click("#sign-in button")
        await page.locator(f"#session-table a[href*='{session}']").wait_for()
        for query, filter_, said in (("محمد", "", turns[1][1]), ("host", "Maria", None),
                                     ("Peace", "Maria", turns[0][1])):  # fmt: skip
            await page.fill("#q", query)
            await page.fill("#f-speaker", filter_)
            await page.click("#search button")
            if said is None:  # Maria never spoke of the host country
                await page.wait_for_function(
                    "document.getElementById('results').textContent === 'Nothing found.'"
                )
                continue
            hit = page.locator("#results .hit").first
            await hit.wait_for()
            assert said in await hit.inner_text()
            # Named by the session's title, not its id, and readable without scrolling sideways.
            assert "Plenary, morning sitting" in await hit.locator("a").inner_text()
            assert await in_viewport(page, "#results .hit")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"the page is {width} px wide on a phone"
        await hit.locator("a").click()
        await comes_on_screen(page, "#transcript .segment.target")
        assert turns[0][1] in await page.inner_text("#transcript .segment.target")


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
