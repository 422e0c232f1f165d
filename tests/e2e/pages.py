"""The pages against a real in-process server, fed by the test: no model runs.

The test publishes into the server's hub, as the pipeline does, so what a page must
show is known exactly.  Checks are on what lies inside the viewport.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page

from interp import config
from interp.server.app import CaptionServer
from interp.server.hub import Hub
from interp.wire import Message, Stamper

from ..deadlines import scaled
from ..server.test_access import ARCHIVE_TOKEN, write_archive
from ..server.test_server import TOKEN, session_without_source
from .live import lies_within

TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
ARABIC_NAME = "السيد محمد بن راشد"
"""A speaker's name in a right-to-left script, set in the middle of English captions."""


class Room:
    """A real server on an ephemeral port; the test speaks for the pipeline."""

    def __init__(self, server: CaptionServer, listening: Any, host: str) -> None:
        self.server, self.listening = server, listening
        self.port = int(listening.sockets[0].getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        self.stamper = Stamper("20261203-100000-plenary")
        self.count = 0

    def publish(self, message: Message) -> Message:
        self.server.hub.publish(message)
        return message

    def final(self, text: str | None = None, lang: str = "en") -> Message:
        self.count += 1
        index = self.count
        return self.publish(Message(
            type="final", session=self.stamper.session, seq=self.stamper._next(),
            segment=f"seg-{index}", lang=lang, text=text or f"Line number {index} of the sitting.",
            start=2.0 * index, end=2.0 * index + 1.5, emitted_at=2.0 * index + 2.0,
            speaker=self.stamper.speaker, agenda_item=self.stamper.agenda_item,
        ))  # fmt: skip

    def start_session(self, session: str, title: str) -> Message:
        self.stamper, self.count = Stamper(session), 0
        started = self.stamper.session_message("started", 0.0)
        started.extra.update(title=title, wall_time=time.time())
        return self.publish(started)

    def end_session(self) -> Message:
        return self.publish(self.stamper.session_message("ended", 2.0 * self.count + 3))

    def status(self, **fields: Any) -> Message:
        return self.publish(self.stamper.status_message(2.0 * self.count, fields))

    def drop_readers(self) -> None:
        """Every caption socket breaks at once, as when a tablet's Wi-Fi drops."""
        for connection in list(self.listening.connections):
            if connection.transport is not None:
                connection.transport.abort()


@contextlib.asynccontextmanager
async def open_room(
    tmp_path: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    languages: tuple[str, ...] = ("es",),
    floor: str | None = None,
    **server: Any,
) -> AsyncIterator[Room]:
    """A listening server with ``languages`` on offer (the floor's first, as ``serve``
    lists them); it closes, with every connection, when the block ends."""
    settings = config.load(
        environ={},
        overrides={
            "server.token": TOKEN,
            **({"asr.language": floor} if floor else {}),
            **{f"server.{k}": v for k, v in server.items()},
        },
    )
    hub = Hub(settings.server.outbox_limit, settings.server.history_limit)
    archive = tmp_path / "archive.sqlite"
    if not archive.exists():
        write_archive(archive)
    offered = [*([floor] if floor else []), *languages]
    caption_server = CaptionServer(
        settings.server, hub, session_without_source(settings, hub, list(languages)), TOKEN,
        offered, archive_path=archive, archive_token=ARCHIVE_TOKEN,
    )  # fmt: skip
    async with await caption_server.serve(host, port) as listening:
        yield Room(caption_server, listening, host)


async def new_page(browser: Browser, url: str, viewport: dict[str, int] = TABLET) -> Page:
    page = await browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    page.set_default_timeout(scaled(15) * 1000)
    await page.goto(url)
    return page


async def in_viewport(page: Page, selector: str) -> bool:
    """Whether the last element matching ``selector`` lies wholly on screen."""
    box = await page.locator(selector).last.bounding_box()
    assert box is not None, selector
    return lies_within(box, page.viewport_size)


async def comes_on_screen(page: Page, selector: str, seconds: float = 10) -> None:
    """Wait (on a scaled deadline) until the last match of ``selector`` is on screen."""
    await page.wait_for_function(
        """selector => {
          const box = [...document.querySelectorAll(selector)].pop()?.getBoundingClientRect();
          return box && box.width > 0 && box.height > 0  // a hidden element has no box
            && box.top >= 0 && box.bottom <= innerHeight
            && box.left >= 0 && box.right <= innerWidth;
        }""",
        arg=selector,
        timeout=scaled(seconds) * 1000,
    )


async def shown_texts(page: Page, container: str = "#captions") -> list[str]:
    return await page.eval_on_selector_all(
        f"{container} .line.final .text", "lines => lines.map(l => l.textContent)"
    )
