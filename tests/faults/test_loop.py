"""Nothing on the loop waits: the console printer and a full translation queue."""

from __future__ import annotations

import asyncio
import io
import threading

from interp.console import CaptionPrinter
from interp.events import CommittedSegment, TranslationFailed
from interp.glossary import Glossary
from interp.translation.service import TranslationService
from interp.translation.stage import TranslationResult, TranslationStage
from interp.wire import Message

from ..deadlines import scaled
from .test_stop import HangingTranslator


class PausedTerminal(io.StringIO):
    """A terminal the user paused (Ctrl-S): every write waits until it is resumed."""

    def __init__(self) -> None:
        super().__init__()
        self.resumed = threading.Event()
        self.blocked = threading.Event()

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.blocked.set()
        self.resumed.wait()
        return super().write(text)


def message(kind: str, index: int) -> Message:
    return Message(
        type=kind, session="s", seq=index, segment=f"seg-{index}", lang="en",
        text=f"{kind} {index}", start=float(index), end=index + 1.0, emitted_at=index + 1.5,
    )  # fmt: skip


def test_a_paused_terminal_never_blocks_show_and_drops_partials_first() -> None:
    terminal = PausedTerminal()
    printer = CaptionPrinter(terminal, queue_limit=4)
    try:
        printer.show(message("final", 0))
        assert terminal.blocked.wait(scaled(5))  # the printer's thread is stuck writing
        for index in range(1, 4):
            printer.show(message("partial", index))
        printer.show(message("final", 4))
        printer.show(message("final", 5))
        printer.show(message("final", 6))  # show() returned every time: the loop goes on
        assert printer.dropped == 2  # partials 1 and 2, not a final
    finally:
        terminal.resumed.set()
        printer.close(scaled(5))
    printed = terminal.getvalue()
    assert all(f"final {i}" in printed for i in (0, 4, 5, 6))
    assert "partial 3" in printed and "partial 1" not in printed and "partial 2" not in printed
    assert "2 captions not shown" in printed


async def test_a_full_translation_queue_fails_the_final_at_once() -> None:
    translator = HangingTranslator()
    results: list[TranslationResult] = []
    stage = TranslationStage(
        TranslationService([translator]), Glossary(), ["es"], results.append,
        lambda: 0.0, queue_limit=1,
    )  # fmt: skip
    running = asyncio.create_task(stage.run())
    try:
        stage.submit(CommittedSegment(0, "en", "The second point.", 0.0, 1.0, 1.0))
        assert await asyncio.to_thread(translator.hung.wait, scaled(5))
        stage.submit(CommittedSegment(1, "en", "Queued.", 1.0, 2.0, 2.0))
        stage.submit(CommittedSegment(2, "en", "One too many.", 2.0, 3.0, 3.0))
        (failed,) = results
        assert isinstance(failed, TranslationFailed) and failed.segment == 2
        assert "fell behind" in failed.reason
        assert stage.owed == 2
    finally:
        translator.release.set()
        stage.finish()
        await asyncio.wait_for(running, scaled(5))
    assert sorted(r.segment for r in results) == [0, 1, 2] and stage.owed == 0
