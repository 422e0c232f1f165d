"""Transcript formats: plain text, SRT, WebVTT, JSON and JSON lines of v1 messages."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from .wire import Message, encode

FORMATS = ("txt", "srt", "vtt", "json", "jsonl")


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cue_text(text: str) -> str:
    # A blank line would end the cue early in both SRT and WebVTT.
    return "\n".join(line for line in text.splitlines() if line.strip()) or "…"


def to_txt(finals: Sequence[Message]) -> str:
    return "".join(f"{m.text}\n" for m in finals)


def to_srt(finals: Sequence[Message]) -> str:
    cues = []
    for number, m in enumerate(finals, start=1):
        start, end = m.start or 0.0, m.end or 0.0
        cues.append(
            f"{number}\n{_clock(start, ',')} --> {_clock(max(end, start + 0.001), ',')}\n"
            f"{_cue_text(m.text)}\n"
        )
    return "\n".join(cues) + ("\n" if cues else "")


def to_vtt(finals: Sequence[Message]) -> str:
    cues = ["WEBVTT\n"]
    for m in finals:
        start, end = m.start or 0.0, m.end or 0.0
        text = _cue_text(m.text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        cues.append(
            f"{m.segment}\n{_clock(start, '.')} --> {_clock(max(end, start + 0.001), '.')}\n"
            f"{text}\n"
        )
    return "\n".join(cues)


def to_json(messages: Sequence[Message]) -> str:
    return json.dumps([m.to_dict() for m in messages], ensure_ascii=False, indent=1) + "\n"


def to_jsonl(messages: Iterable[Message]) -> str:
    return "".join(encode(m) + "\n" for m in messages)


def render(fmt: str, messages: Sequence[Message], lang: str | None = None) -> str:
    """Render in ``fmt``; JSON keeps every event, the caption formats take the finals.

    With ``lang``, the caption formats take that language's text: its translations, and
    finals spoken in it.
    """
    if lang is None:
        finals = [m for m in messages if m.type == "final"]
    else:
        finals = [m for m in messages if m.type in ("final", "translation") and m.lang == lang]
    if fmt == "txt":
        return to_txt(finals)
    if fmt == "srt":
        return to_srt(finals)
    if fmt == "vtt":
        return to_vtt(finals)
    if fmt == "json":
        return to_json(messages)
    if fmt == "jsonl":
        return to_jsonl(messages)
    raise ValueError(f"unknown format {fmt!r}")
