"""Transcripts of an archived session: SRT, WebVTT, TXT, JSON (the event schema), DOCX."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .. import formats
from ..errors import ConfigError
from ..wire import Message

EXPORT_FORMATS = ("srt", "vtt", "txt", "json", "docx")
CONTENT_TYPES = {
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def export(
    fmt: str,
    messages: Sequence[Message],
    session: dict[str, Any],
    lang: str | None,
    text: str = "record",
) -> bytes:
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")
    if fmt == "docx":
        return to_docx(messages, session, lang, text)
    if fmt == "json":
        return formats.to_json(messages).encode("utf-8")
    return formats.render(fmt, messages, lang, heading(session, lang, text)).encode("utf-8")


def heading(session: dict[str, Any], lang: str | None, text: str = "record") -> str:
    """The title, then the session, when it started (the venue's local time), the language."""
    title = session.get("title") or f"Session {session['id']}"
    return f"{title}\n{' · '.join(_details(session, lang, text))}"


def _details(session: dict[str, Any], lang: str | None, text: str) -> list[str]:
    details = [f"Session {session['id']}"]
    if session.get("started_at"):
        started = datetime.fromtimestamp(session["started_at"])
        details.append(f"started {started:%Y-%m-%d %H:%M}")
    details.append(f"translation into {lang}" if lang else "floor language (original)")
    details.append("captions as shown live" if text == "live" else "record text")
    return details


def to_docx(
    messages: Sequence[Message], session: dict[str, Any], lang: str | None, text: str = "record"
) -> bytes:
    """A verbatim record: a heading per agenda item, then each speaker's words."""
    from docx import Document

    document = Document()
    document.add_heading(session.get("title") or f"Session {session['id']}", level=0)
    details = [f"Session {session['id']}", f"state: {session.get('state')}"]
    if lang:
        details.append(f"language: {lang}")
    details.append("captions as shown live" if text == "live" else "record text")
    document.add_paragraph(" · ".join(details))
    item: object = object()
    speaker: object = object()
    for m in messages:
        if m.agenda_item != item:
            item = m.agenda_item
            document.add_heading(formats.isolate(m.agenda_item or "(no agenda item)"), level=1)
            speaker = object()
        if m.speaker != speaker:
            speaker = m.speaker
            document.add_heading(formats.isolate(m.speaker or "(speaker not set)"), level=2)
        paragraph = document.add_paragraph()
        paragraph.add_run(f"[{formats.clock(m.start)}] ").italic = True
        paragraph.add_run(m.text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
