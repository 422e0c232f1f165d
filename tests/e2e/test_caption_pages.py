"""The delegate and booth pages as their readers see them, through a day of sessions.

Real server, Debian's Chromium, no model (see :mod:`tests.e2e.pages`); every check is
on what lies inside the viewport of a tablet or a phone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from .pages import ARABIC_NAME, PHONE, TABLET, comes_on_screen, in_viewport, new_page, open_room

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def badge(page: Page) -> str:
    return await page.inner_text("#state")


async def connected(page: Page) -> None:
    """The page's socket is open (no session need be running)."""
    await page.wait_for_function(
        "/live|connected/.test(document.getElementById('state').textContent)"
    )


async def badge_says(page: Page, words: str) -> None:
    await page.wait_for_function(
        f"document.getElementById('state').textContent.includes({words!r})"
    )


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
async def test_sessions_are_marked_and_the_badge_follows_them(
    chromium: Browser, tmp_path: Path, viewport: dict[str, int]
) -> None:
    async with open_room(tmp_path) as room:
        room.start_session("20261203-090000-morning", "Morning sitting")
        for _ in range(4):
            room.final()
        page = await new_page(chromium, f"{room.url}/?lang=source", viewport)
        await page.wait_for_selector("#captions .line.session-start")
        assert "Morning sitting: session started at" in await page.inner_text(
            "#captions .line.session-start"
        )
        await badge_says(page, "live")

        room.end_session()
        await comes_on_screen(page, "#captions .line.session-end")
        await badge_says(page, "no session running")
        assert await in_viewport(page, "#state")

        room.start_session("20261203-143000-afternoon", "Afternoon sitting")
        for _ in range(12):  # more than a screen: the page must follow
            room.final()
        newest = f"#captions .line.final[data-segment='seg-{room.count}']"
        await comes_on_screen(page, newest)
        await badge_says(page, "live")
        starts = await page.locator("#captions .line.session-start").all_inner_texts()
        assert [text.split(":")[0] for text in starts] == ["Morning sitting", "Afternoon sitting"]
        assert await in_viewport(page, "header h1"), "the header scrolled off the screen"


async def test_an_arabic_speaker_name_leaves_the_english_line_left_to_right(
    chromium: Browser, tmp_path: Path
) -> None:
    async with open_room(tmp_path) as room:
        room.stamper.speaker = ARABIC_NAME
        room.final("The Peace Charter was signed on the 26th of November 2024.")
        page = await new_page(chromium, f"{room.url}/?lang=source")
        await page.wait_for_selector("#captions .line.final")
        # Where the glyphs fall on screen: an English line starts at the left, and its
        # full stop is the rightmost character, not moved to the front.
        first, last, box = await page.evaluate(
            """() => {
              const text = document.querySelector('#captions .line.final .text').firstChild;
              const at = (i) => {
                const r = document.createRange();
                r.setStart(text, i); r.setEnd(text, i + 1);
                return r.getBoundingClientRect().left;
              };
              const box = document.getElementById('captions').getBoundingClientRect();
              return [at(0), at(text.length - 1), box.left];
            }"""
        )
        assert first < last
        assert first - box < 60, "the English line does not start at the left"
        assert ARABIC_NAME in await page.inner_text("#captions .line.final .meta")


async def test_a_tablet_on_a_language_no_longer_offered_is_told_and_shown_the_floor(
    chromium: Browser, tmp_path: Path
) -> None:
    async with open_room(tmp_path, languages=("es", "fr")) as room:
        port = room.port
        room.final("Before the restart.")
        page = await new_page(chromium, f"{room.url}/?lang=fr")
        await connected(page)
        assert await page.input_value("#lang") == "fr"
    # The server comes back on the same port with Spanish only.
    await badge_says(page, "reconnecting")
    async with open_room(tmp_path, port=port, languages=("es",)) as room:
        await comes_on_screen(page, "#notice", seconds=20)
        assert "Français is no longer offered" in await page.inner_text("#notice")
        assert await page.input_value("#lang") == "source"
        options = await page.eval_on_selector_all("#lang option", "o => o.map(x => x.value)")
        assert options == ["source", "es"]
        room.final("After the restart.")
        await comes_on_screen(page, "#captions .line.final")
        assert "After the restart." in await page.inner_text("#captions")


async def test_the_floor_language_is_offered_once(chromium: Browser, tmp_path: Path) -> None:
    async with open_room(tmp_path, languages=("en", "fr"), floor="ar") as room:
        delegate = await new_page(chromium, f"{room.url}/")
        await delegate.wait_for_function("document.querySelectorAll('#lang option').length > 1")
        options = await delegate.eval_on_selector_all("#lang option", "o => o.map(x => x.value)")
        assert options == ["source", "en", "fr"]
        assert await delegate.input_value("#lang") == "en"
        booth = await new_page(chromium, f"{room.url}/interpreter")
        await booth.wait_for_function("document.querySelectorAll('#lang option').length > 0")
        assert await booth.input_value("#lang") == "en"
        assert "English" in await booth.inner_text("#target-title")


async def test_the_booth_header_follows_the_floor_and_clears_with_it(
    chromium: Browser, tmp_path: Path
) -> None:
    async with open_room(tmp_path) as room:
        booth = await new_page(chromium, f"{room.url}/interpreter")
        await connected(booth)
        room.stamper.speaker, room.stamper.agenda_item = "Dr. Maria Lopez", "Item 4"
        room.final("The floor is yours.")
        await booth.wait_for_function(
            "document.getElementById('who').textContent.includes('Maria')"
        )
        assert await in_viewport(booth, "#who")
        room.stamper.speaker = room.stamper.agenda_item = None  # the operator clears both
        room.status(running=True)
        await booth.wait_for_function("document.getElementById('who').textContent === ''")
        assert "live" in await badge(booth)


@pytest.mark.parametrize("path", ["/?lang=source", "/interpreter"])
async def test_scrolling_back_pauses_following_and_back_to_live_resumes_it(
    chromium: Browser, tmp_path: Path, path: str
) -> None:
    async with open_room(tmp_path) as room:
        page = await new_page(chromium, f"{room.url}{path}", PHONE)
        area = "#captions" if path.startswith("/?") else "#source"
        await connected(page)
        for _ in range(25):
            room.final()
        await comes_on_screen(page, f"{area} .line.final[data-segment='seg-{room.count}']")
        if area != "#captions":
            return  # the booth follows; it has no "Back to live" button
        # The reader scrolls back to read an earlier line: new text must not pull them away.
        box = await page.locator(area).bounding_box()
        assert box is not None
        await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        await page.mouse.wheel(0, -2000)
        await comes_on_screen(page, "#live")
        top = await page.eval_on_selector(area, "e => e.scrollTop")
        room.final()
        await page.wait_for_selector(f"{area} .line.final[data-segment='seg-{room.count}']",
                                     state="attached")  # fmt: skip
        assert await page.eval_on_selector(area, "e => e.scrollTop") == top
        await page.click("#live")
        await comes_on_screen(page, f"{area} .line.final[data-segment='seg-{room.count}']")
        assert not await page.is_visible("#live")
