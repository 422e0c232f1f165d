"""The terminal's captions: a legend once, finals timed on audio, translations on the wall."""

from __future__ import annotations

import io
import re

from interp.console import CaptionPrinter
from interp.wire import Message


def caption(kind: str, text: str, lang: str, published_at: float) -> Message:
    return Message(
        type=kind, session="s", seq=1, segment="seg-0", lang=lang, text=text,  # type: ignore[arg-type]
        start=10.0, end=12.0, emitted_at=13.4, extra={"published_at": published_at},
    )  # fmt: skip


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_legend_then_each_delay_on_its_own_clock() -> None:
    out = Terminal()
    printer = CaptionPrinter(out)
    printer.show(caption("final", "The sitting is open.", "en", 1000.0))
    # The file ended long ago: on the audio clock this would still read 1.4 s.
    printer.show(caption("translation", "Se abre la sesión.", "es", 1011.7))
    printer.show(caption("final", "Next.", "en", 1012.0))
    printer.close()
    lines = re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\r", "", out.getvalue()).splitlines()
    assert "seconds after the words ended" in lines[0] and "after the final" in lines[1]
    assert lines[2] == "[00:10.0 → 00:12.0] (en) The sitting is open.  ·1.4s"
    assert lines[3].strip() == "(es) Se abre la sesión.  ·11.7s"
    assert sum("seconds after the words" in line for line in lines) == 1  # the legend, once


def test_a_pipe_gets_caption_lines_only() -> None:
    out = io.StringIO()
    printer = CaptionPrinter(out)
    printer.show(caption("final", "The sitting is open.", "en", 1000.0))
    printer.close()
    assert out.getvalue() == "[00:10.0 → 00:12.0] (en) The sitting is open.  ·1.4s\n"
