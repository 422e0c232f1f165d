"""Every page in every theme: each visible text reaches the WCAG AA contrast ratio.

A small computed-contrast check of our own, run in Chromium: for every text node on
screen, its colour against the first opaque background behind it (WCAG 2 relative
luminance), at least 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
Disabled controls are exempt, as WCAG exempts inactive components.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from .pages import new_page, open_room

pytestmark = [pytest.mark.browser, pytest.mark.slow]

THEMES = ("dark", "light", "contrast")
LOW_CONTRAST = """() => {
  const channels = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const background = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const c = channels(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!node.textContent.trim() || !element || element.closest("script, style, option")) continue;
    if (element.closest(":disabled, fieldset[disabled]")) continue;
    const box = element.getBoundingClientRect(), style = getComputedStyle(element);
    if (!box.width || !box.height || style.visibility === "hidden" || box.bottom < 0
        || box.top > innerHeight) continue;
    const fg = luminance(channels(style.color)), bg = luminance(background(element));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const text = node.textContent.trim().slice(0, 40);
    if (ratio < needed) found.push(`'${text}' ${ratio.toFixed(2)} < ${needed}`);
  }
  return found;
}"""


async def themed_page(chromium: Browser, url: str, theme: str) -> Page:
    page = await new_page(chromium, "about:blank")
    await page.add_init_script(f"localStorage.setItem('theme', {theme!r})")
    await page.goto(url)
    return page


async def low_contrast(page: Page) -> list[str]:
    return list(await page.evaluate(LOW_CONTRAST))


@pytest.mark.parametrize("theme", THEMES)
async def test_every_page_reaches_aa_contrast(
    chromium: Browser, tmp_path: Path, theme: str
) -> None:
    problems: dict[str, list[str]] = {}
    async with open_room(tmp_path, host="127.0.0.2", open_archive=True) as room:
        room.start_session("20261203-090000-morning", "Morning sitting")
        room.stamper.speaker = "Dr. Maria Lopez"
        for _ in range(3):
            room.final()
        delegate = await themed_page(chromium, f"{room.url}/?lang=source", theme)
        await delegate.wait_for_selector("#captions .line.final")
        room.end_session()
        await delegate.wait_for_selector("#captions .line.session-end")
        problems["delegate"] = await low_contrast(delegate)

        booth = await themed_page(chromium, f"{room.url}/interpreter", theme)
        await booth.wait_for_selector("#source .line.final")
        problems["interpreter"] = await low_contrast(booth)

        operator = await themed_page(chromium, f"{room.url}/operator", theme)
        await operator.wait_for_selector("#cleartext", state="visible")  # plain http, not loopback
        problems["operator"] = await low_contrast(operator)

        archive = await themed_page(chromium, f"{room.url}/archive", theme)
        await archive.wait_for_selector("#session-table a")
        await archive.fill("#q", "chair")
        await archive.click("#search button")
        await archive.wait_for_selector("#results .hit")
        problems["archive"] = await low_contrast(archive)
    assert {page: found for page, found in problems.items() if found} == {}
