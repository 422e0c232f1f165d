"""A delegate reads Spanish for five minutes, on a tablet and on a phone, hands off.

The real ``interp serve`` recognises a real recording at the pace it was spoken and
translates it with the installed Spanish engine.  Inside each page an observer looks at
every caption line the moment it is added: the line must lie inside the viewport,
which is what a reader who never touches the screen sees.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser

from interp.audio.pcm import float32_to_int16
from interp.audio.source import decode_file
from interp.config import SAMPLE_RATE

from .live import (
    RECORDING,
    captions,
    free_port,
    ms,
    receive_until,
    start_server,
    stop_server,
)
from .pages import PHONE, TABLET

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.browser]

READING_S = 300.0
"""Five minutes of floor speech: the demo recording, played again until it lasts that long."""

WATCH_LINES = """
addEventListener("DOMContentLoaded", () => {
  const area = document.getElementById("captions");
  const watch = window.followWatch = { lines: 0, misses: [] };
  // Runs after the page's own handler has added the line and scrolled (same task).
  new MutationObserver(() => {
    const newest = [...area.querySelectorAll(".line.final")].pop();
    if (!newest || newest.dataset.segment === watch.segment) return;
    watch.segment = newest.dataset.segment; watch.lines += 1;
    const box = newest.getBoundingClientRect();
    const onScreen = box.height > 0 && box.top >= 0 && box.bottom <= innerHeight
      && box.left >= 0 && box.right <= innerWidth;
    if (!onScreen) watch.misses.push({ segment: newest.dataset.segment, top: box.top,
                                       bottom: box.bottom, height: innerHeight });
  }).observe(area, { childList: true, subtree: true });
});
"""


def five_minutes_of_speech(path: Path) -> None:
    speech = decode_file(RECORDING)
    copies = int(np.ceil(READING_S * SAMPLE_RATE / len(speech)))
    floor = np.tile(speech, copies)[: int(READING_S * SAMPLE_RATE)]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(float32_to_int16(floor))


def test_a_delegate_reading_spanish_always_sees_the_newest_caption(
    browser: Browser, tmp_path: Path
) -> None:
    recording = tmp_path / "five-minutes.wav"
    five_minutes_of_speech(recording)
    port = free_port()
    server = start_server(port, tmp_path, "--source", str(recording), "--targets", "es")
    try:
        pages = {}
        for name, viewport in (("tablet", TABLET), ("phone", PHONE)):
            page = browser.new_page(viewport=viewport)  # type: ignore[arg-type]
            page.set_default_timeout(ms(30))
            page.add_init_script(WATCH_LINES)
            page.goto(f"http://127.0.0.1:{port}/?lang=es")
            pages[name] = page
        with captions(port, "es") as listener:
            heard = receive_until(
                listener,
                lambda m, _: m["type"] == "session" and m.get("state") == "ended",
                READING_S + 120,
                "the five minutes are read and the session ends",
            )
        spanish = [m for m in heard if m["type"] == "translation" and m["lang"] == "es"]
        # The recording holds ten sentences, read more than three times: far fewer means a
        # broken pipeline, not a page that follows.
        assert len(spanish) >= 24, f"{len(spanish)} Spanish captions in five minutes"
        for name, page in pages.items():
            # Every translation reached the page (the last may still be on its way).
            page.wait_for_function(f"window.followWatch.lines >= {len(spanish)}")
            watch: dict[str, Any] = page.evaluate("window.followWatch")
            assert watch["misses"] == [], f"{name}: lines landed off the screen"
            assert page.is_hidden("#live"), f"{name}: the page stopped following"
            header = page.locator("header h1").bounding_box()
            assert header is not None and header["y"] >= 0, f"{name}: the header scrolled away"
    finally:
        stop_server(server)
