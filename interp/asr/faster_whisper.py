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

import numpy as np

from ..audio.pcm import Samples
from ..config import SAMPLE_RATE, AsrSettings
from ..errors import BackendError, ModelUnavailable
from ..events import Word
from .base import Hypothesis, LanguageChoice

logger = logging.getLogger(__name__)

_FRAMES_PER_SECOND = 100
"""Whisper's mel frames per second of audio."""
_TOKENS_BASE = 12
_TOKENS_PER_SECOND = 10
_MAX_NEW_TOKENS = 200
"""Caps on one pass's output: the evaluation streams average 2.8-4.2 tokens a second."""


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
    """Streaming passes over a buffer: one encoder run each, word timestamps on.

    faster-whisper's ``transcribe`` runs the encoder once to detect the language and
    again to decode, and the encoder is most of a pass on a CPU.  A pass here encodes
    once, detects the language from that output, lets the caller settle the language
    (``choose_language``) and decodes once.  The encoder also sees only the buffer
    (plus a margin) rather than 30 s of padding when ``encoder_margin_s`` is set.
    """

    def __init__(self, model: Any, settings: AsrSettings) -> None:
        from faster_whisper.tokenizer import Tokenizer

        self._model = model
        self._settings = settings
        self._tokenizer_type = Tokenizer
        self._suppress: list[int] | None = None

    def transcribe(
        self,
        audio: Samples,
        *,
        language: str | None,
        prompt: str,
        choose_language: LanguageChoice | None = None,
    ) -> Hypothesis:
        s = self._settings
        model = self._model
        try:
            features = model.feature_extractor(audio)
            encoder_output = model.encode(self._encoder_input(features))
            if language is None:
                detected, probability = self._detect(encoder_output)
                language = choose_language(detected, probability) if choose_language else detected
            else:
                detected, probability = language, 1.0
            tokenizer = self._tokenizer_type(
                model.hf_tokenizer, model.model.is_multilingual, task=s.task, language=language
            )
            options = self._options(tokenizer, prompt, len(audio) / SAMPLE_RATE)
            words: list[Word] = []
            # A generator: drain it here, on the worker thread.
            for segment in model.generate_segments(
                features, tokenizer, options, False, encoder_output
            ):
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
        return Hypothesis(tuple(words), detected, probability, text_language)

    def _encoder_input(self, features: Any) -> Any:
        """The mel frames the encoder sees: the buffer, padded to 30 s or to a margin."""
        full = self._model.feature_extractor.nb_max_frames
        frames = full
        margin = self._settings.encoder_margin_s
        if margin > 0:
            # Rounded up to whole seconds so passes reuse a few encoder shapes.
            content_frames = features.shape[-1] - 1  # the last frame is padding
            needed = content_frames / _FRAMES_PER_SECOND + margin
            frames = min(full, int(np.ceil(needed)) * _FRAMES_PER_SECOND)
        content = features[:, :frames]
        if content.shape[-1] < frames:
            content = np.pad(content, ((0, 0), (0, frames - content.shape[-1])))
        return np.ascontiguousarray(content)

    def _detect(self, encoder_output: Any) -> tuple[str, float]:
        token, probability = self._model.model.detect_language(encoder_output)[0][0]
        return token[2:-2], float(probability)  # "<|de|>" -> "de"

    def _options(self, tokenizer: Any, prompt: str, seconds: float) -> Any:
        from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

        s = self._settings
        if self._suppress is None:
            self._suppress = get_suppressed_tokens(tokenizer, [-1])
        return TranscriptionOptions(
            beam_size=s.stream_beam_size,
            best_of=1,
            patience=1.0,
            length_penalty=1.0,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            log_prob_threshold=s.log_prob_threshold,
            no_speech_threshold=s.no_speech_threshold,
            compression_ratio_threshold=s.compression_ratio_threshold,
            condition_on_previous_text=False,
            prompt_reset_on_temperature=0.5,
            temperatures=[0.0],
            initial_prompt=prompt or None,
            prefix=None,
            suppress_blank=True,
            suppress_tokens=self._suppress,
            without_timestamps=False,
            max_initial_timestamp=1.0,
            word_timestamps=True,
            prepend_punctuations="\"'“¿([{-",
            append_punctuations="\"'.。,，!！?？:：”)]}、",
            multilingual=False,
            # A loop on noise cannot run on: no speech yields more tokens than this.
            max_new_tokens=min(_MAX_NEW_TOKENS, int(_TOKENS_BASE + _TOKENS_PER_SECOND * seconds)),
            clip_timestamps=[0.0],
            hallucination_silence_threshold=None,
            hotwords=None,
        )


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
