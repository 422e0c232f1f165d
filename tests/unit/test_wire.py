"""Wire protocol v1: encode/decode round trip, rejection of bad input, seq stamping."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.errors import ProtocolError
from interp.events import CommittedSegment, PartialText
from interp.wire import (
    _FIELDS,
    _TYPES,
    VERSION,
    Message,
    Stamper,
    decode,
    encode,
    new_session_id,
    segment_id,
)

finite = st.floats(allow_nan=False, allow_infinity=False)
optional_text = st.none() | st.text(max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
messages = st.builds(
    Message,
    type=st.sampled_from(sorted(_TYPES)),
    session=st.text(max_size=30),
    seq=st.integers(0, 2**53),
    segment=optional_text,
    lang=optional_text,
    text=st.text(max_size=80),
    start=st.none() | finite,
    end=st.none() | finite,
    emitted_at=st.none() | finite,
    speaker=optional_text,
    agenda_item=optional_text,
    stable=st.none() | st.integers(0, 10_000),
    extra=st.dictionaries(
        st.text(max_size=12).filter(lambda key: key not in _FIELDS | {"extra"}),
        json_values,
        max_size=4,
    ),
)


@settings(max_examples=300, deadline=None)
@given(messages)
def test_encode_decode_round_trip(message: Message) -> None:
    raw = encode(message)
    assert "\n" not in raw  # one message per line in JSON lines
    assert decode(raw) == message
    assert decode(raw.encode("utf-8")) == message
    data = json.loads(raw)
    assert data["v"] == VERSION
    assert ("stable" in data) == (message.stable is not None)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        "{",
        b"\xff\xfe\x00",
        b"\x80\x81",
        '"a string"',
        "[1, 2]",
        "42",
        "null",
        '{"type": "final", "session": "s", "seq": 1}',  # no version
        '{"v": 2, "type": "final", "session": "s", "seq": 1}',
        '{"v": "1", "type": "final", "session": "s", "seq": 1}',
        '{"v": 1, "type": "shout", "session": "s", "seq": 1}',
        '{"v": 1, "session": "s", "seq": 1}',
        '{"v": 1, "type": "final", "seq": 1}',
        '{"v": 1, "type": "final", "session": 7, "seq": 1}',
        '{"v": 1, "type": "final", "session": "s"}',
        '{"v": 1, "type": "final", "session": "s", "seq": "1"}',
        '{"v": 1, "type": "final", "session": "s", "seq": 1.5}',
    ],
)
def test_decode_rejects_invalid_messages(raw: str | bytes) -> None:
    with pytest.raises(ProtocolError):
        decode(raw)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=10).filter(lambda t: t not in _TYPES))
def test_decode_rejects_unknown_types(kind: str) -> None:
    raw = json.dumps({"v": VERSION, "type": kind, "session": "s", "seq": 1})
    with pytest.raises(ProtocolError, match="unknown message type"):
        decode(raw)


def test_decode_keeps_unknown_fields_in_extra() -> None:
    message = decode('{"v":1,"type":"status","session":"s","seq":3,"lag":0.5,"state":"ok"}')
    assert message.extra == {"lag": 0.5, "state": "ok"}
    assert message.to_dict()["lag"] == 0.5


partial = PartialText(
    segment=3,
    lang="fr",
    text="bonjour à tous",
    stable_chars=7,
    start=1.0,
    end=2.0,
    emitted_at=2.5,
)
final = CommittedSegment(
    segment=3, lang="fr", text="Bonjour à tous.", start=1.0, end=2.2, emitted_at=3.0
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["partial", "final", "session", "error"]), max_size=40))
def test_stamper_seq_strictly_increases(kinds: list[str]) -> None:
    stamper = Stamper("sess-1")
    seqs = []
    for kind in kinds:
        if kind == "partial":
            message = stamper.stamp(partial)
        elif kind == "final":
            message = stamper.stamp(final, emitted_at=9.87654)
        elif kind == "session":
            message = stamper.session_message("started", 1.0)
        else:
            message = stamper.error_message("speech recognition", "boom", 1.0)
        assert message.session == "sess-1"
        assert decode(encode(message)) == message
        seqs.append(message.seq)
    assert seqs == list(range(1, len(kinds) + 1))


def test_stamped_messages_carry_the_event() -> None:
    stamper = Stamper("s")
    stamper.speaker, stamper.agenda_item = "Chair", "item 4"
    p = stamper.stamp(partial)
    assert (p.type, p.segment, p.lang, p.text, p.stable) == (
        "partial",
        "seg-3",
        "fr",
        "bonjour à tous",
        7,
    )
    assert (p.start, p.end, p.emitted_at, p.speaker, p.agenda_item) == (
        1.0,
        2.0,
        2.5,
        "Chair",
        "item 4",
    )
    f = stamper.stamp(final, emitted_at=9.87654)
    assert (f.type, f.segment, f.stable, f.emitted_at) == ("final", "seg-3", None, 9.877)
    assert "stable" not in json.loads(encode(f))
    s = stamper.session_message("ended", 12.3456)
    assert (s.type, s.extra, s.emitted_at) == ("session", {"state": "ended"}, 12.346)
    e = stamper.error_message("translation", "model gone", 1.0)
    assert (e.type, e.text, e.extra) == ("error", "model gone", {"stage": "translation"})


def test_ids() -> None:
    assert segment_id(0) == "seg-0"
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", new_session_id())


@pytest.mark.parametrize(
    "raw",
    [
        '{"v": true, "type": "final", "session": "s", "seq": 1}',
        '{"v": 1, "type": "final", "session": "s", "seq": true}',
    ],
)
def test_decode_rejects_booleans_for_numbers(raw: str) -> None:
    with pytest.raises(ProtocolError):
        decode(raw)


def test_extra_never_overwrites_core_fields() -> None:
    forged = Message("status", "s", 7, extra={"seq": 1, "session": "other", "v": 2, "lag": 0.5})
    data = json.loads(encode(forged))
    assert (data["seq"], data["session"], data["v"], data["lag"]) == (7, "s", VERSION, 0.5)
    assert decode(encode(forged)).extra == {"lag": 0.5}


def test_encode_refuses_a_message_without_a_session() -> None:
    with pytest.raises(ValueError):
        encode(Message("status", None, 3))  # type: ignore[arg-type]
