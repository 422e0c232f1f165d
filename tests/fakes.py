"""Deterministic stand-ins for the speech-probability model and the recogniser.

Both derive everything they report from the audio itself, so a test gets the same
answers however the audio is chunked, buffered or trimmed by the streaming core.

The audio of a test is built with :class:`ScriptBuilder` from three kinds of sound:

* silence: zeros;
* filler: speech-like sound that holds no word (music, noise, applause);
* words: word ``k`` of the script fills its time span with a square wave of amplitude
  ``WORD_BASE + k * WORD_STEP``.  The amplitude is the word's *marker*: the fake
  recogniser reads it back sample by sample, so from a buffer alone it knows which
  words the buffer holds and where they lie relative to the buffer start.

:class:`FakeSpeechProb` calls a window speech when its RMS is above ``SPEECH_RMS``:
filler and words are speech, zeros are not.

:class:`FakeRecognizer` returns, like Whisper with word timestamps, the words whose
*whole* span lies inside the buffer it is given (a word cut by the buffer start or
end is left out), with times relative to the buffer start.  With
``trailing_period=True`` it imitates Whisper's habit of ending a hypothesis with a
full stop where the audio stops: the last word gets a "." when the buffer ends within
``period_tail_s`` after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from interp.asr.base import Hypothesis
from interp.events import Word

SAMPLE_RATE = 16_000

SPEECH_RMS = 0.01
"""Windows whose RMS is above this are speech for :class:`FakeSpeechProb`."""
SPEECH_PROB = 0.9
SILENCE_PROB = 0.05

FILLER_LEVEL = 0.1
"""Amplitude of filler sound: speech for the voice detector, no word for the recogniser."""
WORD_BASE = 0.2
WORD_STEP = 0.0005
MAX_WORDS = 1000
"""Markers run from WORD_BASE to WORD_BASE + (MAX_WORDS - 1) * WORD_STEP (< 0.7)."""


def word_level(index: int) -> float:
    """Amplitude marking script word ``index``."""
    if not 0 <= index < MAX_WORDS:
        raise ValueError(f"word index {index} outside 0..{MAX_WORDS - 1}")
    return WORD_BASE + index * WORD_STEP


def decode_markers(audio: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Word index of every sample, -1 where no word sounds."""
    level = np.abs(np.asarray(audio, dtype=np.float64))
    index = np.rint((level - WORD_BASE) / WORD_STEP).astype(np.int64)
    return np.where(level >= WORD_BASE - WORD_STEP / 2, index, -1)


# -- scripts ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScriptWord:
    """One word of the script at absolute session samples ``[start, end)``."""

    index: int
    text: str
    """As the model spells it: leading space included."""
    start: int
    end: int

    @property
    def start_s(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return self.end / SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class Script:
    words: tuple[ScriptWord, ...]
    audio: npt.NDArray[np.float32]

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE

    def sentences(self) -> list[list[ScriptWord]]:
        """The words grouped into sentences (a sentence ends with . ? or !)."""
        groups: list[list[ScriptWord]] = []
        current: list[ScriptWord] = []
        for word in self.words:
            current.append(word)
            if word.text.rstrip()[-1:] in {".", "?", "!"}:
                groups.append(current)
                current = []
        if current:
            groups.append(current)
        return groups


def sentence_text(words: Sequence[ScriptWord]) -> str:
    return "".join(w.text for w in words).strip()


class ScriptBuilder:
    """Lays sounds end to end.  Lengths are in samples (``*_ms`` helpers take ms)."""

    def __init__(self) -> None:
        self._parts: list[npt.NDArray[np.float32]] = []
        self._words: list[ScriptWord] = []
        self._length = 0

    def _square(self, level: float, samples: int) -> npt.NDArray[np.float32]:
        # The sign alternates on the absolute sample number: zero mean, same |x|.
        sign = 1 - 2 * ((np.arange(samples) + self._length) % 2)
        return (sign * level).astype(np.float32)

    def _add(self, part: npt.NDArray[np.float32]) -> ScriptBuilder:
        self._parts.append(part)
        self._length += len(part)
        return self

    def silence(self, samples: int) -> ScriptBuilder:
        return self._add(np.zeros(samples, dtype=np.float32))

    def filler(self, samples: int) -> ScriptBuilder:
        return self._add(self._square(FILLER_LEVEL, samples))

    def word(self, text: str, samples: int) -> ScriptBuilder:
        if samples <= 0:
            raise ValueError("a word needs at least one sample")
        index = len(self._words)
        self._words.append(ScriptWord(index, text, self._length, self._length + samples))
        return self._add(self._square(word_level(index), samples))

    def silence_ms(self, ms: float) -> ScriptBuilder:
        return self.silence(round(ms * SAMPLE_RATE / 1000))

    def filler_ms(self, ms: float) -> ScriptBuilder:
        return self.filler(round(ms * SAMPLE_RATE / 1000))

    def word_ms(self, text: str, ms: float) -> ScriptBuilder:
        return self.word(text, round(ms * SAMPLE_RATE / 1000))

    def sentence(
        self, text: str, word_ms: float = 350, gap_ms: float = 80, pause_ms: float = 0
    ) -> ScriptBuilder:
        """Words of ``text`` (split on spaces), ``gap_ms`` apart, then ``pause_ms`` of silence."""
        for position, token in enumerate(text.split()):
            if position:
                self.silence_ms(gap_ms)
            self.word_ms(" " + token, word_ms)
        return self.silence_ms(pause_ms)

    def build(self) -> Script:
        audio = np.concatenate(self._parts) if self._parts else np.zeros(0, np.float32)
        return Script(tuple(self._words), audio.astype(np.float32))


# -- the fakes ----------------------------------------------------------------------


class FakeSpeechProb:
    """SpeechProbModel whose probability depends only on the audio, never on chunking.

    A window is speech when its RMS is above ``SPEECH_RMS``.  With ``onset_windows``
    above 1 it imitates a real model's latency: speech is reported only from the
    ``onset_windows``-th loud window in a row (state kept across calls, as Silero's).
    """

    def __init__(self, onset_windows: int = 1) -> None:
        self.onset_windows = onset_windows
        self.windows_scored = 0
        self.resets = 0
        self._loud_run = 0

    def probabilities(self, windows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        windows = np.asarray(windows, dtype=np.float32)
        assert windows.ndim == 2 and windows.shape[1] == 512, windows.shape
        self.windows_scored += len(windows)
        rms = np.sqrt(np.mean(np.square(windows, dtype=np.float64), axis=1))
        probs = np.empty(len(windows), dtype=np.float32)
        for i, loud in enumerate((rms > SPEECH_RMS).tolist()):
            self._loud_run = self._loud_run + 1 if loud else 0
            probs[i] = SPEECH_PROB if self._loud_run >= self.onset_windows else SILENCE_PROB
        return probs

    def reset(self) -> None:
        self.resets += 1
        self._loud_run = 0


@dataclass(frozen=True, slots=True)
class RecognizerCall:
    samples: int
    language: str | None
    """The language asked for; None: detected."""
    prompt: str
    words: tuple[Word, ...]
    full_window: bool = False


@dataclass
class FakeRecognizer:
    """Recognizer that reads the word markers in the audio (see the module docstring)."""

    words: Sequence[ScriptWord]
    detected_language: str = "en"
    trailing_period: bool = False
    period_tail_s: float = 0.3
    calls: list[RecognizerCall] = field(default_factory=list)
    beams: list[int | None] = field(default_factory=list)
    """The beam each pass asked for (None: the recogniser's own)."""

    @classmethod
    def for_script(cls, script: Script, **options: object) -> FakeRecognizer:
        return cls(script.words, **options)  # type: ignore[arg-type]

    def detect(self) -> tuple[str, float]:
        """The language detection reports, and its probability."""
        return self.detected_language, 1.0

    def transcribe(
        self,
        audio: npt.NDArray[np.float32],
        *,
        language: str | None,
        prompt: str,
        choose_language: Callable[[str, float], str] | None = None,
        full_window: bool = False,
        beam_size: int | None = None,
    ) -> Hypothesis:
        self.beams.append(beam_size)
        asked = language
        detected, probability = (language, 1.0) if language is not None else self.detect()
        if language is None:
            language = choose_language(detected, probability) if choose_language else detected
        codes = decode_markers(audio)
        words: list[Word] = []
        if len(codes):
            change = np.flatnonzero(np.diff(codes)) + 1
            starts = np.concatenate([[0], change])
            ends = np.concatenate([change, [len(codes)]])
            for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
                index = int(codes[start])
                if index < 0:
                    continue
                if index >= len(self.words):
                    raise AssertionError(f"audio carries marker {index} not in the script")
                expected = self.words[index]
                if end - start == expected.end - expected.start:  # the whole word is here
                    words.append(Word(start / SAMPLE_RATE, end / SAMPLE_RATE, expected.text, 1.0))
        if self.trailing_period and words:
            last = words[-1]
            tail = len(codes) / SAMPLE_RATE - last.end
            if tail <= self.period_tail_s and last.text.rstrip()[-1:] not in {".", "?", "!"}:
                words[-1] = Word(last.start, last.end, last.text + ".", last.probability)
        self.calls.append(RecognizerCall(len(codes), asked, prompt, tuple(words), full_window))
        return Hypothesis(tuple(words), detected, probability)
