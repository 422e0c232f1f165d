"""faster-whisper adapter: the only module that imports faster_whisper's model.

Loads a CTranslate2 Whisper directory from disk (never a hub), and exposes the
:class:`~interp.asr.base.Recognizer` protocol for streaming and a batched offline
transcription.  Whisper's own guards are kept on (no-speech probability, average
log-probability, compression ratio); words the model barely believes are dropped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..audio.pcm import Samples
from ..config import SAMPLE_RATE, AsrSettings
from ..errors import BackendError, ModelUnavailable
from ..events import Word
from .base import Hypothesis

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OfflineSegment:
    start: float
    end: float
    text: str
    lang: str


def load_model(model_dir: Path, settings: AsrSettings) -> Any:
    """Load the Whisper model from ``model_dir`` (local files only)."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ModelUnavailable(
            "faster-whisper is not installed; run the README's set-up command (make setup)"
        ) from exc
    threads = settings.cpu_threads or os.cpu_count() or 1
    try:
        return WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type=settings.compute_type,
            cpu_threads=threads,
            local_files_only=True,
        )
    except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError on bad files
        raise ModelUnavailable(f"cannot load the speech model in {model_dir}: {exc}") from exc


class FasterWhisperRecognizer:
    """Streaming passes over a buffer, word timestamps on, greedy by default."""

    def __init__(self, model: Any, settings: AsrSettings) -> None:
        self._model = model
        self._settings = settings

    def transcribe(self, audio: Samples, *, language: str | None, prompt: str) -> Hypothesis:
        s = self._settings
        try:
            segments, info = self._model.transcribe(
                audio,
                language=language,
                task=s.task,
                beam_size=s.stream_beam_size,
                temperature=0.0,
                initial_prompt=prompt or None,
                condition_on_previous_text=False,
                word_timestamps=True,
                vad_filter=False,
                no_speech_threshold=s.no_speech_threshold,
                log_prob_threshold=s.log_prob_threshold,
                compression_ratio_threshold=s.compression_ratio_threshold,
            )
            words: list[Word] = []
            for segment in segments:  # a generator: drain it here, on the worker thread
                if segment.compression_ratio > s.compression_ratio_threshold:
                    continue
                if (
                    segment.no_speech_prob > s.no_speech_threshold
                    and segment.avg_logprob < s.log_prob_threshold
                ):
                    continue
                words += [
                    Word(w.start, w.end, w.word, w.probability)
                    for w in segment.words or ()
                    if w.probability >= s.min_word_probability
                ]
        except Exception as exc:
            raise BackendError("speech recognition", str(exc)) from exc
        text_language = "en" if s.task == "translate" else None
        return Hypothesis(tuple(words), info.language, info.language_probability, text_language)


def transcribe_offline(
    model: Any,
    audio: Samples,
    settings: AsrSettings,
    progress: Callable[[float], None] | None = None,
) -> Iterator[OfflineSegment]:
    """A whole recording at once, batched, with faster-whisper's own VAD.

    ``progress`` is called with the seconds of audio done so far.
    """
    from faster_whisper import BatchedInferencePipeline

    pipeline = BatchedInferencePipeline(model=model)
    try:
        segments, info = pipeline.transcribe(
            audio,
            language=settings.language,
            task=settings.task,
            beam_size=settings.offline_beam_size,
            batch_size=settings.offline_batch_size,
            vad_filter=True,
            # Whisper base drops sentences from long windows; 10 s windows measured best
            # on the evaluation streams (scripts/bench_asr.py).
            chunk_length=settings.offline_chunk_s,
            no_speech_threshold=settings.no_speech_threshold,
            log_prob_threshold=settings.log_prob_threshold,
            compression_ratio_threshold=settings.compression_ratio_threshold,
        )
    except Exception as exc:
        raise BackendError("speech recognition", str(exc)) from exc
    language = "en" if settings.task == "translate" else info.language
    for segment in segments:
        if progress is not None:
            progress(min(segment.end, len(audio) / SAMPLE_RATE))
        text = segment.text.strip()
        if segment.no_speech_prob > settings.no_speech_threshold and (
            segment.avg_logprob < settings.log_prob_threshold
        ):
            continue
        if text and any(ch.isalnum() for ch in text):
            yield OfflineSegment(round(segment.start, 3), round(segment.end, 3), text, language)
