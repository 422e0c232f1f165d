"""What the streaming core needs of a speech recogniser."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

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
        beam_size: int | None = None,
    ) -> Hypothesis:
        """Recognise ``audio``; ``language`` None means detect it.

        After detection, ``choose_language`` (when given) settles the language the
        words are decoded in; the hypothesis still reports the detected one.
        ``full_window`` asks for Whisper's whole 30 s window even where a recogniser
        would shorten it: slower, but its judgement of "no speech" is sound there.
        ``beam_size`` overrides the recogniser's streaming beam (a hurried pass).
        """
        ...


class SpeechModel(Protocol):
    """The loaded speech model (faster-whisper's ``WhisperModel``), as far as interp calls it.

    faster-whisper has no type information, so its own parts stay ``Any`` here.
    """

    model: Any
    """The CTranslate2 Whisper: language detection, ``generate``, alignment."""
    hf_tokenizer: Any
    feature_extractor: Any
    frames_per_second: int
    max_length: int

    def encode(self, features: Any) -> Any: ...

    def find_alignment(
        self, tokenizer: Any, text_tokens: list[list[int]], encoder_output: Any, num_frames: int
    ) -> list[list[dict[str, Any]]]: ...

    def transcribe(self, audio: Samples, **options: Any) -> tuple[Iterable[Any], Any]: ...
