"""Transcript formats: SRT and WebVTT shapes, times, text, JSON."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.formats import FORMATS, render, to_json, to_jsonl, to_srt, to_txt, to_vtt
from interp.wire import Message, decode

SRT_CLOCK = r"(\d\d+):([0-5]\d):([0-5]\d),(\d\d\d)"
VTT_CLOCK = r"(\d\d+):([0-5]\d):([0-5]\d)\.(\d\d\d)"
SRT_TIME = re.compile(f"^{SRT_CLOCK} --> {SRT_CLOCK}$")
VTT_TIME = re.compile(f"^{VTT_CLOCK} --> {VTT_CLOCK}$")


def millis(groups: tuple[str, ...]) -> tuple[int, int]:
    h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in groups)
    return (
        ((h1 * 60 + m1) * 60 + s1) * 1000 + ms1,
        ((h2 * 60 + m2) * 60 + s2) * 1000 + ms2,
    )


def final(index: int, start: float | None, end: float | None, text: str) -> Message:
    return Message(
        type="final",
        session="s",
        seq=index + 1,
        segment=f"seg-{index}",
        lang="en",
        text=text,
        start=start,
        end=end,
    )


times = st.floats(0, 200_000, allow_nan=False)
finals = st.lists(st.tuples(times, times, st.text(max_size=60)), max_size=8).map(
    lambda cues: [final(i, s, e, t) for i, (s, e, t) in enumerate(cues)]
)


def check_cues(blocks: list[str], messages: list[Message], pattern: re.Pattern[str]) -> None:
    assert len(blocks) == len(messages)
    for block, message in zip(blocks, messages, strict=True):
        lines = block.split("\n")
        match = pattern.match(lines[1])
        assert match, lines[1]
        start_ms, end_ms = millis(match.groups())
        assert message.start is not None and message.end is not None
        assert start_ms == round(message.start * 1000)
        assert end_ms >= start_ms
        assert end_ms >= round(message.end * 1000) - 1
        text = lines[2:]
        assert text and all(line.strip() for line in text)  # a blank line would end the cue


@settings(max_examples=200, deadline=None)
@given(finals)
def test_srt_shape(messages: list[Message]) -> None:
    srt = to_srt(messages)
    if not messages:
        assert srt == ""
        return
    assert srt.endswith("\n")
    blocks = srt.rstrip("\n").split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == [str(i) for i in range(1, len(messages) + 1)]
    check_cues(blocks, messages, SRT_TIME)


@settings(max_examples=200, deadline=None)
@given(finals)
def test_vtt_shape(messages: list[Message]) -> None:
    vtt = to_vtt(messages)
    assert vtt.startswith("WEBVTT\n\n" if messages else "WEBVTT\n")
    assert vtt.endswith("\n")
    blocks = vtt.rstrip("\n").split("\n\n")[1:]
    assert [b.split("\n")[0] for b in blocks] == [m.segment for m in messages]
    check_cues(blocks, messages, VTT_TIME)
    for block in blocks:
        for line in block.split("\n")[2:]:
            assert "<" not in line and ">" not in line
            assert "-->" not in line


def test_clock_format_and_escaping() -> None:
    messages = [
        final(0, 0.0, 1.5, "Hello."),
        final(1, 3661.2345, 3662.0, "a <b> & c\n\nsecond line"),
        final(2, 5.0, 5.0, ""),
        final(3, None, None, "no times"),
    ]
    # The number of newlines after the last cue is not part of either format.
    assert to_srt(messages).endswith("\n")
    assert to_vtt(messages).endswith("\n")
    assert to_srt(messages).rstrip("\n") + "\n" == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello.\n\n"
        "2\n01:01:01,234 --> 01:01:02,000\na <b> & c\nsecond line\n\n"
        "3\n00:00:05,000 --> 00:00:05,001\n…\n\n"
        "4\n00:00:00,000 --> 00:00:00,001\nno times\n"
    )
    assert to_vtt(messages).rstrip("\n") + "\n" == (
        "WEBVTT\n\n"
        "seg-0\n00:00:00.000 --> 00:00:01.500\nHello.\n\n"
        "seg-1\n01:01:01.234 --> 01:01:02.000\na &lt;b&gt; &amp; c\nsecond line\n\n"
        "seg-2\n00:00:05.000 --> 00:00:05.001\n…\n\n"
        "seg-3\n00:00:00.000 --> 00:00:00.001\nno times\n"
    )
    assert to_vtt([]).rstrip("\n") == "WEBVTT"
    assert to_txt(messages[:2]) == "Hello.\na <b> & c\n\nsecond line\n"


def test_render_picks_finals_for_captions_and_keeps_every_message_in_json() -> None:
    messages = [
        Message(type="session", session="s", seq=1, extra={"state": "started"}),
        Message(type="partial", session="s", seq=2, segment="seg-0", text="Hel", stable=0),
        final(0, 0.0, 1.0, "Hello."),
    ]
    assert render("txt", messages) == "Hello.\n"
    assert render("srt", messages).startswith("1\n00:00:00,000 --> 00:00:01,000\nHello.")
    assert render("vtt", messages).count("-->") == 1
    assert [decode(line) for line in render("jsonl", messages).splitlines()] == messages
    assert render("jsonl", messages) == to_jsonl(messages)
    parsed = json.loads(render("json", messages))
    assert parsed == [m.to_dict() for m in messages]
    assert render("json", messages) == to_json(messages)
    assert set(FORMATS) == {"txt", "srt", "vtt", "json", "jsonl"}
    with pytest.raises(ValueError, match="unknown format"):
        render("docx", messages)


def test_a_right_to_left_name_is_isolated_in_the_text_exports() -> None:
    arabic = "السيد محمد بن راشد"
    messages = [
        Message(type="final", session="s", seq=1, segment="seg-0", lang="en",
                text="Thank you.", start=1.0, end=2.0, speaker=arabic),
        Message(type="final", session="s", seq=2, segment="seg-1", lang="en",
                text="Next.", start=3.0, end=4.0, speaker="Dr. Maria Lopez"),
    ]  # fmt: skip
    isolated = f"\u2068{arabic}\u2069"
    assert f"{isolated}:\n[00:01] Thank you." in to_txt(messages)
    assert f"{isolated}: Thank you." in to_srt(messages)
    assert "Dr. Maria Lopez: Next." in to_srt(messages)  # left-to-right names stay as they are
