"""What the streaming core needs of a speech recogniser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..audio.pcm import Samples
from ..events import Word


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One recognition pass over a buffer; word times are relative to the buffer start."""

    words: tuple[Word, ...]
    language: str
    """The language spoken (detected, or the one asked for)."""
    language_probability: float = 1.0
    text_language: str | None = None
    """The language of the words, when not the spoken one (English when translating)."""


LanguageChoice = Callable[[str, float], str]
"""Given the detected language and its probability, the language to decode in."""


class Recognizer(Protocol):
    """Transcribes a buffer of 16 kHz mono audio into timed words (blocking)."""

    def transcribe(
        self,
        audio: Samples,
        *,
        language: str | None,
        prompt: str,
        choose_language: LanguageChoice | None = None,
        full_window: bool = False,
    ) -> Hypothesis:
        """Recognise ``audio``; ``language`` None means detect it.

        After detection, ``choose_language`` (when given) settles the language the
        words are decoded in; the hypothesis still reports the detected one.
        ``full_window`` asks for Whisper's whole 30 s window even where a recogniser
        would shorten it: slower, but its judgement of "no speech" is sound there.
        """
        ...
