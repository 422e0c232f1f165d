"""Domain events produced by the streaming core.

The core knows nothing of sessions or sequence numbers: it speaks in segments of
session audio.  :mod:`interp.wire` stamps these with a session id and ``seq`` to make
the v1 wire messages shared by the CLI, the server and the archive.

Times are float seconds of session audio.  ``emitted_at`` is the amount of session
audio that had been fed when the event was produced; shells that know the real clock
(live capture, simulated real time) replace it with their own reading.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its session-audio times."""

    start: float
    end: float
    text: str
    """Text as the model spells it, leading space included (none in Chinese or Japanese)."""
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class PartialText:
    """Unstable text of the open segment; replaced by the next partial or by its final."""

    segment: int
    lang: str
    text: str
    stable_chars: int
    """Length of the prefix of ``text`` that is already committed and will not change."""
    start: float
    end: float
    emitted_at: float


@dataclass(frozen=True, slots=True)
class CommittedSegment:
    """A closed segment: never changed nor withdrawn."""

    segment: int
    lang: str
    text: str
    start: float
    end: float
    emitted_at: float
    words: tuple[Word, ...] = ()


TextEvent = PartialText | CommittedSegment


@dataclass(frozen=True, slots=True)
class Translation:
    """A final rendered in another language; carries its source segment's index and times."""

    segment: int
    source_lang: str
    lang: str
    text: str
    start: float
    end: float
    emitted_at: float
    backend: str


@dataclass(frozen=True, slots=True)
class TranslationFailed:
    """A final that one target language could not get; the captions go on without it."""

    segment: int
    lang: str
    reason: str
    emitted_at: float


@dataclass(frozen=True, slots=True)
class RecordText:
    """The archive's record of a final, or of one of its translations, made after it.

    The record pass decodes a final's audio again with offline settings; the live
    text, as the room saw it, is kept beside it and never changed.  ``lang`` is the
    final's own language for its record, a target's for the record's translation.
    """

    segment: int
    lang: str
    text: str
    start: float
    end: float
    emitted_at: float
    backend: str


def join_words(words: tuple[Word, ...] | list[Word]) -> str:
    """Join model words into display text (they carry their own leading spaces)."""
    return "".join(word.text for word in words).strip()
