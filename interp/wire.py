"""Version 1 of the event schema: the JSON messages of the CLI, server and archive.

The streaming core emits domain events (:mod:`interp.events`); a :class:`Stamper`
gives them the session id, a per-session ``seq`` that increases over every message,
and a segment id, and turns them into :class:`Message`.  ``encode``/``decode`` are the
only JSON code paths, so every consumer sees the same shape.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from .errors import ProtocolError
from .events import (
    CommittedSegment,
    PartialText,
    RecordText,
    TextEvent,
    Translation,
    TranslationFailed,
)

VERSION = 1
MessageType = Literal[
    "partial", "final", "translation", "record", "session", "status", "error", "gap"
]
_TYPES = frozenset(get_args(MessageType))


@dataclass(frozen=True, slots=True)
class Message:
    type: MessageType
    session: str
    seq: int
    segment: str | None = None
    lang: str | None = None
    text: str = ""
    start: float | None = None
    end: float | None = None
    emitted_at: float | None = None
    speaker: str | None = None
    agenda_item: str | None = None
    stable: int | None = None
    """Partials only: how many leading characters of ``text`` will not change."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields of other message types (``state`` of a session, ``lag`` of a status...)."""
    v: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        if data["stable"] is None:
            del data["stable"]
        # Core fields win: an extra named "seq" or "session" must not forge them.
        return {**{k: v for k, v in extra.items() if k not in _CORE}, **data}


_FIELDS = frozenset(Message.__dataclass_fields__) - {"extra"}
_CORE = _FIELDS | {"extra"}


def encode(message: Message) -> str:
    """The JSON of ``message``; raise ``ValueError`` for one that :func:`decode` would refuse.

    Nothing leaves the server that a client following this schema cannot read, such as
    a status with ``"session": null`` after the session stopped.
    """
    if not isinstance(message.session, str):
        raise ValueError(f"a {message.type} message needs a session id, not {message.session!r}")
    if type(message.seq) is not int or message.type not in _TYPES:
        raise ValueError(f"not a message of the schema: {message.type!r} seq {message.seq!r}")
    return json.dumps(message.to_dict(), ensure_ascii=False, separators=(",", ":"))


def decode(raw: str | bytes) -> Message:
    """Parse one message; raise :class:`ProtocolError` with the reason if it is invalid."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ProtocolError("a message must be a JSON object")
    if type(data.get("v")) is not int or data["v"] != VERSION:  # JSON true is not 1
        raise ProtocolError(f"unsupported message version {data.get('v')!r}; expected {VERSION}")
    if data.get("type") not in _TYPES:
        raise ProtocolError(f"unknown message type {data.get('type')!r}")
    if not isinstance(data.get("session"), str) or type(data.get("seq")) is not int:
        raise ProtocolError("a message needs a string 'session' and an integer 'seq'")
    known = {k: v for k, v in data.items() if k in _FIELDS}
    extra = {k: v for k, v in data.items() if k not in _CORE}
    return Message(**known, extra=extra)


def gap_message(
    session: str,
    from_seq: int,
    to_seq: int,
    start: float | None,
    end: float | None,
    from_wall: float | None,
    to_wall: float | None,
) -> Message:
    """What a listener missed: messages ``from_seq``..``to_seq`` of ``session``.

    The archive still holds them.  ``start``/``end`` are seconds of session audio and
    ``from_wall``/``to_wall`` the room's wall clock (Unix seconds) where known, so a page
    can say "captions missed from 10:42 to 10:43".  Its ``seq`` is that of the last
    missed message: a client that resumes after it with ``since`` misses nothing more.
    """
    return Message(
        type="gap",
        session=session,
        seq=to_seq,
        start=start,
        end=end,
        emitted_at=end,
        extra={
            "from_seq": from_seq,
            "to_seq": to_seq,
            "from_published_at": from_wall,
            "published_at": to_wall,
        },
    )


def new_session_id() -> str:
    """A sortable, unique session id such as ``20261129-135501-3fa2``."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def segment_id(index: int) -> str:
    return f"seg-{index}"


class Stamper:
    """Gives a session's events their ``seq`` and the speaker and agenda item in force."""

    def __init__(self, session: str) -> None:
        self.session = session
        self.speaker: str | None = None
        self.agenda_item: str | None = None
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def stamp(self, event: TextEvent, emitted_at: float | None = None) -> Message:
        kind: MessageType = "final" if isinstance(event, CommittedSegment) else "partial"
        return Message(
            type=kind,
            session=self.session,
            seq=self._next(),
            segment=segment_id(event.segment),
            lang=event.lang,
            text=event.text,
            start=event.start,
            end=event.end,
            emitted_at=round(event.emitted_at if emitted_at is None else emitted_at, 3),
            speaker=self.speaker,
            agenda_item=self.agenda_item,
            stable=event.stable_chars if isinstance(event, PartialText) else None,
        )

    def stamp_translation(self, event: Translation, emitted_at: float | None = None) -> Message:
        return Message(
            type="translation",
            session=self.session,
            seq=self._next(),
            segment=segment_id(event.segment),
            lang=event.lang,
            text=event.text,
            start=event.start,
            end=event.end,
            emitted_at=round(event.emitted_at if emitted_at is None else emitted_at, 3),
            speaker=self.speaker,
            agenda_item=self.agenda_item,
            extra={"source_lang": event.source_lang, "backend": event.backend},
        )

    def stamp_record(self, event: RecordText, emitted_at: float | None = None) -> Message:
        """A record text: the archive's, never shown as a caption (see :mod:`interp.events`)."""
        return Message(
            type="record",
            session=self.session,
            seq=self._next(),
            segment=segment_id(event.segment),
            lang=event.lang,
            text=event.text,
            start=event.start,
            end=event.end,
            emitted_at=round(event.emitted_at if emitted_at is None else emitted_at, 3),
            extra={"backend": event.backend},
        )

    def stamp_result(self, result: Translation | TranslationFailed) -> Message:
        """A translation, or the error event of a translation that failed."""
        if isinstance(result, Translation):
            return self.stamp_translation(result)
        return self.error_message(
            "translation", result.reason, result.emitted_at, segment_id(result.segment), result.lang
        )

    def session_message(self, state: Literal["started", "ended"], at: float) -> Message:
        return Message(
            type="session",
            session=self.session,
            seq=self._next(),
            emitted_at=round(at, 3),
            speaker=self.speaker,
            agenda_item=self.agenda_item,
            extra={"state": state},
        )

    def status_message(self, at: float, fields: dict[str, Any]) -> Message:
        return Message(
            type="status",
            session=self.session,
            seq=self._next(),
            emitted_at=round(at, 3),
            speaker=self.speaker,
            agenda_item=self.agenda_item,
            extra=fields,
        )

    def error_message(
        self,
        stage: str,
        text: str,
        at: float,
        segment: str | None = None,
        lang: str | None = None,
    ) -> Message:
        return Message(
            type="error",
            session=self.session,
            seq=self._next(),
            segment=segment,
            lang=lang,
            text=text,
            emitted_at=round(at, 3),
            extra={"stage": stage},
        )
