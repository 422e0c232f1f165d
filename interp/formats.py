"""Transcript formats: plain text, SRT, WebVTT, JSON and JSON lines of v1 messages.

Finals that carry a speaker or an agenda item (the archive's) say so in every caption
format: a speaker's name where it changes in SRT and on every cue as a WebVTT voice
span (``<v Name>``), agenda items as WebVTT notes, and both as the headings of a plain
text record.  A ``heading`` (a session's title, date and language) opens the file.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence

from .wire import Message, encode

FORMATS = ("txt", "srt", "vtt", "json", "jsonl")


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def clock(seconds: float | None) -> str:
    """A moment of a session as the pages show it: whole seconds, rounded; MM:SS, or
    H:MM:SS from the first hour on."""
    total = max(0, round(seconds or 0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def isolate(name: str) -> str:
    """``name`` between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE when it holds
    right-to-left letters, so an Arabic name cannot turn the English line it leads."""
    rtl = any(unicodedata.bidirectional(char) in ("R", "AL") for char in name)
    return f"\u2068{name}\u2069" if rtl else name


def _changes(finals: Sequence[Message], field: str) -> list[bool]:
    """For each final, whether ``field`` differs from the final before it."""
    previous: object = object()
    changed = []
    for m in finals:
        value = getattr(m, field)
        changed.append(value != previous)
        previous = value
    return changed


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cue_text(text: str) -> str:
    # A blank line would end the cue early in both SRT and WebVTT.
    return "\n".join(line for line in text.splitlines() if line.strip()) or "…"


def to_txt(finals: Sequence[Message], heading: str | None = None) -> str:
    """One line per final; with speakers, agenda items or a heading, a readable record:
    the heading, each agenda item and speaker where they change, timed lines."""
    if heading is None and not any(m.speaker or m.agenda_item for m in finals):
        return "".join(f"{m.text}\n" for m in finals)
    out = [f"{heading}\n"] if heading else []
    for m, new_item, new_speaker in zip(
        finals, _changes(finals, "agenda_item"), _changes(finals, "speaker"), strict=True
    ):
        if new_item and m.agenda_item:
            out.append(f"\n{isolate(m.agenda_item)}\n{'=' * len(m.agenda_item)}\n")
        if (new_speaker or new_item) and m.speaker:
            out.append(f"\n{isolate(m.speaker)}:\n")
        out.append(f"[{clock(m.start)}] {m.text}\n")
    return "".join(out)


def to_srt(finals: Sequence[Message]) -> str:
    cues = []
    changed = _changes(finals, "speaker")
    for number, (m, new_speaker) in enumerate(zip(finals, changed, strict=True), start=1):
        start, end = m.start or 0.0, m.end or 0.0
        # SRT has no speaker field: the name leads the cue where the speaker changes.
        who = f"{isolate(m.speaker)}: " if m.speaker and new_speaker else ""
        cues.append(
            f"{number}\n{_clock(start, ',')} --> {_clock(max(end, start + 0.001), ',')}\n"
            f"{_cue_text(who + m.text)}\n"
        )
    return "\n".join(cues) + ("\n" if cues else "")


def to_vtt(finals: Sequence[Message], heading: str | None = None) -> str:
    blocks = ["WEBVTT\n"]
    if heading:
        blocks.append("NOTE\n" + _cue_text(heading.replace("-->", "->")) + "\n")
    for m, new_item in zip(finals, _changes(finals, "agenda_item"), strict=True):
        if new_item and m.agenda_item:
            blocks.append(f"NOTE agenda item: {_cue_text(m.agenda_item.replace('-->', '->'))}\n")
        start, end = m.start or 0.0, m.end or 0.0
        text = _escape_vtt(_cue_text(m.text))
        if m.speaker:  # a voice span on every cue: a player may show any cue alone
            name = _escape_vtt(" ".join(m.speaker.split()))
            text = "\n".join(f"<v {name}>{line}" for line in text.split("\n"))
        blocks.append(
            f"{m.segment}\n{_clock(start, '.')} --> {_clock(max(end, start + 0.001), '.')}\n"
            f"{text}\n"
        )
    return "\n".join(blocks)


def to_json(messages: Sequence[Message]) -> str:
    return json.dumps([m.to_dict() for m in messages], ensure_ascii=False, indent=1) + "\n"


def to_jsonl(messages: Iterable[Message]) -> str:
    return "".join(encode(m) + "\n" for m in messages)


def render(
    fmt: str, messages: Sequence[Message], lang: str | None = None, heading: str | None = None
) -> str:
    """Render in ``fmt``; JSON keeps every event, the caption formats take the finals.

    With ``lang``, the caption formats take that language's text: its translations, and
    finals spoken in it.  ``heading`` opens a TXT or WebVTT file.
    """
    if lang is None:
        finals = [m for m in messages if m.type == "final"]
    else:
        finals = [m for m in messages if m.type in ("final", "translation") and m.lang == lang]
    if fmt == "txt":
        return to_txt(finals, heading)
    if fmt == "srt":
        return to_srt(finals)
    if fmt == "vtt":
        return to_vtt(finals, heading)
    if fmt == "json":
        return to_json(messages)
    if fmt == "jsonl":
        return to_jsonl(messages)
    raise ValueError(f"unknown format {fmt!r}")
