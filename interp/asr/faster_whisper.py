"""faster-whisper adapter: the only module that imports faster_whisper's model.

Loads a CTranslate2 Whisper directory from disk (never a hub), and exposes the
:class:`~interp.asr.base.Recognizer` protocol for streaming and an offline
transcription of a whole recording.  Whisper's own guards are kept on (no-speech
probability, average log-probability, compression ratio); words the model barely
believes are dropped.
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
from .guards import runaway_loop_start

logger = logging.getLogger(__name__)

_WINDOW_STEP_S = 4
"""A shortened encoder window is a multiple of this many seconds."""
_TOKENS_BASE = 24
_TOKENS_PER_SECOND = 16
_MAX_NEW_TOKENS = 220
"""Caps on one pass's output.  Fast French reaches 12 tokens a second of speech (a
FLEURS clip: 28 words in 7.9 s); a lower cap cut its sentence short.  220 leaves room
for the longest prompt within Whisper's 448 positions.  Measured: CTranslate2 4.8
stops at min(max_length - prompt, max_length / 2) tokens, so where the prompt is
shorter than the cap the pass gets about half of it.  The figures in the README were
measured so; the full cap measured worse (Spanish WER ratio 1.20, latency p95 2.74 s:
looping passes run on longer)."""
_MAX_INITIAL_TIMESTAMP_INDEX = 50
"""The first timestamp is at most 1 s (50 steps of 20 ms), as in Whisper."""
_PREPEND = "\"'“¿([{-"
_APPEND = "\"'.。,，!！?？:：”)]}、"
"""Punctuation joined to the next or previous word, as faster-whisper does."""


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
    On a second of noise a shortened window makes Whisper invent words ("Very
    beautiful.") where the 30 s window gives nothing, so ``full_window`` keeps it.
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
        full_window: bool = False,
    ) -> Hypothesis:
        s = self._settings
        model = self._model
        try:
            features = model.feature_extractor(audio)
            num_frames = features.shape[-1] - 1  # the last frame is padding
            encoder_output = model.encode(self._encoder_input(features, num_frames, full_window))
            if language is None:
                detected, probability = self._detect(encoder_output)
                language = choose_language(detected, probability) if choose_language else detected
            else:
                detected, probability = language, 1.0
            tokenizer = self._tokenizer_type(
                model.hf_tokenizer, model.model.is_multilingual, task=s.task, language=language
            )
            words = self._decode(encoder_output, tokenizer, prompt, num_frames)
        except Exception as exc:
            raise BackendError("speech recognition", str(exc)) from exc
        text_language = "en" if s.task == "translate" else None
        return Hypothesis(tuple(words), detected, probability, text_language)

    def _encoder_input(self, features: Any, num_frames: int, full_window: bool) -> Any:
        """The mel frames the encoder sees: the buffer, padded to 30 s or to a margin."""
        full = self._model.feature_extractor.nb_max_frames
        frames = full
        margin = self._settings.encoder_margin_s
        if margin > 0 and not full_window:
            # Rounded up to a few lengths: the runtime keeps memory for each shape.
            per_second = self._model.frames_per_second
            needed = num_frames / per_second + margin
            step = _WINDOW_STEP_S * per_second
            frames = min(full, int(np.ceil(needed / _WINDOW_STEP_S)) * step)
        content = features[:, :frames]
        if content.shape[-1] < frames:
            content = np.pad(content, ((0, 0), (0, frames - content.shape[-1])))
        return np.ascontiguousarray(content)

    def _detect(self, encoder_output: Any) -> tuple[str, float]:
        token, probability = self._model.model.detect_language(encoder_output)[0][0]
        return token[2:-2], float(probability)  # "<|de|>" -> "de"

    def _decode(
        self, encoder_output: Any, tokenizer: Any, prompt: str, num_frames: int
    ) -> list[Word]:
        """Decode one window and time its words, relative to the buffer start.

        faster-whisper's segment loop starts a second window (a second encoder run
        over 30 s) whenever the decoded text stops short of the audio's end, which a
        capped or hesitant decode does; one buffer is one window here.
        """
        from faster_whisper.transcribe import (
            get_compression_ratio,
            get_suppressed_tokens,
            merge_punctuations,
        )

        s = self._settings
        model = self._model
        if self._suppress is None:
            self._suppress = list(get_suppressed_tokens(tokenizer, (-1,)) or ())
        context = tokenizer.encode(" " + prompt.strip()) if prompt.strip() else []
        start = [tokenizer.sot_prev, *context[-(model.max_length // 2 - 1) :]] if context else []
        start += tokenizer.sot_sequence
        seconds = num_frames / model.frames_per_second
        # A loop on noise cannot run on: no speech yields more tokens than this.
        new_tokens = min(_MAX_NEW_TOKENS, int(_TOKENS_BASE + _TOKENS_PER_SECOND * seconds))
        result = model.model.generate(
            encoder_output,
            [start],
            beam_size=s.stream_beam_size,
            max_length=min(model.max_length, len(start) + new_tokens),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress,
            max_initial_timestamp_index=_MAX_INITIAL_TIMESTAMP_INDEX,
        )[0]
        output = result.sequences_ids[0]
        text_tokens = [t for t in output if t < tokenizer.eot]
        # A decode that ends in a loop: keep what it heard before the loop.  A loop
        # from the first token is all invention and leaves nothing.
        loop = runaway_loop_start(text_tokens)
        if loop is not None:
            text_tokens = text_tokens[:loop]
        if not text_tokens:
            return []
        # Whisper's own guards over the window, as faster-whisper applies them.
        avg_logprob = result.scores[0] * len(output) / (len(output) + 1)
        text = tokenizer.decode(text_tokens).strip()
        if get_compression_ratio(text) > s.compression_ratio_threshold:
            return []
        if result.no_speech_prob > s.no_speech_threshold and avg_logprob < s.log_prob_threshold:
            return []
        alignment = model.find_alignment(tokenizer, [text_tokens], encoder_output, num_frames)
        timings = alignment[0] if alignment else []
        merge_punctuations(timings, _PREPEND, _APPEND)
        return [
            Word(
                round(float(t["start"]), 2),
                round(float(t["end"]), 2),
                t["word"],
                float(t["probability"]),
            )
            for t in timings
            if t["word"] and t["probability"] >= s.min_word_probability
        ]


def transcribe_offline(
    model: Any,
    audio: Samples,
    settings: AsrSettings,
    progress: Callable[[float], None] | None = None,
) -> Iterator[OfflineSegment]:
    """A whole recording at once, with faster-whisper's own VAD and decoding.

    By default faster-whisper's sequential ``transcribe``, called as plain
    faster-whisper is (beam 5, its VAD, no previous text as prompt): 30 s windows that
    follow the decoded timestamps, with temperature fallback.  Its batched pipeline
    (``offline_batched``) decodes VAD chunks of ``offline_chunk_s`` each on its own,
    without fallback; on a CPU it measured less accurate on most files and slower
    (scripts/bench_offline.py).  ``progress`` is called with the seconds of audio done
    so far.
    """
    try:
        segments, info = (
            _batched_segments(model, audio, settings)
            if settings.offline_batched
            else _sequential_segments(model, audio, settings)
        )
    except Exception as exc:
        raise BackendError("speech recognition", str(exc)) from exc
    language = "en" if settings.task == "translate" else info.language
    for segment in segments:
        if progress is not None:
            progress(min(segment.end, len(audio) / SAMPLE_RATE))
        text = segment.text.strip()
        # Whisper's no-speech rule; the sequential decoder has applied it already.
        if segment.no_speech_prob > settings.no_speech_threshold and (
            segment.avg_logprob < settings.log_prob_threshold
        ):
            continue
        if text and any(ch.isalnum() for ch in text):
            yield OfflineSegment(round(segment.start, 3), round(segment.end, 3), text, language)


def _sequential_segments(model: Any, audio: Samples, settings: AsrSettings) -> tuple[Any, Any]:
    return model.transcribe(  # type: ignore[no-any-return]
        audio,
        language=settings.language,
        task=settings.task,
        beam_size=settings.offline_beam_size,
        vad_filter=True,
        # A window that went wrong is not carried into the next as its prompt.
        condition_on_previous_text=False,
        no_speech_threshold=settings.no_speech_threshold,
        log_prob_threshold=settings.log_prob_threshold,
        compression_ratio_threshold=settings.compression_ratio_threshold,
    )


def _batched_segments(model: Any, audio: Samples, settings: AsrSettings) -> tuple[Any, Any]:
    from faster_whisper import BatchedInferencePipeline

    pipeline = BatchedInferencePipeline(model=model)
    return pipeline.transcribe(  # type: ignore[no-any-return]
        audio,
        language=settings.language,
        task=settings.task,
        beam_size=settings.offline_beam_size,
        batch_size=settings.offline_batch_size,
        vad_filter=True,
        # Whisper base drops sentences from long windows without timestamps; 10 s
        # chunks measured best on the evaluation streams (scripts/bench_asr.py).
        chunk_length=settings.offline_chunk_s,
        no_speech_threshold=settings.no_speech_threshold,
        log_prob_threshold=settings.log_prob_threshold,
        compression_ratio_threshold=settings.compression_ratio_threshold,
    )
