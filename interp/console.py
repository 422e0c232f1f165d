"""Live captions in a terminal: partials redrawn in place, finals printed as lines."""

from __future__ import annotations

import shutil
import sys
from typing import TextIO

from .wire import Message

_DIM = "\033[2m"
_RESET = "\033[0m"
_CLEAR_LINE = "\r\033[K"


def _clock(seconds: float | None) -> str:
    seconds = seconds or 0.0
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"


class CaptionPrinter:
    """Prints finals with their times; on a terminal, shows the open partial too."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self._out = out
        self._interactive = out.isatty()
        self._partial_shown = False

    def show(self, message: Message) -> None:
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
        if message.type in ("translation", "error"):
            prefix = _CLEAR_LINE if self._partial_shown else ""
            self._partial_shown = False
            lag = (message.emitted_at or 0.0) - (message.end or 0.0)
            detail = f"  ·{lag:.1f}s" if message.type == "translation" else ""
            label = message.lang if message.type == "translation" else f"{message.lang}: error"
            self._out.write(f"{prefix}{'':>19}({label}) {message.text}{detail}\n")
            self._out.flush()
            return
        if message.type == "final":
            prefix = _CLEAR_LINE if self._partial_shown else ""
            self._partial_shown = False
            lag = (message.emitted_at or 0.0) - (message.end or 0.0)
            self._out.write(
                f"{prefix}[{_clock(message.start)} → {_clock(message.end)}] ({message.lang}) "
                f"{message.text}  ·{lag:.1f}s\n"
            )
            self._out.flush()
