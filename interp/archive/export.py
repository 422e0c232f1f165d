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
    fmt: str, messages: Sequence[Message], session: dict[str, Any], lang: str | None
) -> bytes:
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")
    if fmt == "docx":
        return to_docx(messages, session, lang)
    if fmt == "json":
        return formats.to_json(messages).encode("utf-8")
    return formats.render(fmt, messages, lang, heading(session, lang)).encode("utf-8")


def heading(session: dict[str, Any], lang: str | None) -> str:
    """The title, then the session, when it started (the venue's local time), the language."""
    details = [f"Session {session['id']}"]
    if session.get("started_at"):
        started = datetime.fromtimestamp(session["started_at"])
        details.append(f"started {started:%Y-%m-%d %H:%M}")
    details.append(f"translation into {lang}" if lang else "floor language (original)")
    return f"{session.get('title') or 'Session ' + session['id']}\n{' · '.join(details)}"


def to_docx(messages: Sequence[Message], session: dict[str, Any], lang: str | None) -> bytes:
    """A verbatim record: a heading per agenda item, then each speaker's words."""
    from docx import Document

    document = Document()
    document.add_heading(session.get("title") or f"Session {session['id']}", level=0)
    details = [f"Session {session['id']}", f"state: {session.get('state')}"]
    if lang:
        details.append(f"language: {lang}")
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
