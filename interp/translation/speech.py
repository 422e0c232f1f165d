"""The speech model's own translation into English, from the audio of a final.

Whisper translates speech in any of its languages into English (``task="translate"``).
No text engine installable offline reaches English from German, Russian, Chinese,
Arabic or Khmer, so for those a final's audio is decoded once more, as English.  It
runs on the translation worker, as background work on the shared model: live
recognition goes first (see :mod:`interp.asr.gate`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

import numpy as np

from ..asr.base import SpeechModel
from ..asr.faster_whisper import translate_speech
from ..audio.pcm import Samples
from ..config import SAMPLE_RATE, AsrSettings
from ..errors import BackendError

__all__ = ["AudioSlice", "SessionAudio", "SpeechModel", "SpeechTranslator"]

AudioSlice = Callable[[float, float], Samples | None]


class SessionAudio:
    """The most recent ``keep_s`` seconds of session audio, to cut finals out of.

    Chunks are kept as they arrive (no copy per chunk); only a cut joins them.  Audio
    is appended on the event loop and cut on the translation thread, hence the lock
    (held for a deque update or a list copy, never for the join).
    """

    def __init__(self, keep_s: float = 120.0) -> None:
        self._lock = threading.Lock()
        self._keep = int(keep_s * SAMPLE_RATE)
        self._chunks: deque[Samples] = deque()
        self._kept = 0
        self._offset = 0  # session sample index of the first kept sample

    def append(self, samples: Samples) -> None:
        with self._lock:
            self._chunks.append(samples)
            self._kept += len(samples)
            while self._kept - len(self._chunks[0]) >= self._keep:
                dropped = self._chunks.popleft()
                self._kept -= len(dropped)
                self._offset += len(dropped)

    def slice(self, start: float, end: float) -> Samples | None:
        """The audio between two session times, or ``None`` once it has been dropped."""
        with self._lock:  # one consistent view of the chunks, their count and offset
            first = int(start * SAMPLE_RATE) - self._offset
            last = int(end * SAMPLE_RATE) - self._offset
            if first < 0 or last > self._kept or last <= first:
                return None
            chunks = list(self._chunks)
        return np.concatenate(chunks)[first:last]


class SpeechTranslator:
    """Any speech language into English, with the loaded Whisper model."""

    name = "whisper"

    def __init__(
        self, model: SpeechModel, settings: AsrSettings, audio: AudioSlice, prompt: str = ""
    ) -> None:
        self._model = model
        self._settings = settings
        self._audio = audio
        self._prompt = prompt

    def translate(self, start: float, end: float, language: str) -> str:
        audio = self._audio(start, end)
        if audio is None:
            raise BackendError("translation", f"the audio of {start:.1f}-{end:.1f} s is gone")
        try:
            text = translate_speech(self._model, audio, language, self._prompt, self._settings)
        except Exception as exc:
            raise BackendError("translation", f"Whisper speech translation: {exc}") from exc
        if not text:
            raise BackendError("translation", "Whisper heard no English rendering of this final")
        return text
