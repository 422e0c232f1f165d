"""Live captions in a terminal: partials redrawn in place, finals printed as lines.

:meth:`CaptionPrinter.show` is called from the publish path, on the event loop, so it
never writes: it queues the message for the printer's own thread.  A paused terminal
or an unread pipe then blocks only that thread.  The queue is bounded: when it is
full a waiting partial is dropped first, then the oldest message, and the number of
captions not shown is printed once the output moves again.
"""

from __future__ import annotations

import shutil
import sys
import threading
from collections import deque
from typing import TextIO

from .wire import Message

_DIM = "\033[2m"
_RESET = "\033[0m"
_CLEAR_LINE = "\r\033[K"

QUEUE_LIMIT = 1000
"""Messages waiting for the terminal; minutes of captions."""
LEGEND = (
    "[start → end of the words, in session time] (language) final text  · seconds after"
    " the words ended\n{:>19}(target) its translation  · seconds after the final"
)
"""Printed once on a terminal, above the first caption: what each part of a line means."""
KEPT_FINALS = 256
"""Finals remembered to time their translations against."""


def _clock(seconds: float | None) -> str:
    seconds = seconds or 0.0
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"


class CaptionPrinter:
    """Prints finals with their times; on a terminal, shows the open partial too."""

    def __init__(self, out: TextIO = sys.stdout, queue_limit: int = QUEUE_LIMIT) -> None:
        self._out = out
        self._interactive = out.isatty()
        self._partial_shown = False
        self._limit = queue_limit
        self._waiting: deque[Message] = deque()
        self._ready = threading.Condition()
        self._closing = False
        self.dropped = 0
        """Messages never printed because the output did not keep up."""
        self._reported_dropped = 0
        self._legend_shown = False
        self._final_times: dict[tuple[str, str | None], float] = {}
        """(session, segment) → wall time the final was published, for its translations."""
        # A daemon: a write into a terminal paused for good cannot be interrupted, and
        # must not keep the process from exiting; close() lets it finish otherwise.
        self._thread = threading.Thread(target=self._run, name="console", daemon=True)
        self._thread.start()

    def show(self, message: Message) -> None:
        """Queue ``message`` for printing; never waits."""
        with self._ready:
            if len(self._waiting) >= self._limit:
                partial = next((m for m in self._waiting if m.type == "partial"), None)
                self._waiting.remove(partial) if partial is not None else self._waiting.popleft()
                self.dropped += 1
            self._waiting.append(message)
            self._ready.notify()

    def close(self, timeout: float = 2.0) -> None:
        """Print what is queued (for up to ``timeout`` seconds) and stop the thread."""
        with self._ready:
            self._closing = True
            self._ready.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._closing:
                    self._ready.wait()
                if not self._waiting:
                    return
                message = self._waiting.popleft()
                dropped = self.dropped - self._reported_dropped
                self._reported_dropped = self.dropped
            try:
                if dropped:
                    self._write_line(f"({dropped} captions not shown: the output fell behind)")
                self._print(message)
            except (OSError, ValueError):  # a closed pipe: captions go on elsewhere
                return

    def _write_line(self, text: str) -> None:
        prefix = _CLEAR_LINE if self._partial_shown else ""
        self._partial_shown = False
        self._out.write(f"{prefix}{text}\n")
        self._out.flush()

    def _print(self, message: Message) -> None:
        if message.type == "partial":
            if self._interactive:
                width = shutil.get_terminal_size().columns
                line = f"  … {message.text}"
                if len(line) >= width:
                    line = "  … " + message.text[-(width - 6) :]
                self._out.write(f"{_CLEAR_LINE}{_DIM}{line}{_RESET}")
                self._out.flush()
                self._partial_shown = True
            return
        if not self._legend_shown and self._interactive:  # a pipe gets caption lines only
            self._legend_shown = True
            self._write_line(_DIM + LEGEND.format("") + _RESET)
        if message.type in ("translation", "error"):
            detail = ""
            if message.type == "translation":
                # On the wall clock: the audio clock stops when a file ends, and would
                # understate a translation that comes late.
                final_at = self._final_times.get((message.session, message.segment))
                published = message.extra.get("published_at")
                if final_at is not None and isinstance(published, (int, float)):
                    detail = f"  ·{max(0.0, published - final_at):.1f}s"
            label = message.lang if message.type == "translation" else f"{message.lang}: error"
            self._write_line(f"{'':>19}({label}) {message.text}{detail}")
            return
        if message.type == "final":
            published = message.extra.get("published_at")
            if isinstance(published, (int, float)):
                self._final_times[(message.session, message.segment)] = published
                while len(self._final_times) > KEPT_FINALS:
                    del self._final_times[next(iter(self._final_times))]
            lag = (message.emitted_at or 0.0) - (message.end or 0.0)
            self._write_line(
                f"[{_clock(message.start)} → {_clock(message.end)}] ({message.lang}) "
                f"{message.text}  ·{lag:.1f}s"
            )
